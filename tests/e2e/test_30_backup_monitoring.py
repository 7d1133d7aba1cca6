"""The node programs on real node containers, after site.yml: the backup
program makes one complete set in the sandbox's S3 (through the forwarder on
the sandbox network), the metrics publisher's metrics reach the sandbox's
CloudWatch, the controller's alarms and dashboard exist, and
playbooks/restore.yml (forced, into the same cluster) brings back the keys
of that set. Leaves the cluster as it found it: healthy, same topology."""

import concurrent.futures
import datetime as dt
import hashlib
import json
import sys
import time

import pytest

from redisops_testlib.runner import ROOT

sys.path.insert(0, str(ROOT / "collections"))
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_layout  # noqa: E402

BACKUP = "/opt/redisops/bin/redisops-backup"
KEYS = 200
NAMESPACE = "RedisCluster"
PREFIX = "backups"


def run_on_every_node(sandbox, instances, *argv, timeout=300):
    with concurrent.futures.ThreadPoolExecutor(len(instances)) as pool:
        procs = dict(zip(instances, pool.map(
            lambda ip: sandbox.exec(ip, *argv, check=False, timeout=timeout), instances)))
    return procs


def key_count(instance_exec, ip, password):
    """How many of the keys e2e:backup:1..KEYS the cluster holds with their values (read through one node)."""
    script = ("for i in $(seq 1 %d); do redis-cli --user app -h 127.0.0.1 -c get e2e:backup:$i; done "
              "| grep -c '^v[0-9]' || true" % KEYS)
    return int(instance_exec(ip, "sh", "-c", script, env={"REDISCLI_AUTH": password}, timeout=300).stdout.strip())


@pytest.fixture(scope="module")
def backup_set(deployed, sandbox, acl_passwords, instance_exec, timings):
    """Keys written, then one backup run on every node: (set id, node runs)."""
    instances = [i["PrivateIpAddress"] for i in sandbox.instances(states=("running",))]
    ip = instances[0]
    write = ("for i in $(seq 1 %d); do redis-cli --user app -h 127.0.0.1 -c set e2e:backup:$i v$i >/dev/null; done"
             % KEYS)
    instance_exec(ip, "sh", "-c", write, env={"REDISCLI_AUTH": acl_passwords["app"]}, timeout=300)
    assert key_count(instance_exec, ip, acl_passwords["app"]) == KEYS
    time.sleep(2)  # replication of the last writes to the replicas that back up
    set_id = backup_layout.format_set_id(dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
    started = time.monotonic()
    runs = run_on_every_node(sandbox, instances, "/usr/bin/python3", BACKUP, "run", "--no-jitter", "--set-id", set_id)
    timings["backup_run"] = time.monotonic() - started
    return set_id, runs


def test_every_node_ran_the_backup_program(backup_set):
    _, runs = backup_set
    failed = {ip: (p.returncode, p.stdout[-2000:], p.stderr[-2000:]) for ip, p in runs.items() if p.returncode != 0}
    assert not failed, failed


def test_one_complete_set_with_good_checksums(backup_set, sandbox, aws):
    set_id, _ = backup_set
    s3 = aws("s3")
    bucket = "redisops-%s-backups" % sandbox.cluster
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=backup_layout.set_prefix(PREFIX, sandbox.cluster, set_id))
    keys = [o["Key"] for o in listed.get("Contents", [])]
    manifests = [json.loads(s3.get_object(Bucket=bucket, Key=k)["Body"].read())
                 for k in keys if k.endswith(".manifest.json")]
    assert len(manifests) == 3, keys
    assert backup_layout.is_complete(manifests), [m["shard"] for m in manifests]
    for manifest in manifests:
        assert not backup_layout.manifest_errors(manifest, sandbox.cluster, set_id)
        for item in manifest["objects"]:
            body = s3.get_object(Bucket=bucket, Key=item["key"], VersionId=item["version_id"])["Body"].read()
            assert len(body) == item["size"]
            assert hashlib.sha256(body).hexdigest() == item["sha256"]
    assert sum(m["keys"] for m in manifests) >= KEYS


def test_the_publisher_metrics_are_in_cloudwatch(deployed, sandbox, instances, aws):
    runs = run_on_every_node(sandbox, instances, "systemctl", "start", "redisops-metrics.service", timeout=120)
    failed = {ip: p.stderr for ip, p in runs.items() if p.returncode != 0}
    assert not failed, failed
    cloudwatch = aws("cloudwatch")
    wanted = {"NodeUp", "ClusterStateOk"}
    found = {}
    for name in wanted:
        metrics = cloudwatch.list_metrics(Namespace=NAMESPACE, MetricName=name,
                                          Dimensions=[{"Name": "ClusterName", "Value": sandbox.cluster}])["Metrics"]
        found[name] = {d["Value"] for m in metrics for d in m["Dimensions"] if d["Name"] == "NodeId"}
    instance_ids = {i["id"] for i in instances.values()}
    assert found == {name: instance_ids for name in wanted}


def test_the_alarms_and_the_dashboard_exist(deployed, sandbox, aws):
    cloudwatch = aws("cloudwatch")
    alarms = cloudwatch.describe_alarms(AlarmNamePrefix="redisops-%s-" % sandbox.cluster)["MetricAlarms"]
    names = {a["AlarmName"] for a in alarms}
    assert any("node-down" in n for n in names), names
    assert any("cluster-state" in n for n in names), names
    dashboards = {d["DashboardName"] for d in cloudwatch.list_dashboards()["DashboardEntries"]}
    assert "redisops-%s" % sandbox.cluster in dashboards


def test_restore_brings_the_keys_back(backup_set, sandbox, playbook, instances, instance_exec, acl_passwords,
                                      redis_cli, timings):
    set_id, _ = backup_set
    ip = next(iter(instances))
    app = acl_passwords["app"]
    drop = "for i in $(seq 1 %d); do redis-cli --user app -h 127.0.0.1 -c del e2e:backup:$i >/dev/null; done" % KEYS
    instance_exec(ip, "sh", "-c", drop, env={"REDISCLI_AUTH": app}, timeout=300)
    assert key_count(instance_exec, ip, app) == 0
    run = playbook("playbooks/restore.yml", "-e", "restore_set=%s" % set_id, "-e", "restore_force=true")
    timings["restore"] = run.seconds
    assert run.rc == 0, run.explain(8000)
    assert key_count(instance_exec, ip, app) == KEYS
    assert redis_cli(ip, app, "-c", "get", "e2e:backup:7", user="app").strip() == "v7"
    for node in instances:
        deadline = time.monotonic() + 120
        while "cluster_state:ok" not in redis_cli(node, acl_passwords["admin"], "cluster", "info"):
            assert time.monotonic() < deadline, "cluster not ok on %s after the restore" % node
            time.sleep(2)
