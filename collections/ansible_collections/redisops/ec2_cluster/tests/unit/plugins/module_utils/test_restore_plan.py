# -*- coding: utf-8 -*-
"""Restore planning: refusals before anything changes, same shape (each RDB
on the master of its slots, its replicas listed) or redistribution (shards
spread over the masters, where most of their slots live)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_layout as bl
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import restore_plan as rp
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.key_slot import crc16, key_slot

SET_ID = "20261127T020000Z"
THREE = [[(0, 5460)], [(5461, 10922)], [(10923, 16383)]]


def manifest(ranges, keys=10, engine=("redis", "7.0.15", 10)):
    return bl.build_manifest(
        "prod", SET_ID, ranges,
        source={"node_id": "s" * 40, "address": "10.0.2.11:6379", "role": "replica", "availability_zone": "b"},
        engine={"name": engine[0], "version": engine[1], "rdb_version": engine[2]},
        objects=[{"key": bl.data_key("backups", "prod", SET_ID, ranges), "kind": "rdb", "compression": "zstd",
                  "size": 10, "sha256": "0" * 64, "uncompressed_size": 20, "uncompressed_sha256": "1" * 64}],
        keys=keys, started_at="2026-11-27T02:00:05Z", finished_at="2026-11-27T02:00:09Z",
        program={"name": "redisops-backup", "version": "1.0.0"})


def cluster(shards, replicas=1, keys=0, engine=("redis", "7.0.15")):
    nodes = []
    for index, ranges in enumerate(shards):
        master_id = "%040d" % index
        nodes.append({"host": "m%d" % index, "node_id": master_id, "role": "master", "master_id": None,
                      "slot_ranges": [list(r) for r in ranges], "keys": keys, "engine": engine[0],
                      "version": engine[1]})
        for replica in range(replicas):
            nodes.append({"host": "r%d-%d" % (index, replica), "node_id": "%039d9" % (index * 10 + replica),
                          "role": "replica", "master_id": master_id, "slot_ranges": [], "keys": keys,
                          "engine": engine[0], "version": engine[1]})
    return nodes


def even(count):
    share = 16384 // count
    return [[(i * share, 16383 if i == count - 1 else (i + 1) * share - 1)] for i in range(count)]


def test_same_shape_places_each_shard_on_the_master_of_its_slots():
    plan = rp.plan_restore([manifest(r, keys=i) for i, r in enumerate(THREE)], cluster(list(reversed(THREE))))
    assert plan["mode"] == rp.SAME_SHAPE
    assert [(s["name"], s["target_host"], s["replica_hosts"]) for s in plan["shards"]] == [
        ("shard-0-5460", "m2", ["r2-0"]), ("shard-5461-10922", "m1", ["r1-0"]), ("shard-10923-16383", "m0", ["r0-0"])]
    assert plan["hosts"]["m2"] == {"fetch": ["shard-0-5460"], "master_of": "shard-0-5460", "replica_of": None,
                                   "load": [], "flush": False}
    assert plan["hosts"]["r2-0"]["replica_of"] == "shard-0-5460" and plan["hosts"]["r2-0"]["fetch"] == []
    assert plan["keys_expected"] == 3


def test_three_shards_into_four_masters_are_redistributed():
    plan = rp.plan_restore([manifest(r) for r in THREE], cluster(even(4), replicas=0))
    assert plan["mode"] == rp.REDISTRIBUTE
    targets = [s["target_host"] for s in plan["shards"]]
    assert len(set(targets)) == 3
    # shard 0-5460 lives mostly on m0 (0-4095), the last one on m3 (12288-16383)
    assert targets[0] == "m0" and targets[2] == "m3"
    assert all(not h["master_of"] and not h["flush"] for h in plan["hosts"].values())


def test_force_flushes_the_masters_that_hold_keys_when_redistributing():
    plan = rp.plan_restore([manifest(r) for r in THREE], cluster(even(2), keys=5), force=True)
    assert plan["mode"] == rp.REDISTRIBUTE
    assert sorted(h for h, job in plan["hosts"].items() if job["flush"]) == ["m0", "m1"]


@pytest.mark.parametrize("manifests, nodes, force, message", [
    ([manifest(r) for r in THREE[:2]], cluster(THREE), False, "incomplete: slots 10923-16383 have no shard"),
    ([manifest(r, engine=("valkey", "8.0.1", 11)) for r in THREE], cluster(THREE), False,
     "RDB format 11; the target's redis 7.0.15 reads up to format 10"),
    ([manifest(r) for r in THREE], cluster(THREE, keys=3), False, "holds data (m0: 3 keys"),
    ([manifest(r) for r in THREE], cluster(THREE[:2]), False, "serves 10923 of 16384 slots"),
    ([], cluster(THREE), True, "no manifests"),
])
def test_refusals(manifests, nodes, force, message):
    with pytest.raises(rp.RestorePlanError, match=message.replace("(", r"\(")):
        rp.plan_restore(manifests, nodes, force)


def test_valkey_reads_valkey_rdbs_and_force_allows_a_target_with_data():
    manifests = [manifest(r, engine=("valkey", "8.0.1", 11)) for r in THREE]
    plan = rp.plan_restore(manifests, cluster(THREE, keys=3, engine=("valkey", "8.0.1")), force=True)
    assert plan["mode"] == rp.SAME_SHAPE


def test_report_counts_keys_per_shard():
    plan = dict(rp.plan_restore([manifest(r, keys=10) for r in THREE], cluster(THREE)), set_id=SET_ID)
    report = rp.report(plan, {"m0": {"keys": 10}, "m1": {"keys": 10}, "m2": {"keys": 9}}, {})
    assert [r["keys_found"] for r in report["shards"]] == [10, 10, 9] and not report["all_found"]
    assert report["lines"][2] == "shard-10923-16383 on m2: 10 keys expected (manifest), 9 found"
    moved = rp.plan_restore([manifest(r, keys=10) for r in THREE], cluster(even(4), replicas=0))
    results = {s["target_host"]: {"shards": [{"name": s["name"], "keys_moved": 10}]} for s in moved["shards"]}
    assert rp.report(moved, {}, results)["all_found"]


@given(st.integers(1, 6), st.integers(1, 8))
@settings(max_examples=60, derandomize=True)
def test_every_shard_gets_one_master_and_no_master_more_than_its_share(shard_count, master_count):
    plan = rp.plan_restore([manifest(r) for r in even(shard_count)], cluster(even(master_count), replicas=0))
    loads = {}
    for shard in plan["shards"]:
        loads[shard["target_host"]] = loads.get(shard["target_host"], 0) + 1
    assert sum(loads.values()) == shard_count
    assert max(loads.values()) <= -(-shard_count // master_count)
    assert plan["mode"] == (rp.SAME_SHAPE if shard_count == master_count else rp.REDISTRIBUTE)


@pytest.mark.parametrize("key, slot", [
    ("foo", 12182), ("bar", 5061), ("", 0), ("{user1000}.following", key_slot("user1000")),
    ("{}.x", key_slot("{}.x")), (b"\x00\xff", key_slot(b"\x00\xff")), ("a{b}{c}", key_slot("b")),
])
def test_key_slots_follow_the_cluster_specification(key, slot):
    assert key_slot(key) == slot
    assert 0 <= key_slot(key) < 16384


def test_crc16_check_value():
    assert crc16(b"123456789") == 0x31C3
