# -*- coding: utf-8 -*-
"""Which node backs up a shard: a healthy, caught-up replica, preferring
another AZ than its master, the master only without one; every member of the
shard reaches the same answer from the same facts, in whatever order."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings, strategies as st

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_policy as bp
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.cluster_model import parse_cluster_nodes
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.redis_info import parse_info

M = "m" * 40
ZONES = {"10.0.1.10": "a", "10.0.2.10": "b", "10.0.3.10": "c", "10.0.1.11": "a", "10.0.2.11": "b",
         "10.0.3.11": "c"}


def member(node_id, ip, master_id=None, flags=None, slots=()):
    flags = flags or (("master",) if master_id is None else ("slave",))
    return bp.Member(node_id, "%s:6379" % ip, tuple(flags), master_id, tuple(slots))


def info(replicas, offset=1000):
    lines = ["# Replication", "role:master", "connected_slaves:%d" % len(replicas)]
    for index, (ip, state, replica_offset, lag) in enumerate(replicas):
        lines.append("slave%d:ip=%s,port=6379,state=%s,offset=%d,lag=%d" % (index, ip, state, replica_offset, lag))
    lines.append("master_repl_offset:%d" % offset)
    return parse_info("\r\n".join(lines))


def shard(*replicas):
    """A master in AZ a (10.0.1.10) with the given replicas (node id, ip, flags)."""
    members = [member(M, "10.0.1.10", slots=((0, 16383),))]
    members += [member(node_id, ip, M, flags) for node_id, ip, flags in replicas]
    return members


def test_a_healthy_replica_in_another_az_is_chosen():
    members = shard(("b" * 40, "10.0.2.11", None), ("c" * 40, "10.0.1.11", None))
    replication = info([("10.0.2.11", "online", 1000, 0), ("10.0.1.11", "online", 1000, 0)])
    choice = bp.choose_backup_node(members, M, replication, ZONES)
    assert (choice.node_id, choice.role, choice.availability_zone) == ("b" * 40, "replica", "b")
    assert "another AZ" in choice.reason


def test_another_az_wins_over_a_lower_node_id_in_the_masters_az():
    members = shard(("1" * 40, "10.0.1.11", None), ("9" * 40, "10.0.3.11", None))
    replication = info([("10.0.1.11", "online", 1000, 0), ("10.0.3.11", "online", 1000, 0)])
    assert bp.choose_backup_node(members, M, replication, ZONES).node_id == "9" * 40


def test_a_replica_in_the_masters_az_when_it_is_the_only_healthy_one():
    members = shard(("1" * 40, "10.0.1.11", None), ("9" * 40, "10.0.3.11", None))
    replication = info([("10.0.1.11", "online", 1000, 0), ("10.0.3.11", "wait_bgsave", 0, 0)])
    choice = bp.choose_backup_node(members, M, replication, ZONES)
    assert choice.node_id == "1" * 40 and "master's AZ" in choice.reason


@pytest.mark.parametrize("state, offset, lag, why", [
    ("wait_bgsave", 1000, 0, "replication state wait_bgsave"),
    ("online", 1000, 30, "last ACK 30s ago"),
    ("online", 1000 - 64 * 1024 * 1024, 0, "bytes behind its master"),
])
def test_the_master_backs_up_when_no_replica_is_healthy(state, offset, lag, why):
    members = shard(("b" * 40, "10.0.2.11", None))
    choice = bp.choose_backup_node(members, M, info([("10.0.2.11", state, offset, lag)], offset=1000), ZONES)
    assert (choice.node_id, choice.role) == (M, "master")
    assert why in choice.reason


def test_a_failed_or_disconnected_replica_does_not_count():
    members = shard(("b" * 40, "10.0.2.11", ("slave", "fail")), ("c" * 40, "10.0.3.11", None))
    choice = bp.choose_backup_node(members, M, info([]), ZONES)
    assert choice.role == "master"
    assert "flagged fail" in choice.reason and "not connected to its master" in choice.reason


def test_a_shard_without_replicas_is_backed_up_by_its_master():
    choice = bp.choose_backup_node(shard(), M, info([]), ZONES)
    assert choice.role == "master" and choice.reason == "no healthy replica"


def test_refusals():
    members = shard(("b" * 40, "10.0.2.11", None))
    with pytest.raises(bp.PolicyError, match="not a master"):
        bp.choose_backup_node(members, "b" * 40, info([]), ZONES)
    with pytest.raises(bp.PolicyError, match="reports role slave"):
        bp.choose_backup_node(members, M, {"role": "slave"}, ZONES)
    failed = [member(M, "10.0.1.10", flags=("master", "fail"), slots=((0, 16383),))]
    with pytest.raises(bp.PolicyError, match="flagged master,fail"):
        bp.choose_backup_node(failed, M, info([]), ZONES)
    migrating = [bp.Member(M, "10.0.1.10:6379", ("master",), None, ((0, 16383),), open_slots=1)]
    with pytest.raises(bp.PolicyError, match="migrating or importing"):
        bp.choose_backup_node(migrating, M, info([]), ZONES)


NODES = """\
%s 10.0.1.10:6379@16379 myself,master - 0 0 1 connected 0-5460
%s 10.0.2.10:6379@16379 master - 0 0 2 connected 5461-10922
%s 10.0.3.10:6379@16379 master - 0 0 3 connected 10923-16383 [10923->-%s]
%s 10.0.2.11:6379@16379 slave %s 0 0 1 connected
"""


def test_members_from_cluster_nodes_and_the_shard_of_a_node():
    ids = ["1" * 40, "2" * 40, "3" * 40, "4" * 40]
    members = bp.members_from_entries(parse_cluster_nodes(NODES % (ids[0], ids[1], ids[2], ids[1], ids[3], ids[0])))
    bp.check_full_coverage(members)
    assert bp.shard_master(members, ids[3]).node_id == ids[0]
    assert bp.shard_master(members, ids[1]).node_id == ids[1]
    assert [m.open_slots for m in members] == [0, 0, 1, 0]
    with pytest.raises(bp.PolicyError, match="16383 of 16384"):
        bp.check_full_coverage(members[:1] + [bp.Member(ids[1], "x:1", ("master",), None, ((5461, 16382),))])
    empty_master = bp.Member("5" * 40, "10.0.1.12:6379", ("master",), None, ())
    assert bp.shard_master(members + [empty_master], "5" * 40) is None
    with pytest.raises(bp.PolicyError, match="not in its own"):
        bp.shard_master(members, "6" * 40)


REPLICA_IPS = ["10.0.1.11", "10.0.2.11", "10.0.3.11", "10.0.9.11"]  # the last: AZ unknown


@st.composite
def shards(draw):
    count = draw(st.integers(0, 4))
    replicas = []
    for index in range(count):
        replicas.append({
            "id": "%040x" % draw(st.integers(1, 2 ** 40)),
            "ip": REPLICA_IPS[index],
            "failed": draw(st.booleans()),
            "state": draw(st.sampled_from(["online", "online", "wait_bgsave", None])),
            "lag": draw(st.integers(0, 20)),
            "behind": draw(st.sampled_from([0, 100, 32 * 1024 * 1024])),
        })
    return replicas


def build(replicas):
    members = shard(*[(r["id"], r["ip"], ("slave", "fail") if r["failed"] else None) for r in replicas])
    entries = [(r["ip"], r["state"], 10 ** 9 - r["behind"], r["lag"]) for r in replicas if r["state"]]
    return members, info(entries, offset=10 ** 9)


@given(shards(), st.randoms(use_true_random=False))
@settings(max_examples=300, derandomize=True)
@example([], None)
def test_properties(replicas, rng):
    members, replication = build(replicas)
    choice = bp.choose_backup_node(members, M, replication, ZONES)
    healthy = [r for r in replicas if not r["failed"] and r["state"] == "online" and r["lag"] <= 10
               and r["behind"] <= bp.DEFAULT_MAX_LAG_BYTES]
    if not healthy:
        assert choice.node_id == M and choice.role == "master"
        return
    assert choice.role == "replica" and choice.node_id in {r["id"] for r in healthy}
    elsewhere = [r for r in healthy if ZONES.get(r["ip"]) not in (None, "a")]
    if elsewhere:
        assert choice.node_id == min(r["id"] for r in elsewhere)
    # every member reads the same facts in its own order: the same answer
    if rng is not None:
        shuffled = list(members)
        rng.shuffle(shuffled)
        entries = [(k, v) for k, v in replication.items()]
        rng.shuffle(entries)
        assert bp.choose_backup_node(shuffled, M, dict(entries), dict(ZONES)) == choice
