# -*- coding: utf-8 -*-
# Copyright: redisops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure Redis Cluster topology planner.

plan(spec, state) compares the desired nodes with the consolidated
ClusterState and returns the ordered list of actions that turns one into the
other. Every emitted action is also applied to a working copy with
apply_action(), so later decisions see the state the earlier actions leave
behind; tests use the same simulate() to check a plan's outcome.

Vocabulary: a *shard* is a master plus its replicas. The planner keeps
existing shards (minimal change), creates new ones from empty nodes, hands
free nodes to shards as replicas by availability-zone rules, balances slots
with the fewest moves, and moves mastership between AZs with CLUSTER FAILOVER
when restore_placement asks for it.

What a plan guarantees about losing one AZ (module_utils/az_safety.py is the
rule; replicas_per_master >= 1, nodes in 2 or more AZs):

- Every slot keeps a copy outside each AZ (with 2 AZs: a copy in each AZ)
  whenever the nodes allow it, i.e. for every AZ the desired nodes outside it
  are at least as many as the masters. Replicas are placed, and moved between
  shards if needed, so that every shard spans 2 AZs.
- With 3 or more AZs and restore_placement auto (the default) or always, the
  masters outside any one AZ also keep the failover majority whenever the
  AZs' node counts allow it (az_safety.failover_majority_possible) and the
  shards' members can take over; auto makes only the failovers that this
  needs, always also evens the spread out.
- With 2 AZs no placement keeps the failover majority: one AZ always holds
  at least half of the masters. The plan keeps the copies and says so; no
  failover is made for it.

Whatever cannot be guaranteed is left in the risks that az_loss_risks()
reports for the planned outcome, for the module to warn about. Safety
refusals: scaling in below 3 * (replicas_per_master + 1) nodes, or emptying
an AZ while other AZs keep nodes, and forgetting a node that is not failed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import az_safety
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.cluster_model import (
    SLOT_COUNT,
    ClusterState,
    NodeState,
    format_ranges,
    to_ranges,
    expand_ranges,
)

MIN_MASTERS = 3
BALANCE_TOLERANCE = 0.02  # like redis-cli rebalance's default threshold
RESTORE_PLACEMENT = ("auto", "always", "never")

ACTION_KINDS = (
    "reset", "forget", "set_config_epoch", "add_slots", "meet", "wait",
    "replicate", "migrate_slots", "failover",
)


class PlanError(ValueError):
    """The desired topology is invalid or unsafe to reach; nothing was changed."""


class TooFewNodes(PlanError):
    """Fewer nodes than the layout needs: plan() also names the cluster's
    nodes that are not in the list and would be kept (a node left out of one
    run by --limit or an inventory gap), which only the cluster can tell."""


@dataclass(frozen=True)
class DesiredNode:
    host: str
    port: int
    availability_zone: str
    role: str = "auto"  # auto | master | replica
    leaving: bool = False  # scale in: drain, forget and reset it

    @property
    def address(self) -> str:
        return "%s:%d" % (self.host, self.port)


@dataclass(frozen=True)
class Spec:
    """What the cluster should be.

    nodes holds the members and, flagged leaving, the nodes to remove (their
    AZ is known, so the scale-in rules can be checked). restore_placement:
    auto (failovers only where losing one AZ would otherwise cost the
    failover majority), always (also even out the masters per AZ), never.
    remove_unlisted_nodes drains live cluster nodes that are in no list at
    all. forget_nodes lists the failed nodes (address or bare host) that may
    be forgotten; no other failed node ever is.
    """

    nodes: Tuple[DesiredNode, ...]
    replicas_per_master: int = 1
    force_create_over_data: bool = False
    restore_placement: str = "auto"
    remove_unlisted_nodes: bool = False
    forget_nodes: Tuple[str, ...] = ()

    @property
    def members(self) -> Tuple[DesiredNode, ...]:
        return tuple(n for n in self.nodes if not n.leaving)

    @property
    def leaving(self) -> Tuple[DesiredNode, ...]:
        return tuple(n for n in self.nodes if n.leaving)

    @property
    def zones(self) -> Dict[str, str]:
        """AZ of every listed node, leaving ones included."""
        return {n.address: n.availability_zone for n in self.nodes}

    @property
    def az_order(self) -> List[str]:
        """The AZs the cluster keeps (of the members)."""
        return sorted({n.availability_zone for n in self.members})

    def may_forget(self, node: NodeState) -> bool:
        """A failed node may be forgotten when forget_nodes lists it (by address
        or bare host) or when it is leaving."""
        host = node.address.rsplit(":", 1)[0]
        return node.address in self.forget_nodes or host in self.forget_nodes or \
            node.address in {n.address for n in self.leaving}


@dataclass
class Action:
    kind: str
    node: str  # address of the node the action is about
    args: Dict = field(default_factory=dict)
    reason: str = ""

    def as_dict(self, done: bool = False) -> dict:
        return {"kind": self.kind, "node": self.node, "args": dict(self.args),
                "reason": self.reason, "done": done}


# ---------------------------------------------------------------- validation


