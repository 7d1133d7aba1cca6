"""Backups and restores against real servers: a 6-node redis-server cluster
(cluster mode, AOF on) on loopback addresses, a moto S3 with a versioned
SSE-KMS bucket, the backup program run as cron runs it (under the node's
/usr/bin/python3 and Debian's libraries), an independent boto3 reader of
what it wrote, restores into a fresh cluster of the same shape and of another
shape (4 masters) through the restore modules, and the fault cases.

Binds fixed loopback ports: run under `flock /tmp/redisops-local.lock`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
import zstandard
from ansible.module_utils.testing import patch_module_args

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_catalog as catalog
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_layout as layout
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.key_slot import key_slot
from ansible_collections.redisops.ec2_cluster.plugins.modules import (
    backup_fetch,
    backup_restore_plan,
    redis_node_data,
    redis_node_info,
    redis_rdb_migrate,
    redis_rdb_place,
)
from local_cluster import ADMIN, AGENT, LocalCluster, wait_for
from moto_server import REGION, client, moto_server

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "roles/redis_backup/files/redisops-backup"
NODE_PYTHON = "/usr/bin/python3"
CHECK_RDB = shutil.which("redis-check-rdb") or "/usr/bin/redis-check-rdb"
MOTO_PORT = 5140
PROXY_PORT = 5142
BUCKET = "redisops-backups-test"
CLUSTER = "itest"
PREFIX = "backups"
SET_ID = "20261127T020000Z"
ZONES = ["us-west-2a", "us-west-2b", "us-west-2c"]
# masters .11-.13 in a, b, c; the replica of each in the next AZ.
SOURCE = [("127.0.0.%d" % (11 + i), 7401 + i, ZONES[i % 3 if i < 3 else (i - 2) % 3]) for i in range(6)]
SAME_SHAPE = [("127.0.0.%d" % (21 + i), 7411 + i, ZONES[i % 3 if i < 3 else (i - 2) % 3]) for i in range(6)]
OTHER_SHAPE = [("127.0.0.%d" % (31 + i), 7421 + i, ZONES[i % 3]) for i in range(4)]


# ---------------------------------------------------------------- helpers


def run_module(module, args, expect_failure=False):
    out = io.StringIO()
    with patch_module_args(dict(args, _ansible_check_mode=args.pop("_check", False))):
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
            module.main()
    result = json.loads(out.getvalue())
    assert bool(result.get("failed")) is expect_failure, result.get("msg")
    return result


def node_json(node, tmp, kms_key, endpoint, name=None, **backup):
    config = {
        "cluster_name": CLUSTER, "instance_id": "i-%012d" % node.port, "availability_zone": node.zone,
        "address": node.ip, "port": node.port,
        "engine": {"name": "redis", "version": "7.0.15", "server_bin": "/usr/bin/redis-server",
                   "check_rdb_bin": CHECK_RDB},
        "data_dir": node.dir, "tls": None,
        "zones": {ip: zone for ip, _port, zone in SOURCE + SAME_SHAPE + OTHER_SHAPE},
        "aws": {"region": REGION, "endpoint_url": endpoint, "credentials_file": str(tmp / "aws-credentials")},
        "backup": dict({"bucket": BUCKET, "prefix": PREFIX, "kms_key_arn": kms_key, "interval_hours": 24,
                        "start": "02:00", "jitter_seconds": 300, "part_size_mb": 5}, **backup),
        "paths": {"log": str(tmp / ("log-%d" % node.port) / "backup.log"),
                  "state": str(tmp / ("state-%d" % node.port) / "state.json"),
                  "lock": str(tmp / ("lock-%d" % node.port) / "redisops-backup.lock"),
                  "agent_credentials": str(tmp / "redis-agent.json")},
    }
    path = tmp / (name or "node-%d.json" % node.port)
    path.write_text(json.dumps(config))
    return path, config


def start_backup(config_path, set_id=SET_ID):
    env = {"PATH": "/usr/bin:/bin", "REDISOPS_LIB": str(ROOT / "collections"), "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_CONFIG_FILE": os.devnull, "LANG": "C.UTF-8"}
    return subprocess.Popen([NODE_PYTHON, str(PROGRAM), "run", "--config", str(config_path), "--set-id", set_id,
                             "--no-jitter"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def run_backup(config_path, set_id=SET_ID, timeout=120):
    process = start_backup(config_path, set_id)
    output, _ = process.communicate(timeout=timeout)
    return process.returncode, output.decode()


def log_of(config):
    return Path(config["paths"]["log"]).read_text()


def populate(cluster):
    """Several data types, TTLs, binary keys and, per shard, large random
    values so every shard's object takes several 5 MiB parts."""
    startup = cluster.nodes[0]
    rc = redis.RedisCluster(host=startup.ip, port=startup.port, username=ADMIN[0], password=ADMIN[1])
    rng = random.Random(20261127)
    pipe = rc.pipeline()
    for i in range(3000):
        pipe.set("str:%d" % i, "value-%d-%s" % (i, rng.random()))
    for i in range(300):
        pipe.hset("hash:%d" % i, mapping={"f%d" % j: "v%d" % (i * j) for j in range(10)})
        pipe.rpush("list:%d" % i, *["item-%d" % j for j in range(8)])
        pipe.sadd("set:%d" % i, *["m%d" % j for j in range(6)])
        pipe.zadd("zset:%d" % i, {"z%d" % j: j * 1.5 for j in range(6)})
    for i in range(50):
        pipe.xadd("stream:%d" % i, {"a": str(i), "b": "x"})
    for i in range(500):
        pipe.set("ttl:%d" % i, "expires-%d" % i, ex=7200)
        pipe.set(b"bin:\x00\xff" + str(i).encode(), bytes(rng.getrandbits(8) for _ in range(32)), px=3600 * 1000)
    pipe.execute()
    masters = sorted(n.address for n in cluster.masters())
    owners = {}
    for node in cluster.masters():
        for line in node.raw("CLUSTER", "NODES").splitlines():
            parts = line.split()
            if "myself" in parts[2]:
                for item in parts[8:]:
                    first, _sep, last = item.partition("-")
                    owners[(int(first), int(last or first))] = node.address
    big = {address: 0 for address in masters}
    index = 0
    while min(big.values()) < 2 and index < 1000:
        key = "big:%d" % index
        slot = key_slot(key)
        owner = next(a for (first, last), a in owners.items() if first <= slot <= last)
        if big[owner] < 2:
            rc.set(key, rng.randbytes(4 * 1024 * 1024))
            big[owner] += 1
        index += 1
    rc.close()


