"""The configuration the role renders, on every node (redis and valkey)."""

import hashlib

import pytest
from conftest import NODES, acl_users, passwords

# These tests read the converged state; they run before the side-effect tests.


@pytest.fixture
def me(host):
    name = host.backend.get_hostname()
    return dict(NODES[name], name=name)


@pytest.fixture
def facts(host):
    import json

    return json.loads(host.file("/etc/ansible/facts.d/redis_image.fact").content_string)


def conf(host, path):
    settings = {}
    for line in host.file(path).content_string.splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition(" ")
            settings[key] = value
    return settings


def config_get(host, name):
    out = host.check_output("redis-node-cli CONFIG GET %s", name).splitlines()
    assert out[0] == name, out
    return out[1]


def test_engine_is_the_one_the_host_was_built_with(host, me, facts):
    assert facts["engine"] == me["engine"]
    assert host.service("redis-node").is_running
    assert host.service("redis-node").is_enabled
    pid = host.check_output("systemctl show -p MainPID --value redis-node")
    args = host.check_output("ps -p %s -o args=", pid)
    assert args.split()[0] == facts["server_bin"]


def test_static_conf_is_ansibles_and_holds_the_static_settings(host, me, facts):
    static = host.file(facts["static_config_file"])
    assert (static.user, static.group, static.mode) == ("root", "redis", 0o640)
    settings = conf(host, facts["static_config_file"])
    assert settings["cluster-enabled"] == "yes"
    assert settings["cluster-config-file"] == f"{facts['data_dir']}/nodes.conf"
    assert settings["dir"] == facts["data_dir"] and settings["dir"].startswith("/")
    assert settings["cluster-announce-ip"] == me["ip"]
    assert settings["bind"] == f"{me['ip']} 127.0.0.1"
    assert settings["protected-mode"] == "yes"
    assert settings["port"] == "6379"
    assert settings["tls-port"] == "0"
    assert settings["aclfile"] == "/etc/redis-node/users.acl"
    # Runtime settings never go to static.conf: it would override CONFIG SET at the next start.
    for runtime in ("maxmemory", "save", "appendonly", "maxmemory-policy", "cluster-node-timeout", "masterauth"):
        assert runtime not in settings


def test_redis_conf_belongs_to_redis(host, facts):
    main = host.file(facts["config_file"])
    assert (main.user, main.group) == ("redis", "redis")
    assert main.mode & 0o007 == 0


def test_cluster_config_file_is_in_the_data_dir_and_not_templated(host, facts):
    nodes = host.file(f"{facts['data_dir']}/nodes.conf")
    assert nodes.exists and nodes.user == "redis"
    assert "Ansible managed" not in nodes.content_string
    assert "myself" in nodes.content_string


def test_live_settings(host, me, facts):
    memtotal_kb = int(host.check_output("awk '/^MemTotal:/ {print $2}' /proc/meminfo"))
    expected_maxmemory = (memtotal_kb // 1024) * 1024 * 1024 * 75 // 100
    expected = {
        "cluster-enabled": "yes",
        "cluster-announce-ip": me["ip"],
        "cluster-node-timeout": "5000",
        "cluster-replica-validity-factor": "10",
        "cluster-require-full-coverage": "yes",
        "cluster-allow-reads-when-down": "no",
        "appendonly": "yes",
        "appendfsync": "everysec",
        "aof-use-rdb-preamble": "yes",
        "save": "3600 1 300 100 60 10000",
        "auto-aof-rewrite-percentage": "100",
        "auto-aof-rewrite-min-size": str(64 * 1024 * 1024),
        "maxmemory": str(expected_maxmemory),
        "maxmemory-policy": "noeviction",
        "maxclients": str(facts["maxclients"]),
        "latency-monitor-threshold": "100",
        "protected-mode": "yes",
        "masteruser": "replicator",
        "dir": facts["data_dir"],
    }
    actual = {name: config_get(host, name) for name in expected}
    assert actual == expected
    assert int(actual["maxclients"]) + 32 <= int(facts["nofile_limit"])
    bind = config_get(host, "bind")
    assert sorted(bind.split()) == sorted([me["ip"], "127.0.0.1"])


def test_listens_on_the_private_ip_and_loopback_only(host, me):
    listening = host.check_output("ss -Hltn")
    addresses = {line.split()[3] for line in listening.splitlines()}
    for port in (6379, 16379):
        mine = {a for a in addresses if a.endswith(f":{port}")}
        assert mine == {f"{me['ip']}:{port}", f"127.0.0.1:{port}"}, listening


def test_acl_file_has_hashed_passwords_only(host):
    acl = host.file("/etc/redis-node/users.acl")
    assert (acl.user, acl.group, acl.mode) == ("redis", "redis", 0o600)
    text = acl.content_string
    for user in acl_users().values():
        assert user["password"] not in text
        assert "#" + hashlib.sha256(user["password"].encode()).hexdigest() in text
    assert "user default off" in text


def test_cli_credentials_are_root_only(host):
    auth = host.file("/etc/redis-node-cli/admin.auth")
    assert (auth.user, auth.mode) == ("root", 0o600)
    assert host.file("/etc/redis-node-cli").mode == 0o700
    wrapper = host.file("/usr/local/sbin/redis-node-cli").content_string
    assert "REDISCLI_AUTH" in wrapper and " -a " not in wrapper
    for password in passwords():
        assert password not in wrapper


def test_no_password_in_process_list(host):
    processes = host.check_output("ps -eo args")
    for password in passwords():
        assert password not in processes
