"""ACL: no anonymous access, application users fenced off from dangerous commands."""

import json

import pytest
from conftest import NODES, acl_users


@pytest.fixture
def me(host):
    name = host.backend.get_hostname()
    return dict(NODES[name], name=name)


def as_user(host, me, user, *args, address="127.0.0.1", password=None):
    """Run a command as an ACL user; the password goes in REDISCLI_AUTH."""
    cli_bin = json.loads(host.file("/etc/ansible/facts.d/redis_image.fact").content_string)["cli_bin"]
    quoted = " ".join(f"'{a}'" for a in args)
    if user is None:
        return host.run(f"{cli_bin} -h {address} -p 6379 {quoted}")
    password = password or acl_users()[user]["password"]
    return host.run(f"REDISCLI_AUTH='{password}' {cli_bin} --user {user} -h {address} -p 6379 {quoted}")


def test_unauthenticated_access_fails(host, me):
    for address in ("127.0.0.1", me["ip"]):
        out = as_user(host, me, None, "PING", address=address)
        assert "NOAUTH" in out.stdout + out.stderr, out.stdout
    out = as_user(host, me, None, "GET", "app:x")
    assert "NOAUTH" in out.stdout + out.stderr


def test_wrong_password_fails(host, me):
    out = as_user(host, me, "app", "PING", password="wrong-password-123456")
    assert "WRONGPASS" in out.stdout + out.stderr


def test_application_user_can_use_its_keys(host, me):
    out = as_user(host, me, "app", "ACL", "WHOAMI")
    assert out.stdout.strip() == "app"
    out = as_user(host, me, "app", "CLUSTER", "MYID")
    assert len(out.stdout.strip()) == 40
    # cluster clients run INFO when they connect
    out = as_user(host, me, "app", "INFO", "server")
    assert "redis_version:" in out.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["FLUSHALL"],
        ["FLUSHDB"],
        ["DEBUG", "SLEEP", "0"],
        ["CONFIG", "GET", "maxmemory"],
        ["CONFIG", "SET", "maxmemory", "1"],
        ["KEYS", "*"],
        ["SHUTDOWN", "NOSAVE"],
        ["CLUSTER", "RESET"],
        ["CLUSTER", "FAILOVER"],
        ["CLUSTER", "ADDSLOTS", "1"],
        ["MIGRATE", "127.0.0.1", "6379", "app:x", "0", "1000"],
        ["ACL", "LIST"],
        ["ACL", "SETUSER", "evil", "on", "nopass", "+@all"],
        ["MONITOR"],
        ["REPLICAOF", "NO", "ONE"],
        ["BGSAVE"],
    ],
    ids=lambda c: "-".join(c[:2]),
)
def test_application_user_cannot_run_dangerous_commands(host, me, command):
    quoted = " ".join(f"'{a}'" for a in command)
    dryrun = host.check_output(f"redis-node-cli ACL DRYRUN app {quoted}")
    assert "no permissions" in dryrun, dryrun
    out = as_user(host, me, "app", *command)
    # DEBUG is also refused by enable-debug-command before the ACL check.
    assert "NOPERM" in out.stdout + out.stderr or "DEBUG command not allowed" in out.stdout, f"{command}: {out.stdout} {out.stderr}"
    assert host.service("redis-node").is_running


def test_application_user_is_limited_to_its_key_patterns(host, me):
    out = as_user(host, me, "app", "GET", "other:x")
    assert "NOPERM" in out.stdout + out.stderr


def test_replication_user_can_only_replicate(host, me):
    out = as_user(host, me, "replicator", "GET", "app:x")
    assert "NOPERM" in out.stdout + out.stderr
    assert as_user(host, me, "replicator", "PING").stdout.strip() == "PONG"


AGENT_ALLOWED = [
    ["PING"],
    ["INFO", "replication"],
    ["DBSIZE"],
    ["LASTSAVE"],
    ["BGSAVE"],
    ["CLUSTER", "INFO"],
    ["CLUSTER", "NODES"],
    ["CLUSTER", "MYID"],
    ["CLUSTER", "SHARDS"],
    ["CLUSTER", "SLOTS"],
    ["CONFIG", "GET", "maxmemory"],
]
AGENT_DENIED = [
    ["GET", "app:x"],
    ["SET", "app:x", "1"],
    ["SCAN", "0"],
    ["PUBLISH", "app:news", "x"],
    ["CONFIG", "SET", "maxmemory", "1"],
    ["CONFIG", "REWRITE"],
    ["FLUSHALL"],
    ["SAVE"],
    ["SHUTDOWN", "NOSAVE"],
    ["CLUSTER", "FAILOVER"],
    ["CLUSTER", "RESET"],
    ["ACL", "LIST"],
    ["DEBUG", "SLEEP", "0"],
]


@pytest.mark.parametrize("command", AGENT_ALLOWED, ids=lambda c: "-".join(c[:2]))
def test_agent_user_may_read_state_and_start_a_background_save(host, command):
    quoted = " ".join(f"'{a}'" for a in command)
    assert host.check_output(f"redis-node-cli ACL DRYRUN agent {quoted}") == "OK"


@pytest.mark.parametrize("command", AGENT_DENIED, ids=lambda c: "-".join(c[:2]))
def test_agent_user_may_do_nothing_else(host, command):
    quoted = " ".join(f"'{a}'" for a in command)
    assert "no permissions" in host.check_output(f"redis-node-cli ACL DRYRUN agent {quoted}")


def test_agent_user_reads_state_but_no_keys(host, me):
    assert as_user(host, me, "agent", "DBSIZE").stdout.strip().isdigit()
    assert "role:" in as_user(host, me, "agent", "INFO", "replication").stdout
    out = as_user(host, me, "agent", "CONFIG", "GET", "maxmemory-policy").stdout.split()
    assert out[0] == "maxmemory-policy"
    out = as_user(host, me, "agent", "GET", "app:x")
    assert "NOPERM" in out.stdout + out.stderr
    rules = host.check_output("redis-node-cli ACL GETUSER agent").splitlines()
    keys = rules[rules.index("keys") + 1]
    channels = rules[rules.index("channels") + 1]
    assert (keys, channels) == ("", ""), rules


def test_default_user_is_off(host):
    flags = host.check_output("redis-node-cli ACL GETUSER default")
    assert "off" in flags.splitlines() and "on" not in flags.splitlines()