def snapshot(nodes):
    """key -> (type, value, has ttl) of every key on the given masters."""
    data = {}
    for node in nodes:
        c = node.client()
        for key in c.scan_iter(count=1000):
            kind = c.type(key).decode()
            if kind == "string":
                value = c.get(key)
            elif kind == "hash":
                value = sorted(c.hgetall(key).items())
            elif kind == "list":
                value = c.lrange(key, 0, -1)
            elif kind == "set":
                value = sorted(c.smembers(key))
            elif kind == "zset":
                value = c.zrange(key, 0, -1, withscores=True)
            elif kind == "stream":
                value = c.xrange(key)
            else:
                raise AssertionError("unexpected type %s of %r" % (kind, key))
            ttl = c.pttl(key)
            data[key] = (kind, value, ttl > 0)
        c.close()
    return data


class CutProxy:
    """Forwards 127.0.0.1:listen -> target until `limit` bytes went upstream,
    then drops every connection and stops listening: S3 unreachable mid-upload."""

    def __init__(self, listen, target, limit):
        self.listen, self.target, self.limit = listen, target, limit
        self.sent = 0
        self.cut = threading.Event()
        self.server = socket.create_server(("127.0.0.1", listen))
        self.server.settimeout(0.2)
        self.sockets = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.cut.is_set():
            try:
                downstream, _ = self.server.accept()
            except OSError:
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target))
            self.sockets += [downstream, upstream]
            threading.Thread(target=self._pipe, args=(downstream, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, downstream, False), daemon=True).start()
        self.server.close()

    def _pipe(self, src, dst, counts):
        try:
            while not self.cut.is_set():
                data = src.recv(65536)
                if not data:
                    break
                if counts:
                    self.sent += len(data)
                    if self.sent > self.limit:
                        self.close()
                        return
                dst.sendall(data)
        except OSError:
            pass

    def close(self):
        self.cut.set()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("backup")
    clusters = []
    with moto_server(MOTO_PORT, tmp) as endpoint:
        s3 = client("s3", endpoint)
        kms = client("kms", endpoint)
        key_arn = kms.create_key(Description="backups")["KeyMetadata"]["Arn"]
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}}]})
        (tmp / "aws-credentials").write_text("[default]\naws_access_key_id = testing\n"
                                             "aws_secret_access_key = testing\n")
        (tmp / "redis-agent.json").write_text(json.dumps({"username": AGENT[0], "password": AGENT[1]}))

        source = LocalCluster(str(tmp / "source"), SOURCE)
        clusters.append(source)
        # The third replica's data volume is a small file system of its own,
        # which the disk-full case fills.
        small = source.nodes[5].dir
        os.makedirs(small)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m,mode=0700", "tmpfs", small], check=True)
        try:
            source.start_all()
            m = source.nodes
            ids = source.form(m[:3], {m[3]: m[0], m[4]: m[1], m[5]: m[2]})
            populate(source)
            # Replicas must hold everything before the backups are taken from them.
            for master in m[:3]:
                master.raw("WAIT", 1, 10000)
            configs = {n.address: node_json(n, tmp, key_arn, endpoint) for n in source.nodes}
            yield dict(tmp=tmp, endpoint=endpoint, s3=s3, key_arn=key_arn, source=source, ids=ids, configs=configs,
                       clusters=clusters, expected=snapshot(m[:3]))
        finally:
            for cluster in clusters:
                cluster.stop_all()
            subprocess.run(["umount", small], check=False)


