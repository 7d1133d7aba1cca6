# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""In which order nodes restart, and which replica a master hands over to.

Pure. Used by the redis_node role's rolling restart (through the
``redis_restart_order`` filter) and by the node_failover module.
"""

from __future__ import annotations

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.redis_info import REPLICA_ROLES, replicas_of


def restart_order(nodes):
    """Names of the nodes to restart: replicas first, then masters.

    ``nodes`` is a list of ``{'name', 'restart', 'role'}``; nodes without
    ``restart`` are dropped. Replicas first so that a master's replica is
    already restarted (and caught up) when the master fails over to it;
    masters last, each failed over before it goes down. Ties keep the
    given (inventory) order, which makes the order reproducible.
    """
    pending = [n for n in nodes if n.get("restart")]
    replicas = [n["name"] for n in pending if n.get("role") in REPLICA_ROLES]
    others = [n["name"] for n in pending if n.get("role") not in REPLICA_ROLES]
    return replicas + others


def failover_candidate(replication, max_lag_bytes=0):
    """The replica of a master to fail over to, from the master's parsed
    ``INFO replication``.

    A candidate is online and at most ``max_lag_bytes`` behind; the one with
    the highest offset wins (lowest address on a tie, for determinism).
    Returns ``{'ip': ..., 'port': ...}``, or ``{}`` when no replica qualifies.
    """
    master_offset = int(replication.get("master_repl_offset", 0) or 0)
    best = None
    for replica in replicas_of(replication):
        if replica.get("state") != "online":
            continue
        offset = int(replica.get("offset", 0) or 0)
        if master_offset - offset > int(max_lag_bytes):
            continue
        candidate = (-offset, str(replica.get("ip", "")), str(replica.get("port", "")))
        if best is None or candidate < best:
            best = candidate
    return {"ip": best[1], "port": best[2]} if best else {}
