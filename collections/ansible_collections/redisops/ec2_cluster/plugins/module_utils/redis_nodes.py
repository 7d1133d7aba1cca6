# -*- coding: utf-8 -*-
# Copyright: redisops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thin redis-py helpers: connect to one node, run raw commands, read its state.

Works with redis-py >= 4.3 (Debian 12's python3-redis 4.3.4): only
redis.Redis(...) keyword arguments that exist there and execute_command().
Response callbacks are cleared so every command returns the server's raw
reply, whatever redis-py version parses it (text is decoded here; keys stay
bytes so binary key names survive MIGRATE).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

try:
    import redis
    from redis.backoff import NoBackoff
    from redis.exceptions import RedisError
    from redis.retry import Retry
    HAS_REDIS = True
    REDIS_IMPORT_ERROR = None
except ImportError as exc:  # reported by the module with missing_required_lib
    redis = None
    RedisError = Exception
    HAS_REDIS = False
    REDIS_IMPORT_ERROR = exc

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.cluster_model import (
    NodeObservation,
    parse_cluster_nodes,
    parse_info,
)


@dataclass(frozen=True)
class ConnectionSettings:
    username: Optional[str] = None
    password: Optional[str] = None
    tls: bool = False
    tls_ca_cert_file: Optional[str] = None
    tls_cert_file: Optional[str] = None
    tls_key_file: Optional[str] = None
    tls_check_hostname: bool = False
    connect_timeout: float = 5.0
    command_timeout: float = 30.0


def connection_kwargs(host: str, port: int, settings: ConnectionSettings) -> dict:
    """Keyword arguments for redis.Redis (all present in redis-py 4.3)."""
    kwargs = {
        "host": host,
        "port": port,
        "socket_connect_timeout": settings.connect_timeout,
        "socket_timeout": settings.command_timeout,
        "decode_responses": False,
    }
    if settings.password is not None:
        kwargs["password"] = settings.password
        if settings.username:
            kwargs["username"] = settings.username
    if settings.tls:
        kwargs.update({
            "ssl": True,
            "ssl_ca_certs": settings.tls_ca_cert_file,
            "ssl_certfile": settings.tls_cert_file,
            "ssl_keyfile": settings.tls_key_file,
            "ssl_cert_reqs": "required",
            "ssl_check_hostname": settings.tls_check_hostname,
        })
    return kwargs


def split_address(address: str):
    host, _sep, port = address.rpartition(":")
    return host, int(port)


class NodeClient:
    """One connection to one node; replies come back raw (bytes or text)."""

    def __init__(self, address: str, settings: ConnectionSettings):
        self.address = address
        self.host, self.port = split_address(address)
        # No hidden retries (redis-py >= 5 retries by default): our own waits
        # are the only loops, each bounded in time.
        self._client = redis.Redis(retry=Retry(NoBackoff(), 0), **connection_kwargs(self.host, self.port, settings))
        self._client.response_callbacks.clear()

    def call(self, *args):
        return self._client.execute_command(*args)

    def text(self, *args) -> str:
        reply = self.call(*args)
        return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)

    def ok(self, *args) -> None:
        """Run a command whose only useful reply is +OK."""
        self.call(*args)

    def batch(self, commands, tolerate=lambda exc: False):
        """Send commands in one round trip (no MULTI); raise the first error not tolerated."""
        pipe = self._client.pipeline(transaction=False)
        for command in commands:
            pipe.execute_command(*command)
        replies = pipe.execute(raise_on_error=False)
        for reply in replies:
            if isinstance(reply, Exception) and not tolerate(reply):
                raise reply
        return replies

    def close(self) -> None:
        try:
            self._client.close()
        except (AttributeError, RedisError):
            self._client.connection_pool.disconnect()


def observe(client: NodeClient) -> NodeObservation:
    """Read everything the planner needs from one node (read-only commands)."""
    try:
        node_id = client.text("CLUSTER", "MYID").strip()
        view = parse_cluster_nodes(client.text("CLUSTER", "NODES"))
        cluster_info = parse_info(client.text("CLUSTER", "INFO"))
        replication = parse_info(client.text("INFO", "replication"))
        server = parse_info(client.text("INFO", "server"))
        keys = int(client.call("DBSIZE"))
    except RedisError as exc:
        return NodeObservation(address=client.address, reachable=False, error=describe_error(exc))
    return NodeObservation(address=client.address, reachable=True, node_id=node_id, view=view,
                           cluster_info=cluster_info, replication=replication, server=server, keys=keys)


def describe_error(exc: Exception) -> str:
    text = str(exc) or exc.__class__.__name__
    if "cluster support disabled" in text.lower():
        return "cluster support disabled (cluster-enabled is not yes)"
    return "%s: %s" % (exc.__class__.__name__, text)


def wait_until(check, timeout: float, step: float = 0.2, what: str = "condition"):
    """Poll check() until it returns a truthy value or timeout seconds pass.

    Returns the value; raises TimeoutError naming what was awaited. RedisError
    from check() counts as 'not yet' (a node can be briefly busy).
    """
    deadline = time.monotonic() + timeout
    last_error = ""
    while True:
        try:
            value = check()
            if value:
                return value
        except RedisError as exc:
            last_error = " (last error: %s)" % describe_error(exc)
        if time.monotonic() >= deadline:
            raise TimeoutError("timed out after %ss waiting for %s%s" % (timeout, what, last_error))
        time.sleep(step)