@pytest.fixture(scope="module")
def backup(env):
    """Every node runs the cron job's command at once, as cron starts them."""
    processes = {a: start_backup(path) for a, (path, _config) in env["configs"].items()}
    results = {}
    for address, process in processes.items():
        output, _ = process.communicate(timeout=180)
        results[address] = (process.returncode, output.decode())
    return results


def objects_of(s3, set_id):
    listing = s3.list_objects_v2(Bucket=BUCKET, Prefix="%s/%s/%s/" % (PREFIX, CLUSTER, set_id))
    return {item["Key"].rsplit("/", 1)[1]: item for item in listing.get("Contents", [])}


def manifests_of(s3, set_id):
    return {name: json.loads(s3.get_object(Bucket=BUCKET, Key="%s/%s/%s/%s" % (PREFIX, CLUSTER, set_id, name))
                             ["Body"].read())
            for name in objects_of(s3, set_id) if name.endswith(".manifest.json")}


# ---------------------------------------------------------------- backup


def test_every_node_ran_and_the_replicas_took_the_backups(env, backup):
    for address, (code, output) in backup.items():
        assert code == 0, "%s exited %d: %s\n%s" % (address, code, output,
                                                     log_of(env["configs"][address][1]))
    chosen = []
    for address, (_path, config) in env["configs"].items():
        text = log_of(config)
        assert " decide: " in text
        if " manifest: " in text:
            chosen.append(address)
        else:
            assert "not this node" in text
        state = json.loads(Path(config["paths"]["state"]).read_text())
        assert state["last_run"]["set_id"] == SET_ID
        assert state["last_run"]["status"] == ("ok" if " manifest: " in text else "not-chosen")
        if state["last_run"]["status"] == "ok":
            assert state["last_success"]["set_id"] == SET_ID and state["last_success"]["epoch"] > 0
    # the three replicas, each in another AZ than its master
    assert sorted(chosen) == sorted(n.address for n in env["source"].nodes[3:])


