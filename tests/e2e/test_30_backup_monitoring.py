"""The node programs on real node containers, after site.yml: the backup
program makes one complete set in the sandbox's S3 (through the forwarder on
the sandbox network), the metrics publisher's metrics reach the sandbox's
CloudWatch, the controller's alarms and dashboard exist, and
playbooks/restore.yml (forced, into the same cluster) brings back the keys
of that set. The sandbox's moto enforces IAM, so all of it works with the
least privilege of each principal (iam/), and a node's own key can write
backups but not delete them nor read another cluster's. Leaves the cluster
as it found it: healthy, same topology."""

import concurrent.futures
import configparser
import datetime as dt
import hashlib
import json
import sys
import time

import pytest
from botocore.exceptions import ClientError

from redisops_testlib.runner import ROOT

sys.path.insert(0, str(ROOT / "collections"))
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_layout  # noqa: E402

BACKUP = "/opt/redisops/bin/redisops-backup"
KEYS = 200
NAMESPACE = "RedisCluster"
PREFIX = "backups"
# The node principal's key, as the node's programs read it (role node_runtime).
NODE_CREDENTIALS = "/etc/redisops/aws/credentials"


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
    s3 = aws("s3", "operator")
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
    cloudwatch = aws("cloudwatch", "sandbox")  # ListMetrics: nobody's policy has it
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
    dashboards = {d["DashboardName"] for d in aws("cloudwatch", "sandbox").list_dashboards()["DashboardEntries"]}
    assert "redisops-%s" % sandbox.cluster in dashboards


def refused(call, **kwargs):
    """The error code moto answers a call with (it must fail)."""
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"]


def denied(call, **kwargs):
    """Refused by IAM: HTTP 403, AccessDenied (JSON-protocol clients such as SSM get
    moto's XML error body unparsed, so there the code is the bare status)."""
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return (response["ResponseMetadata"]["HTTPStatusCode"] == 403
            and response["Error"]["Code"] in ("AccessDenied", "AccessDeniedException", "403"))


def node_key(sandbox, ip):
    """The key in the credentials file the node's programs use."""
    parser = configparser.ConfigParser()
    parser.read_string(sandbox.exec(ip, "cat", NODE_CREDENTIALS).stdout)
    return {"access_key": parser["default"]["aws_access_key_id"],
            "secret_key": parser["default"]["aws_secret_access_key"]}


def test_moto_enforces_iam_and_a_node_key_is_the_node_policy(backup_set, sandbox, instances, aws):
    set_id, _ = backup_set
    # Keys moto did not issue (the dummy every caller used before) are refused.
    assert refused(aws("s3", key={"access_key": "testing", "secret_key": "testing"}).list_buckets) == "InvalidAccessKeyId"
    ip = next(iter(instances))
    key = node_key(sandbox, ip)
    assert key["access_key"] == sandbox.key("node")["access_key"]
    assert all(node_key(sandbox, other) == key for other in instances)
    s3 = aws("s3", key=key)
    bucket = "redisops-%s-backups" % sandbox.cluster
    own_prefix = "%s/%s/" % (PREFIX, sandbox.cluster)
    operator = aws("s3", "operator")
    written = own_prefix + "iam-check/%s" % ip
    try:
        s3.put_object(Bucket=bucket, Key=written, Body=b"written with the node's key")
        assert s3.get_object(Bucket=bucket, Key=written)["Body"].read() == b"written with the node's key"
        listed = operator.list_objects_v2(Bucket=bucket, Prefix=backup_layout.set_prefix(PREFIX, sandbox.cluster, set_id))
        backup = next(o["Key"] for o in listed["Contents"] if not o["Key"].endswith(".manifest.json"))
        assert denied(s3.delete_object, Bucket=bucket, Key=backup)
        assert operator.head_object(Bucket=bucket, Key=backup)["ContentLength"] > 0
        errors = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": backup}]})["Errors"]
        assert [(e["Key"], e["Code"]) for e in errors] == [(backup, "AccessDenied")]
        other = "%s/other-cluster/" % PREFIX
        assert denied(s3.put_object, Bucket=bucket, Key=other + "planted", Body=b"x")
        assert denied(s3.get_object, Bucket=bucket, Key=other + "planted")
        assert denied(s3.list_object_versions, Bucket=bucket, Prefix=other)
        assert denied(s3.list_object_versions, Bucket=bucket, Prefix=own_prefix)
        # Nothing but the backups, metrics and logs: no secrets, no instances, no IAM.
        assert denied(aws("ssm", key=key).get_parameter, Name="/redisops/%s/acl/admin" % sandbox.cluster,
                      WithDecryption=True)
        assert denied(aws("ec2", key=key).describe_instances)
        assert denied(aws("iam", key=key).list_users)
    finally:
        versions = operator.list_object_versions(Bucket=bucket, Prefix=written)
        for version in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
            operator.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])


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
