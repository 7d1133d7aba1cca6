"""Bad input fails with a clear message before anything on the node changes."""

import json

import pytest
from conftest import acl_users, node, passwords, run_playbook, server_pid

TARGET = "rn-redis-1"
WATCHED = "/etc/redis-node /etc/redis-node-cli /usr/local/sbin/redis-node-cli"


def users_with(name, **change):
    users = [dict(u) for u in acl_users().values()]
    for user in users:
        if user["name"] == name:
            user.update(change)
    return users


def snapshot():
    # Content, owner, mode and mtime of every file the role writes.
    return node(TARGET).check_output(f"find {WATCHED} -type f -exec stat -c '%n %U %a %Y' {{}} + -exec sha256sum {{}} + | sort")


CASES = {
    "weak-password": ({"redis_node_acl_users": users_with("app", password="short-pass-123")}, "ACL user 'app' has a weak password"),
    "empty-password": ({"redis_node_acl_users": users_with("app", password="")}, "ACL user 'app' has an empty password"),
    "maxmemory-above-ram": ({"redis_node_maxmemory": "100000gb"}, "not smaller than the instance's RAM"),
    "tls-without-certificates": ({"redis_node_tls_enabled": True}, "TLS is on but no certificates were given"),
    "announce-ip-not-ours": ({"redis_node_announce_ip": "10.82.9.99"}, "announce IP 10.82.9.99 (private_ip_address) is not an address of this host"),
    "port-clash": ({"redis_node_cluster_bus_port": 6379}, "port clash: cluster bus port and client port are both 6379"),
    "unknown-engine": (
        {"ansible_local": {"redis_image": {"engine": "memcached", "nofile_limit": 10064, "maxclients": 10000}}},
        "unknown engine 'memcached'",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_fails_early_without_touching_the_node(case):
    extra_vars, message = CASES[case]
    before, pid = snapshot(), server_pid(TARGET)
    result = run_playbook("--limit", TARGET, "-e", json.dumps(extra_vars))
    assert result.rc != 0, result.output[-2000:]
    assert message in result.output, result.output[-3000:]
    recap = result.recap()[TARGET]
    assert recap["failed"] == 1 and recap["changed"] == 0
    assert snapshot() == before
    assert server_pid(TARGET) == pid
    for password in passwords():
        assert password not in result.output