def test_layout_manifests_and_checksums_read_back_independently(env, backup):
    s3 = env["s3"]
    objects = objects_of(s3, SET_ID)
    assert len(objects) == 6, sorted(objects)
    manifests = manifests_of(s3, SET_ID)
    assert len(manifests) == 3
    ids = env["ids"]
    replica_ids = {ids[n.address]: n for n in env["source"].nodes[3:]}
    total_keys = 0
    for name, manifest in sorted(manifests.items()):
        assert layout.manifest_errors(manifest, cluster=CLUSTER, set_id=SET_ID) == []
        ranges = manifest["shard"]["slot_ranges"]
        assert name == layout.manifest_key(PREFIX, CLUSTER, SET_ID, ranges).rsplit("/", 1)[1]
        assert manifest["source"]["role"] == "replica"
        assert manifest["source"]["node_id"] in replica_ids
        assert manifest["source"]["availability_zone"] == replica_ids[manifest["source"]["node_id"]].zone
        assert manifest["engine"] == {"name": "redis", "version": "7.0.15", "rdb_version": 10}
        assert manifest["program"]["name"] == "redisops-backup"
        assert manifest["started_at"] <= manifest["finished_at"]
        (obj,) = manifest["objects"]
        assert obj["key"] == layout.data_key(PREFIX, CLUSTER, SET_ID, ranges)
        head = s3.head_object(Bucket=BUCKET, Key=obj["key"], VersionId=obj["version_id"])
        assert head["ServerSideEncryption"] == "aws:kms"
        assert head["SSEKMSKeyId"].endswith(env["key_arn"].rsplit("/", 1)[1])
        assert head["ContentLength"] == obj["size"]
        assert int(head["ETag"].strip('"').rsplit("-", 1)[1]) >= 2, "several parts"
        body = s3.get_object(Bucket=BUCKET, Key=obj["key"], VersionId=obj["version_id"])["Body"].read()
        assert hashlib.sha256(body).hexdigest() == obj["sha256"]
        raw = zstandard.ZstdDecompressor().decompress(body, max_output_size=1 << 30)
        assert len(raw) == obj["uncompressed_size"]
        assert hashlib.sha256(raw).hexdigest() == obj["uncompressed_sha256"]
        assert raw[:9] == b"REDIS0010"
        head_manifest = s3.head_object(Bucket=BUCKET, Key="%s/%s/%s/%s" % (PREFIX, CLUSTER, SET_ID, name))
        assert head_manifest["ServerSideEncryption"] == "aws:kms"
        total_keys += manifest["keys"]
    assert total_keys == len(env["expected"])
    listing = catalog.list_sets(s3, BUCKET, PREFIX, CLUSTER)
    assert catalog.is_complete(s3, BUCKET, PREFIX, CLUSTER, listing.sets[SET_ID])


# ---------------------------------------------------------------- restore


def node_facts(cluster, prefix):
    facts = []
    for index, node in enumerate(cluster.nodes):
        result = run_module(redis_node_info, dict(host="%s%d" % (prefix, index), login_host=node.ip,
                                                  login_port=node.port, login_user=ADMIN[0], login_password=ADMIN[1]))
        facts.append(result["node"])
    return facts


def plan(env, facts, expect_failure=False, **options):
    return run_module(backup_restore_plan, dict(dict(
        bucket=BUCKET, prefix=PREFIX, cluster=CLUSTER, set="latest", nodes=facts, aws_region=REGION,
        aws_endpoint_url=env["endpoint"], aws_access_key="testing", aws_secret_key="testing"), **options),
        expect_failure=expect_failure)


