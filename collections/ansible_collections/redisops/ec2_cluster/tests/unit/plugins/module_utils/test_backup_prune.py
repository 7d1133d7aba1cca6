# -*- coding: utf-8 -*-
"""Rotation against S3 (moto in-process, real S3 semantics): check mode,
whole-set deletion of every version and delete marker, batching, safety
refusals, a failed listing and a failed deletion."""

from __future__ import annotations

import datetime as dt
import json
import os

import boto3
import pytest
from moto import mock_aws

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_catalog as catalog
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_layout as layout
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_prune as prune
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_rotation as rotation
from ansible_collections.redisops.ec2_cluster.plugins.modules import backup_rotation as module

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 3, 15, 4, 30, tzinfo=UTC)
BUCKET = "rotation-unit"
THREE = [[(0, 5460)], [(5461, 10922)], [(10923, 16383)]]


@pytest.fixture
def s3(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-west-2", "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                        "AWS_CONFIG_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3", region_name="us-west-2")
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-west-2"},
                             ObjectLockEnabledForBucket=True)  # versioned, and legal holds can block deletes
        yield client


def put_set(s3, set_id, shards=THREE, manifests=True, cluster="c1", bucket=BUCKET):
    for ranges in shards:
        s3.put_object(Bucket=bucket, Key=layout.data_key("backups", cluster, set_id, ranges), Body=b"rdb")
        if manifests:
            s3.put_object(Bucket=bucket, Key=layout.manifest_key("backups", cluster, set_id, ranges),
                          Body=json.dumps({"format": 1}).encode())


def day(offset, hour=2):
    return layout.format_set_id(dt.datetime(2026, 3, 15, hour, tzinfo=UTC) - dt.timedelta(days=offset))


def versions_under(s3, prefix, bucket=BUCKET):
    answer = s3.list_object_versions(Bucket=bucket, Prefix=prefix)
    return answer.get("Versions", []) + answer.get("DeleteMarkers", [])


def history(s3, days=40):
    for offset in range(days):
        put_set(s3, day(offset))
    # A second version of one object, and a deleted extra object (a delete marker over a version).
    s3.put_object(Bucket=BUCKET, Key=layout.data_key("backups", "c1", day(30), THREE[0]), Body=b"rdb again")
    s3.put_object(Bucket=BUCKET, Key="backups/c1/%s/notes.txt" % day(31), Body=b"x")
    s3.delete_object(Bucket=BUCKET, Key="backups/c1/%s/notes.txt" % day(31))


