# -*- coding: utf-8 -*-
"""The sandbox identity: defaults, overrides, derived subnets, refusals, and
the conflict rule that keeps two sandboxes on one Docker host apart."""

from __future__ import annotations

import ipaddress

import pytest

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import sandbox_identity as si

PROJECT = "/srv/redisops"


def env(**fields):
    return {si.env_name(k): v for k, v in fields.items()}


def test_defaults_are_the_users_sandbox():
    identity = si.from_environ({}, PROJECT)
    assert identity == {
        "port": 5000,
        "endpoint_url": "http://127.0.0.1:5000",
        "bastion_port": 5001,
        "bastion_address": "10.77.0.2",
        "gateway": "10.77.0.1",
        "node_endpoint_url": "http://10.77.0.1:5000",
        "network": "redisops-sandbox",
        "vpc_cidr": "10.77.0.0/16",
        "private_subnets": [
            {"az": "us-west-2a", "cidr": "10.77.1.0/24"},
            {"az": "us-west-2b", "cidr": "10.77.2.0/24"},
            {"az": "us-west-2c", "cidr": "10.77.3.0/24"},
        ],
        "dir": "/srv/redisops/.sandbox",
        "container_prefix": "redisops-sbx-",
        "cluster_name": "sandbox",
        "region": "us-west-2",
    }


def test_every_field_can_be_overridden_and_empty_means_default():
    identity = si.from_environ(env(port="5100", network="redisops-test", vpc_cidr="10.78.0.0/16",
                                   dir="/tmp/sbx", container_prefix="redisops-test-", cluster_name="sandbox-test",
                                   ), PROJECT)
    assert identity["endpoint_url"] == "http://127.0.0.1:5100"
    assert identity["node_endpoint_url"] == "http://10.78.0.1:5100"
    assert identity["network"] == "redisops-test"
    assert [s["cidr"] for s in identity["private_subnets"]] == ["10.78.1.0/24", "10.78.2.0/24", "10.78.3.0/24"]
    assert identity["dir"] == "/tmp/sbx"
    assert identity["container_prefix"] == "redisops-test-"
    assert identity["cluster_name"] == "sandbox-test"
    assert si.from_environ(env(port="", network=""), PROJECT)["port"] == 5000


@pytest.mark.parametrize("cidr", ["10.77.0.0/16", "172.20.0.0/22", "192.168.0.0/20", "10.0.0.0/8"])
def test_subnets_fit_inside_the_network(cidr):
    identity = si.from_environ(env(vpc_cidr=cidr), PROJECT)
    vpc = ipaddress.ip_network(identity["vpc_cidr"])
    nets = [ipaddress.ip_network(s["cidr"]) for s in identity["private_subnets"]]
    assert len(nets) == 3 and all(n.prefixlen == 24 and n.subnet_of(vpc) for n in nets)
    assert len(set(nets)) == 3


def test_relative_dir_is_taken_from_the_project():
    assert si.from_environ(env(dir="artifacts/sandbox-test"), PROJECT)["dir"] == "/srv/redisops/artifacts/sandbox-test"


@pytest.mark.parametrize("field, value, variable", [
    ("port", "80", "REDISOPS_SANDBOX_PORT"),
    ("port", "50x0", "REDISOPS_SANDBOX_PORT"),
    ("port", "70000", "REDISOPS_SANDBOX_PORT"),
    ("port", "65535", "REDISOPS_SANDBOX_PORT"),
    ("vpc_cidr", "8.8.0.0/16", "REDISOPS_SANDBOX_VPC_CIDR"),
    ("vpc_cidr", "10.77.1.0/24", "REDISOPS_SANDBOX_VPC_CIDR"),
    ("vpc_cidr", "10.77.1.0/16", "REDISOPS_SANDBOX_VPC_CIDR"),
    ("vpc_cidr", "fd00::/64", "REDISOPS_SANDBOX_VPC_CIDR"),
    ("network", "bad name", "REDISOPS_SANDBOX_NETWORK"),
    ("container_prefix", "redisops-sbx", "REDISOPS_SANDBOX_CONTAINER_PREFIX"),
    ("container_prefix", "Redisops-", "REDISOPS_SANDBOX_CONTAINER_PREFIX"),
    ("cluster_name", "Sandbox", "REDISOPS_SANDBOX_CLUSTER_NAME"),
    ("cluster_name", "x" * 41, "REDISOPS_SANDBOX_CLUSTER_NAME"),
])
def test_bad_fields_are_refused_naming_their_variable(field, value, variable):
    with pytest.raises(si.SandboxIdentityError, match=variable):
        si.from_environ(env(**{field: value}), PROJECT)


def test_conflicts_name_every_shared_field():
    default = si.from_environ({}, PROJECT)
    assert si.conflicts(default, default) == list(si.FIELDS)
    other = si.from_environ(env(port="5100", network="redisops-test", vpc_cidr="10.78.0.0/16",
                                dir="artifacts/sandbox-test", container_prefix="redisops-test-",
                                cluster_name="sandbox-test"), PROJECT)
    assert si.conflicts(default, other) == []
    # overlapping ranges, nested directories and prefixes that match each
    # other's containers clash even though the values differ
    near = si.from_environ(env(port="5100", network="redisops-test", vpc_cidr="10.0.0.0/8",
                               dir=".sandbox/test", container_prefix="redisops-sbx-test-",
                               cluster_name="sandbox-test"), PROJECT)
    assert si.conflicts(default, near) == ["vpc_cidr", "dir", "container_prefix"]


def test_the_bastion_port_is_part_of_the_port():
    default = si.from_environ({}, PROJECT)
    next_door = dict(default, port=5001, bastion_port=5002)
    assert "port" in si.conflicts(default, next_door)
    assert "port" in si.conflicts(next_door, default)
    assert "port" not in si.conflicts(default, dict(default, port=5002, bastion_port=5003))
    identity = si.from_environ(env(port="5250", vpc_cidr="10.58.0.0/16"), PROJECT)
    assert (identity["bastion_port"], identity["bastion_address"]) == (5251, "10.58.0.2")
    assert not any(ipaddress.ip_address(identity["bastion_address"]) in ipaddress.ip_network(s["cidr"])
                   for s in identity["private_subnets"])


@pytest.mark.parametrize("url", ["http://127.0.0.1:5000", "http://localhost:5100/", "http://127.0.0.1:65535"])
def test_a_moto_on_the_loopback_with_a_port_is_the_sandbox_s(url):
    assert si.moto_endpoint_problem(url) is None


@pytest.mark.parametrize("url", [
    "https://127.0.0.1:5000",          # moto serves plain http here
    "http://127.0.0.1",                # no port: not a sandbox's moto
    "http://10.255.255.1:5000",        # not the loopback
    "http://127.0.0.1.example:5000",
    "http://localhost:notaport",
    "",
    None,
])
def test_anything_else_is_refused_naming_the_url(url):
    problem = si.moto_endpoint_problem(url)
    assert problem and "http://127.0.0.1:<port>" in problem and str(url) in problem