def fetch_all(env, cluster, facts, restore_plan, expect_failure=False):
    by_host = {f["host"]: (node, f) for node, f in zip(cluster.nodes, facts)}
    results = {}
    for shard in restore_plan["shards"]:
        node, fact = by_host[shard["target_host"]]
        results[shard["name"]] = run_module(backup_fetch, dict(
            bucket=BUCKET, object=shard["object"],
            dest=os.path.join(fact["data_dir"], "restore", restore_plan["set_id"], shard["name"] + ".rdb"),
            min_free_bytes=1024 * 1024, aws_region=REGION, aws_endpoint_url=env["endpoint"],
            aws_credentials_file=str(env["tmp"] / "aws-credentials")), expect_failure=expect_failure)
        if expect_failure and results[shard["name"]].get("failed"):
            return results
    return results


def test_restore_into_a_fresh_cluster_of_the_same_shape(env, backup):
    target = LocalCluster(str(env["tmp"] / "same"), SAME_SHAPE)
    env["clusters"].append(target)
    target.start_all()
    n = target.nodes
    target.form(n[:3], {n[3]: n[0], n[4]: n[1], n[5]: n[2]})
    facts = node_facts(target, "same")
    restore_plan = plan(env, facts)
    assert restore_plan["set_id"] == SET_ID and restore_plan["mode"] == "same_shape"
    by_host = {f["host"]: (node, f) for node, f in zip(n, facts)}
    fetched = fetch_all(env, target, facts, restore_plan)
    assert all(r["changed"] for r in fetched.values())
    # a second fetch finds the verified file in place
    assert not fetch_all(env, target, facts, restore_plan)[restore_plan["shards"][0]["name"]]["changed"]

    # replicas first, so that no replica takes over while its master is down
    for shard in restore_plan["shards"]:
        for host in shard["replica_hosts"]:
            target.stop(by_host[host][0])
    report = {}
    for shard in restore_plan["shards"]:
        node, fact = by_host[shard["target_host"]]
        target.stop(node)
        staged = os.path.join(fact["data_dir"], "restore", SET_ID, shard["name"] + ".rdb")
        placed = run_module(redis_rdb_place, dict(
            rdb=staged, sha256=shard["object"]["uncompressed_sha256"], data_dir=fact["data_dir"],
            dbfilename=fact["dbfilename"], appenddirname=fact["appenddirname"], host=node.ip, port=node.port,
            previous_dir=os.path.join(fact["data_dir"], "restore", SET_ID, "previous")))
        assert placed["changed"] and any(p.endswith("appendonlydir") for p in placed["moved"])
        # what the role's runtime drop-in does: the unit's command line + --appendonly no
        target.start(node, ["--appendonly", "no"])
        loaded = run_module(redis_node_data, dict(state="loaded", login_host=node.ip, login_port=node.port,
                                                  login_user=ADMIN[0], login_password=ADMIN[1], timeout=120))
        assert loaded["changed"] and loaded["aof_enabled"]
        report[shard["name"]] = (shard["keys_expected"], loaded["keys"])
    for shard in restore_plan["shards"]:
        for host in shard["replica_hosts"]:
            node, fact = by_host[host]
            shutil.rmtree(os.path.join(fact["data_dir"], fact["appenddirname"]), ignore_errors=True)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(fact["data_dir"], fact["dbfilename"]))
            target.start(node)
    for shard in restore_plan["shards"]:
        for host in shard["replica_hosts"]:
            node = by_host[host][0]
            synced = run_module(redis_node_data, dict(state="synced", login_host=node.ip, login_port=node.port,
                                                      login_user=ADMIN[0], login_password=ADMIN[1], timeout=120))
            assert synced["keys"] == report[shard["name"]][1]
    target.wait_healthy()
    assert all(expected == found for expected, found in report.values()), report
    assert snapshot(n[:3]) == env["expected"]
    # AOF is on again and holds every key: a plain restart (no drop-in) loads it
    master = n[0]
    keys_before = master.client().dbsize()
    target.stop(master)
    target.start(master)
    wait_for(lambda: master.info("persistence")["loading"] == "0", 60, "the AOF to load")
    assert master.client(decode_responses=True).config_get("appendonly")["appendonly"] == "yes"
    assert master.client().dbsize() == keys_before
    target.wait_healthy()

    # the target now holds data: refused without force, before anything changes
    refused = plan(env, node_facts(target, "same"), expect_failure=True)
    assert "holds data" in refused["msg"] and "restore_force" in refused["msg"]