def master_count(spec: Spec) -> int:
    """How many shards the members make (pinned roles first)."""
    members = spec.members
    total = len(members)
    pinned_masters = sum(1 for n in members if n.role == "master")
    pinned_replicas = sum(1 for n in members if n.role == "replica")
    wanted = max(total // (spec.replicas_per_master + 1), pinned_masters)
    return min(wanted, total - pinned_replicas)


def min_nodes(replicas_per_master: int) -> int:
    """Nodes a cluster needs: 3 masters (a failover needs a majority of at
    least 2 of 3) with their replicas."""
    return MIN_MASTERS * (replicas_per_master + 1)


def validate_spec(spec: Spec) -> None:
    """Refuse bad input and unsafe scale-ins; needs no connection to any node."""
    replicas = spec.replicas_per_master
    if replicas < 0:
        raise PlanError("replicas_per_master must be 0 or more, got %d" % replicas)
    if spec.restore_placement not in RESTORE_PLACEMENT:
        raise PlanError("restore_placement must be one of %s, got %r"
                        % (", ".join(RESTORE_PLACEMENT), spec.restore_placement))
    seen = set()
    for node in spec.nodes:
        if node.address in seen:
            raise PlanError("duplicate node address %s in nodes" % node.address)
        seen.add(node.address)
        if not node.availability_zone:
            raise PlanError("node %s has no availability_zone" % node.address)
        if node.role not in ("auto", "master", "replica"):
            raise PlanError("node %s: role must be auto, master or replica" % node.address)
        if node.leaving and node.role != "auto":
            raise PlanError("node %s is leaving and cannot have the role %s" % (node.address, node.role))
    _validate_scale_in(spec)
    members = spec.members
    needed = min_nodes(replicas)
    if len(members) < needed:
        raise TooFewNodes(
            "too few nodes: %d given, replicas_per_master=%d needs at least %d (%d masters with %d replicas each)"
            % (len(members), replicas, needed, MIN_MASTERS, replicas))
    if replicas and len(spec.az_order) < 2:
        raise PlanError(
            "replicas_per_master=%d needs nodes in at least 2 availability zones, got only %s"
            % (replicas, ", ".join(spec.az_order)))
    masters = master_count(spec)
    if masters < MIN_MASTERS:
        raise PlanError("pinned roles leave only %d masters; at least %d are needed" % (masters, MIN_MASTERS))
    if masters * (replicas + 1) > len(members):
        raise PlanError("%d pinned masters with replicas_per_master=%d need %d nodes, only %d given"
                        % (masters, replicas, masters * (replicas + 1), len(members)))


def _validate_scale_in(spec: Spec) -> None:
    """The scale-in rules: never below the minimum, never empty an AZ."""
    leaving = sorted(n.address for n in spec.leaving)
    if not leaving:
        return
    remaining, replicas = len(spec.members), spec.replicas_per_master
    if remaining < min_nodes(replicas):
        raise PlanError(
            "refusing to scale in to %d nodes: %d masters with %d replica(s) each need at least %d; leaving: %s"
            % (remaining, MIN_MASTERS, replicas, min_nodes(replicas), ", ".join(leaving)))
    emptied = sorted({n.availability_zone for n in spec.nodes} - set(spec.az_order))
    if emptied:
        raise PlanError(
            "refusing to remove every node of %s while %s keep nodes: the cluster would span fewer AZs, and "
            "losing one more of them could cost slots or the failover majority; leaving: %s"
            % (", ".join(emptied), ", ".join(spec.az_order), ", ".join(leaving)))


def validate_state(spec: Spec, state: ClusterState, unreachable: Dict[str, str]) -> None:
    """Refuse unsafe starting points. unreachable maps address -> error text."""
    member_addresses = {n.address for n in spec.members}
    down = sorted(a for a in unreachable if a in member_addresses)
    if down:
        what = "creating the cluster" if not state.has_cluster() else "changing the cluster"
        raise PlanError("unreachable nodes while %s: %s (to replace a lost node, leave it out of nodes and list it "
                        "in forget_nodes)" % (what, "; ".join("%s: %s" % (a, unreachable[a]) for a in down)))
    engines = {}
    for node in state.nodes.values():
        if node.live and (node.address in member_addresses or node.in_cluster) and node.engine:
            engines.setdefault((node.engine, node.version.split(".")[0]), []).append(node.address)
    if len(engines) > 1:
        raise PlanError("mixed engines or major versions: %s" % "; ".join(
            "%s %s on %s" % (eng, major, ", ".join(sorted(addrs))) for (eng, major), addrs in sorted(engines.items())))
    _validate_forget(spec, state)
    if not spec.force_create_over_data:
        foreign = sorted((n.address, n.foreign) for n in state.nodes.values()
                         if n.live and n.foreign and n.address in member_addresses)
        if foreign:
            raise PlanError(
                "refusing to use nodes that hold data or belong to another cluster (set force_create_over_data "
                "to wipe them): %s" % "; ".join("%s %s" % item for item in foreign))
    counts = state.slot_counts()
    for node in state.members():
        if node.live:
            continue
        if not node.failed:
            raise PlanError("node %s (%s) is in the cluster, unreachable and not yet marked failed; fix it or wait "
                            "for the cluster to mark it failed" % (node.address, node.node_id))
        if counts.get(node.node_id):
            raise PlanError("failed node %s (%s) still owns %d slots and no replica took over; those slots have "
                            "no copy, recover the node first" % (node.address, node.node_id, counts[node.node_id]))
    for slot, (src, dst) in sorted(state.open_slots.items()):
        ends = [state.nodes.get(node_id) for node_id in (src, dst)]
        if any(n is None or not n.live or n.role != "master" for n in ends) or state.slot_owner[slot] != src:
            raise PlanError("slot %d is half migrated between %s and %s in a way this module does not finish; "
                            "fix it with redis-cli --cluster fix" % (slot, src, dst))


def _validate_forget(spec: Spec, state: ClusterState) -> None:
    """forget_nodes may only name failed nodes: a node that answers is removed
    by scaling in (leaving), never forgotten."""
    members = state.members()
    for entry in sorted(spec.forget_nodes):
        def matches(node):
            return entry in (node.address, node.address.rsplit(":", 1)[0])
        if any(matches(n) and not n.live for n in members):
            continue
        alive = sorted(n.address for n in state.nodes.values() if n.live and matches(n))
        listed = sorted(n.address for n in spec.members if entry in (n.address, n.host))
        if alive or listed:
            raise PlanError(
                "refusing to forget %s: it is not a failed cluster node (%s); only failed nodes are forgotten, "
                "a healthy node leaves the cluster by scaling in (leaving: true)"
                % (entry, "answers at " + ", ".join(alive) if alive else "listed in nodes"))


def kept_nodes(spec: Spec, state: ClusterState) -> List[str]:
    """Cluster nodes outside the members that the plan leaves in place, with why."""
    kept = []
    listed = {n.address for n in spec.nodes}
    for node in state.members():
        if node.address in listed and node.live:
            continue
        if not node.live and not spec.may_forget(node):
            kept.append("%s (failed, not in forget_nodes)" % node.address)
        elif node.live and node.address not in listed and not spec.remove_unlisted_nodes:
            kept.append("%s (answers, in no list)" % node.address)
    return kept


# ---------------------------------------------------------------- simulation


def _live_at(state: ClusterState, address: str) -> NodeState:
    node = state.by_address(address)
    if node is None or not node.live:
        raise PlanError("no live node at %s" % address)
    return node


def apply_action(state: ClusterState, action: Action) -> None:
    """Apply one action to the model in place (what a successful run does)."""
    kind, args = action.kind, action.args
    if kind == "reset":
        node = _live_at(state, action.node)
        state.slot_owner = [None if o == node.node_id else o for o in state.slot_owner]
        node.in_cluster, node.role, node.master_id = False, "master", None
        node.keys, node.foreign, node.known_nodes = 0, "", 1
        if args.get("hard"):
            node.config_epoch = 0
    elif kind == "forget":
        node = state.nodes[args["node_id"]]
        state.slot_owner = [None if o == node.node_id else o for o in state.slot_owner]
        if node.live:
            node.in_cluster = False
        else:
            del state.nodes[node.node_id]
    elif kind == "set_config_epoch":
        _live_at(state, action.node).config_epoch = args["epoch"]
    elif kind == "add_slots":
        node = _live_at(state, action.node)
        for slot in expand_ranges(args["ranges"]):
            if state.slot_owner[slot] is not None:
                raise PlanError("slot %d is already served" % slot)
            state.slot_owner[slot] = node.node_id
    elif kind == "meet":
        _live_at(state, action.node).in_cluster = True
        _live_at(state, args["seed"]).in_cluster = True
    elif kind == "replicate":
        node, master = _live_at(state, action.node), _live_at(state, args["master"])
        if node.node_id in state.slot_owner:
            raise PlanError("%s still owns slots and cannot become a replica" % action.node)
        node.role, node.master_id = "replica", master.node_id
    elif kind == "migrate_slots":
        src, dst = _live_at(state, action.node), _live_at(state, args["to"])
        for slot in expand_ranges(args["ranges"]):
            if state.slot_owner[slot] != src.node_id:
                raise PlanError("slot %d is not owned by %s" % (slot, action.node))
            state.slot_owner[slot] = dst.node_id
            state.open_slots.pop(slot, None)
    elif kind == "failover":
        node, old = _live_at(state, action.node), _live_at(state, args["master"])
        if node.master_id != old.node_id:
            raise PlanError("%s is not a replica of %s" % (action.node, args["master"]))
        for other in state.replicas_of(old.node_id):
            other.master_id = node.node_id
        state.slot_owner = [node.node_id if o == old.node_id else o for o in state.slot_owner]
        node.role, node.master_id = "master", None
        old.role, old.master_id = "replica", node.node_id
    elif kind != "wait":
        raise PlanError("unknown action kind %s" % kind)


def simulate(state: ClusterState, actions: Sequence[Action]) -> ClusterState:
    result = state.copy()
    for action in actions:
        apply_action(result, action)
    return result


# ---------------------------------------------------------------- placement helpers


class _Placement:
    """AZ bookkeeping shared by the placement decisions."""

    def __init__(self, spec: Spec):
        self.order = {az: i for i, az in enumerate(spec.az_order)}
        self.zones = spec.zones
        self.pinned = {n.address: n.role for n in spec.nodes}

    def az(self, node: NodeState) -> str:
        return self.zones.get(node.address, "")

    def index(self, node: NodeState) -> int:
        return self.order.get(self.az(node), len(self.order))

    def distance(self, head: NodeState, node: NodeState) -> int:
        """Cyclic AZ distance: a->b is 1, a->c is 2 (gives a->b, b->c, c->a)."""
        return (self.index(node) - self.index(head)) % max(1, len(self.order))


def _choose_new_masters(place: _Placement, heads: List[NodeState], candidates: List[NodeState],
                        count: int, supply: Sequence[NodeState] = (), replicas: int = 0) -> List[NodeState]:
    """Pick count new masters: pinned ones first, then the AZ with the fewest masters.

    Between equally loaded AZs prefer the one whose new masters can still find
    replicas outside it (free nodes in other AZs minus what they already owe).
    """
    per_az = {az: 0 for az in place.order}
    for head in heads:
        per_az[place.az(head)] = per_az.get(place.az(head), 0) + 1
    owed = {az: 0 for az in place.order}
    free = set(n.node_id for n in supply)
    free_in = {}
    for node in supply:
        free_in[place.az(node)] = free_in.get(place.az(node), 0) + 1
    pool = sorted(candidates, key=lambda n: (place.pinned.get(n.address) != "master", place.index(n), n.address))
    chosen = []

    def spare(zone):
        return len(free) - free_in.get(zone, 0) - replicas * (owed.get(zone, 0) + 1)

    while pool and len(chosen) < count:
        if place.pinned.get(pool[0].address) == "master":
            pick = pool[0]
        else:
            pick = min(pool, key=lambda n: (per_az.get(place.az(n), 0), spare(place.az(n)) < 0,
                                            place.index(n), n.address))
        pool.remove(pick)
        if pick.node_id in free:
            free.discard(pick.node_id)
            free_in[place.az(pick)] -= 1
        chosen.append(pick)
        per_az[place.az(pick)] = per_az.get(place.az(pick), 0) + 1
        owed[place.az(pick)] = owed.get(place.az(pick), 0) + 1
    return chosen


def _zone_flow(order: List[str], demand: Dict[str, int], supply: Dict[str, int]) -> Dict[Tuple[str, str], int]:
    """How many replicas AZ w sends to masters of AZ z (never z to z), as many as possible.

    A first pass prefers the next AZ in cyclic order (a->b, b->c, c->a), then
    augmenting paths reroute until no more demand can be met. The graph has
    one node per AZ, so this stays tiny whatever the node count.
    """
    flow = {(z, w): 0 for z in order for w in order if z != w}
    need, left = dict(demand), dict(supply)
    for distance in range(1, len(order)):
        for i, zone in enumerate(order):
            source = order[(i + distance) % len(order)]
            moved = min(need.get(zone, 0), left.get(source, 0))
            flow[(zone, source)] += moved
            need[zone] = need.get(zone, 0) - moved
            left[source] = left.get(source, 0) - moved
    for _ in range(sum(need.values())):
        path = _augmenting_path(order, flow, need, left)
        if not path:
            break
        for zone, source, sign in path:
            flow[(zone, source)] += sign
        need[path[0][0]] -= 1
        left[path[-1][1]] -= 1
    return flow


def _augmenting_path(order, flow, need, left):
    """BFS: demand zone -> source with free supply, possibly taking a source from another zone."""
    starts = [z for z in order if need.get(z, 0) > 0]
    parents = {}
    queue = []
    for zone in starts:
        for source in order:
            if source != zone and ("s", source) not in parents:
                parents[("s", source)] = (zone, None)
                queue.append(source)
    while queue:
        source = queue.pop(0)
        if left.get(source, 0) > 0:
            path, key = [], ("s", source)
            while key is not None:
                zone, previous = parents[key]
                path.append((zone, key[1], 1))
                if previous is None:
                    break
                path.append((zone, previous, -1))
                key = ("s", previous)
            return list(reversed(path))
        # source is full: some zone using it could switch to another source
        for zone in order:
            if zone != source and flow.get((zone, source), 0) > 0:
                for other in order:
                    if other not in (zone, source) and ("s", other) not in parents:
                        parents[("s", other)] = (zone, source)
                        queue.append(other)
    return None


def _assign_replicas(place: _Placement, replicas: int, heads: List[NodeState],
                     shards: Dict[str, List[NodeState]], pool: List[NodeState]) -> None:
    """Fill every shard up to `replicas` from AZs other than its master's, then spread the rest."""
    order = sorted(place.order, key=place.order.get)
    need = {h.node_id: max(0, replicas - len(shards[h.node_id])) for h in heads}
    demand, supply = {}, {}
    for head in heads:
        demand[place.az(head)] = demand.get(place.az(head), 0) + need[head.node_id]
    for node in pool:
        supply[place.az(node)] = supply.get(place.az(node), 0) + 1
    flow = _zone_flow(order, demand, supply)
    by_zone = {z: sorted((n for n in pool if place.az(n) == z), key=lambda n: n.address) for z in order}
    for depth in range(replicas):
        for head in heads:
            members = shards[head.node_id]
            if len(members) > depth:
                continue
            zone = place.az(head)
            sources = [w for w in order if w != zone and flow.get((zone, w), 0) > 0 and by_zone.get(w)]
            if not sources:
                continue
            taken = {place.az(m) for m in members}
            source = min(sources, key=lambda w: (w in taken, -flow[(zone, w)],
                                                 (order.index(w) - order.index(zone)) % len(order)))
            flow[(zone, source)] -= 1
            pick = by_zone[source].pop(0)
            pool.remove(pick)
            members.append(pick)
    # Still short: a surplus replica from another AZ, else whatever is left.
    for _ in range(len(heads) * max(1, replicas)):
        short = [h for h in heads if len(shards[h.node_id]) < replicas]
        if not short:
            break
        head = short[0]
        spare = [(m, r) for r in heads if len(shards[r.node_id]) > replicas
                 for m in shards[r.node_id] if place.az(m) != place.az(head)]
        if spare:
            pick, donor = min(spare, key=lambda item: (item[0].address, item[1].address))
            shards[donor.node_id].remove(pick)
        elif pool:
            pick = min(pool, key=lambda n: (place.distance(head, n), n.address))
            pool.remove(pick)
        else:
            rich = [r for r in heads if len(shards[r.node_id]) > replicas]
            if not rich:
                break
            pick = shards[rich[0].node_id].pop()
        shards[head.node_id].append(pick)
    # Extra nodes: to the shard with the fewest replicas, away from its AZs.
    for node in sorted(pool, key=lambda n: (place.index(n), n.address)):
        head = min(heads, key=lambda h: (
            place.az(node) == place.az(h), len(shards[h.node_id]),
            place.az(node) in {place.az(m) for m in shards[h.node_id]},
            place.distance(h, node), place.index(h), h.address))
        shards[head.node_id].append(node)
    pool.clear()


def _spread_shards(place: _Placement, replicas: int, heads: List[NodeState],
                   shards: Dict[str, List[NodeState]]) -> None:
    """Give every shard members in 2 AZs, so that losing any one AZ leaves a
    copy of every slot (the planner's guarantee when the nodes allow it).

    A shard whose members all sit in one AZ z takes a replica from another
    AZ out of a shard that can spare it (it still spans 2 AZs without it),
    and, to keep replica counts even, hands one of its z members back in
    exchange when that keeps the other shard in 2 AZs. Replicas not yet in
    place move first. Bounded: each round fixes a shard or stops.
    """
    if not replicas or len(place.order) < 2:
        return

    def zones_of(group):
        return {place.az(m) for m in group}

    for _round in range(len(heads)):
        lonely = [h for h in heads if len(zones_of([h] + shards[h.node_id])) < 2]
        if not lonely:
            return
        head = lonely[0]
        zone = place.az(head)
        ours = sorted((m for m in shards[head.node_id] if place.pinned.get(m.address) != "master"),
                      key=lambda m: (m.master_id == head.node_id, m.address))
        options = []
        for other in heads:
            if other is head:
                continue
            group = [other] + shards[other.node_id]
            for member in shards[other.node_id]:
                if place.az(member) == zone or place.pinned.get(member.address) == "master":
                    continue
                rest = zones_of(m for m in group if m is not member)
                can_move = len(rest) >= 2
                can_swap = bool(ours) and bool(rest - {zone})
                if not (can_move or can_swap):
                    continue
                # Swap when only a swap keeps the donor in 2 AZs or its
                # replica count, or when a move would leave the shares 2
                # apart and the member handed back does not land in the
                # donor master's AZ.
                swap = can_swap and (not can_move or len(shards[other.node_id]) <= replicas or (
                    len(shards[head.node_id]) >= len(shards[other.node_id]) and place.az(other) != zone))
                options.append(((member.master_id == other.node_id, -len(shards[other.node_id]),
                                 other.address, member.address), member, other, swap))
        if not options:
            return
        _key, member, other, swap = min(options, key=lambda option: option[0])
        shards[other.node_id].remove(member)
        shards[head.node_id].append(member)
        if swap:
            back = ours[0]
            shards[head.node_id].remove(back)
            shards[other.node_id].append(back)


def _majority_kept(place: _Placement, heads: List[NodeState], leader: Dict[str, NodeState],
                   frozen_masters: Sequence[NodeState]) -> bool:
    per_az: Dict[str, int] = {}
    for node in [leader[h.node_id] for h in heads] + list(frozen_masters):
        per_az[place.az(node)] = per_az.get(place.az(node), 0) + 1
    return az_safety.majority_kept(per_az)


def _choose_shard_masters(place: _Placement, spec: Spec, heads: List[NodeState],
                          shards: Dict[str, List[NodeState]], fixed: set,
                          frozen_masters: Sequence[NodeState] = ()) -> Tuple[Dict[str, NodeState], Dict[str, str]]:
    """Which member should lead each shard, and why it changes.

    Pinned roles first. Then restore_placement: never keeps the leaders;
    auto fails over only while losing the AZ with the most masters would
    cost the failover majority, and only if failovers can remove that risk;
    always also hands each shard to a member alone in its AZ and evens out
    the masters per AZ.
    """
    leader = {h.node_id: h for h in heads}
    why = {}
    for head in heads:
        if head.node_id in fixed:
            continue
        members = [head] + shards[head.node_id]
        pinned = [m for m in members if place.pinned.get(m.address) == "master"]
        if pinned and place.pinned.get(head.address) != "master":
            leader[head.node_id] = pinned[0]
            why[head.node_id] = "pinned role"
        elif place.pinned.get(head.address) == "replica":
            others = [m for m in members[1:] if place.pinned.get(m.address) != "replica"]
            if others:
                leader[head.node_id] = others[0]
                why[head.node_id] = "pinned role"
    if spec.restore_placement == "never":
        return leader, why
    if spec.restore_placement == "auto":
        if _majority_kept(place, heads, leader, frozen_masters):
            return leader, why
        # Shards made in this plan keep their chosen master, and a new master
        # has no shard mate in its AZ, unless only giving that up removes
        # the risk (a shard spans 2 AZs whoever leads it).
        for locked, alone in ((fixed, True), (fixed, False), (set(), True), (set(), False)):
            trial, reasons = dict(leader), dict(why)
            for _ in range(len(heads)):
                path = _rebalancing_chain(place, heads, shards, trial, locked, alone)
                if not path:
                    break
                crowded = place.az(trial[path[0][0].node_id])
                for head, member in path:
                    trial[head.node_id] = member
                    reasons[head.node_id] = ("restore_placement=auto: losing %s would have cost the failover "
                                             "majority" % crowded)
                if _majority_kept(place, heads, trial, frozen_masters):
                    return trial, reasons
        # Failovers cannot remove the risk (2 AZs, or too few AZs or
        # members for the masters): do not move masters for nothing.
        return leader, why
    before = dict(leader)
    # After failovers a master can share its AZ with a replica: hand the
    # shard to a member whose AZ is its own, the AZ with fewest masters first.
    for head in heads:
        current = leader[head.node_id]
        members = [head] + shards[head.node_id]
        if head.node_id in fixed or place.pinned.get(current.address) == "master" or \
                not any(place.az(m) == place.az(current) for m in members if m is not current):
            continue
        per_az = {az: 0 for az in place.order}
        for other in heads:
            per_az[place.az(leader[other.node_id])] += 1
        unique = [m for m in members if place.pinned.get(m.address) != "replica"
                  and not any(place.az(o) == place.az(m) for o in members if o is not m)]
        if unique:
            leader[head.node_id] = min(unique, key=lambda m: (per_az[place.az(m)], place.index(m), m.address))
    for _ in range(len(heads)):
        path = _rebalancing_chain(place, heads, shards, leader, fixed)
        if not path:
            break
        for head, member in path:
            leader[head.node_id] = member
    for head in heads:
        if leader[head.node_id] is not before[head.node_id]:
            why[head.node_id] = "restore_placement=always: masters spread over AZs"
    return leader, why


def _rebalancing_chain(place, heads, shards, leader, fixed, alone=True):
    """Failovers that move one master from the busiest AZ to one with 2 fewer.

    BFS over AZs: an edge u -> v is a shard led from u with a member in v (and,
    when alone, no shard mate sharing v). A path u0 -> ... -> uk moves one
    master from u0 to uk and leaves the AZs between unchanged.
    """
    per_az = {az: 0 for az in place.order}
    for head in heads:
        per_az[place.az(leader[head.node_id])] += 1
    edges = {}
    for head in heads:
        current = leader[head.node_id]
        if head.node_id in fixed or place.pinned.get(current.address) == "master":
            continue
        members = [head] + shards[head.node_id]
        for member in members:
            if member is current or place.pinned.get(member.address) == "replica" or \
                    alone and any(place.az(o) == place.az(member) for o in members if o is not member):
                continue
            edges.setdefault(place.az(current), []).append((place.az(member), head, member))
    for start in sorted(per_az, key=lambda az: (-per_az[az], place.order[az])):
        parents = {start: None}
        queue = [start]
        while queue:
            zone = queue.pop(0)
            if per_az[zone] <= per_az[start] - 2:
                path = []
                while parents[zone] is not None:
                    previous, head, member = parents[zone]
                    path.append((head, member))
                    zone = previous
                return list(reversed(path))
            for target, head, member in sorted(edges.get(zone, []), key=lambda e: (place.order[e[0]], e[2].address)):
                if target not in parents:
                    parents[target] = (zone, head, member)
                    queue.append(target)
    return []


# ---------------------------------------------------------------- slots


def slot_targets(heads: List[NodeState], counts: Dict[str, int], total: int) -> Dict[str, int]:
    """Even split; the masters holding the most slots get the larger shares (fewest moves)."""
    if not heads:
        return {}
    base, extra = divmod(total, len(heads))
    ranked = sorted(heads, key=lambda h: (-counts.get(h.node_id, 0), h.address))
    return {h.node_id: base + (1 if i < extra else 0) for i, h in enumerate(ranked)}


def needs_rebalance(heads: List[NodeState], counts: Dict[str, int], total: int) -> bool:
    ideal = total / max(1, len(heads))
    low, high = math.floor(ideal * (1 - BALANCE_TOLERANCE)), math.ceil(ideal * (1 + BALANCE_TOLERANCE))
    return any(not low <= counts.get(h.node_id, 0) <= high for h in heads)


def _slot_plan(work: ClusterState, heads: List[NodeState], shards: Dict[str, List[NodeState]],
               frozen: set, replicas: int):
    """Slots to add (unassigned) and to move so every head serves its share.

    Non-heads (removed or demoted masters) give everything; heads above their
    target give their highest slots; receivers take unassigned slots first.
    Frozen owners (unlisted, kept) keep theirs and are left out of the split.
    Returns (adds, moves, targets); nothing moves while within tolerance.
    """
    counts = work.slot_counts()
    head_ids = {h.node_id for h in heads}
    total = SLOT_COUNT - sum(c for owner, c in counts.items() if owner in frozen)
    unassigned = [s for s, o in enumerate(work.slot_owner) if o is None]
    donors = sorted((o for o in counts if o not in head_ids and o not in frozen),
                    key=lambda o: work.nodes[o].address)
    targets = slot_targets(heads, counts, total)
    adds: List[Tuple[NodeState, List[int]]] = []
    moves: List[Tuple[NodeState, NodeState, List[int]]] = []
    if not (unassigned or donors or needs_rebalance(heads, counts, total)):
        return adds, moves, targets
    give = [(work.nodes[owner], work.slots_of(owner)) for owner in donors]
    for head in sorted(heads, key=lambda h: (targets[h.node_id] - counts.get(h.node_id, 0), h.address)):
        excess = counts.get(head.node_id, 0) - targets[head.node_id]
        if excess > 0:
            give.append((head, work.slots_of(head.node_id)[-excess:]))
    free = unassigned
    for head in heads:
        need = targets[head.node_id] - counts.get(head.node_id, 0)
        if need <= 0:
            continue
        if replicas and not shards[head.node_id]:
            raise PlanError("cannot give slots to %s: it would have no replica" % head.address)
        if free:
            chunk, free = free[:need], free[need:]
            adds.append((head, chunk))
            need -= len(chunk)
        while need > 0 and give:
            donor, slots = give[0]
            taken, rest = slots[:need], slots[need:]
            moves.append((donor, head, taken))
            need -= len(taken)
            if rest:
                give[0] = (donor, rest)
            else:
                give.pop(0)
    return adds, moves, targets


# ---------------------------------------------------------------- the planner


def plan(spec: Spec, state: ClusterState, unreachable: Optional[Dict[str, str]] = None) -> List[Action]:
    """Ordered actions that turn state into spec; [] when it already matches."""
    try:
        validate_spec(spec)
    except TooFewNodes as error:
        kept = kept_nodes(spec, state)
        if kept:
            raise TooFewNodes("%s; cluster nodes not in nodes are kept: %s" % (error, ", ".join(kept))) from error
        raise
    validate_state(spec, state, unreachable or {})
    work = state.copy()
    actions: List[Action] = []
    place = _Placement(spec)
    replicas = spec.replicas_per_master

    def emit(kind, node, reason, **args):
        action = Action(kind, node, args, reason)
        apply_action(work, action)
        actions.append(action)

    desired = [_live_at(work, n.address) for n in sorted(spec.members, key=lambda n: n.address)]
    desired_ids = {n.node_id for n in desired}
    leaving = {n.address for n in spec.leaving}

    for node in desired:
        if node.foreign:
            emit("reset", node.address, "force_create_over_data: node %s" % node.foreign, hard=True, flush=True)

    def forget_everywhere(node, reason):
        on = [m.address for m in work.members() if m.live and m.node_id != node.node_id]
        emit("forget", node.address, reason, node_id=node.node_id, on=on)

    # Failed nodes are forgotten only when the caller says they are gone for
    # good (forget_nodes) or leaving; any other may come back (a stopped
    # instance) and keeps its place.
    dead = [n for n in work.members() if not n.live and spec.may_forget(n)]

    def forget_reason(node):
        return "failed node is leaving" if node.address in leaving else "failed node is listed in forget_nodes"
    for node in dead:
        if not work.replicas_of(node.node_id):
            forget_everywhere(node, forget_reason(node))

    # An interrupted migration (both ends alive, source still owns the slot) is finished first.
    for slot, (src, dst) in sorted(work.open_slots.items()):
        emit("migrate_slots", work.nodes[src].address, "finish the interrupted migration of slot %d" % slot,
             to=work.nodes[dst].address, ranges=["%d-%d" % (slot, slot)], count=1)

    # Shards: existing masters with slots (or with replicas) among desired nodes.
    counts = work.slot_counts()
    unlisted = [n for n in work.members() if n.live and n.node_id not in desired_ids]
    removed = [n for n in unlisted if n.address in leaving or spec.remove_unlisted_nodes]
    frozen = {n.node_id for n in unlisted if n not in removed}
    for node in desired:
        if node.role == "replica" and node.master_id in frozen:
            frozen.add(node.node_id)
    heads = [n for n in desired if n.role == "master" and n.node_id not in frozen and (
        counts.get(n.node_id) or any(r.node_id in desired_ids for r in work.replicas_of(n.node_id)))]
    target_masters = master_count(spec)
    heads.sort(key=lambda n: (-counts.get(n.node_id, 0), n.address))
    demoted = heads[target_masters:]
    heads = sorted(heads[:target_masters], key=lambda n: n.address)
    head_ids = {h.node_id for h in heads}

    shards: Dict[str, List[NodeState]] = {h.node_id: [] for h in heads}
    pool = []
    for node in desired:
        if node.node_id in head_ids or node.node_id in frozen:
            continue
        if node.role == "replica" and node.master_id in head_ids:
            shards[node.master_id].append(node)
        else:
            pool.append(node)
    candidates = [n for n in pool if n.role == "master" and not counts.get(n.node_id) and not n.keys
                  and n not in demoted and place.pinned.get(n.address) != "replica"]
    surplus = [m for h in heads for m in shards[h.node_id][replicas:]]
    new_heads = _choose_new_masters(place, heads, candidates, target_masters - len(heads),
                                    pool + surplus, replicas)
    # Not enough empty nodes: replicas that are orphans or surplus leave and rejoin empty.
    convertible = [n for n in pool if n.role == "replica" and place.pinned.get(n.address) != "replica"]
    convertible += [m for h in heads for m in shards[h.node_id][replicas:]
                    if place.pinned.get(m.address) != "replica"]
    converted = _choose_new_masters(place, heads + new_heads, convertible,
                                    target_masters - len(heads) - len(new_heads),
                                    [n for n in pool if n not in new_heads], replicas)
    for head in new_heads + converted:
        if head in pool:
            pool.remove(head)
        for members in shards.values():
            if head in members:
                members.remove(head)
        shards[head.node_id] = []
    new_heads += converted
    all_heads = heads + new_heads
    _assign_replicas(place, replicas, all_heads, shards, pool)
    _spread_shards(place, replicas, all_heads, shards)
    frozen_masters = [work.nodes[owner] for owner in counts if owner in frozen]
    leader, leader_why = _choose_shard_masters(place, spec, all_heads, shards, {h.node_id for h in new_heads},
                                        frozen_masters)

    adds, moves, targets = _slot_plan(work, all_heads, shards, frozen, replicas)

    for node in converted:
        forget_everywhere(node, "replica becomes a new master: it leaves and rejoins empty")
        emit("reset", node.address, "replica becomes a new master: it leaves and rejoins empty",
             hard=True, flush=True)

    creating = not work.has_cluster()
    if creating:
        for head, slots in adds:
            emit("add_slots", head.address, "new master gets its share of slots",
                 ranges=format_ranges(to_ranges(slots)))
        epoch = max([n.config_epoch for n in work.nodes.values()] + [0])
        for node in desired:
            if node.config_epoch == 0 and node.known_nodes <= 1:
                epoch += 1
                emit("set_config_epoch", node.address, "distinct config epoch per node, as redis-cli does",
                     epoch=epoch)

    members = [m for m in work.members() if m.live]
    seed = members[0] if members else (all_heads[0] if all_heads else desired[0])
    met = False
    for node in desired:
        if not node.in_cluster and node.node_id != seed.node_id:
            emit("meet", node.address, "node is not part of the cluster yet", seed=seed.address)
            met = True
    if met:
        emit("wait", seed.address, "every node knows every node and the cluster state is ok",
             nodes=[n.address for n in work.members() if n.live])

    if not creating:
        for head, slots in adds:
            emit("add_slots", head.address, "slots not served by any node",
                 ranges=format_ranges(to_ranges(slots)))

    demoted_ids = {n.node_id for n in demoted}
    later = []
    for head in all_heads:
        for node in shards[head.node_id]:
            if node.node_id in demoted_ids:
                later.append((node, head))
            elif not (node.role == "replica" and node.master_id == head.node_id):
                why = "moves to a shard that needs it" if node.role == "replica" else "placement needs a replica here"
                emit("replicate", node.address, why, master=head.address)

    for node in dead:
        if node.node_id in work.nodes:
            forget_everywhere(node, forget_reason(node))

    for donor, head, slots in moves:
        emit("migrate_slots", donor.address, "rebalance: %s should serve %d slots" % (
            head.address, targets[head.node_id]),
            to=head.address, ranges=format_ranges(to_ranges(slots)), count=len(slots))

    for node, head in later:
        emit("replicate", node.address, "drained master becomes a replica", master=head.address)

    for head in all_heads:
        chosen = leader[head.node_id]
        if chosen.node_id != head.node_id:
            emit("failover", chosen.address, "planned failover from %s (%s) to %s (%s): %s" % (
                head.address, place.az(head) or "no AZ", chosen.address, place.az(chosen) or "no AZ",
                leader_why[head.node_id]), master=head.address)

    for node in sorted(removed, key=lambda n: (n.role == "master", n.address)):
        forget_everywhere(node, "node is leaving" if node.address in leaving else
                          "node is in the cluster but not in nodes (remove_unlisted_nodes)")
        # Its data lives on in the cluster; a stale copy must not come
        # back if the node is restarted or reused.
        emit("reset", node.address, "removed node leaves the cluster", hard=True, flush=True)
    return actions


# ---------------------------------------------------------------- checks (tests, warnings)


def placement_problems(spec: Spec, state: ClusterState) -> List[str]:
    """Placement rules that the state breaks; [] when all hold."""
    place = _Placement(spec)
    problems = []
    members = [n for n in state.members() if n.live and n.address in spec.zones]
    masters = [n for n in members if n.role == "master" and n.node_id in state.slot_owner]
    per_az = {az: 0 for az in place.order}
    for master in masters:
        per_az[place.az(master)] += 1
    capacity = {az: sum(1 for n in members if place.az(n) == az) for az in place.order}
    room = [c for az, c in per_az.items() if c < capacity[az]]
    if room and max(per_az.values()) - min(room) > 1:
        problems.append("masters per AZ uneven: %s" % per_az)
    shards = {m.node_id: state.replicas_of(m.node_id) for m in masters}
    for master in masters:
        for rep in shards[master.node_id]:
            if place.az(rep) == place.az(master):
                problems.append("replica %s is in the AZ of its master %s" % (rep.address, master.address))
    # Uneven only if a replica of a big shard could move to a small one without
    # landing in that master's AZ (the AZ rule wins over evenness).
    for big in masters:
        for small in masters:
            if len(shards[big.node_id]) - len(shards[small.node_id]) > 1 and any(
                    place.az(r) != place.az(small) for r in shards[big.node_id]):
                problems.append("replicas per master uneven: %s has %d, %s has %d" % (
                    big.address, len(shards[big.node_id]), small.address, len(shards[small.node_id])))
    return problems


def uncovered_slots(state: ClusterState) -> int:
    return sum(1 for owner in state.slot_owner if owner is None)


def served_after_losing(state: ClusterState, spec: Spec, zone: str) -> bool:
    """Would every slot still have a copy if the whole AZ went away?"""
    zones = spec.zones
    survivors = {n.node_id for n in state.nodes.values() if zones.get(n.address) != zone}
    for owner in set(state.slot_owner):
        if owner is None:
            return False
        shard = {owner} | {r.node_id for r in state.replicas_of(owner)}
        if not shard & survivors:
            return False
    return True


# ---------------------------------------------------------------- AZ safety of a state


def safety_members(spec: Spec, state: ClusterState) -> List[az_safety.Member]:
    """The cluster's members as az_safety sees them (AZ from nodes, else as observed)."""
    zones = spec.zones
    counts = state.slot_counts()
    members = []
    for node in state.members():
        master = state.nodes.get(node.master_id) if node.role == "replica" and node.master_id else None
        members.append(az_safety.Member(
            address=node.address, zone=zones.get(node.address) or node.availability_zone or "",
            is_master=node.role == "master", master=master.address if master else None,
            slots=counts.get(node.node_id, 0), failed=not node.live))
    return members


def az_risks(spec: Spec, state: ClusterState) -> List[az_safety.Risk]:
    """What losing each AZ would cost in this state (az_safety's rule)."""
    return az_safety.az_loss_risk_details(safety_members(spec, state))


def why_risks_remain(spec: Spec, state: ClusterState) -> List[str]:
    """For the risks a planned outcome still has: why the plan could not remove them."""
    risks = az_risks(spec, state)
    members = [m for m in safety_members(spec, state) if not m.failed]
    zones = sorted({m.zone for m in members})
    nodes_per_zone = {zone: sum(1 for m in members if m.zone == zone) for zone in zones}
    masters = sum(1 for m in members if m.is_master and m.slots)
    reasons = []
    if any(r.kind == az_safety.MAJORITY for r in risks):
        if len(zones) < 3:
            reasons.append(
                "with %d AZs one AZ always holds at least half of the masters: losing it stops automatic failover "
                "for the lost masters' slots until an operator promotes their replicas (CLUSTER FAILOVER TAKEOVER)"
                % len(zones))
        elif not az_safety.failover_majority_possible(masters, nodes_per_zone):
            reasons.append(
                "%d masters over %s cannot keep a failover majority whichever AZ is lost: change the node count "
                "per AZ or replicas_per_master" % (masters, ", ".join(
                    "%s (%d nodes)" % (zone, count) for zone, count in sorted(nodes_per_zone.items()))))
        elif spec.restore_placement == "never":
            reasons.append("restore_placement=never: no planned failover moves masters out of the crowded AZ")
        else:
            reasons.append("no failover inside the shards spreads the masters safely: their replicas are not in "
                           "the AZs the masters would have to move to")
    if any(r.kind == az_safety.NO_COPY for r in risks):
        short = sorted(zone for zone in zones if len(members) - nodes_per_zone[zone] < masters)
        if short:
            reasons.append("too few nodes outside %s for every shard to keep a copy there (%d masters)"
                           % (", ".join(short), masters))
        else:
            reasons.append("no replica could be moved to give every shard a copy outside each AZ")
    return reasons
