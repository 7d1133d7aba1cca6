# -*- coding: utf-8 -*-
# Copyright: redisops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Redis Cluster state as plain data: parsers and the consolidated model.

Everything here is pure: text in, dataclasses out. The module reads every
node (CLUSTER MYID / NODES / INFO, INFO replication / server, DBSIZE) into a
NodeObservation, and consolidate() turns the observations of all nodes into
one ClusterState that the planner works on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

# One INFO parser and one slot count for the whole collection; both stay
# importable from here (the planner imports SLOT_COUNT from this module).
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.redis_info import (  # noqa: F401
    SLOT_COUNT,
    parse_info,
)


class ClusterStateError(ValueError):
    """The observed state is unsafe or inconsistent; the message says why."""


# ---------------------------------------------------------------- parsing


@dataclass(frozen=True)
class NodeEntry:
    """One line of CLUSTER NODES."""

    node_id: str
    address: str  # "ip:port" ('' when the node has no address yet)
    flags: Tuple[str, ...]
    master_id: Optional[str]
    config_epoch: int
    link_state: str
    slots: Tuple[Tuple[int, int], ...]
    migrating: Tuple[Tuple[int, str], ...] = ()  # (slot, destination id)
    importing: Tuple[Tuple[int, str], ...] = ()  # (slot, source id)

    @property
    def is_myself(self) -> bool:
        return "myself" in self.flags

    @property
    def is_master(self) -> bool:
        return "master" in self.flags

    @property
    def is_failed(self) -> bool:
        return "fail" in self.flags

    @property
    def in_handshake(self) -> bool:
        return "handshake" in self.flags or "noaddr" in self.flags


def cluster_signature(entries: Sequence[NodeEntry]) -> Tuple[Tuple[str, str, str, Tuple[Tuple[int, int], ...]], ...]:
    """What one node believes about the live cluster (who is master or whose
    replica, and which slots each serves), in a form two views can be
    compared by: nodes agree once their signatures are equal."""
    return tuple(sorted(
        (e.node_id, "master" if e.is_master else "replica", e.master_id or "", tuple(sorted(e.slots)))
        for e in entries if not e.is_failed and not e.in_handshake))


def parse_address(field_text: str) -> str:
    """'10.0.0.1:6379@16379,hostname' -> '10.0.0.1:6379'."""
    addr = field_text.split(",", 1)[0].split("@", 1)[0]
    return "" if addr.startswith(":") else addr


def parse_cluster_nodes(text: str) -> List[NodeEntry]:
    entries = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 8:
            continue
        slots, migrating, importing = [], [], []
        for item in parts[8:]:
            if item.startswith("["):
                body = item.strip("[]")
                if "->-" in body:
                    slot, dest = body.split("->-", 1)
                    migrating.append((int(slot), dest))
                elif "-<-" in body:
                    slot, src = body.split("-<-", 1)
                    importing.append((int(slot), src))
                continue
            if "-" in item:
                first, last = item.split("-", 1)
                slots.append((int(first), int(last)))
            else:
                slots.append((int(item), int(item)))
        entries.append(NodeEntry(
            node_id=parts[0],
            address=parse_address(parts[1]),
            flags=tuple(parts[2].split(",")),
            master_id=None if parts[3] == "-" else parts[3],
            config_epoch=int(parts[6]),
            link_state=parts[7],
            slots=tuple(slots),
            migrating=tuple(migrating),
            importing=tuple(importing),
        ))
    return entries


def engine_of(info_server: Dict[str, str]) -> Tuple[str, str]:
    """(engine, version) from INFO server; valkey also reports redis_version."""
    engine = info_server.get("server_name", "redis") or "redis"
    version = info_server.get(engine + "_version") or info_server.get("redis_version", "")
    return engine, version


# ---------------------------------------------------------------- slot ranges


def to_ranges(slots) -> List[Tuple[int, int]]:
    """Sorted slot numbers -> contiguous (first, last) ranges."""
    ranges: List[Tuple[int, int]] = []
    for slot in sorted(slots):
        if ranges and slot == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], slot)
        else:
            ranges.append((slot, slot))
    return ranges


def format_ranges(ranges: Sequence[Tuple[int, int]]) -> List[str]:
    return ["%d-%d" % (first, last) for first, last in ranges]


def parse_ranges(ranges) -> List[Tuple[int, int]]:
    """['0-5460', '7'] or [(0, 5460)] -> [(0, 5460), (7, 7)]."""
    result = []
    for item in ranges:
        if isinstance(item, str):
            first, _sep, last = item.partition("-")
            item = (int(first), int(last or first))
        result.append((int(item[0]), int(item[1])))
    return result