def test_restore_into_four_masters_moves_keys_through_cluster_routing(env, backup):
    target = LocalCluster(str(env["tmp"] / "other"), OTHER_SHAPE)
    env["clusters"].append(target)
    target.start_all()
    target.form(target.nodes)
    facts = node_facts(target, "other")
    restore_plan = plan(env, facts)
    assert restore_plan["mode"] == "redistribute"
    assert len(restore_plan["shards"]) == 3
    assert len({s["target_host"] for s in restore_plan["shards"]}) == 3
    fetch_all(env, target, facts, restore_plan)
    by_host = {f["host"]: (node, f) for node, f in zip(target.nodes, facts)}
    found = {}
    for shard in restore_plan["shards"]:
        node, fact = by_host[shard["target_host"]]
        moved = run_module(redis_rdb_migrate, dict(
            rdbs=[os.path.join(fact["data_dir"], "restore", SET_ID, shard["name"] + ".rdb")],
            server_bin="/usr/bin/redis-server", login_host=node.ip, login_port=node.port, login_user=ADMIN[0],
            login_password=ADMIN[1], batch_keys=500, timeout=120))
        (result,) = moved["shards"]
        assert result["name"] == shard["name"]
        found[shard["name"]] = (shard["keys_expected"], result["keys_moved"])
    assert all(expected == got for expected, got in found.values()), found
    assert snapshot(target.nodes) == env["expected"]
    assert sum(node.client().dbsize() for node in target.nodes) == len(env["expected"])


