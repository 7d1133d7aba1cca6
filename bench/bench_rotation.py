#!/usr/bin/env python3
"""Backup rotation of 10,000 sets against the sandbox S3 (a private moto
server on 127.0.0.1, versioned bucket).

Writes N hourly sets (one shard covering every slot: a data object and its
manifest, so 2 objects per set), then times:
  - plan_rotation() alone on the N set ids (pure, best of 3);
  - a check-mode rotation: list (objects + versions + completeness) and plan;
  - the real rotation: list, plan and prune (batched DeleteObjects of every
    version of each deleted set, in the safe order);
  - plain batched DeleteObjects of the same number of (key, version) pairs,
    known in advance, in the same bucket, in the same run.
and prints a table.

Run from the repo root: .venv/bin/python bench/bench_rotation.py [--sets 10000] [--port 5153]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "collections"), os.path.join(HERE, "..", "tests", "integration")]

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_layout as layout  # noqa: E402
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_prune as prune  # noqa: E402
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_rotation as rotation  # noqa: E402
from moto_server import client, moto_server  # noqa: E402

BUCKET = "bench-rotation"
CLUSTER = "bench"
WHOLE = [(0, 16383)]


def progress(text):
    print("... %s" % text, file=sys.stderr, flush=True)


def write_sets(s3, count, now):
    newest = now.replace(minute=0, second=0, microsecond=0)
    ids = [layout.format_set_id(newest - dt.timedelta(hours=h)) for h in range(count)]

    def put(set_id):
        s3.put_object(Bucket=BUCKET, Key=layout.data_key("backups", CLUSTER, set_id, WHOLE), Body=b"rdb")
        s3.put_object(Bucket=BUCKET, Key=layout.manifest_key("backups", CLUSTER, set_id, WHOLE), Body=b"{}")

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(put, ids))
    return ids


def write_plain(s3, count):
    def put(index):
        key = "plain/object-%06d" % index
        return {"Key": key, "VersionId": s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")["VersionId"]}

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        return list(pool.map(put, range(count)))


def plain_delete(s3, objects):
    start = time.perf_counter()
    requests = 0
    for first in range(0, len(objects), prune.MAX_BATCH):
        answer = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": objects[first:first + prune.MAX_BATCH],
                                                          "Quiet": True})
        requests += 1
        if answer.get("Errors"):
            raise SystemExit("plain delete failed: %s" % answer["Errors"][:3])
    return time.perf_counter() - start, requests


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", type=int, default=10000)
    parser.add_argument("--port", type=int, default=5153)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as work, moto_server(args.port, work) as endpoint:
        s3 = client("s3", endpoint)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        now = dt.datetime.now(dt.timezone.utc)
        progress("writing %d sets" % args.sets)
        started = time.perf_counter()
        ids = write_sets(s3, args.sets, now)
        setup = time.perf_counter() - started

        pure = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            plan = rotation.plan_rotation(ids, 7, 4, 3)
            pure = min(pure, time.perf_counter() - started)

        progress("check-mode rotation")
        started = time.perf_counter()
        dry = prune.rotate(s3, BUCKET, "backups", CLUSTER, now, check_mode=True)
        dry_total = time.perf_counter() - started

        progress("real rotation")
        started = time.perf_counter()
        real = prune.rotate(s3, BUCKET, "backups", CLUSTER, now)
        real_total = time.perf_counter() - started
        assert real["deleted"] == dry["deleted"] and len(real["kept"]) == len(rotation.kept(plan))
        deleted_versions = real["deleted_versions"]

        progress("writing %d plain objects" % deleted_versions)
        plain = write_plain(s3, deleted_versions)
        plain_seconds, plain_requests = plain_delete(s3, plain)

        progress("second rotation")
        again = prune.rotate(s3, BUCKET, "backups", CLUSTER, now)
        assert not again["changed"]

    prune_seconds = real["durations"]["prune"]
    rows = [
        ("sets written (2 objects each, 8 threads)", "%d" % len(ids), "%.1f s" % setup),
        ("plan_rotation() alone, best of 3", "%d ids" % len(ids), "%.3f s" % pure),
        ("check mode: list objects + versions", "%d + %d" % (dry["listed_objects"], dry["listed_versions"]),
         "%.2f s" % dry["durations"]["list"]),
        ("check mode: plan (incl. table)", "%d sets" % len(dry["sets"]), "%.3f s" % dry["durations"]["plan"]),
        ("check mode: total", "", "%.2f s" % dry_total),
        ("real run: list", "", "%.2f s" % real["durations"]["list"]),
        ("real run: plan", "", "%.3f s" % real["durations"]["plan"]),
        ("real run: prune", "%d sets, %d versions, %d requests" % (len(real["deleted"]), deleted_versions,
                                                                    real["delete_requests"]),
         "%.2f s  (%.0f versions/s)" % (prune_seconds, deleted_versions / prune_seconds)),
        ("real run: total", "kept %d" % len(real["kept"]), "%.2f s" % real_total),
        ("plain DeleteObjects, same run", "%d versions, %d requests" % (len(plain), plain_requests),
         "%.2f s  (%.0f versions/s)" % (plain_seconds, len(plain) / plain_seconds)),
        ("prune / plain", "", "%.2f x the time" % (prune_seconds / plain_seconds)),
    ]
    width = [max(len(r[c]) for r in rows) for c in range(3)]
    print("Backup rotation, %d hourly sets, moto server on 127.0.0.1 (versioned bucket)" % len(ids))
    for row in rows:
        print("  %s  %s  %s" % (row[0].ljust(width[0]), row[1].rjust(width[1]), row[2]))


if __name__ == "__main__":
    main()
