# -*- coding: utf-8 -*-
"""A check run on new instances (no listed node answers yet) predicts the
forming of the cluster instead of failing; any node answering means the
real plan is made (and refuses what it must)."""

from __future__ import annotations

from types import SimpleNamespace

from ansible_collections.redisops.ec2_cluster.plugins.modules.cluster_topology import not_running_yet

SPEC = SimpleNamespace(nodes=[SimpleNamespace(address="10.0.%d.11:6379" % i) for i in (1, 2, 3)])


def test_no_listed_node_answers():
    unreachable = {n.address: "refused" for n in SPEC.nodes}
    assert not_running_yet(SPEC, unreachable)
    assert not_running_yet(SPEC, dict(unreachable, **{"10.0.9.9:6379": "refused"}))


def test_one_answering_node_makes_a_real_plan():
    assert not not_running_yet(SPEC, {n.address: "refused" for n in SPEC.nodes[1:]})
    assert not not_running_yet(SPEC, {})


def test_no_listed_node_is_not_a_cluster_to_form():
    assert not not_running_yet(SimpleNamespace(nodes=[]), {})