def test_the_restore_role_through_ansible_playbook_into_two_masters(env, backup):
    """The role redis_restore as the playbook runs it (node modules under the
    node's /usr/bin/python3), here on the path that needs no systemd: a
    3-shard set into 2 masters. Check mode first: plans, verifies, changes nothing."""
    specs = [("127.0.0.%d" % (61 + i), 7461 + i, ZONES[i]) for i in range(2)]
    target = LocalCluster(str(env["tmp"] / "role"), specs)
    env["clusters"].append(target)
    target.start_all()
    target.form(target.nodes)
    work = env["tmp"] / "role-run"
    work.mkdir()
    hosts = {}
    for index, node in enumerate(target.nodes):
        path, _config = node_json(node, env["tmp"], env["key_arn"], env["endpoint"], name="role-%d.json" % index)
        hosts["node%d" % index] = {
            "ansible_connection": "local", "ansible_python_interpreter": NODE_PYTHON,
            "redis_restore_node_config": str(path),
            # the test servers run as root in root's temporary directories
            "ansible_local": {"redis_image": {"user": "root", "group": "root"}}}
    inventory = {"all": {"children": {"redis_cluster": {"hosts": hosts}}, "vars": {
        "cluster_facts_outputs": {"backup_bucket": BUCKET, "cluster_name": CLUSTER, "region": REGION},
        "cluster_facts_admin_user": {"name": ADMIN[0], "password": ADMIN[1]},
        "redisops_aws_region": REGION, "redisops_aws_endpoint_url": env["endpoint"],
        "redisops_aws_access_key": "testing", "redisops_aws_secret_key": "testing",
        "redis_restore_require_all_keys": True, "redis_restore_timeout_s": 120}}}
    (work / "inventory.json").write_text(json.dumps(inventory))
    (work / "play.yml").write_text(
        "- hosts: redis_cluster\n  gather_facts: false\n  any_errors_fatal: true\n"
        "  roles:\n    - role: redis_restore\n      vars:\n        redis_restore_set: %s\n" % SET_ID)
    run_env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0",
                   AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE=os.devnull,
                   AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    playbook = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(work / "inventory.json"),
                str(work / "play.yml")]

    checked = subprocess.run(playbook + ["--check"], env=run_env, capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-2000:]
    assert sum(node.client().dbsize() for node in target.nodes) == 0

    done = subprocess.run(playbook, env=run_env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    for manifest in manifests_of(env["s3"], SET_ID).values():
        name = layout.shard_name(manifest["shard"]["first_slot"], manifest["shard"]["last_slot"])
        assert "%s on node" % name in done.stdout and "%d keys expected (manifest), %d found" % (
            manifest["keys"], manifest["keys"]) in done.stdout
    assert snapshot(target.nodes) == env["expected"]
    assert not os.path.exists(os.path.join(target.nodes[0].dir, "restore", SET_ID)), "staging removed"


# ---------------------------------------------------------------- refusals at restore


def copy_set(s3, set_id, mutate):
    """Copy the good set to another set id, letting mutate(name, body) change
    or drop (None) each object; manifests point at the copies' versions."""
    versions = {}
    for name in sorted(objects_of(s3, SET_ID), key=lambda n: n.endswith(".manifest.json")):
        body = s3.get_object(Bucket=BUCKET, Key="%s/%s/%s/%s" % (PREFIX, CLUSTER, SET_ID, name))["Body"].read()
        key = "%s/%s/%s/%s" % (PREFIX, CLUSTER, set_id, name)
        if name.endswith(".manifest.json"):
            manifest = json.loads(body)
            manifest["set_id"] = set_id
            for obj in manifest["objects"]:
                obj["key"] = obj["key"].replace(SET_ID, set_id)
                obj["version_id"] = versions[obj["key"]]
            body = json.dumps(manifest).encode()
        body = mutate(name, body)
        if body is not None:
            versions[key] = s3.put_object(Bucket=BUCKET, Key=key, Body=body)["VersionId"]


def test_a_corrupted_object_is_refused_before_any_node_changes(env, backup):
    s3 = env["s3"]

    def corrupt_first_shard(name, body):
        if name.startswith("shard-0-") and name.endswith(".rdb.zst"):
            return body[:1000] + bytes([body[1000] ^ 0xFF]) + body[1001:]
        return body
    copy_set(s3, "20261128T020000Z", corrupt_first_shard)
    target = LocalCluster(str(env["tmp"] / "corrupt"), [("127.0.0.41", 7431, ZONES[0])])
    # a single master (all slots) is enough to see the fetch refuse
    env["clusters"].append(target)
    target.start_all()
    target.form(target.nodes)
    facts = node_facts(target, "corrupt")
    restore_plan = plan(env, facts, set="20261128T020000Z")
    results = fetch_all(env, target, facts, restore_plan, expect_failure=True)
    failure = results[restore_plan["shards"][0]["name"]]
    assert "checksum mismatch" in failure["msg"]
    staged = os.path.join(facts[0]["data_dir"], "restore", "20261128T020000Z", restore_plan["shards"][0]["name"])
    assert not os.path.exists(staged + ".rdb") and not os.path.exists(staged + ".rdb.part")
    assert target.nodes[0].client().dbsize() == 0
    target.stop_all()


def test_incomplete_sets_and_newer_rdb_formats_are_refused(env, backup):
    s3 = env["s3"]
    copy_set(s3, "20261129T020000Z", lambda name, body: None if name.startswith("shard-0-")
             and name.endswith(".manifest.json") else body)

    def newer_format(name, body):
        if name.endswith(".manifest.json"):
            manifest = json.loads(body)
            manifest["engine"] = {"name": "valkey", "version": "8.0.1", "rdb_version": 11}
            return json.dumps(manifest).encode()
        return body
    copy_set(s3, "20261126T020000Z", newer_format)
    facts = [{"host": "h0", "node_id": "a" * 40, "address": "127.0.0.41:7431", "role": "master", "master_id": None,
              "slot_ranges": [[0, 16383]], "keys": 0, "engine": "redis", "version": "7.0.15"}]
    incomplete = plan(env, facts, set="20261129T020000Z", expect_failure=True)
    assert "incomplete" in incomplete["msg"]
    newer = plan(env, facts, set="20261126T020000Z", expect_failure=True)
    assert "RDB format 11" in newer["msg"] and "reads up to format 10" in newer["msg"]
    # latest skips the incomplete newer set and takes the newest complete one
    assert plan(env, facts)["set_id"] == "20261128T020000Z"


# ---------------------------------------------------------------- faults at backup


def chosen_replica(env, shard_index=0):
    return env["source"].nodes[3 + shard_index]


def assert_no_manifest(s3, set_id):
    assert not [n for n in objects_of(s3, set_id) if n.endswith(".manifest.json")]


def test_two_runs_at_once_the_second_exits_3(env, backup):
    node = chosen_replica(env)
    path, config = env["configs"][node.address]
    lock_path = Path(config["paths"]["lock"])
    with open(lock_path, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        code, _output = run_backup(path, "20261201T020000Z")
    assert code == 3
    assert "another run holds" in log_of(config)
    assert_no_manifest(env["s3"], "20261201T020000Z")


def test_s3_unreachable_mid_upload_fails_without_a_manifest(env, backup):
    node = chosen_replica(env)
    path, _config = node_json(node, env["tmp"], env["key_arn"], "http://127.0.0.1:%d" % PROXY_PORT, name="cut.json",
                              s3_max_attempts=2, s3_connect_timeout_seconds=2, s3_read_timeout_seconds=5)
    proxy = CutProxy(PROXY_PORT, MOTO_PORT, limit=7 * 1024 * 1024)
    try:
        code, output = run_backup(path, "20261202T020000Z")
    finally:
        proxy.close()
    config = json.loads(path.read_text())
    assert code == 1, output
    text = log_of(config)
    assert "ERROR" in text and " failed: " in text
    assert "multipart upload" in text
    assert proxy.sent > 5 * 1024 * 1024, "the cut happened after the first part"
    assert not objects_of(env["s3"], "20261202T020000Z"), "nothing was completed"
    state = json.loads(Path(config["paths"]["state"]).read_text())
    assert state["last_run"]["status"] == "failed" and state["last_success"]["set_id"] == SET_ID


def test_a_failed_bgsave_fails_before_any_upload(env, backup):
    node = chosen_replica(env, 1)
    path, config = env["configs"][node.address]
    dump = Path(node.dir) / "dump.rdb"
    dump.unlink()
    dump.mkdir()  # the save's final rename fails
    try:
        code, output = run_backup(path, "20261203T020000Z")
    finally:
        dump.rmdir()
    assert code == 1, output
    assert "BGSAVE failed" in log_of(config)
    assert not objects_of(env["s3"], "20261203T020000Z")


def test_disk_full_fails_the_save_before_any_upload(env, backup):
    node = chosen_replica(env, 2)
    path, config = env["configs"][node.address]
    filler = Path(node.dir) / "filler"
    try:
        with open(filler, "wb") as handle:
            with contextlib.suppress(OSError):
                while True:
                    handle.write(b"\0" * 65536)
                    handle.flush()
        code, output = run_backup(path, "20261204T020000Z")
    finally:
        filler.unlink()
    assert code == 1, output
    assert "BGSAVE failed" in log_of(config)
    assert "No space left on device" in (Path(node.dir) / "redis.log").read_text()
    assert not objects_of(env["s3"], "20261204T020000Z")


def test_bad_configuration_exits_2(env, tmp_path):
    bad = tmp_path / "node.json"
    bad.write_text(json.dumps({"cluster_name": CLUSTER}))
    code, output = run_backup(bad)
    assert code == 2 and "backup.bucket is missing" in output
