# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which node of a shard takes the shard's backup (docs/backups.md).

Every node carries the same cron entry; at run time each decides, from what
every member of its shard reads the same way, whether it is the one:

- the shard's master's INFO replication (each replica's state, offset and
  the age of its last ACK, as the master sees them),
- CLUSTER NODES (who belongs to the shard; the cluster-wide ``fail`` flag),
- the AZ map of node.json.

Observer-local facts (``fail?``, link states) are left out on purpose: two
members of a shard must not reach different answers because their own links
differ. The choice: a healthy, caught-up replica, preferring one in another
AZ than its master, then the lowest node id (stable across runs); the master
only when the shard has no healthy replica.

Pure and dependency-free: the backup program on the nodes imports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.redis_info import SLOT_COUNT, replicas_of

# A replica ACKs its offset every second; one that has not for this long is
# not in sync any more.
DEFAULT_MAX_ACK_AGE_SECONDS = 10
# How far behind the master's offset a replica may be and still count as
# caught up (writes in flight between two ACKs).
DEFAULT_MAX_LAG_BYTES = 16 * 1024 * 1024

_GONE_FLAGS = ("fail", "handshake", "noaddr")


class PolicyError(ValueError):
    """The shard cannot be backed up now; the message says why."""


@dataclass(frozen=True)
class Member:
    """One node of the cluster, as CLUSTER NODES lists it (any observer)."""

    node_id: str
    address: str  # ip:port
    flags: Tuple[str, ...]
    master_id: Optional[str]
    slot_ranges: Tuple[Tuple[int, int], ...] = ()
    open_slots: int = 0  # slots it is migrating or importing

    @property
    def is_master(self) -> bool:
        return "master" in self.flags

    @property
    def gone(self) -> bool:
        return any(flag in self.flags for flag in _GONE_FLAGS)

    @property
    def ip(self) -> str:
        return self.address.rpartition(":")[0]

    @property
    def port(self) -> int:
        return int(self.address.rpartition(":")[2] or 0)


@dataclass(frozen=True)
class Candidate:
    node_id: str
    address: str
    availability_zone: Optional[str]
    healthy: bool
    why: str


@dataclass(frozen=True)
class Choice:
    node_id: str
    address: str
    role: str  # "replica" or "master"
    availability_zone: Optional[str]
    master_id: str
    master_address: str
    reason: str
    candidates: Tuple[Candidate, ...] = field(default_factory=tuple)


def members_from_entries(entries) -> List[Member]:
    """cluster_model.NodeEntry objects (parsed CLUSTER NODES) -> Members."""
    return [Member(node_id=e.node_id, address=e.address, flags=tuple(e.flags), master_id=e.master_id,
                   slot_ranges=tuple(sorted(e.slots)), open_slots=len(e.migrating) + len(e.importing))
            for e in entries]


def assigned_slots(members: Sequence[Member]) -> int:
    """How many distinct slots the masters serve."""
    slots = set()
    for member in members:
        if member.is_master and not member.gone:
            for first, last in member.slot_ranges:
                slots.update(range(first, last + 1))
    return len(slots)


def check_full_coverage(members: Sequence[Member]) -> None:
    """A backup set's completeness is read from its names (backup_catalog),
    which only holds when the backed-up cluster served every slot."""
    count = assigned_slots(members)
    if count != SLOT_COUNT:
        raise PolicyError("the cluster serves %d of %d slots: no backup of a cluster with unassigned slots"
                          % (count, SLOT_COUNT))


def shard_master(members: Sequence[Member], node_id: str) -> Optional[Member]:
    """The master of the shard node_id belongs to (itself when a master);
    None for a master without slots (it belongs to no shard)."""
    by_id = {m.node_id: m for m in members}
    me = by_id.get(node_id)
    if me is None:
        raise PolicyError("node %s is not in its own CLUSTER NODES" % node_id)
    master = me if me.is_master else by_id.get(me.master_id or "")
    if master is None:
        raise PolicyError("the master %s of node %s is unknown to the cluster" % (me.master_id, node_id))
    if not master.slot_ranges:
        return None
    return master


