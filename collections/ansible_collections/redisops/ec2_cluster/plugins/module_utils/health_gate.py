# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What keeps a node from counting as healthy.

Pure: readings in, human-readable problems out (an empty list means
healthy). The node_health module reads a node and its master and reports
these; rolling restarts gate each node on them before the next one goes
down (upgrades, node replacement and drills will too).
"""

from __future__ import annotations

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.redis_info import (
    SLOT_COUNT,
    is_replica,
    replicas_of,
)


def node_problems(info, in_cluster=True):
    """Problems of one node from its own parsed CLUSTER INFO, INFO
    replication and INFO persistence (merged into one dict).

    ``in_cluster``: whether the node must serve a healthy cluster (all slots
    assigned and ok); a node outside a cluster only has to answer and have
    loaded its data.
    """
    if not info:
        return ["the node did not answer"]
    problems = []
    if str(info.get("loading", "0")) not in ("0", ""):
        problems.append("still loading its data set")
    if in_cluster:
        if info.get("cluster_state") != "ok":
            problems.append("cluster_state is %s, not ok" % info.get("cluster_state", "unknown"))
        for field in ("cluster_slots_assigned", "cluster_slots_ok"):
            value = int(info.get(field, 0) or 0)
            if value != SLOT_COUNT:
                problems.append("%s is %d, not %d" % (field, value, SLOT_COUNT))
    if is_replica(info):
        if info.get("master_link_status") != "up":
            problems.append("replication link to the master is %s" % info.get("master_link_status", "unknown"))
        if str(info.get("master_sync_in_progress", "0")) != "0":
            problems.append("a full sync from the master is in progress")
    return problems


def replica_as_seen_by_master(master_replication, replica_ip, replica_port=None):
    """The ``slaveN`` entry of the replica at ``replica_ip`` (and
    ``replica_port`` when given) in its master's parsed INFO replication,
    with ``lag_bytes`` added; None when the master does not list it."""
    master_offset = int(master_replication.get("master_repl_offset", 0) or 0)
    for entry in replicas_of(master_replication):
        if entry.get("ip") != str(replica_ip):
            continue
        if replica_port is not None and str(entry.get("port")) != str(replica_port):
            continue
        return dict(entry, lag_bytes=master_offset - int(entry.get("offset", 0) or 0))
    return None


def replica_sync_problems(master_replication, replica_ip, max_lag_bytes=0, replica_port=None):
    """Problems with one replica as its master sees it (link state, offset lag)."""
    entry = replica_as_seen_by_master(master_replication, replica_ip, replica_port)
    if entry is None:
        where = replica_ip if replica_port is None else "%s:%s" % (replica_ip, replica_port)
        return ["the master does not list replica %s" % where]
    problems = []
    if entry.get("state") != "online":
        problems.append("the master sees replica %s in state %s" % (replica_ip, entry.get("state")))
    if entry["lag_bytes"] > int(max_lag_bytes):
        problems.append("replica %s is %d bytes behind its master (allowed %d)"
                        % (replica_ip, entry["lag_bytes"], int(max_lag_bytes)))
    return problems
