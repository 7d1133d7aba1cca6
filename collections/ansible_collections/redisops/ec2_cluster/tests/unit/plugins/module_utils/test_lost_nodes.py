# -*- coding: utf-8 -*-
"""Which failed nodes may be forgotten: only those whose instance is gone."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.lost_nodes import (
    GONE_STATES,
    LostNodesError,
    forgettable_nodes,
)

STATES = ("pending", "running", "stopping", "stopped", "shutting-down", "terminated")


def member(ip, role="master", node_id=None):
    return {"address": "%s:6379" % ip, "node_id": node_id or "id-%s" % ip, "role": role}


def instance(ip, state, instance_id=None):
    return {"private_ip_address": ip, "instance_id": instance_id or "i-%s" % ip.replace(".", ""),
            "state": {"name": state}}


LIVE = [member("10.0.1.10"), member("10.0.2.10", "replica")]
LIVE_INSTANCES = [instance("10.0.1.10", "running"), instance("10.0.2.10", "running")]


def test_terminated_or_absent_instances_are_forgotten_stopped_ones_kept():
    topology = LIVE + [member("10.0.3.10", "failed master"), member("10.0.3.11", "failed replica"),
                       member("10.0.3.12", "failed replica"), member("10.0.3.13", "standalone")]
    instances = LIVE_INSTANCES + [instance("10.0.3.10", "terminated", "i-dead"),
                                  instance("10.0.3.11", "stopped", "i-sleeping")]
    decision = forgettable_nodes(topology, instances)
    assert decision["forget"] == ["10.0.3.10:6379", "10.0.3.12:6379"]
    assert decision["keep"] == ["10.0.3.11:6379"]
    assert decision["report"] == [
        "forget 10.0.3.10:6379: instance i-dead is terminated",
        "keep 10.0.3.11:6379: instance i-sleeping is stopped, the node may come back",
        "forget 10.0.3.12:6379: no EC2 instance has the private IP 10.0.3.12",
    ]
    # Their host keys go too; the stopped instance's stays.
    assert decision["gone_instance_ids"] == ["i-dead"]


def test_an_address_that_answers_as_another_node_is_forgotten():
    # The replacement got the lost instance's private IP: same address, new node ID.
    topology = LIVE + [member("10.0.3.10", "failed master", "old-node"), member("10.0.3.10", "replica", "new-node")]
    instances = LIVE_INSTANCES + [instance("10.0.3.10", "terminated", "i-old"), instance("10.0.3.10", "running")]
    decision = forgettable_nodes(topology, instances)
    assert decision["forget"] == ["10.0.3.10:6379"]
    # The old instance's host key is forgotten, never the replacement's.
    assert decision["gone_instance_ids"] == ["i-old"]
    assert decision["report"] == ["forget 10.0.3.10:6379: its address now answers as another node "
                                  "(10.0.3.10:6379 new-node)"]


def test_a_listing_that_misses_live_nodes_is_refused():
    topology = LIVE + [member("10.0.3.10", "failed master")]
    with pytest.raises(LostNodesError, match="no instance for the live cluster nodes 10.0.1.10:6379, 10.0.2.10:6379"):
        forgettable_nodes(topology, [])
    with pytest.raises(LostNodesError, match="10.0.2.10:6379"):
        forgettable_nodes(topology, [instance("10.0.1.10", "running"), instance("10.0.2.10", "terminated")])


def test_nothing_failed_nothing_to_decide():
    nothing = {"forget": [], "keep": [], "report": [], "gone_instance_ids": []}
    assert forgettable_nodes(LIVE, LIVE_INSTANCES) == nothing
    assert forgettable_nodes(LIVE, []) == nothing  # EC2 not even asked


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.lists(st.lists(st.sampled_from(STATES), max_size=3), min_size=1, max_size=8))
def test_a_node_with_an_instance_that_may_come_back_is_never_forgotten(histories):
    """Each failed node has 0 to 3 instances that ever held its IP, in any states."""
    topology = list(LIVE)
    instances = list(LIVE_INSTANCES)
    for index, states in enumerate(histories):
        ip = "10.0.9.%d" % index
        topology.append(member(ip, "failed replica"))
        instances += [instance(ip, state, "i-%d-%d" % (index, n)) for n, state in enumerate(states)]
    decision = forgettable_nodes(topology, instances)
    assert sorted(decision["forget"] + decision["keep"]) == sorted("10.0.9.%d:6379" % i for i in range(len(histories)))
    assert len(decision["report"]) == len(histories)
    for index, states in enumerate(histories):
        address = "10.0.9.%d:6379" % index
        may_return = any(state not in GONE_STATES for state in states)
        assert (address in decision["keep"]) is may_return
        # A host key is forgotten only for an instance that is gone, at an address that is forgotten.
        gone = {"i-%d-%d" % (index, n) for n, state in enumerate(states) if state in GONE_STATES}
        if may_return:
            assert not gone & set(decision["gone_instance_ids"])
        else:
            assert gone <= set(decision["gone_instance_ids"])
        assert not {"i-%d-%d" % (index, n) for n, state in enumerate(states)
                    if state not in GONE_STATES} & set(decision["gone_instance_ids"])
