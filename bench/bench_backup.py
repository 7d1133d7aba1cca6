#!/usr/bin/env python3
"""Figures of the backup program and the restore (not a test; prints a table).

For each data size (default 1 GB and 4 GB of semi-compressible values):
- a one-node cluster (all slots, AOF on) on 127.0.0.51 is filled;
- redisops-backup run (the node's /usr/bin/python3 and Debian libraries)
  backs it up to a private moto S3; its wall time, the streaming phase
  (after the save, until the object is confirmed), and its peak RSS (VmHWM
  of the program itself, and ru_maxrss of its process tree) are taken;
- in the same run, the same dump.rdb is uploaded plainly to the same
  endpoint with boto3's upload_file (multipart, SSE-KMS, default transfer
  settings): the reference throughput;
- the set is restored into a fresh one-node cluster on 127.0.0.52 (fetch and
  verify, place, start with AOF off, load, AOF rewrite): seconds per GB until
  the node serves the data with AOF on.

Run: .venv/bin/python bench/bench_backup.py [--sizes-gb 1 4] [--no-restore]
Ports (options): moto 5143, redis 7451/7452 (+10000). Takes minutes per GB.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "collections"), str(ROOT / "tests/integration")]

import redis  # noqa: E402
from boto3.s3.transfer import TransferConfig  # noqa: E402
from botocore.config import Config  # noqa: E402

from local_cluster import ADMIN, AGENT, LocalCluster  # noqa: E402
from moto_server import REGION, client, moto_server  # noqa: E402
from test_backup_restore import run_module  # noqa: E402
from ansible_collections.redisops.ec2_cluster.plugins.modules import (  # noqa: E402
    backup_fetch, backup_restore_plan, redis_node_data, redis_node_info, redis_rdb_place)

MOTO_PORT = 5143
BUCKET = "bench-backups"
GB = 1000 ** 3


def record(i):
    """A JSON record of about 1 KB: fields like an application's, and a
    base64 payload of random bytes (what LZF leaves to zstd: its entropy)."""
    return b'{"id":%d,"user":"user-%07d","email":"user%07d@example.com","score":%.6f,"active":true,' \
        b'"tags":["alpha","beta","gamma"],"payload":"%s"}' % (
            i, i % 9999991, i % 9999991, (i * 7919 % 100003) / 100003.0, base64.b64encode(os.urandom(640)))


def fill(node, size):
    c = node.client()
    pipe = c.pipeline(transaction=False)
    count = size // len(record(0))
    for i in range(count):
        pipe.set(b"user:%d" % i, record(i))
        if i % 2000 == 1999:
            pipe.execute()
    pipe.execute()
    return count


def node_config(tmp, node, endpoint, key_arn, part_buffers):
    config = {
        "cluster_name": "bench", "instance_id": "i-bench", "availability_zone": "us-west-2a",
        "address": node.ip, "port": node.port,
        "engine": {"name": "redis", "version": "7.0.15", "server_bin": "/usr/bin/redis-server",
                   "check_rdb_bin": "/usr/bin/redis-check-rdb"},
        "data_dir": node.dir, "tls": None, "zones": {node.ip: "us-west-2a"},
        "aws": {"region": REGION, "endpoint_url": endpoint, "credentials_file": str(tmp / "aws-credentials")},
        "backup": {"bucket": BUCKET, "prefix": "backups", "kms_key_arn": key_arn, "interval_hours": 24,
                   "start": "02:00", "jitter_seconds": 0, "part_buffers": part_buffers},
        "paths": {"log": str(tmp / "backup.log"), "state": str(tmp / "state.json"),
                  "lock": str(tmp / "backup.lock"), "agent_credentials": str(tmp / "agent.json")},
    }
    path = tmp / "node.json"
    path.write_text(json.dumps(config))
    return path


def run_program(config_path, set_id):
    env = {"PATH": "/usr/bin:/bin", "REDISOPS_LIB": str(ROOT / "collections"), "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_CONFIG_FILE": os.devnull, "MALLOC_ARENA_MAX": "1"}
    started = time.monotonic()
    process = subprocess.Popen(["/usr/bin/python3", str(ROOT / "roles/redis_backup/files/redisops-backup"), "run",
                                "--config", str(config_path), "--set-id", set_id, "--no-jitter"], env=env)
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("the backup program failed; see its log")
    return elapsed, usage.ru_maxrss


def backup_once(tmp, node, endpoint, key_arn, part_buffers, set_id, row):
    config = node_config(tmp, node, endpoint, key_arn, part_buffers)
    log_path = tmp / "backup.log"
    if log_path.exists():
        log_path.unlink()
    result = {}
    result["backup_s"], result["tree_maxrss_kib"] = run_program(config, set_id)
    log = log_path.read_text()
    match = re.search(r"parts uploaded \(\d+ bytes from \d+\) in ([\d.]+) s, ([\d.]+) s of it waiting", log)
    result["stream_s"], result["waited_s"] = float(match.group(1)), float(match.group(2))
    result["program_hwm_kib"] = int(re.search(r"peak RSS (\d+) KiB", log).group(1))
    result["complete_s"] = float(re.search(r"completed by S3 in ([\d.]+) s", log).group(1))
    sizes = re.search(r"written: \d+ keys, (\d+) -> (\d+) bytes", log)
    row["rdb_bytes"], row["stored_bytes"] = int(sizes.group(1)), int(sizes.group(2))
    row["buffers_%d" % part_buffers] = result


def bench_size(tmp, endpoint, s3, key_arn, size_gb, set_id, buffer_counts, redis_ports, restore):
    tmp = Path(tempfile.mkdtemp(dir=tmp, prefix="%dgb-" % size_gb))
    (tmp / "aws-credentials").write_text("[default]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    (tmp / "agent.json").write_text(json.dumps({"username": AGENT[0], "password": AGENT[1]}))
    source = LocalCluster(str(tmp / "source"), [("127.0.0.51", redis_ports[0], "us-west-2a")])
    target = LocalCluster(str(tmp / "target"), [("127.0.0.52", redis_ports[1], "us-west-2a")])
    row = {"size_gb": size_gb}
    try:
        source.start_all()
        source.form(source.nodes)
        node = source.nodes[0]
        started = time.monotonic()
        row["keys"] = fill(node, int(size_gb * GB))
        row["fill_s"] = time.monotonic() - started
        # The last run writes the set the restore reads; the others their own sets.
        for count in buffer_counts:
            backup_once(tmp, node, endpoint, key_arn, count, set_id if count == buffer_counts[-1]
                        else set_id.replace("T020000Z", "T%02d0000Z" % (count + 2)), row)

        dump = Path(node.dir) / "dump.rdb"
        started = time.monotonic()
        # moto takes minutes to assemble a multi-GB object: a long read timeout, no retry of the completion
        plain = client("s3", endpoint, config=Config(read_timeout=1800, retries={"max_attempts": 1}))
        last_byte = []  # when the last part's bytes went out: what follows is S3 completing the upload

        def progress(_sent):
            last_byte[:] = [time.monotonic()]

        plain.upload_file(str(dump), BUCKET, "plain/%s.rdb" % set_id, ExtraArgs={
            "ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key_arn}, Config=TransferConfig(), Callback=progress)
        row["plain_s"] = time.monotonic() - started
        row["plain_parts_s"] = last_byte[0] - started
        source.stop_all()
        if not restore:
            return row

        target.start_all()
        target.form(target.nodes)
        tnode = target.nodes[0]
        started = time.monotonic()
        facts = [run_module(redis_node_info, dict(host="t", login_host=tnode.ip, login_port=tnode.port,
                                                  username=ADMIN[0], password=ADMIN[1]))["node"]]
        plan = run_module(backup_restore_plan, dict(
            bucket=BUCKET, prefix="backups", cluster="bench", set=set_id, nodes=facts, aws_region=REGION,
            aws_endpoint_url=endpoint, aws_access_key="testing", aws_secret_key="testing"))
        shard = plan["shards"][0]
        staged = os.path.join(facts[0]["data_dir"], "restore", set_id, shard["name"] + ".rdb")
        run_module(backup_fetch, dict(bucket=BUCKET, object=shard["object"], dest=staged, min_free_bytes=0,
                                      aws_region=REGION, aws_endpoint_url=endpoint,
                                      aws_credentials_file=str(tmp / "aws-credentials")))
        row["restore_fetch_s"] = time.monotonic() - started
        target.stop(tnode)
        run_module(redis_rdb_place, dict(rdb=staged, sha256=shard["object"]["uncompressed_sha256"],
                                         data_dir=facts[0]["data_dir"], port=tnode.port,
                                         previous_dir=os.path.join(facts[0]["data_dir"], "restore", set_id, "prev")))
        target.start(tnode, ["--appendonly", "no"])
        loaded = run_module(redis_node_data, dict(state="loaded", login_host=tnode.ip, login_port=tnode.port,
                                                  username=ADMIN[0], password=ADMIN[1], timeout=3600))
        row["restore_s"] = time.monotonic() - started
        if loaded["keys"] != row["keys"]:
            raise SystemExit("restore found %d keys, expected %d" % (loaded["keys"], row["keys"]))
    finally:
        source.stop_all()
        target.stop_all()
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes-gb", type=float, nargs="+", default=[1, 4])
    parser.add_argument("--workdir", default=None, help="where data goes (default: a temp dir)")
    parser.add_argument("--part-buffers", type=int, nargs="+", default=[1, 2],
                        help="backup.part_buffers settings to run (default: 1 2)")
    parser.add_argument("--moto-port", type=int, default=MOTO_PORT)
    parser.add_argument("--redis-ports", type=int, nargs=2, default=[7451, 7452], help="source and restore target")
    parser.add_argument("--no-restore", dest="restore", action="store_false", help="backup and plain upload only")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(dir=args.workdir, prefix="bench-backup-") as tmp:
        tmp = Path(tmp)
        with moto_server(args.moto_port, tmp) as endpoint:
            s3 = client("s3", endpoint)
            key_arn = client("kms", endpoint).create_key()["KeyMetadata"]["Arn"]
            s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
            s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
            for index, size in enumerate(args.sizes_gb):
                rows.append(bench_size(tmp, endpoint, s3, key_arn, size, "202611%02dT020000Z" % (index + 1),
                                       args.part_buffers, args.redis_ports, args.restore))
                print(json.dumps(rows[-1]), flush=True)
    print()
    print("| data | RDB | stored (zstd) | part buffers | backup total | stream phase | of it waiting for S3 | "
          "plain upload | plain / stream time | program peak RSS | tree ru_maxrss |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    completion = []
    for r in rows:
        for count in args.part_buffers:
            b = r["buffers_%d" % count]
            print("| %g GB | %.2f GB | %.2f GB | %d | %.1f s | %.1f s (%.0f MB/s) | %.1f s | %.1f s (%.0f MB/s) | "
                  "%.2fx | %.1f MiB (%.1f MB) | %.1f MiB |" % (
                      r["size_gb"], r["rdb_bytes"] / GB, r["stored_bytes"] / GB, count, b["backup_s"], b["stream_s"],
                      r["rdb_bytes"] / b["stream_s"] / 1e6, b["waited_s"], r["plain_s"],
                      r["rdb_bytes"] / r["plain_s"] / 1e6, r["plain_s"] / b["stream_s"], b["program_hwm_kib"] / 1024,
                      b["program_hwm_kib"] * 1024 / 1e6, b["tree_maxrss_kib"] / 1024))
            completion.append("| %g GB | %d | %.1f s + %.1f s = %.1f s | %.1f s + %.1f s = %.1f s | %.2fx | %.2fx |" % (
                r["size_gb"], count, b["stream_s"], b["complete_s"], b["stream_s"] + b["complete_s"],
                r["plain_parts_s"], r["plain_s"] - r["plain_parts_s"], r["plain_s"],
                r["plain_parts_s"] / b["stream_s"], r["plain_s"] / (b["stream_s"] + b["complete_s"])))
    print()
    print("Including S3's completion of the multipart upload (moto assembles the object: slow, and not the "
          "client's work):")
    print("| data | part buffers | backup: parts + completion | plain: parts + completion "
          "| parts phase, plain / backup | with completion, plain / backup |")
    print("|---|---|---|---|---|---|")
    print("\n".join(completion))
    if not args.restore:
        return
    print()
    print("| data | RDB | restore (fetch, verify, place, load, AOF rewrite) | restore s/GB of RDB |")
    print("|---|---|---|---|")
    for r in rows:
        print("| %g GB | %.2f GB | %.1f s (fetch and verify %.1f s) | %.1f |" % (
            r["size_gb"], r["rdb_bytes"] / GB, r["restore_s"], r["restore_fetch_s"], r["restore_s"] / (r["rdb_bytes"] / GB)))
    print("\nrusage of this bench process: %.0f MB" % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


if __name__ == "__main__":
    main()
