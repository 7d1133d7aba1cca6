# -*- coding: utf-8 -*-
"""AZ-loss safety: the rule behind the planner's default, site.yml's report
and the AzLossSafe metric."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.az_safety import (
    MAJORITY,
    NO_COPY,
    Member,
    az_loss_risk_details,
    az_loss_risks,
    az_loss_safe,
    failover_majority_possible,
    majority,
    majority_kept,
    slots_served,
)


def shard(index, master_zone, replica_zones, slots=5461):
    master = Member("10.0.0.%d:6379" % (index * 10), master_zone, True, slots=slots)
    replicas = [Member("10.0.0.%d:6379" % (index * 10 + n + 1), zone, False, master=master.address)
                for n, zone in enumerate(replica_zones)]
    return [master] + replicas


def test_three_masters_in_three_azs_with_replicas_elsewhere_are_safe():
    members = shard(1, "a", ["b"]) + shard(2, "b", ["c"]) + shard(3, "c", ["a"])
    assert az_loss_risks(members) == []
    assert az_loss_safe(members)


def test_two_masters_in_one_az_lose_the_failover_majority():
    members = shard(1, "a", ["b"]) + shard(2, "a", ["c"]) + shard(3, "c", ["b"])
    risks = az_loss_risks(members)
    assert risks == ["losing a: 2 of 3 masters go and the 1 left cannot elect replicas (a failover needs 2 votes)"]
    assert not az_loss_safe(members)


def test_a_shard_entirely_in_one_az_loses_its_slots():
    members = shard(1, "a", ["a"]) + shard(2, "b", ["c"]) + shard(3, "c", ["b"])
    assert az_loss_risks(members) == ["losing a: the 5461 slots of 10.0.0.10:6379 have no copy outside it"]


def test_failed_replicas_are_not_copies():
    members = shard(1, "a", ["b"]) + shard(2, "b", ["c"]) + shard(3, "c", ["a"])
    members[1] = Member(members[1].address, "b", False, master=members[0].address, failed=True)
    assert az_loss_risks(members) == ["losing a: the 5461 slots of 10.0.0.10:6379 have no copy outside it"]


def test_two_azs_never_survive_losing_the_majority_az():
    members = shard(1, "a", ["b"]) + shard(2, "b", ["a"]) + shard(3, "a", ["b"])
    assert any("cannot elect" in risk for risk in az_loss_risks(members))


def test_masters_without_slots_do_not_vote_and_an_empty_cluster_has_no_risk():
    assert az_loss_risks([Member("10.0.0.1:6379", "a", True)]) == []
    members = shard(1, "a", ["b"]) + shard(2, "b", ["c"]) + shard(3, "c", ["a"]) + [Member("10.0.0.99:6379", "a", True)]
    assert az_loss_safe(members)


def test_majority_and_slots_served():
    assert [majority(n) for n in (1, 2, 3, 4, 5)] == [1, 2, 2, 3, 3]
    members = shard(1, "a", ["b"], slots=8192) + shard(2, "b", ["a"], slots=8192)
    assert slots_served(members) == 16384


def test_risk_details_carry_the_kind_and_the_same_messages():
    members = shard(1, "a", ["a"]) + shard(2, "a", ["c"]) + shard(3, "c", ["b"])
    details = az_loss_risk_details(members)
    assert [(r.zone, r.kind, r.shard) for r in details] == [("a", MAJORITY, ""), ("a", NO_COPY, "10.0.0.10:6379")]
    assert [r.message for r in details] == az_loss_risks(members)


def test_majority_kept_by_masters_per_az():
    assert majority_kept({"a": 1, "b": 1, "c": 1})
    assert not majority_kept({"a": 2, "b": 1, "c": 0})
    assert majority_kept({"a": 2, "b": 2, "c": 1}) and not majority_kept({"a": 3, "b": 1, "c": 1})
    assert majority_kept({})


def test_when_a_failover_majority_can_survive_losing_an_az():
    three = {"a": 10, "b": 10, "c": 10}
    assert [m for m in range(1, 10) if failover_majority_possible(m, three)] == [3, 5, 6, 7, 8, 9]
    assert not any(failover_majority_possible(m, {"a": 10, "b": 10}) for m in range(1, 10))
    assert failover_majority_possible(4, {"a": 1, "b": 1, "c": 1, "d": 1})
    # the nodes per AZ limit how evenly masters can spread
    assert not failover_majority_possible(3, {"a": 4, "b": 1, "c": 0})
    assert not failover_majority_possible(5, {"a": 1, "b": 1, "c": 1})


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.integers(min_value=1, max_value=12), st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=5))
def test_failover_majority_possible_matches_every_placement(masters, nodes):
    """The closed form agrees with trying every placement of masters on the AZs' nodes."""
    zones = {"az%d" % i: n for i, n in enumerate(nodes)}

    def placements(left, names):
        if not names:
            if left == 0:
                yield {}
            return
        for count in range(min(left, zones[names[0]]) + 1):
            for rest in placements(left - count, names[1:]):
                yield dict(rest, **{names[0]: count})

    assert failover_majority_possible(masters, zones) == any(
        majority_kept(p) for p in placements(masters, sorted(zones)))
