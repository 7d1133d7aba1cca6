"""The shared connection layer: option names, settings, redis.Redis arguments."""

import pytest
import redis

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import redis_connection as rc

SHARED = {"login_user", "login_password", "tls", "tls_ca_cert", "tls_cert", "tls_key", "tls_check_hostname",
          "connect_timeout"}


def test_every_module_gets_the_same_option_names():
    assert set(rc.connection_argument_spec(single_node=False)) == SHARED
    assert set(rc.connection_argument_spec()) == SHARED | {"login_host", "login_port"}
    spec = rc.connection_argument_spec()
    assert spec["login_password"]["no_log"] is True
    assert spec["login_host"]["default"] == "127.0.0.1" and spec["login_port"]["default"] == 6379


def test_settings_from_params():
    params = {"login_user": "ops", "login_password": "pw", "tls": True, "tls_ca_cert": "/ca", "tls_cert": "/crt",
              "tls_key": "/key", "tls_check_hostname": True, "connect_timeout": 3, "login_host": "x"}
    settings = rc.settings_from_params(params, command_timeout=12)
    assert settings == rc.ConnectionSettings("ops", "pw", True, "/ca", "/crt", "/key", True, 3.0, 12.0)


def test_connection_kwargs_auth_and_tls():
    settings = rc.ConnectionSettings(login_user="ops", login_password="pw", tls=True, tls_ca_cert="/ca",
                                     tls_cert="/crt", tls_key="/key", connect_timeout=3)
    kwargs = rc.connection_kwargs("10.0.0.1", "6380", settings)
    assert kwargs["host"] == "10.0.0.1" and kwargs["port"] == 6380
    assert kwargs["username"] == "ops" and kwargs["password"] == "pw"
    assert kwargs["ssl"] is True and kwargs["ssl_ca_certs"] == "/ca" and kwargs["ssl_certfile"] == "/crt"
    assert kwargs["ssl_keyfile"] == "/key" and kwargs["ssl_cert_reqs"] == "required"
    assert kwargs["ssl_check_hostname"] is False
    assert kwargs["socket_connect_timeout"] == 3 and kwargs["socket_timeout"] == rc.DEFAULT_COMMAND_TIMEOUT
    plain = rc.connection_kwargs("10.0.0.1", 6379, rc.ConnectionSettings())
    assert "ssl" not in plain and "password" not in plain and "username" not in plain
    default_user = rc.connection_kwargs("h", 1, rc.ConnectionSettings(login_password="pw"))
    assert default_user["password"] == "pw" and "username" not in default_user


def test_connect_has_no_hidden_retries_and_raw_replies():
    settings = rc.ConnectionSettings(login_user="ops", login_password="pw", tls=True, tls_ca_cert="/ca")
    client = rc.connect("127.0.0.1", 6379, settings)  # builds the client; nothing is sent yet
    try:
        kwargs = client.connection_pool.connection_kwargs
        assert kwargs["retry"]._retries == 0
        assert kwargs.get("protocol", 2) == 2
        assert kwargs["username"] == "ops" and kwargs["ssl_ca_certs"] == "/ca"
        assert len(client.response_callbacks) == 0
        parsed = rc.connect("127.0.0.1", 6379, rc.ConnectionSettings(), raw=False)
        assert len(parsed.response_callbacks) > 0
    finally:
        client.close()


class FakeModule:
    def __init__(self):
        self.failed = None

    def fail_json(self, **kwargs):
        self.failed = kwargs
        raise SystemExit(1)


def test_missing_redis_library_fails_the_same_way_everywhere(monkeypatch):
    module = FakeModule()
    rc.fail_without_redis(module)  # redis is installed here: nothing happens
    assert module.failed is None
    monkeypatch.setattr(rc, "HAS_REDIS", False)
    monkeypatch.setattr(rc, "REDIS_IMPORT_ERROR", "Traceback: No module named 'redis'")
    with pytest.raises(SystemExit):
        rc.fail_without_redis(module)
    assert "Failed to import the required Python library (redis)" in module.failed["msg"]
    assert module.failed["exception"] == "Traceback: No module named 'redis'"


def test_redis_error_is_redis_pys():
    assert rc.RedisError is redis.RedisError
