"""Unit tests of the pure parts of the redis_config module, plus its flow with a fake client."""

import pytest

from ansible_collections.redisops.ec2_cluster.plugins.modules import redis_config as mod


@pytest.mark.parametrize(
    "value,expected",
    [
        (True, "yes"),
        (False, "no"),
        ("true", "yes"),
        ("64mb", str(64 * 1024**2)),
        ("1gb", str(1024**3)),
        ("3600 1  300 100", "3600 1 300 100"),
        (["3600 1", "300 100"], "3600 1 300 100"),
        (5000, "5000"),
        (None, ""),
        ("noeviction", "noeviction"),
    ],
)
def test_normalize_value(value, expected):
    assert mod.normalize_value(value) == expected


def test_config_changes_only_lists_differences():
    current = {"maxmemory": "1073741824", "save": "3600 1 300 100", "appendonly": "yes", "maxmemory-policy": "noeviction"}
    desired = {"maxmemory": "1gb", "save": "3600 1 300 100", "appendonly": True, "maxmemory-policy": "allkeys-lru"}
    assert mod.config_changes(current, desired) == {"maxmemory-policy": ("noeviction", "allkeys-lru")}


def test_unknown_setting_is_a_change_so_config_set_reports_it():
    assert mod.config_changes({}, {"no-such-thing": "1"}) == {"no-such-thing": (None, "1")}


def test_passwords_are_compared_exactly():
    assert mod.config_changes({"masterauth": "Secret"}, {"masterauth": "secret"}) == {"masterauth": ("Secret", "secret")}


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

    def config_get(self, name):
        return {name: self.config[name]} if name in self.config else {}

    def execute_command(self, *args):
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
        "ca_cert": None,
        "client_cert": None,
        "client_key": None,
        "settings": {"maxmemory-policy": "allkeys-lru", "save": "3600 1"},
        "secret_settings": {"masterauth": "new-secret"},
        "rewrite": True,
        "connect_timeout": 5,
    }
    base.update(overrides)
    return base


def run(monkeypatch, client, **kwargs):
    monkeypatch.setattr(mod, "connect", lambda p: client)
    module = FakeModule(params(), **kwargs)
    with pytest.raises(SystemExit):
        mod.run_module(module)
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
