# -*- coding: utf-8 -*-
"""The S3 backup contract: set ids from the schedule, key names, completeness
by slot coverage, manifests and RDB format checks."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_layout as bl

UTC = dt.timezone.utc


def at(text):
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def manifest(ranges, set_id="20261127T020000Z"):
    return bl.build_manifest(
        "prod", set_id, ranges,
        source={"node_id": "a" * 40, "address": "10.0.2.11:6379", "role": "replica", "availability_zone": "us-west-2b"},
        engine={"name": "redis", "version": "7.0.15", "rdb_version": 10},
        objects=[{"key": bl.data_key("backups", "prod", set_id, ranges), "kind": "rdb", "compression": "zstd",
                  "size": 10, "sha256": "0" * 64, "uncompressed_size": 20, "uncompressed_sha256": "1" * 64}],
        keys=3, started_at="2026-11-27T02:00:05Z", finished_at="2026-11-27T02:00:09Z",
        program={"name": "redisops-backup", "version": "1.0.0"})


@pytest.mark.parametrize("now, interval, start, slot", [
    ("2026-11-27 02:00:00", 24, "02:00", "20261127T020000Z"),
    ("2026-11-27 02:04:59", 24, "02:00", "20261127T020000Z"),
    ("2026-11-27 01:59:59", 24, "02:00", "20261126T020000Z"),
    ("2026-01-01 00:10:00", 24, "02:00", "20251231T020000Z"),
    ("2026-11-27 13:29:00", 6, "01:30", "20261127T073000Z"),
    ("2026-11-27 00:10:00", 6, "01:30", "20261126T193000Z"),
    ("2024-02-29 23:59:59", 1, "00:15", "20240229T231500Z"),
])
def test_schedule_slot(now, interval, start, slot):
    assert bl.format_set_id(bl.schedule_slot(at(now), interval, start)) == slot


@given(st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1)),
       st.sampled_from([1, 2, 3, 4, 6, 8, 12, 24]), st.integers(0, 23), st.integers(0, 59))
@settings(max_examples=200, derandomize=True)
def test_slot_is_the_latest_slot_not_after_now(moment, interval, hour, minute):
    now = moment.replace(tzinfo=UTC)
    start = "%02d:%02d" % (hour, minute)
    slot = bl.schedule_slot(now, interval, start)
    assert slot <= now < slot + dt.timedelta(hours=interval)
    assert (slot.hour * 60 + slot.minute - hour * 60 - minute) % (interval * 60) == 0
    assert slot.second == 0 and slot.microsecond == 0


def test_cron_fields_and_jitter():
    assert bl.cron_fields(24, "02:00") == ("0", "2")
    assert bl.cron_fields(6, "01:30") == ("30", "1,7,13,19")
    assert bl.max_jitter_seconds(24, 600) == 600
    assert bl.max_jitter_seconds(1, 3600) == 900


@pytest.mark.parametrize("interval, start", [(5, "02:00"), (0, "02:00"), (True, "02:00"), (24, "2:00"),
                                             (24, "24:00"), (48, "02:00")])
def test_bad_schedules_are_refused(interval, start):
    with pytest.raises(bl.LayoutError):
        bl.check_schedule(interval, start)


def test_set_ids_round_trip_and_refuse_garbage():
    assert bl.format_set_id(bl.parse_set_id("20240229T235959Z")) == "20240229T235959Z"
    for bad in ("20240230T000000Z", "2024-02-29", "", None, "20240229T235959"):
        assert not bl.is_set_id(bad)


def test_keys_follow_the_contract():
    assert bl.data_key("backups", "prod", "20261127T020000Z", [(0, 5460)]) == \
        "backups/prod/20261127T020000Z/shard-0-5460.rdb.zst"
    assert bl.manifest_key("a/b", "prod", "20261127T020000Z", ["10923-16383"]) == \
        "a/b/prod/20261127T020000Z/shard-10923-16383.manifest.json"
    parsed = bl.parse_key("backups/prod/20261127T020000Z/shard-0-5460.manifest.json", "backups", "prod")
    assert parsed == {"set_id": "20261127T020000Z", "name": "shard-0-5460.manifest.json", "kind": "manifest",
                      "first_slot": 0, "last_slot": 5460}
    assert bl.parse_key("backups/other/20261127T020000Z/shard-0-5460.rdb.zst", "backups", "prod") is None
    assert bl.parse_key("backups/prod/notaset/shard-0-5460.rdb.zst", "backups", "prod") is None
    assert bl.parse_key("backups/prod/20261127T020000Z/x.tmp", "backups", "prod")["kind"] == "other"
    for bad_prefix in ("", "/backups", "backups/", "a//b"):
        with pytest.raises(bl.LayoutError):
            bl.cluster_prefix(bad_prefix, "prod")


def test_completeness_is_exact_slot_coverage():
    three = [manifest([(0, 5460)]), manifest([(5461, 10922)]), manifest([(10923, 16383)])]
    assert bl.is_complete(three)
    assert not bl.is_complete(three[:2])
    assert bl.coverage(three[:2])["missing"] == [(10923, 16383)]
    overlapping = three + [manifest([(5000, 6000)])]
    assert not bl.is_complete(overlapping)
    assert bl.coverage(overlapping)["overlapping"] == [(5000, 6000)]
    assert not bl.is_complete([])
    split = [manifest([(0, 100), (5461, 10922)]), manifest([(101, 5460), (10923, 16383)])]
    assert bl.is_complete(split)


@given(st.lists(st.integers(1, bl.SLOT_COUNT - 1), unique=True, max_size=20))
@settings(max_examples=200, derandomize=True)
def test_any_partition_of_the_slots_is_complete(cuts):
    bounds = [0] + sorted(cuts) + [bl.SLOT_COUNT]
    manifests = [manifest([(a, b - 1)]) for a, b in zip(bounds, bounds[1:])]
    assert bl.is_complete(manifests)
    assert not bl.is_complete(manifests[1:])


def test_manifest_is_checked():
    good = manifest([(0, 16383)])
    assert bl.manifest_errors(good, cluster="prod", set_id="20261127T020000Z") == []
    assert bl.manifest_errors(good, cluster="other")
    broken = dict(good, objects=[dict(good["objects"][0], sha256="nope")])
    assert any("sha256" in e for e in bl.manifest_errors(broken))
    assert bl.manifest_errors({"format": 2})
    with pytest.raises(bl.LayoutError):
        manifest([(0, 16384)])


def test_rdb_versions():
    assert bl.rdb_version(b"REDIS0010\xfa") == 10
    assert bl.rdb_version(b"REDIS0011") == 11
    with pytest.raises(bl.LayoutError):
        bl.rdb_version(b"GARBAGE00")
    assert bl.rdb_readable("redis", "7.0.15", 10)
    assert not bl.rdb_readable("redis", "7.0.15", 11)
    assert bl.rdb_readable("valkey", "8.0.1", 11)