def test_check_mode_plans_exactly_what_the_real_run_does_and_deletes_nothing(s3):
    history(s3)
    before = versions_under(s3, "backups/c1/")
    dry = prune.rotate(s3, BUCKET, "backups", "c1", NOW, check_mode=True)
    assert versions_under(s3, "backups/c1/") == before
    assert dry["changed"] and dry["delete_requests"] == 0
    real = prune.rotate(s3, BUCKET, "backups", "c1", NOW, batch_size=7)
    assert real["table"] == dry["table"] and real["deleted"] == dry["deleted"] and real["summary"] == dry["summary"]
    assert real["kept"] == [row["set_id"] for row in real["sets"] if row["action"] == "keep"]
    # 7 daily (offsets 0-6), weekly adds Sundays 03-08 and 03-01 and 02-22, monthly adds 02-28 and 02-04 (the
    # oldest set: only two months hold sets, so the monthly rule keeps the oldest too).
    assert real["kept"] == [day(o) for o in (0, 1, 2, 3, 4, 5, 6, 7, 14, 15, 21, 39)]
    assert rotation.kept({r["set_id"]: r["reasons"] for r in real["sets"]}) == real["kept"]
    assert real["summary"]["deleted_versions"] == 28 * 6 + 1 + 2 == real["deleted_versions"]
    assert real["delete_requests"] == -(-real["deleted_versions"] // 7)
    for set_id in real["deleted"]:
        assert versions_under(s3, "backups/c1/%s/" % set_id) == []
    for set_id in real["kept"]:
        assert len(versions_under(s3, "backups/c1/%s/" % set_id)) == 6
    again = prune.rotate(s3, BUCKET, "backups", "c1", NOW)
    assert not again["changed"] and again["deleted"] == [] and again["kept"] == real["kept"]


def test_incomplete_sets_wait_for_their_grace_and_sets_with_only_old_versions_count_as_incomplete(s3):
    put_set(s3, day(0), manifests=False)       # running now
    put_set(s3, day(1))
    put_set(s3, day(3), manifests=False)       # abandoned
    put_set(s3, day(4))
    for ranges in THREE:                       # deleted by hand: only versions and delete markers left
        s3.delete_object(Bucket=BUCKET, Key=layout.data_key("backups", "c1", day(4), ranges))
        s3.delete_object(Bucket=BUCKET, Key=layout.manifest_key("backups", "c1", day(4), ranges))
    result = prune.rotate(s3, BUCKET, "backups", "c1", NOW)
    rows = {row["set_id"]: row for row in result["sets"]}
    assert rows[day(0)]["reasons"] == ["grace"] and rows[day(1)]["reasons"][0] == "newest"
    assert rows[day(4)]["objects"] == 0 and rows[day(4)]["versions"] == 12 and not rows[day(4)]["complete"]
    assert result["deleted"] == [day(3), day(4)]
    assert versions_under(s3, "backups/c1/%s/" % day(4)) == [] and versions_under(s3, "backups/c1/%s/" % day(3)) == []
    assert len(versions_under(s3, "backups/c1/%s/" % day(0))) == 3


def test_unversioned_bucket(s3):
    s3.create_bucket(Bucket="plain-bucket", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    for offset in range(10):
        put_set(s3, day(offset), bucket="plain-bucket")
    result = prune.rotate(s3, "plain-bucket", "backups", "c1", NOW, keep_daily=3, keep_weekly=0, keep_monthly=0)
    assert result["deleted"] == [day(o) for o in range(3, 10)]
    assert len(versions_under(s3, "backups/c1/", bucket="plain-bucket")) == 18


def test_other_clusters_and_stray_keys_are_left_alone(s3):
    for offset in range(10):
        put_set(s3, day(offset))
        put_set(s3, day(offset), cluster="c2")
    s3.put_object(Bucket=BUCKET, Key="backups/c1/README", Body=b"x")
    result = prune.rotate(s3, BUCKET, "backups", "c1", NOW, keep_daily=1, keep_weekly=0, keep_monthly=0)
    assert len(result["deleted"]) == 9 and result["stray_keys"] == ["backups/c1/README"]
    assert len(versions_under(s3, "backups/c2/")) == 60
    assert len(versions_under(s3, "backups/c1/README")) == 1


def test_one_version_listing_gives_what_list_sets_gives(s3):
    history(s3)
    put_set(s3, day(45), manifests=False)
    s3.put_object(Bucket=BUCKET, Key="backups/c1/stray", Body=b"x")
    s3.put_object(Bucket=BUCKET, Key="backups/c1/gone", Body=b"x")
    s3.delete_object(Bucket=BUCKET, Key="backups/c1/gone")
    current, versions = catalog.list_sets_and_versions(s3, BUCKET, "backups", "c1")
    plain = catalog.list_sets(s3, BUCKET, "backups", "c1")
    assert current.stray_keys == plain.stray_keys == ["backups/c1/stray"]
    assert versions.stray_keys == ["backups/c1/gone", "backups/c1/stray"]
    assert sorted(current.sets) == sorted(plain.sets)
    for set_id, backup_set in plain.sets.items():
        assert current.sets[set_id].objects == backup_set.objects
    assert len(versions.sets[day(30)]) == 6 + 1 and len(versions.sets[day(31)]) == 6 + 2
    assert versions.count == 41 * 6 - 3 + 1 + 2 and catalog.list_versions(s3, BUCKET, "backups", "c1").sets == versions.sets


def test_deletion_order_keeps_an_interrupted_run_safe():
    def v(key, latest, marker=False, version="1"):
        return {"key": key, "version_id": version, "is_latest": latest, "delete_marker": marker, "size": 0}
    versions = [v("p/s/shard-0-1.rdb.zst", True), v("p/s/shard-0-1.manifest.json", True),
                v("p/s/x", True, marker=True), v("p/s/x", False, version="0"), v("p/s/shard-0-1.rdb.zst", False, version="0")]
    order = [(x["key"], x["version_id"]) for x in prune.deletion_order(versions)]
    assert order == [("p/s/shard-0-1.rdb.zst", "0"), ("p/s/x", "0"), ("p/s/shard-0-1.manifest.json", "1"),
                     ("p/s/shard-0-1.rdb.zst", "1"), ("p/s/x", "1")]


# ---------------------------------------------------------------- refusals and failures: nothing deleted


def test_refuses_without_a_complete_set(s3):
    for offset in range(3, 8):
        put_set(s3, day(offset), manifests=False)
    before = versions_under(s3, "backups/c1/")
    with pytest.raises(prune.RotationRefused, match="no complete backup set") as refused:
        prune.rotate(s3, BUCKET, "backups", "c1", NOW)
    assert versions_under(s3, "backups/c1/") == before
    assert refused.value.result["deleted"] == [] and len(refused.value.result["kept"]) == 5


def test_refuses_when_the_newest_complete_set_is_stale(s3):
    for offset in range(3, 30):
        put_set(s3, day(offset))
    before = versions_under(s3, "backups/c1/")
    with pytest.raises(prune.RotationRefused, match="20260312T020000Z is 74.5 h old"):
        prune.rotate(s3, BUCKET, "backups", "c1", NOW)
    assert versions_under(s3, "backups/c1/") == before
    assert prune.rotate(s3, BUCKET, "backups", "c1", NOW, max_newest_age_hours=80, check_mode=True)["deleted"]


def test_a_listing_over_the_bound_is_refused(s3):
    for offset in range(10):
        put_set(s3, day(offset))
    before = versions_under(s3, "backups/c1/")
    with pytest.raises(catalog.CatalogError, match="more than 59 object versions"):
        prune.rotate(s3, BUCKET, "backups", "c1", NOW, max_objects=59)
    s3.put_object(Bucket=BUCKET, Key=layout.data_key("backups", "c1", day(9), THREE[0]), Body=b"v2")
    with pytest.raises(catalog.CatalogError, match="more than 60 object versions"):
        prune.rotate(s3, BUCKET, "backups", "c1", NOW, max_objects=60)
    assert len(versions_under(s3, "backups/c1/")) == len(before) + 1


def test_a_listing_that_fails_on_a_later_page_deletes_nothing(s3):
    for offset in range(10):
        put_set(s3, day(offset))
    before = versions_under(s3, "backups/c1/")
    failing = boto3.client("s3", region_name="us-west-2")
    calls = []

    def second_page_fails(**_kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise ConnectionError("connection reset on page 2")

    failing.meta.events.register("before-call.s3.ListObjectVersions", second_page_fails)
    failing.meta.events.register("before-parameter-build.s3.ListObjectVersions",
                                 lambda params, **_: params.update(MaxKeys=25))
    with pytest.raises(catalog.CatalogError, match="connection reset on page 2"):
        prune.rotate(failing, BUCKET, "backups", "c1", NOW, keep_daily=1, keep_weekly=0, keep_monthly=0)
    assert len(calls) == 2 and versions_under(s3, "backups/c1/") == before


def test_an_unreadable_manifest_that_decides_completeness_deletes_nothing(s3):
    for offset in range(10):
        put_set(s3, day(offset))
    split = [[(0, 100), (5461, 10922)], [(101, 5460), (10923, 16383)]]   # name bounds overlap: manifests are read
    put_set(s3, day(12), shards=split)                                  # "{"format": 1}" is no valid manifest
    before = versions_under(s3, "backups/c1/")
    with pytest.raises(catalog.CatalogError, match="manifest backups/c1/%s/shard-0-10922.manifest.json" % day(12)):
        prune.rotate(s3, BUCKET, "backups", "c1", NOW)
    assert versions_under(s3, "backups/c1/") == before


def test_a_failed_delete_stops_and_says_what_was_deleted(s3):
    for offset in range(12):
        put_set(s3, day(offset))
    held = layout.manifest_key("backups", "c1", day(9), THREE[1])
    version = s3.head_object(Bucket=BUCKET, Key=held)["VersionId"]
    s3.put_object_legal_hold(Bucket=BUCKET, Key=held, VersionId=version, LegalHold={"Status": "ON"})
    with pytest.raises(prune.PruneError, match="AccessDenied") as failed:
        prune.rotate(s3, BUCKET, "backups", "c1", NOW, keep_daily=3, keep_weekly=0, keep_monthly=0, batch_size=5)
    result = failed.value.result
    assert held in [e["key"] for e in result["errors"]]
    assert result["changed"] and result["deleted_versions"] > 0
    assert day(9) in result["partly_deleted"]
    # Manifests go first, so every set touched so far is incomplete and none looks restorable.
    listing = catalog.list_sets(s3, BUCKET, "backups", "c1")
    for set_id in result["partly_deleted"] + result["deleted"]:
        assert set_id not in listing.sets or not catalog.completeness_from_names(listing.sets[set_id])
    for set_id in result["not_deleted"]:
        assert len(versions_under(s3, "backups/c1/%s/" % set_id)) == 6
    for set_id in (day(0), day(1), day(2)):
        assert len(versions_under(s3, "backups/c1/%s/" % set_id)) == 6


@pytest.mark.parametrize("kwargs,match", [
    ({"keep_daily": -1}, "keep_daily"), ({"keep_weekly": 1.5}, "keep_weekly"), ({"incomplete_grace_days": 0}, "grace"),
    ({"max_newest_age_hours": 0}, "max_newest_age_hours"), ({"max_objects": 0}, "max_objects"),
    ({"batch_size": 1001}, "batch size"), ({"prefix": "/backups"}, "prefix"), ({"cluster": "a/b"}, "cluster name"),
])
def test_bad_settings_fail_before_anything_is_listed(kwargs, match):
    class NoClient:
        def __getattr__(self, name):
            raise AssertionError("S3 was called")
    args = {"prefix": "backups", "cluster": "c1"}
    args.update(kwargs)
    prefix, cluster = args.pop("prefix"), args.pop("cluster")
    with pytest.raises(rotation.RotationError, match=match):
        prune.rotate(NoClient(), BUCKET, prefix, cluster, NOW, **args)


# ---------------------------------------------------------------- the module's outcome for each case


class Exit(Exception):
    pass


class FakeModule:
    def __init__(self, check_mode=False, **params):
        self.check_mode = check_mode
        self.params = {"bucket": BUCKET, "prefix": "backups", "cluster_name": "c1", "keep_daily": 7, "keep_weekly": 4,
                       "keep_monthly": 3, "incomplete_grace_days": 2, "max_newest_age_hours": 48.0,
                       "max_objects": 100000, "delete_batch_size": 1000}
        self.params.update(params)

    def exit_json(self, **result):
        raise Exit(("ok", result))

    def fail_json(self, **result):
        raise Exit(("failed", result))


def outcome(s3, **params):
    with pytest.raises(Exit) as leaving:
        module.run(FakeModule(**params), s3, NOW)
    return leaving.value.args[0]


def test_module_outcomes(s3):
    for offset in range(3, 20):
        put_set(s3, day(offset))
    status, result = outcome(s3)
    assert status == "failed" and result["msg"].startswith("Refusing to prune: the newest complete backup set")
    assert result["msg"].endswith("nothing was deleted under s3://%s/backups/c1/." % BUCKET) and result["table"]
    status, result = outcome(s3, max_objects=10)
    assert status == "failed" and "more than 10 object versions" in result["msg"] and "nothing was deleted" in result["msg"]
    status, result = outcome(s3, keep_daily=-3)
    assert status == "failed" and result["msg"] == "Invalid backup rotation settings: keep_daily must be >= 0, not -3"
    status, result = outcome(s3, check_mode=True, max_newest_age_hours=100.0)
    assert status == "ok" and result["changed"] and len(result["deleted"]) == 17 - 10
    assert len(versions_under(s3, "backups/c1/")) == 17 * 6
    status, result = outcome(s3, max_newest_age_hours=100.0)
    assert status == "ok" and result["changed"] and len(versions_under(s3, "backups/c1/")) == 10 * 6
