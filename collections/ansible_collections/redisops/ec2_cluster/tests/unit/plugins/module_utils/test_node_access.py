# -*- coding: utf-8 -*-
"""How the controller reaches the nodes: bastion SSH with per-cluster known hosts, or SSM."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import example, given, settings, strategies as st

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.node_access import (
    NodeAccessError,
    node_access,
    ssh_common_args,
)

OUTPUTS = {"cluster_name": "prod", "bastion_public_ip": "203.0.113.7", "key_pair_name": "redisops-prod",
           "ssm_transfer_bucket": "redisops-prod-ssm-transfer"}
SETTINGS = {"connection": "ssh", "bastion_host": "", "bastion_user": "admin", "user": "admin",
            "private_key_file": "", "key_pair_name": "", "known_hosts_dir": "/home/op/.ssh/redisops", "ssm_bucket": ""}


def access(outputs=None, **settings):
    return node_access(dict(SETTINGS, **settings), OUTPUTS if outputs is None else outputs)


def ssh_argv(common_args):
    """What ssh receives (Ansible splits with shlex) and what the ProxyCommand's shell runs."""
    argv = shlex.split(common_args)
    proxy = [a.split("=", 1)[1] for a in argv if a.startswith("ProxyCommand=")]
    return argv, shlex.split(proxy[0]) if proxy else None


def test_everything_from_the_outputs():
    result = access()
    assert result["errors"] == []
    assert result["ansible_connection"] == "ansible.builtin.ssh"
    assert result["bastion"] == "admin@203.0.113.7"
    assert result["known_hosts_file"] == "/home/op/.ssh/redisops/prod/known_hosts"
    assert result["private_key_file"] == "/home/op/.ssh/redisops/prod/redisops-prod"
    assert result["key_pair_name"] == "redisops-prod"
    argv, hop = ssh_argv(result["ssh_common_args"])
    assert argv[:4] == ["-o", "UserKnownHostsFile=/home/op/.ssh/redisops/prod/known_hosts",
                        "-o", "StrictHostKeyChecking=accept-new"]
    assert hop == ["ssh", "-W", "%h:%p", "-i", "/home/op/.ssh/redisops/prod/redisops-prod",
                   "-o", "UserKnownHostsFile=/home/op/.ssh/redisops/prod/known_hosts",
                   "-o", "StrictHostKeyChecking=accept-new", "-o", "BatchMode=yes", "admin@203.0.113.7"]


def test_inventory_settings_override_the_outputs():
    result = access(bastion_host="bastion.example.internal", bastion_user="ops", key_pair_name="mine",
                    private_key_file="/keys/prod.pem", ssm_bucket="other-bucket")
    assert result["errors"] == []
    assert result["bastion"] == "ops@bastion.example.internal"
    assert (result["key_pair_name"], result["private_key_file"], result["ssm_bucket"]) == (
        "mine", "/keys/prod.pem", "other-bucket")
    assert ssh_argv(result["ssh_common_args"])[1][-1] == "ops@bastion.example.internal"


def test_never_a_blanket_no():
    for result in (access(), access(connection="ssm")):
        assert "StrictHostKeyChecking=no" not in result["ssh_common_args"]
        assert "/dev/null" not in result["ssh_common_args"]


def test_missing_values_are_named_all_at_once():
    result = access(outputs={"cluster_name": "prod"})
    assert result["errors"] == [
        "no bastion host: set redisops_ssh_bastion_host or the Terraform output bastion_public_ip",
        "no key pair name: set redisops_ssh_key_pair_name or the Terraform output key_pair_name",
    ]
    assert result["ssh_common_args"] == "" and result["bastion"] == ""


