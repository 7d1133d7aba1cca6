# -*- coding: utf-8 -*-
# Copyright: redisops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thin helpers over redis_connection: one node's client, raw commands, its state.

Clients come from redis_connection.connect (no hidden retries, raw replies:
text is decoded here; keys stay bytes so binary key names survive MIGRATE).
"""

from __future__ import annotations

import time

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.cluster_model import (
    NodeObservation,
    parse_cluster_nodes,
)
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.redis_connection import (  # noqa: F401 (re-exported)
    HAS_REDIS,
    REDIS_IMPORT_ERROR,
    ConnectionSettings,
    RedisError,
    connect,
)
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.redis_info import parse_info


def split_address(address: str):
    host, _sep, port = address.rpartition(":")
    return host, int(port)


class NodeClient:
    """One connection to one node; replies come back raw (bytes or text)."""

    def __init__(self, address: str, settings: ConnectionSettings):
        self.address = address
        self.host, self.port = split_address(address)
        self._client = connect(self.host, self.port, settings)

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


def read_node_info(client: NodeClient) -> dict:
    """CLUSTER INFO, INFO replication and INFO persistence of one node, parsed
    and merged (what health_gate.node_problems reads).

    A node without cluster support reports ``cluster_enabled: '0'``; one
    that is still loading its data set (LOADING reply) reports ``loading: '1'``.
    Other errors propagate (the node does not answer).
    """
    info = {}
    try:
        info.update(parse_info(client.text("CLUSTER", "INFO")))
    except RedisError as exc:
        text = str(exc).lower()
        if "cluster support disabled" in text:
            info["cluster_enabled"] = "0"
        elif "loading" in text:
            info["loading"] = "1"
        else:
            raise
    info.update(parse_info(client.text("INFO", "replication")))
    persistence = parse_info(client.text("INFO", "persistence"))
    info["loading"] = "1" if info.get("loading") == "1" else persistence.get("loading", "0")
    info.update({k: v for k, v in persistence.items() if k != "loading"})
    return info


def in_cluster(info: dict) -> bool:
    """True when the node knows other cluster nodes (it is part of a cluster)."""
    return int(info.get("cluster_known_nodes", 0) or 0) > 1


def own_ip(client: NodeClient):
    """The IP the node announces to its cluster (CLUSTER NODES 'myself'),
    or None outside a cluster."""
    try:
        for entry in parse_cluster_nodes(client.text("CLUSTER", "NODES")):
            if entry.is_myself and entry.address:
                return split_address(entry.address)[0]
    except RedisError:
        return None
    return None
