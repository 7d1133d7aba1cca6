# -*- coding: utf-8 -*-
"""Provisioning plan: every AZ topped up to its share, never more, stopped
instances keep their place, nothing is ever terminated by it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.instance_plan import (
    InstancePlanError,
    plan_launches,
    shares,
)

ZONES = ["us-west-2a", "us-west-2b", "us-west-2c"]


def instance(n, zone, state="running"):
    return {"instance_id": "i-%d" % n, "availability_zone": zone, "state": state, "name": "prod-%d" % n}


def test_empty_cluster_gets_two_per_az():
    result = plan_launches(ZONES, 6, [], "prod")
    assert [(i["availability_zone"], i["name"]) for i in result["launch"]] == [
        ("us-west-2a", "prod-1"), ("us-west-2a", "prod-2"), ("us-west-2b", "prod-3"),
        ("us-west-2b", "prod-4"), ("us-west-2c", "prod-5"), ("us-west-2c", "prod-6")]


def test_a_terminated_node_is_replaced_in_its_az_and_a_stopped_one_is_not():
    existing = [instance(1, "us-west-2a"), instance(2, "us-west-2a", "stopped"), instance(3, "us-west-2b"),
                instance(4, "us-west-2b"), instance(5, "us-west-2c"), instance(6, "us-west-2c", "terminated")]
    result = plan_launches(ZONES, 6, existing, "prod")
    assert result["launch"] == [{"availability_zone": "us-west-2c", "name": "prod-6"}]


def test_surplus_and_unknown_azs_are_reported_not_terminated():
    existing = [instance(n, "us-west-2a") for n in range(1, 4)] + [instance(9, "eu-west-1a")]
    result = plan_launches(ZONES, 3, existing, "prod")
    assert result["surplus"] == {"us-west-2a": 2}
    assert result["outside"] == ["i-9"]
    assert [i["availability_zone"] for i in result["launch"]] == ["us-west-2b", "us-west-2c"]


@pytest.mark.parametrize("count", [-1, 2.5, True, "6"])
def test_bad_counts_are_refused(count):
    with pytest.raises(InstancePlanError):
        plan_launches(ZONES, count, [], "prod")


def test_no_zone_is_refused():
    with pytest.raises(InstancePlanError):
        shares([], 6)


@given(st.integers(0, 40), st.lists(st.tuples(st.sampled_from(ZONES),
                                               st.sampled_from(["pending", "running", "stopped", "terminated"])),
                                     max_size=30))
@settings(max_examples=300, derandomize=True)
def test_after_the_launches_every_az_holds_at_least_its_share(count, states):
    existing = [instance(n, zone, state) for n, (zone, state) in enumerate(states, start=1)]
    result = plan_launches(ZONES, count, existing, "prod")
    launched = {zone: sum(1 for i in result["launch"] if i["availability_zone"] == zone) for zone in ZONES}
    for zone in ZONES:
        assert result["present"][zone] + launched[zone] == max(result["present"][zone], result["wanted"][zone])
    assert sum(result["wanted"].values()) == count
    assert max(result["wanted"].values()) - min(result["wanted"].values()) <= 1
    names = [i["name"] for i in result["launch"]]
    present_names = {i["name"] for i in existing if i["state"] != "terminated"}
    assert len(set(names)) == len(names) and not set(names) & present_names