def expand_ranges(ranges) -> List[int]:
    slots: List[int] = []
    for first, last in parse_ranges(ranges):
        slots.extend(range(first, last + 1))
    return slots


# ---------------------------------------------------------------- observations


@dataclass
class NodeObservation:
    """What one node told us about itself and the cluster."""

    address: str
    reachable: bool
    error: str = ""
    node_id: str = ""
    view: List[NodeEntry] = field(default_factory=list)
    cluster_info: Dict[str, str] = field(default_factory=dict)
    replication: Dict[str, str] = field(default_factory=dict)
    server: Dict[str, str] = field(default_factory=dict)
    keys: int = 0

    @property
    def myself(self) -> Optional[NodeEntry]:
        for entry in self.view:
            if entry.is_myself:
                return entry
        return None


# ---------------------------------------------------------------- consolidated model


@dataclass
class NodeState:
    node_id: str
    address: str
    role: str  # "master" or "replica"
    master_id: Optional[str] = None
    availability_zone: Optional[str] = None
    live: bool = True  # reachable by us
    failed: bool = False  # flagged fail by the cluster and unreachable by us
    in_cluster: bool = True  # member of the main cluster
    keys: int = 0
    config_epoch: int = 0
    known_nodes: int = 1  # size of its own nodes table
    foreign: str = ""  # why it may not be joined without force ('' = ok)
    engine: str = ""
    version: str = ""


@dataclass
class ClusterState:
    """The cluster as the planner sees it.

    nodes is keyed by node id; slot_owner[slot] is the owning node id or
    None; open_slots maps a slot with an unfinished migration to
    (source id, destination id).
    """

    nodes: Dict[str, NodeState] = field(default_factory=dict)
    slot_owner: List[Optional[str]] = field(default_factory=lambda: [None] * SLOT_COUNT)
    open_slots: Dict[int, Tuple[str, str]] = field(default_factory=dict)

    def copy(self) -> "ClusterState":
        return ClusterState(
            nodes={k: NodeState(**vars(v)) for k, v in self.nodes.items()},
            slot_owner=list(self.slot_owner),
            open_slots=dict(self.open_slots),
        )

    def by_address(self, address: str) -> Optional[NodeState]:
        """The live node at address (a dead one only when nothing live is there)."""
        found = None
        for node in self.nodes.values():
            if node.address == address:
                if node.live:
                    return node
                found = node
        return found

    def members(self) -> List[NodeState]:
        return sorted((n for n in self.nodes.values() if n.in_cluster), key=lambda n: n.address)

    def slots_of(self, node_id: str) -> List[int]:
        return [s for s, owner in enumerate(self.slot_owner) if owner == node_id]

    def slot_counts(self) -> Dict[str, int]:
        counts: Dict[str, int] = {}
        for owner in self.slot_owner:
            if owner is not None:
                counts[owner] = counts.get(owner, 0) + 1
        return counts

    def replicas_of(self, node_id: str) -> List[NodeState]:
        return sorted(
            (n for n in self.nodes.values()
             if n.in_cluster and n.role == "replica" and n.master_id == node_id),
            key=lambda n: n.address)

    def has_cluster(self) -> bool:
        """True once any slot is assigned: we are past 'create'."""
        return any(owner is not None for owner in self.slot_owner)


def _components(observations: Sequence[NodeObservation]) -> List[set]:
    """Groups of node ids that know each other (union-find over views)."""
    parent: Dict[str, str] = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for obs in observations:
        if not obs.reachable:
            continue
        find(obs.node_id)
        for entry in obs.view:
            if not entry.in_handshake:
                parent[find(entry.node_id)] = find(obs.node_id)
    groups: Dict[str, set] = {}
    for node_id in list(parent):
        groups.setdefault(find(node_id), set()).add(node_id)
    return list(groups.values())


