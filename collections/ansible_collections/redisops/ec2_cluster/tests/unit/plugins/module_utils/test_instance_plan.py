# -*- coding: utf-8 -*-
"""Provisioning plan: every AZ topped up to its share, never more, stopped
instances keep their place, nothing is ever terminated by it."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.instance_plan import (
    InstancePlanError,
    plan_addresses,
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


CIDRS = {"us-west-2a": "10.77.1.0/24", "us-west-2b": "10.77.2.0/24", "us-west-2c": "10.77.3.0/24"}


def test_the_sandbox_layout_is_dot_11_and_dot_12_per_az():
    launch = plan_launches(ZONES, 6, [], "sandbox")["launch"]
    assert plan_addresses(launch, CIDRS, 11, []) == [
        "10.77.1.11", "10.77.1.12", "10.77.2.11", "10.77.2.12", "10.77.3.11", "10.77.3.12"]


def test_a_replacement_takes_the_released_address_and_skips_taken_ones():
    launch = [{"availability_zone": "us-west-2c", "name": "sandbox-6"}]
    assert plan_addresses(launch, CIDRS, 11, ["10.77.3.11", "10.77.3.13"]) == ["10.77.3.12"]


def test_first_host_zero_lets_ec2_choose():
    launch = plan_launches(ZONES, 3, [], "prod")["launch"]
    assert plan_addresses(launch, {}, 0, []) == ["", "", ""]


@pytest.mark.parametrize("first_host", [-1, 1, 3, True, "11"])
def test_reserved_or_bad_first_hosts_are_refused(first_host):
    with pytest.raises(InstancePlanError):
        plan_addresses([{"availability_zone": "us-west-2a", "name": "x-1"}], CIDRS, first_host, [])


def test_a_full_subnet_is_refused():
    launch = [{"availability_zone": "us-west-2a", "name": "x-%d" % n} for n in range(3)]
    with pytest.raises(InstancePlanError, match="no free address"):
        plan_addresses(launch, {"us-west-2a": "10.0.0.0/29"}, 5, [])


@given(st.integers(0, 12), st.integers(4, 20),
       st.lists(st.sampled_from(["10.77.%d.%d" % (s, h) for s in (1, 2, 3) for h in range(4, 24)]), max_size=20))
@settings(max_examples=300, derandomize=True)
def test_addresses_are_free_distinct_in_their_az_subnet_and_not_below_first_host(count, first_host, taken):
    launch = plan_launches(ZONES, count, [], "prod")["launch"]
    addresses = plan_addresses(launch, CIDRS, first_host, taken)
    assert len(addresses) == len(launch)
    assert len(set(addresses)) == len(addresses) and not set(addresses) & set(taken)
    for item, address in zip(launch, addresses):
        network = ipaddress.IPv4Network(CIDRS[item["availability_zone"]])
        assert ipaddress.IPv4Address(address) in network
        host = int(ipaddress.IPv4Address(address)) - int(network.network_address)
        assert first_host <= host < network.num_addresses - 1
        # The lowest free one: nothing lower was free.
        lower = {str(network.network_address + h) for h in range(first_host, host)}
        assert lower <= set(taken) | set(addresses)