def test_ssm_needs_a_bucket_and_keeps_ssh_for_the_builder():
    result = access(connection="ssm")
    assert result["errors"] == []
    assert result["ansible_connection"] == "amazon.aws.aws_ssm"
    assert result["ssm_bucket"] == "redisops-prod-ssm-transfer"
    assert "ProxyCommand=" in result["ssh_common_args"]
    missing = access(outputs=dict(OUTPUTS, ssm_transfer_bucket=""), connection="ssm")
    assert missing["errors"] == [
        "no SSM transfer bucket: set redisops_ssm_bucket or the Terraform output ssm_transfer_bucket"]
    # The bucket only matters to SSM.
    assert access(outputs=dict(OUTPUTS, ssm_transfer_bucket=""))["errors"] == []


@pytest.mark.parametrize("settings, message", [
    ({"connection": "telnet"}, "redisops_connection is 'telnet'"),
    ({"bastion_host": "evil;rm -rf /"}, "is not a host name or address"),
    ({"user": "Root Admin"}, "redisops_ssh_user 'Root Admin' is not a login name"),
    ({"bastion_user": ""}, "redisops_ssh_bastion_user '' is not a login name"),
    ({"known_hosts_dir": "relative/dir"}, "must be an absolute path"),
    ({"private_key_file": "key.pem"}, "redisops_ssh_private_key_file 'key.pem' must be an absolute path"),
    ({"private_key_file": "/my keys/k"}, "paths with white space are not supported"),
])
def test_bad_settings_are_refused(settings, message):
    errors = access(**settings)["errors"]
    assert any(message in error for error in errors), errors
    assert access(**settings)["ssh_common_args"] == ""


def test_no_cluster_name_in_the_outputs():
    errors = access(outputs=dict(OUTPUTS, cluster_name=""))["errors"]
    assert errors == ["the Terraform outputs name no valid cluster_name ('')"]


def test_wrong_types_raise():
    with pytest.raises(NodeAccessError):
        access(bastion_host=["a"])
    with pytest.raises(NodeAccessError):
        node_access(SETTINGS, ["not", "a", "mapping"])
    with pytest.raises(NodeAccessError):
        access(outputs=dict(OUTPUTS, bastion_public_ip=7))


PATHS = st.text(alphabet=st.sampled_from("abc-_.$'\"`;&|()*?!~"), min_size=1, max_size=12)


@settings(derandomize=True, max_examples=200)
@given(key=PATHS, known=PATHS)
@example(key="it's", known='"quoted"')
@example(key="$(reboot)", known="`id`;x")
def test_quoting_survives_both_splits(key, known):
    """Whatever the paths hold, ssh and the ProxyCommand's shell get them back intact, as one word each."""
    args = ssh_common_args("admin", "10.0.0.1", "/k/" + key, "/h/" + known)
    argv, hop = ssh_argv(args)
    assert argv[1] == "UserKnownHostsFile=/h/" + known
    assert hop[4] == "/k/" + key
    assert hop[6] == "UserKnownHostsFile=/h/" + known
    assert len(hop) == 12


def test_bastion_port_goes_to_the_hop_only():
    result = access(bastion_port="5251")
    assert result["errors"] == [] and result["bastion_port"] == 5251
    argv, hop = ssh_argv(result["ssh_common_args"])
    assert hop[-3:] == ["-p", "5251", "admin@203.0.113.7"]
    assert "-p" not in argv  # the node itself is reached on its own port 22


@pytest.mark.parametrize("port", [None, "", 22, "22"])
def test_bastion_port_defaults_to_ssh_s_own(port):
    result = access(bastion_port=port)
    assert result["errors"] == [] and result["bastion_port"] == 22
    assert "-p" not in ssh_argv(result["ssh_common_args"])[1]


@pytest.mark.parametrize("port", ["0", "65536", "ssh", "-1"])
def test_bad_bastion_port_is_named(port):
    result = access(bastion_port=port)
    assert result["errors"] == ["redisops_ssh_bastion_port %r is not a TCP port (1 to 65535)" % port]
    assert result["ssh_common_args"] == ""


def test_bastion_port_of_another_type_is_refused():
    with pytest.raises(NodeAccessError):
        access(bastion_port=["22"])
