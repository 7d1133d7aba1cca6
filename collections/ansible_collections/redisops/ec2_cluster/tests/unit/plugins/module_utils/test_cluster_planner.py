# -*- coding: utf-8 -*-
"""Planner properties (hypothesis): every plan is simulated on the model and
the outcome is checked (full slot coverage, placement rules, idempotence,
minimal slot movement), plus the refusals."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.cluster_model import (
    SLOT_COUNT,
    ClusterState,
    NodeState,
)
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.cluster_planner import (
    Action,
    DesiredNode,
    PlanError,
    Spec,
    apply_action,
    placement_problems,
    plan,
    served_after_losing,
    simulate,
    uncovered_slots,
)

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------- builders


def zone_names(count):
    return ["us-west-2%s" % "abcdef"[i] for i in range(count)]


def desired(index, zones):
    """Node number index, round-robin over zones (so any prefix is AZ balanced)."""
    return DesiredNode("10.0.%d.%d" % (index % len(zones) + 1, 10 + index), 6379, zones[index % len(zones)])


def fresh(node):
    return NodeState(node_id="id-%s" % node.address, address=node.address, role="master", in_cluster=False,
                     availability_zone=node.availability_zone, engine="redis", version="7.0.15")


def fresh_state(nodes):
    state = ClusterState()
    for node in nodes:
        state.nodes["id-%s" % node.address] = fresh(node)
    return state


def spec_of(nodes, replicas, **options):
    return Spec(nodes=tuple(nodes), replicas_per_master=replicas, **options)


def created(zones, count, replicas):
    nodes = [desired(i, zones) for i in range(count)]
    spec = spec_of(nodes, replicas)
    state = simulate(fresh_state(nodes), plan(spec, fresh_state(nodes)))
    return nodes, state


def masters(state):
    return [n for n in state.nodes.values() if n.in_cluster and n.role == "master" and n.node_id in state.slot_owner]


def moved_slots(actions):
    return sum(a.args["count"] for a in actions if a.kind == "migrate_slots")


def assert_settled(spec, state, balanced=True):
    """The outcome every plan must reach."""
    assert uncovered_slots(state) == 0
    assert plan(spec, state) == [], "a satisfied topology must give an empty plan"
    counts = [len(state.slots_of(m.node_id)) for m in masters(state)]
    assert max(counts) - min(counts) <= 1
    if spec.replicas_per_master:
        for master in masters(state):
            assert len(state.replicas_of(master.node_id)) >= spec.replicas_per_master
        for zone in spec.az_order:
            assert served_after_losing(state, spec, zone), "losing %s would lose slots" % zone
    if balanced:
        assert placement_problems(spec, state) == []


layouts = st.integers(min_value=2, max_value=4).flatmap(
    lambda zones: st.integers(min_value=0, max_value=2).flatmap(
        lambda replicas: st.tuples(
            st.just(zone_names(zones)), st.just(replicas),
            st.integers(min_value=3 * (replicas + 1), max_value=30))))


# ---------------------------------------------------------------- create


def test_six_nodes_three_zones_is_the_textbook_layout():
    zones = zone_names(3)
    nodes = [desired(i, zones) for i in range(6)]
    spec = spec_of(nodes, 1)
    actions = plan(spec, fresh_state(nodes))
    kinds = [a.kind for a in actions]
    assert kinds == ["add_slots"] * 3 + ["set_config_epoch"] * 6 + ["meet"] * 5 + ["wait"] + ["replicate"] * 3
    epochs = [a.args["epoch"] for a in actions if a.kind == "set_config_epoch"]
    assert len(set(epochs)) == 6
    state = simulate(fresh_state(nodes), actions)
    zone = spec.zones
    pairs = sorted((zone[state.nodes[r.master_id].address], zone[r.address])
                   for r in state.nodes.values() if r.role == "replica")
    assert pairs == [("us-west-2a", "us-west-2b"), ("us-west-2b", "us-west-2c"), ("us-west-2c", "us-west-2a")]
    assert sorted(a.args["ranges"][0] for a in actions if a.kind == "add_slots") == [
        "0-5461", "10923-16383", "5462-10922"]
    for lost in zones:
        assert served_after_losing(state, spec, lost)
    assert_settled(spec, state)


@PROPERTY
@given(layouts)
def test_create_covers_every_slot_and_places_by_zone(layout):
    zones, replicas, count = layout
    nodes = [desired(i, zones) for i in range(count)]
    spec = spec_of(nodes, replicas)
    state = simulate(fresh_state(nodes), plan(spec, fresh_state(nodes)))
    assert len(masters(state)) == count // (replicas + 1)
    assert_settled(spec, state)


@PROPERTY
@given(layouts, st.randoms(use_true_random=False))
def test_plan_is_deterministic_whatever_the_input_order(layout, rnd):
    zones, replicas, count = layout
    nodes = [desired(i, zones) for i in range(count)]
    shuffled = list(nodes)
    rnd.shuffle(shuffled)
    first = plan(spec_of(nodes, replicas), fresh_state(nodes))
    assert first == plan(spec_of(shuffled, replicas), fresh_state(shuffled))


# ---------------------------------------------------------------- scale out / in


@PROPERTY
@given(layouts, st.integers(min_value=1, max_value=12))
def test_scale_out_moves_only_what_balance_needs(layout, added):
    zones, replicas, count = layout
    nodes, state = created(zones, count, replicas)
    before = {m.node_id: len(state.slots_of(m.node_id)) for m in masters(state)}
    bigger = nodes + [desired(i, zones) for i in range(count, count + added)]
    for node in bigger[count:]:
        state.nodes["id-%s" % node.address] = fresh(node)
    spec = spec_of(bigger, replicas)
    actions = plan(spec, state)
    after = simulate(state, actions)
    # New nodes may only fit in AZs that already have the most masters; that
    # stays until restore_placement asks for failovers. With 2 AZs and 2
    # replicas some additions cannot be placed at all without converting
    # replicas, so the AZ rule is checked for the production shape: 3+ AZs, 1 replica.
    assert_settled(spec, after, balanced=False)
    production_shape = replicas == 1 and len(zones) >= 3
    if production_shape:
        assert not [p for p in placement_problems(spec, after) if "masters per AZ" not in p]
    final = masters(after)
    ideal = SLOT_COUNT / len(final)
    needed = sum(max(0, math.floor(ideal) - before.get(m.node_id, 0)) for m in final)
    assert moved_slots(actions) <= needed * 1.02 + len(final)
    # existing shards are kept: no old master lost its role
    assert set(before) <= {m.node_id for m in final}
    assert not [a for a in actions if a.kind in ("forget", "reset", "failover")]
    restoring = spec_of(bigger, replicas, restore_placement=True)
    swaps = plan(restoring, after)
    assert {a.kind for a in swaps} <= {"failover"}
    assert_settled(restoring, simulate(after, swaps), balanced=production_shape)


@PROPERTY
@given(layouts, st.integers(min_value=1, max_value=12))
def test_scale_in_drains_before_forgetting(layout, removed):
    zones, replicas, count = layout
    keep = max(3 * (replicas + 1), count - removed)
    nodes, state = created(zones, count, replicas)
    spec = spec_of(nodes[:keep], replicas)
    actions = plan(spec, state)
    after = simulate(state, actions)
    assert_settled(spec, after, balanced=False)
    assert {n.address for n in after.members()} == {n.address for n in nodes[:keep]}
    gone = {n.address for n in nodes[keep:]}
    forgets = [i for i, a in enumerate(actions) if a.kind == "forget" and a.node in gone]
    migrations = [i for i, a in enumerate(actions) if a.kind == "migrate_slots" and a.node in gone]
    assert len(forgets) == len(gone)
    assert not migrations or max(migrations) < min(forgets)
    for action in actions:
        if action.kind == "migrate_slots" and replicas:
            receiver = after.by_address(action.args["to"])
            assert after.replicas_of(receiver.node_id), "slots moved to a master without replica"


# ---------------------------------------------------------------- failover, replacement


def fail_over(state, master):
    replica = state.replicas_of(master.node_id)[0]
    apply_action(state, Action("failover", replica.address, {"master": master.address}))
    return replica


@PROPERTY
@given(layouts, st.data())
def test_restore_placement_undoes_failovers(layout, data):
    zones, replicas, count = layout
    if not replicas:
        return
    nodes, state = created(zones, count, replicas)
    victims = data.draw(st.lists(st.sampled_from(sorted(masters(state), key=lambda n: n.address)),
                                 min_size=1, max_size=3, unique_by=lambda n: n.node_id))
    for victim in victims:
        fail_over(state, state.nodes[victim.node_id])
    assert uncovered_slots(state) == 0
    assert plan(spec_of(nodes, replicas), state) == [], "placement is only restored on request"
    spec = spec_of(nodes, replicas, restore_placement=True)
    actions = plan(spec, state)
    assert {a.kind for a in actions} <= {"failover"}
    after = simulate(state, actions)
    assert_settled(spec, after)


@PROPERTY
@given(layouts, st.data())
def test_lost_node_is_replaced(layout, data):
    zones, replicas, count = layout
    if not replicas:
        return
    nodes, state = created(zones, count, replicas)
    lost = data.draw(st.sampled_from(sorted(nodes, key=lambda n: n.address)))
    node = state.by_address(lost.address)
    if node.role == "master":
        fail_over(state, node)
    node.live, node.failed, node.keys = False, True, 0
    replacement = DesiredNode("10.9.9.%d" % (count + 1), 6379, lost.availability_zone)
    state.nodes["id-new"] = fresh(replacement)
    nodes = [n for n in nodes if n != lost] + [replacement]
    spec = spec_of(nodes, replicas, restore_placement=True)
    actions = plan(spec, state)
    kinds = [a.kind for a in actions]
    assert kinds[0] == "forget" and actions[0].args["node_id"] == node.node_id
    assert "meet" in kinds and "migrate_slots" not in kinds
    after = simulate(state, actions)
    assert node.node_id not in after.nodes
    assert_settled(spec, after)


def test_replacement_takes_the_lost_masters_place():
    zones = zone_names(3)
    nodes, state = created(zones, 6, 1)
    lost = next(m for m in masters(state) if m.availability_zone == "us-west-2a")
    fail_over(state, lost)
    lost.live, lost.failed = False, True
    replacement = DesiredNode("10.0.1.99", 6379, "us-west-2a")
    state.nodes["id-new"] = fresh(replacement)
    spec = spec_of([n for n in nodes if n.address != lost.address] + [replacement], 1, restore_placement=True)
    actions = plan(spec, state)
    assert [a.kind for a in actions] == ["forget", "meet", "wait", "replicate", "failover"]
    assert actions[-1].node == replacement.address
    assert_settled(spec, simulate(state, actions))


# ---------------------------------------------------------------- refusals


def test_refuses_duplicates_too_few_nodes_and_single_zone():
    zones = zone_names(3)
    nodes = [desired(i, zones) for i in range(6)]
    with pytest.raises(PlanError, match="duplicate node address 10.0.1.10:6379"):
        plan(spec_of(nodes + [nodes[0]], 1), fresh_state(nodes))
    with pytest.raises(PlanError, match="too few nodes: 5 given"):
        plan(spec_of(nodes[:5], 1), fresh_state(nodes[:5]))
    with pytest.raises(PlanError, match="too few nodes: 6 given, replicas_per_master=2 needs at least 9"):
        plan(spec_of(nodes, 2), fresh_state(nodes))
    one_zone = [DesiredNode(n.host, n.port, "us-west-2a") for n in nodes]
    with pytest.raises(PlanError, match="at least 2 availability zones"):
        plan(spec_of(one_zone, 1), fresh_state(one_zone))
    assert plan(spec_of(one_zone, 0), fresh_state(one_zone))  # no replicas: one zone is fine


def test_refuses_unreachable_mixed_engines_and_data():
    zones = zone_names(3)
    nodes = [desired(i, zones) for i in range(6)]
    spec = spec_of(nodes, 1)
    state = fresh_state(nodes[1:])
    with pytest.raises(PlanError, match="unreachable nodes while creating the cluster: 10.0.1.10:6379: refused"):
        plan(spec, state, {nodes[0].address: "refused"})

    state = fresh_state(nodes)
    state.by_address(nodes[2].address).engine = "valkey"
    state.by_address(nodes[2].address).version = "8.0.2"
    with pytest.raises(PlanError, match="mixed engines or major versions: redis 7 on .*; valkey 8 on 10.0.3.12:6379"):
        plan(spec, state)

    state = fresh_state(nodes)
    state.by_address(nodes[3].address).foreign = "holds 12 keys"
    with pytest.raises(PlanError, match="force_create_over_data.*10.0.1.13:6379 holds 12 keys"):
        plan(spec, state)
    forced = plan(spec_of(nodes, 1, force_create_over_data=True), state)
    assert forced[0].kind == "reset" and forced[0].node == nodes[3].address and forced[0].args["flush"]
    assert_settled(spec, simulate(state, forced))


def test_refuses_failed_master_that_still_owns_slots():
    zones = zone_names(3)
    nodes, state = created(zones, 9, 1)
    victim = masters(state)[0]
    victim.live, victim.failed = False, True
    with pytest.raises(PlanError, match="still owns 4096 slots and no replica took over"):
        plan(spec_of([n for n in nodes if n.address != victim.address], 1), state)
    victim.failed = False
    with pytest.raises(PlanError, match="unreachable and not yet marked failed"):
        plan(spec_of([n for n in nodes if n.address != victim.address], 1), state)


def test_pinned_roles_are_honoured():
    zones = zone_names(3)
    nodes = [desired(i, zones) for i in range(6)]
    pinned = [DesiredNode(n.host, n.port, n.availability_zone, "master" if i >= 3 else "replica")
              for i, n in enumerate(nodes)]
    spec = spec_of(pinned, 1)
    state = simulate(fresh_state(pinned), plan(spec, fresh_state(pinned)))
    assert {m.address for m in masters(state)} == {n.address for n in pinned[3:]}
    assert_settled(spec, state)


def test_keeping_unlisted_nodes_leaves_them_alone():
    zones = zone_names(3)
    nodes, state = created(zones, 9, 1)
    spec = spec_of(nodes[:6], 1, remove_unlisted_nodes=False)
    actions = plan(spec, state)
    touched = {a.node for a in actions} | {a.args.get("to") for a in actions}
    assert not touched & {n.address for n in nodes[6:]}
    after = simulate(state, actions)
    assert uncovered_slots(after) == 0
    assert plan(spec, after) == []


def test_replicas_in_the_wrong_shard_are_moved_when_one_lacks_them():
    zones = zone_names(3)
    nodes, state = created(zones, 6, 1)
    heads = sorted(masters(state), key=lambda n: n.address)
    orphan = state.replicas_of(heads[0].node_id)[0]
    orphan.master_id = heads[1].node_id  # heads[0] now lacks a replica
    actions = plan(spec_of(nodes, 1), state)
    assert [(a.kind, a.node, a.args["master"]) for a in actions] == [("replicate", orphan.address, heads[0].address)]


def test_interrupted_migration_is_finished_or_refused():
    zones = zone_names(3)
    nodes, state = created(zones, 6, 1)
    heads = sorted(masters(state), key=lambda n: n.address)
    slot = state.slots_of(heads[0].node_id)[-1]
    state.open_slots[slot] = (heads[0].node_id, heads[1].node_id)
    spec = spec_of(nodes, 1)
    actions = plan(spec, state)
    assert (actions[0].kind, actions[0].node, actions[0].args["to"]) == ("migrate_slots", heads[0].address,
                                                                         heads[1].address)
    after = simulate(state, actions)
    assert after.open_slots == {} and after.slot_owner[slot] != heads[0].node_id
    assert_settled(spec, after)
    state.open_slots[slot] = (heads[2].node_id, heads[1].node_id)  # the source does not own it
    with pytest.raises(PlanError, match="slot %d is half migrated" % slot):
        plan(spec, state)