def consolidate(observations: Sequence[NodeObservation], zones: Dict[str, str]) -> ClusterState:
    """Merge every node's view into one ClusterState.

    zones maps the desired addresses to their availability zone. The main
    cluster is the group of nodes (linked through their views) that owns the
    most slots; desired nodes elsewhere are 'foreign' when they hold keys or
    belong to a group that cannot simply be met into the main cluster.
    """
    live = {o.node_id: o for o in observations if o.reachable and o.node_id}
    groups = _components(observations)

    def claimed(group):
        return sum(last - first + 1
                   for node_id in group if node_id in live and live[node_id].myself
                   for first, last in live[node_id].myself.slots)

    groups.sort(key=lambda g: (-claimed(g), -len(g), min(g)))
    main = groups[0] if groups and claimed(groups[0]) else set()

    state = ClusterState()
    # Entries about a node: its own 'myself' line wins, else the most common
    # opinion of the reachable observers (sorted for determinism).
    opinions: Dict[str, List[NodeEntry]] = {}
    for obs in sorted(live.values(), key=lambda o: o.address):
        for entry in obs.view:
            if entry.in_handshake:
                continue
            opinions.setdefault(entry.node_id, []).append(entry)

    for node_id in sorted(set(opinions) | set(live)):
        obs = live.get(node_id)
        entry = obs.myself if obs and obs.myself else None
        seen = opinions.get(node_id, [])
        if entry is None and seen:
            entry = seen[0]
        if entry is None:
            continue
        failed_votes = sum(1 for e in seen if e.is_failed and not e.is_myself)
        node = NodeState(
            node_id=node_id,
            address=obs.address if obs else entry.address,
            role="master" if entry.is_master else "replica",
            master_id=entry.master_id if not entry.is_master else None,
            live=obs is not None,
            failed=obs is None and failed_votes * 2 > max(1, len(seen)),
            in_cluster=node_id in main,
            keys=obs.keys if obs else 0,
            config_epoch=entry.config_epoch,
            known_nodes=len(obs.view) if obs else 0,  # handshakes count: SET-CONFIG-EPOCH refuses them
        )
        node.availability_zone = zones.get(node.address)
        if obs:
            node.engine, node.version = engine_of(obs.server)
        state.nodes[node_id] = node

    # Slots: a live master's own claim wins, then any other view (dead owners).
    for node_id in sorted(main):
        obs = live.get(node_id)
        if obs and obs.myself and obs.myself.is_master:
            for first, last in obs.myself.slots:
                for slot in range(first, last + 1):
                    state.slot_owner[slot] = node_id
            for slot, dest in obs.myself.migrating:
                state.open_slots[slot] = (node_id, dest)
            for slot, src in obs.myself.importing:
                state.open_slots.setdefault(slot, (src, node_id))
    for node_id, seen in sorted(opinions.items()):
        if node_id not in main or node_id in live:
            continue
        for first, last in seen[0].slots:
            for slot in range(first, last + 1):
                if state.slot_owner[slot] is None:
                    state.slot_owner[slot] = node_id

    # Foreign nodes: desired nodes outside the main cluster.
    main_slots = {s for s, o in enumerate(state.slot_owner) if o is not None}
    for group in groups:
        if group is main:
            continue
        group_slots = set()
        for node_id in group:
            obs = live.get(node_id)
            if obs and obs.myself:
                for first, last in obs.myself.slots:
                    group_slots.update(range(first, last + 1))
        outsiders = [n for n in group if n not in live or live[n].address not in zones]
        for node_id in group:
            node = state.nodes.get(node_id)
            if node is None or not node.live:
                continue
            if node.keys:
                node.foreign = "holds %d keys" % node.keys
            elif outsiders:
                node.foreign = "belongs to another cluster (knows %d unlisted nodes)" % len(outsiders)
            elif group_slots & main_slots:
                node.foreign = "claims slots that the main cluster already serves"
            elif live[node_id].myself and live[node_id].myself.is_master:
                # Our own interrupted run (slots added before the meet): keep them.
                for first, last in live[node_id].myself.slots:
                    for slot in range(first, last + 1):
                        state.slot_owner[slot] = node_id
    for node in state.nodes.values():
        if not node.in_cluster and node.live and node.keys and not node.foreign:
            node.foreign = "holds %d keys" % node.keys
    return state


# ---------------------------------------------------------------- topology report


def topology(state: ClusterState) -> List[dict]:
    """Per-node report: address, node_id, availability_zone, role, master, slots, keys."""
    report = []
    owners: Dict[str, List[int]] = {}
    for slot, owner in enumerate(state.slot_owner):
        if owner is not None:
            owners.setdefault(owner, []).append(slot)
    for node in sorted(state.nodes.values(), key=lambda n: (n.address, n.node_id)):
        if not node.in_cluster and not node.live:
            continue
        master = state.nodes.get(node.master_id) if node.master_id else None
        report.append({
            "address": node.address,
            "node_id": node.node_id,
            "availability_zone": node.availability_zone,
            "role": ("failed " if node.failed else "") + node.role if node.in_cluster else "standalone",
            "master": master.address if master else None,
            "slots": format_ranges(to_ranges(owners.get(node.node_id, []))),
            "keys": node.keys,
        })
    return report


def topology_text(report: Sequence[dict]) -> str:
    """One line per node, for diff output."""
    lines = []
    for item in report:
        detail = item["role"]
        if item["master"]:
            detail += " of " + item["master"]
        if item["slots"]:
            detail += " slots " + ",".join(item["slots"])
        lines.append("%s %s %s\n" % (item["address"], item["availability_zone"] or "-", detail))
    return "".join(lines)
