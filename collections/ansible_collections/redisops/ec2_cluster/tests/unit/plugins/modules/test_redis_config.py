"""The redis_config module: masking, diff, and its flow with a fake client.

The comparison itself (what differs from CONFIG GET) is redis_settings'
and tested there."""

import pytest

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import redis_connection
from ansible_collections.redisops.ec2_cluster.plugins.modules import redis_config as mod


def test_secrets_are_masked_in_changes_and_diff():
    changes = {"masterauth": ("old-secret", "new-secret"), "maxmemory": ("1", "2")}
    shown = mod.masked_changes(changes, {"masterauth"})
    assert shown["masterauth"] == {"before": mod.MASK, "after": mod.MASK}
    assert shown["maxmemory"] == {"before": "1", "after": "2"}
    diff = mod.build_diff(changes, {"masterauth"})
    assert "secret" not in diff["before"] + diff["after"]
    assert diff["before"] == f"masterauth {mod.MASK}\nmaxmemory 1\n"


class FakeClient:
    def __init__(self, config):
        self.config = dict(config)
        self.commands = []

    def execute_command(self, *args):
        if args[:2] == ("CONFIG", "GET"):
            # raw reply: a flat list of bytes, as with response callbacks cleared
            name = args[2]
            return [name.encode(), self.config[name].encode()] if name in self.config else []
        self.commands.append(args)
        if args[:2] == ("CONFIG", "SET"):
            pairs = args[2:]
            for i in range(0, len(pairs), 2):
                self.config[pairs[i]] = pairs[i + 1]
        return "OK"


class FakeModule:
    def __init__(self, params, check_mode=False, diff=True):
        self.params = params
        self.check_mode = check_mode
        self._diff = diff
        self.result = None

    def exit_json(self, **kwargs):
        self.result = kwargs
        raise SystemExit(0)

    def fail_json(self, **kwargs):
        self.result = dict(kwargs, failed=True)
        raise SystemExit(1)


def params(**overrides):
    base = {
        "login_host": "127.0.0.1",
        "login_port": 6379,
        "login_user": "admin",
        "login_password": "pw",
        "tls": False,
        "tls_ca_cert": None,
        "tls_cert": None,
        "tls_key": None,
        "tls_check_hostname": False,
        "settings": {"maxmemory-policy": "allkeys-lru", "save": "3600 1"},
        "secret_settings": {"masterauth": "new-secret"},
        "rewrite": True,
        "connect_timeout": 5,
    }
    base.update(overrides)
    return base


def run(monkeypatch, client, **kwargs):
    connected = []

    def connect(host, port, settings):
        connected.append((host, port, settings))
        return client

    monkeypatch.setattr(redis_connection, "connect", connect)
    module = FakeModule(params(), **kwargs)
    with pytest.raises(SystemExit):
        mod.run_module(module)
    assert connected == [("127.0.0.1", 6379, redis_connection.ConnectionSettings(
        login_user="admin", login_password="pw", connect_timeout=5, command_timeout=mod.COMMAND_TIMEOUT))]
    return module.result


def test_check_mode_compares_but_changes_nothing(monkeypatch):
    client = FakeClient({"maxmemory-policy": "noeviction", "save": "3600 1", "masterauth": "old"})
    result = run(monkeypatch, client, check_mode=True)
    assert result["changed"] is True
    assert set(result["changes"]) == {"maxmemory-policy", "masterauth"}
    assert client.commands == []
    assert "old" not in str(result) and "new-secret" not in str(result)


def test_applies_only_differences_atomically_then_rewrites(monkeypatch):
    client = FakeClient({"maxmemory-policy": "noeviction", "save": "3600 1", "masterauth": "new-secret"})
    result = run(monkeypatch, client)
    assert result["changed"] is True and result["rewritten"] is True
    assert client.commands == [("CONFIG", "SET", "maxmemory-policy", "allkeys-lru"), ("CONFIG", "REWRITE")]


def test_second_run_is_idempotent(monkeypatch):
    client = FakeClient({"maxmemory-policy": "allkeys-lru", "save": "3600 1", "masterauth": "new-secret"})
    result = run(monkeypatch, client)
    assert result["changed"] is False and client.commands == []
    assert "diff" not in result


def test_a_redis_error_fails_with_the_node_named(monkeypatch):
    class Refusing(FakeClient):
        def execute_command(self, *args):
            raise redis_connection.RedisError("NOPERM this user has no permissions to run the 'config|get' command")

    result = run(monkeypatch, Refusing({}))
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"].startswith("Redis at 127.0.0.1:6379: NOPERM")


def test_without_rewrite_the_change_is_not_persisted(monkeypatch):
    client = FakeClient({"maxmemory-policy": "noeviction", "save": "3600 1", "masterauth": "new-secret"})
    monkeypatch.setattr(redis_connection, "connect", lambda host, port, settings: client)
    module = FakeModule(params(rewrite=False))
    with pytest.raises(SystemExit):
        mod.run_module(module)
    assert module.result["rewritten"] is False
    assert client.commands == [("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")]
