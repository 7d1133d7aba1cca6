# -*- coding: utf-8 -*-
# Copyright: redisops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way every module of the collection connects to a Redis or Valkey node.

- the same option names everywhere (``connection_argument_spec``; documented
  by the ``redisops.ec2_cluster.redis`` doc fragment);
- ``connect`` returns a redis.Redis without hidden retries (redis-py >= 5
  retries by default; our own waits are the only loops, each bounded) and,
  unless asked otherwise, with raw replies: response callbacks are cleared,
  so a command returns the server's reply whatever redis-py version parses it;
- one failure message when the redis library is missing.

Works with redis-py >= 4.3 (Debian 12's python3-redis 4.3.4, which the
nodes run modules with): only redis.Redis(...) keyword arguments that exist
there.
"""

from __future__ import annotations

import inspect
import traceback
from dataclasses import dataclass
from typing import Optional

try:
    import redis
    from redis.backoff import NoBackoff
    from redis.exceptions import RedisError
    from redis.retry import Retry
    HAS_REDIS = True
    REDIS_IMPORT_ERROR = None
except ImportError:  # reported by fail_without_redis()
    redis = None
    RedisError = Exception
    HAS_REDIS = False
    REDIS_IMPORT_ERROR = traceback.format_exc()

DEFAULT_PORT = 6379
DEFAULT_COMMAND_TIMEOUT = 30.0
# redis-py >= 5 may speak RESP3 (8.x does by default), 4.3 only RESP2: ask
# for RESP2 wherever that can be chosen, so raw replies have one shape on
# the controller and on the nodes (CONFIG GET: a flat list, not a map).
CHOOSES_PROTOCOL = HAS_REDIS and "protocol" in inspect.signature(redis.Redis.__init__).parameters


def connection_argument_spec(single_node=True):
    """Argument spec of the connection options (documented by the doc
    fragment ``redisops.ec2_cluster.redis``, plus ``.single_node`` for
    ``login_host``/``login_port``)."""
    spec = dict(
        login_user=dict(type="str"),
        login_password=dict(type="str", no_log=True),
        tls=dict(type="bool", default=False),
        tls_ca_cert=dict(type="path"),
        tls_cert=dict(type="path"),
        tls_key=dict(type="path", no_log=False),
        tls_check_hostname=dict(type="bool", default=False),
        connect_timeout=dict(type="float", default=5),
    )
    if single_node:
        spec.update(
            login_host=dict(type="str", default="127.0.0.1"),
            login_port=dict(type="int", default=DEFAULT_PORT),
        )
    return spec


# AnsibleModule(..., **CONNECTION_RULES): a user needs a password, a client
# key needs its certificate.
CONNECTION_RULES = dict(required_by=dict(login_user=("login_password",)), required_together=[("tls_cert", "tls_key")])


@dataclass(frozen=True)
class ConnectionSettings:
    """How to reach and authenticate with a node (everything but where it is)."""

    login_user: Optional[str] = None
    login_password: Optional[str] = None
    tls: bool = False
    tls_ca_cert: Optional[str] = None
    tls_cert: Optional[str] = None
    tls_key: Optional[str] = None
    tls_check_hostname: bool = False
    connect_timeout: float = 5.0
    command_timeout: float = DEFAULT_COMMAND_TIMEOUT


def settings_from_params(params, command_timeout=DEFAULT_COMMAND_TIMEOUT):
    """ConnectionSettings from a module's params (connection_argument_spec)."""
    return ConnectionSettings(
        login_user=params.get("login_user"),
        login_password=params.get("login_password"),
        tls=bool(params.get("tls")),
        tls_ca_cert=params.get("tls_ca_cert"),
        tls_cert=params.get("tls_cert"),
        tls_key=params.get("tls_key"),
        tls_check_hostname=bool(params.get("tls_check_hostname")),
        connect_timeout=float(params.get("connect_timeout") or 5),
        command_timeout=float(command_timeout),
    )


def connection_kwargs(host, port, settings):
    """Keyword arguments for redis.Redis (all present in redis-py 4.3)."""
    kwargs = {
        "host": host,
        "port": int(port),
        "socket_connect_timeout": settings.connect_timeout,
        "socket_timeout": settings.command_timeout,
        "decode_responses": False,
    }
    if settings.login_password is not None:
        kwargs["password"] = settings.login_password
        if settings.login_user:
            kwargs["username"] = settings.login_user
    if settings.tls:
        kwargs.update({
            "ssl": True,
            "ssl_ca_certs": settings.tls_ca_cert,
            "ssl_certfile": settings.tls_cert,
            "ssl_keyfile": settings.tls_key,
            "ssl_cert_reqs": "required",
            "ssl_check_hostname": settings.tls_check_hostname,
        })
    return kwargs


def connect(host, port, settings, raw=True):
    """A redis.Redis for one node: RESP2, no hidden retries, raw replies
    unless ``raw=False``. Nothing is sent before the first command."""
    kwargs = connection_kwargs(host, port, settings)
    if CHOOSES_PROTOCOL:
        kwargs["protocol"] = 2
    client = redis.Redis(retry=Retry(NoBackoff(), 0), **kwargs)
    if raw:
        client.response_callbacks.clear()
    return client


def fail_without_redis(module):
    """Fail the module the same way everywhere when redis-py is missing."""
    if not HAS_REDIS:
        # Imported here: the programs on the nodes use this file without Ansible.
        from ansible.module_utils.basic import missing_required_lib
        module.fail_json(msg=missing_required_lib("redis"), exception=REDIS_IMPORT_ERROR)