def replica_health(info_entry: Optional[dict], master_offset: int, max_ack_age: int, max_lag_bytes: int):
    """(healthy, why) of one replica from its slaveN entry in the master's INFO replication."""
    if info_entry is None:
        return False, "not connected to its master"
    if info_entry.get("state") != "online":
        return False, "replication state %s" % info_entry.get("state")
    try:
        ack_age = int(info_entry.get("lag", -1))
        offset = int(info_entry.get("offset", -1))
    except ValueError:
        return False, "unreadable replication entry"
    if ack_age < 0 or ack_age > max_ack_age:
        return False, "last ACK %ss ago (more than %ss)" % (ack_age, max_ack_age)
    behind = master_offset - offset
    if offset < 0 or behind > max_lag_bytes:
        return False, "%d bytes behind its master (more than %d)" % (behind, max_lag_bytes)
    return True, "online, %d bytes behind, last ACK %ss ago" % (max(behind, 0), ack_age)


def _zone_rank(zone: Optional[str], master_zone: Optional[str]) -> int:
    """0: known and not the master's AZ; 1: unknown; 2: the master's AZ."""
    if zone is None or master_zone is None:
        return 1
    return 2 if zone == master_zone else 0


def choose_backup_node(members: Sequence[Member], master_id: str, master_replication: Dict,
                       zones: Dict[str, str], max_ack_age: int = DEFAULT_MAX_ACK_AGE_SECONDS,
                       max_lag_bytes: int = DEFAULT_MAX_LAG_BYTES) -> Choice:
    """The node that backs up the shard of master_id.

    master_replication is the master's parsed INFO replication
    (redis_info.parse_info); zones maps a node's IP to its AZ.
    """
    by_id = {m.node_id: m for m in members}
    master = by_id.get(master_id)
    if master is None or not master.is_master:
        raise PolicyError("%s is not a master of the cluster" % master_id)
    if master.gone:
        raise PolicyError("master %s (%s) is flagged %s" % (master_id, master.address, ",".join(master.flags)))
    if master_replication.get("role") != "master":
        raise PolicyError("master %s (%s) reports role %s" % (master_id, master.address,
                                                              master_replication.get("role")))
    if master.open_slots:
        raise PolicyError("master %s (%s) has %d slots migrating or importing: a backup now would miss keys"
                          % (master_id, master.address, master.open_slots))
    try:
        master_offset = int(master_replication.get("master_repl_offset", 0))
    except ValueError:
        raise PolicyError("master %s reports an unreadable master_repl_offset" % master_id)
    connected = {(e.get("ip"), str(e.get("port"))): e for e in replicas_of(master_replication)}
    master_zone = zones.get(master.ip)

    candidates = []
    for member in sorted(members, key=lambda m: m.node_id):
        if member.is_master or member.master_id != master_id:
            continue
        zone = zones.get(member.ip)
        if member.gone:
            healthy, why = False, "flagged %s" % ",".join(f for f in member.flags if f in _GONE_FLAGS)
        else:
            healthy, why = replica_health(connected.get((member.ip, str(member.port))), master_offset,
                                          max_ack_age, max_lag_bytes)
        candidates.append(Candidate(member.node_id, member.address, zone, healthy, why))

    healthy = sorted((c for c in candidates if c.healthy),
                     key=lambda c: (_zone_rank(c.availability_zone, master_zone), c.node_id))
    if healthy:
        best = healthy[0]
        where = {0: "in another AZ than its master", 1: "AZ unknown",
                 2: "in its master's AZ (no healthy replica elsewhere)"}[_zone_rank(best.availability_zone,
                                                                                    master_zone)]
        return Choice(best.node_id, best.address, "replica", best.availability_zone, master_id, master.address,
                      "healthy replica %s, %s" % (best.why.split(",")[0], where), tuple(candidates))
    reason = "no healthy replica" + (": " + "; ".join("%s %s" % (c.address, c.why) for c in candidates)
                                     if candidates else "")
    return Choice(master.node_id, master.address, "master", master_zone, master_id, master.address, reason,
                  tuple(candidates))
