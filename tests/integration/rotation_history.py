"""Backup histories in a (moto) S3 bucket for the rotation tests and the
benchmark, and an independent reference of the retention policy.

The reference is deliberately written differently from the module's
one-pass walk: for each rule, group the sets into calendar buckets and take
the newest set of the N most recent buckets; with fewer than N buckets the
rule keeps the oldest set too.
"""

from __future__ import annotations

import datetime as dt
import json

UTC = dt.timezone.utc
FORMAT = "%Y%m%dT%H%M%SZ"
THREE_SHARDS = [[(0, 5460)], [(5461, 10922)], [(10923, 16383)]]
# Two shards with two ranges each: the names' bounds overlap, so completeness needs the manifests.
SPLIT_SHARDS = [[(0, 100), (5461, 10922)], [(101, 5460), (10923, 16383)]]


def set_id(moment):
    return moment.astimezone(UTC).strftime(FORMAT)


def moment(set_id_text):
    return dt.datetime.strptime(set_id_text, FORMAT).replace(tzinfo=UTC)


def latest_slot(now):
    """The newest 02:00 UTC at or before now."""
    slot = now.astimezone(UTC).replace(hour=2, minute=0, second=0, microsecond=0)
    return slot if slot <= now else slot - dt.timedelta(days=1)


def reference_keep(complete_ids, keep_daily=7, keep_weekly=4, keep_monthly=3):
    """Complete set ids the policy keeps."""
    if not complete_ids:
        return set()
    bucket_of = {
        "daily": lambda m: (m.year, m.month, m.day),
        "weekly": lambda m: tuple(m.isocalendar())[:2],
        "monthly": lambda m: (m.year, m.month),
    }
    kept = {max(complete_ids)}
    for rule, count in (("daily", keep_daily), ("weekly", keep_weekly), ("monthly", keep_monthly)):
        if not count:
            continue
        buckets = {}
        for sid in complete_ids:
            buckets.setdefault(bucket_of[rule](moment(sid)), []).append(sid)
        recent = sorted(buckets, reverse=True)[:count]
        kept.update(max(buckets[b]) for b in recent)
        if len(buckets) < count:
            kept.add(min(complete_ids))
    return kept


def manifest(cluster, sid, ranges, key):
    flat = sorted(ranges)
    return {
        "format": 1, "cluster": cluster, "set_id": sid,
        "shard": {"first_slot": flat[0][0], "last_slot": flat[-1][1], "slot_ranges": [list(r) for r in flat],
                  "slot_count": sum(b - a + 1 for a, b in flat)},
        "source": {"node_id": "a" * 40, "address": "10.77.1.10:6379", "role": "replica",
                   "availability_zone": "us-west-2a"},
        "engine": {"name": "redis", "version": "7.0.15", "rdb_version": 10},
        "objects": [{"key": key, "kind": "rdb", "compression": "zstd", "size": 3, "sha256": "0" * 64,
                     "uncompressed_size": 3, "uncompressed_sha256": "0" * 64}],
        "keys": 1, "started_at": "2026-01-01T02:00:01Z", "finished_at": "2026-01-01T02:00:02Z",
        "program": {"name": "redisops-backup", "version": "1.0.0"},
    }


def keys_of(prefix, cluster, sid, ranges):
    first, last = min(r[0] for r in ranges), max(r[1] for r in ranges)
    base = "%s/%s/%s/shard-%d-%d" % (prefix, cluster, sid, first, last)
    return base + ".rdb.zst", base + ".manifest.json"


def put_set(s3, bucket, cluster, sid, shards=THREE_SHARDS, with_manifests=None, prefix="backups"):
    """Write a set; with_manifests: indexes of the shards that get a manifest (default all)."""
    for index, ranges in enumerate(shards):
        data, manifest_key = keys_of(prefix, cluster, sid, ranges)
        s3.put_object(Bucket=bucket, Key=data, Body=b"rdb")
        if with_manifests is None or index in with_manifests:
            s3.put_object(Bucket=bucket, Key=manifest_key,
                          Body=json.dumps(manifest(cluster, sid, ranges, data)).encode())


def versions_by_set(s3, bucket, root):
    """{set id: [(key, version id)]} for every version and delete marker under root."""
    found = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=root):
        for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
            sid = item["Key"][len(root):].split("/")[0]
            found.setdefault(sid, []).append((item["Key"], item["VersionId"]))
    return found


def build_history(s3, bucket, cluster, now, days=400):
    """A generated history of daily 02:00 sets ending at the latest slot.

    Returns {"complete": [...], "incomplete": [...], "notes": {name: set id}}.
    The special cases are at fixed offsets (days before the latest slot)."""
    latest = latest_slot(now)
    day = lambda offset, hour=2: set_id(latest - dt.timedelta(days=offset) + dt.timedelta(hours=hour - 2))  # noqa: E731
    complete, incomplete, notes = [], [], {}
    incomplete_offsets = {0, 3, 10, 45, 200}     # 0: a backup still running; the others abandoned
    for offset in range(days):
        sid = day(offset)
        if offset in incomplete_offsets:
            put_set(s3, bucket, cluster, sid, with_manifests={0, 1})
            incomplete.append(sid)
        elif offset in (6, 300):
            put_set(s3, bucket, cluster, sid, shards=SPLIT_SHARDS)
            complete.append(sid)
        else:
            put_set(s3, bucket, cluster, sid)
            complete.append(sid)
    # Days with two sets: a later complete one (the daily rule keeps it), or a later incomplete one.
    for offset in (2, 9, 40, 100):
        sid = day(offset, hour=14)
        put_set(s3, bucket, cluster, sid)
        complete.append(sid)
    notes["second_same_day"] = day(2, hour=14)
    notes["first_same_day"] = day(2)
    late_broken = day(20, hour=14)
    put_set(s3, bucket, cluster, late_broken, with_manifests={2})
    incomplete.append(late_broken)
    # Overwritten objects: three versions of one data object.
    for offset in (1, 8, 30, 150):
        data, _ = keys_of("backups", cluster, day(offset), THREE_SHARDS[0])
        s3.put_object(Bucket=bucket, Key=data, Body=b"rdb v2")
        s3.put_object(Bucket=bucket, Key=data, Body=b"rdb v3")
    # Delete markers: a deleted extra object (the set stays complete) ...
    for offset in (12, 60):
        key = "backups/%s/%s/notes.txt" % (cluster, day(offset))
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        s3.delete_object(Bucket=bucket, Key=key)
    # ... a deleted manifest (the set becomes incomplete) ...
    sid = day(90)
    _, manifest_key = keys_of("backups", cluster, sid, THREE_SHARDS[2])
    s3.delete_object(Bucket=bucket, Key=manifest_key)
    complete.remove(sid)
    incomplete.append(sid)
    notes["manifest_deleted"] = sid
    # ... and a set deleted by hand: only noncurrent versions and delete markers left.
    sid = day(120)
    for ranges in THREE_SHARDS:
        for key in keys_of("backups", cluster, sid, ranges):
            s3.delete_object(Bucket=bucket, Key=key)
    complete.remove(sid)
    incomplete.append(sid)
    notes["hidden"] = sid
    notes["running"] = day(0)
    notes["abandoned"] = day(3)
    notes["oldest"] = day(days - 1)
    notes["split_recent"] = day(6)
    return {"complete": sorted(complete), "incomplete": sorted(incomplete), "notes": notes}
