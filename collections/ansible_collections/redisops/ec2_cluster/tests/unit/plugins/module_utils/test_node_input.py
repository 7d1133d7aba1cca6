"""Validation of the redis_node role's input."""

import pytest

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.node_input import node_input_errors

from acl_users import users  # this directory, on sys.path under pytest


def spec(**overrides):
    base = {
        "engine": "redis",
        "memtotal_mb": 4096,
        "maxmemory_bytes": 3 * 1024**3,
        "maxmemory_policy": "noeviction",
        "appendfsync": "everysec",
        "announce_ip": "10.0.1.5",
        "host_addresses": ["10.0.1.5", "172.17.0.2"],
        "port": 6379,
        "tls_enabled": False,
        "tls_port": 6380,
        "bus_port": 16379,
        "tls_generate": False,
        "tls_ca_dir": "",
        "tls_files": {"ca_cert": "", "cert": "", "key": ""},
        "acl_users": users(),
        "min_password_length": 16,
        "maxclients": 10000,
        "nofile_limit": 10064,
    }
    base.update(overrides)
    return base


def test_valid_input_has_no_errors():
    assert node_input_errors(spec()) == []


def test_without_memory_and_client_limits_nothing_is_checked_about_them():
    assert node_input_errors(spec(maxmemory_bytes=None, nofile_limit=None)) == []


@pytest.mark.parametrize(
    "overrides,fragment",
    [
        ({"engine": "memcached"}, "unknown engine"),
        ({"engine": ""}, "unknown engine"),
        ({"maxmemory_bytes": 4096 * 1024 * 1024}, "not smaller than the instance's RAM"),
        ({"maxmemory_bytes": 64 * 1024**3}, "not smaller than the instance's RAM"),
        ({"maxmemory_bytes": 0}, "maxmemory must be positive"),
        ({"maxmemory_policy": "evict-everything"}, "maxmemory policy"),
        ({"appendfsync": "sometimes"}, "appendfsync"),
        ({"announce_ip": "10.9.9.9"}, "not an address of this host"),
        ({"announce_ip": "10.9.9.9", "host_addresses": []}, "(host has: none)"),
        ({"announce_ip": "not-an-ip"}, "is not an IP address"),
        ({"bus_port": 6379}, "port clash: cluster bus port and client port"),
        ({"tls_enabled": True, "tls_generate": True, "tls_ca_dir": "/ca", "tls_port": 16379}, "port clash: cluster bus port and TLS port"),
        ({"port": 70000}, "not in 1..65535"),
        ({"tls_enabled": True}, "TLS is on but no certificates were given"),
        ({"tls_enabled": True, "tls_files": {"ca_cert": "/ca", "cert": "/c", "key": ""}}, "redis_node_tls_key"),
        ({"tls_enabled": True, "tls_generate": True}, "CA directory"),
        ({"maxclients": 10050}, "LimitNOFILE is 10064"),
        ({"maxclients": 0}, "maxclients must be at least 1"),
        ({"acl_users": users(app={"password": ""})}, "ACL user 'app' has an empty password"),
        ({"acl_users": []}, "at least an admin and a replication user"),
    ],
)
def test_bad_input_is_reported(overrides, fragment):
    errors = node_input_errors(spec(**overrides))
    assert any(fragment in error for error in errors), errors


def test_tls_port_may_reuse_the_closed_plaintext_port():
    assert node_input_errors(spec(tls_enabled=True, tls_generate=True, tls_ca_dir="/ca", tls_port=6379)) == []


def test_tls_with_given_files_is_valid():
    files = {"ca_cert": "/ca.crt", "cert": "/n.crt", "key": "/n.key"}
    assert node_input_errors(spec(tls_enabled=True, tls_files=files)) == []


def test_every_problem_is_reported_at_once():
    errors = node_input_errors(spec(engine="x", appendfsync="x", port=0, acl_users=users(app={"password": "short"})))
    assert len(errors) == 4, errors


def test_errors_never_contain_passwords():
    bad = users(app={"password": "tooshort"}, admin={"password": "also-short"})
    text = " ".join(node_input_errors(spec(acl_users=bad)))
    assert "tooshort" not in text and "also-short" not in text
