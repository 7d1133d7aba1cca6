"""The node metrics publisher (roles/redis_metrics/files/redisops-metrics)
against a real 3 + 3 Redis Cluster on 127.0.0.1 and a moto server that
enforces IAM with the node policy: every metric of every node with its
dimensions and plausible values, a failover flipping IsMaster, stopped
nodes reported down while the others go on, and the exit codes.

The publisher runs as on a node: /usr/bin/python3 (Debian 12: Python 3.11,
python3-boto3 1.26, python3-redis 4.3), importing the collection's
module_utils. Ports: Redis 7601-7606, moto 5161 (run under
flock /tmp/redisops-local.lock)."""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_layout as layout
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import redis_metrics as rm
from moto_server import REGION, client, moto_with_node_principal
from redis_cluster import AGENT_PASSWORD, AGENT_USER, redis_cluster, wait_for

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "roles" / "redis_metrics" / "files" / "redisops-metrics"
NODE_PYTHON = "/usr/bin/python3"
PORTS = list(range(7601, 7607))
MOTO_PORT = 5161
CLUSTER = "itest"
NAMESPACE = "RedisClusterTest"
BUCKET = "itest-backups"
NODE_DIMENSIONS = ("ClusterName", "NodeId", "AvailabilityZone")


def node_policy(namespace, bucket, cluster):
    """The node principal's rights that the publisher needs (docs/metrics.md),
    as the sandbox writes them: moto names CloudWatch actions after the API's
    signing name, monitoring:, where AWS says cloudwatch:."""
    publish = {"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*",
               "Condition": {"StringEquals": {"cloudwatch:namespace": namespace}}}
    return {"Version": "2012-10-17", "Statement": [
        dict(publish, Sid="PublishMetrics"),
        dict(publish, Sid="PublishMetricsMoto", Action="monitoring:PutMetricData"),
        {"Sid": "ListOwnBackups", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::" + bucket,
         "Condition": {"StringLike": {"s3:prefix": ["backups/%s/*" % cluster]}}},
        {"Sid": "ReadOwnBackups", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::%s/backups/%s/*" % (bucket, cluster)},
    ]}


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    """moto with IAM enforced after the six calls that create an admin and the node principal."""
    logs = tmp_path_factory.mktemp("moto")
    policy = node_policy(NAMESPACE, BUCKET, CLUSTER)
    with moto_with_node_principal(MOTO_PORT, logs, policy) as (endpoint, keys, node, credentials):
        s3 = client("s3", endpoint, **keys)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield {"endpoint": endpoint, "cloudwatch": client("cloudwatch", endpoint, **keys), "s3": s3,
               "credentials": credentials, "keys": keys}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with redis_cluster(PORTS, tmp_path_factory.mktemp("redis")) as formed:
        yield formed


@pytest.fixture(scope="module")
def nodes(cluster, aws, tmp_path_factory):
    """node.json of every node: masters in AZs a, b, c, each replica in the next AZ."""
    base = tmp_path_factory.mktemp("nodes")
    zones = {}
    for index, master in enumerate(sorted(cluster.masters(), key=lambda n: n.port)):
        zones[master.address] = "us-west-2" + "abc"[index]
        zones[cluster.replica_of(master).address] = "us-west-2" + "abc"[(index + 1) % 3]
    result = {}
    for node in cluster.nodes:
        directory = base / str(node.port)
        directory.mkdir()
        config = {
            "cluster_name": CLUSTER, "instance_id": "i-%017x" % node.port, "availability_zone": zones[node.address],
            "address": "127.0.0.1", "port": node.port, "tls": None, "zones": zones,
            "aws": {"region": REGION, "endpoint_url": aws["endpoint"], "credentials_file": aws["credentials"]},
            "backup": {"bucket": BUCKET, "prefix": "backups"},
            "metrics": {"namespace": NAMESPACE, "interval_seconds": 60, "backup_refresh_minutes": 15},
        }
        (directory / "node.json").write_text(json.dumps(config))
        (directory / "agent.json").write_text(json.dumps({"username": AGENT_USER, "password": AGENT_PASSWORD}))
        result[node.port] = {"dir": directory, "config": config, "node": node}
    return result


def run_publisher(entry, *extra, env=None):
    directory = entry["dir"]
    args = [NODE_PYTHON, str(PROGRAM), "--node-config", str(directory / "node.json"),
            "--agent-credentials", str(directory / "agent.json"), "--state-file", str(directory / "state.json"),
            "--backup-state", str(directory / "backup-state.json"), "--lock-file", str(directory / "lock"),
            "--log-file", str(directory / "metrics.log"), *extra]
    # As on a node: no keys in the environment, only the credentials file of node.json.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "PYTHONPATH"}
    environment.update(REDISOPS_LIB=str(ROOT / "collections"), AWS_EC2_METADATA_DISABLED="true",
                       AWS_CONFIG_FILE=os.devnull, **(env or {}))
    started = time.monotonic()
    result = subprocess.run(args, capture_output=True, text=True, timeout=60, env=environment)
    result.duration = time.monotonic() - started
    return result


def run_all(nodes, ports=None):
    """Run the publisher of every node at once, as the timers would; returns the time just before."""
    start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    results = {}
    for port in ports or sorted(nodes):
        results[port] = run_publisher(nodes[port])
    for port, result in results.items():
        assert result.returncode == 0, (port, result.stdout, result.stderr,
                                        (nodes[port]["dir"] / "metrics.log").read_text())
    return start, results


def statistic(aws, name, dimensions, start, stat="Maximum"):
    points = aws["cloudwatch"].get_metric_statistics(
        Namespace=NAMESPACE, MetricName=name, Dimensions=[{"Name": k, "Value": v} for k, v in dimensions],
        StartTime=start, EndTime=start + datetime.timedelta(minutes=10), Period=600,
        Statistics=["Maximum", "Minimum", "SampleCount"])["Datapoints"]
    return points[0][stat] if points else None


def published_names(aws, dimensions):
    """Metric names whose dimensions are exactly these."""
    wanted = sorted(dimensions)
    pages = aws["cloudwatch"].get_paginator("list_metrics").paginate(
        Namespace=NAMESPACE, Dimensions=[{"Name": k, "Value": v} for k, v in dimensions])
    return {m["MetricName"] for page in pages for m in page["Metrics"]
            if sorted((d["Name"], d["Value"]) for d in m["Dimensions"]) == wanted}


def node_dims(entry):
    config = entry["config"]
    return (("ClusterName", CLUSTER), ("NodeId", config["instance_id"]),
            ("AvailabilityZone", config["availability_zone"]))


def put_complete_set(s3, set_id):
    for first, last in ((0, 5460), (5461, 10922), (10923, 16383)):
        s3.put_object(Bucket=BUCKET, Key=layout.data_key("backups", CLUSTER, set_id, [(first, last)]), Body=b"x")
        s3.put_object(Bucket=BUCKET, Key=layout.manifest_key("backups", CLUSTER, set_id, [(first, last)]), Body=b"{}")


# ---------------------------------------------------------------- all nodes up


def test_every_node_publishes_every_metric_with_its_dimensions(cluster, nodes, aws):
    set_time = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=3)
    put_complete_set(aws["s3"], layout.format_set_id(set_time))
    run_all(nodes)  # first run: no previous sample, no rates yet
    # Traffic between the runs: writes and reads on the masters, READONLY reads on replicas.
    for master in cluster.masters():
        with master.client() as c:
            for key in ("{%d}k" % i for i in range(200)):
                try:
                    c.set(key, "v")
                    c.get(key)
                    c.get(key + "-missing")
                except redis.ResponseError:  # MOVED: the key's slot lives on another master
                    continue
    for node in cluster.nodes:
        if node.role() == "slave":
            with node.client() as c:
                c.execute_command("READONLY")
                for i in range(20):
                    try:
                        c.get("{%d}k" % i)
                    except redis.ResponseError:
                        continue
    time.sleep(1.5)
    start, results = run_all(nodes)
    durations = sorted(r.duration for r in results.values())
    print("publisher run durations: %s s" % ", ".join("%.2f" % d for d in durations))

    for port, entry in nodes.items():
        role = "master" if entry["node"].role() == "master" else "replica"
        names = published_names(aws, node_dims(entry))
        assert names == set(rm.expected_metrics(role, has_previous=True)) - {"AzLossSafe", "BackupAgeSeconds"}, port
        for name in names:
            assert statistic(aws, name, node_dims(entry), start) is not None, (port, name)
        for name in names & {"EngineCPUUtilization", "DatabaseMemoryUsagePercentage", "CurrConnections", "CacheHitRate"}:
            assert statistic(aws, name, (("ClusterName", CLUSTER), ("Role", role)), start) is not None, (role, name)
        dims = node_dims(entry)
        assert statistic(aws, "NodeUp", dims, start, "Minimum") == 1.0
        assert statistic(aws, "IsMaster", dims, start) == (1.0 if role == "master" else 0.0)
        assert 0.0 < statistic(aws, "DatabaseMemoryUsagePercentage", dims, start) < 10.0  # a few MB of 64 MB
        assert 0.0 <= statistic(aws, "EngineCPUUtilization", dims, start) <= 100.0
        assert statistic(aws, "CurrConnections", dims, start) == 0.0  # the publisher and the master link left out
        assert 0.0 < statistic(aws, "CacheHitRate", dims, start) <= 100.0
        assert statistic(aws, "ClusterStateOk", dims, start, "Minimum") == 1.0
        assert statistic(aws, "PersistenceErrors", dims, start) == 0.0
        if role == "replica":
            assert 0.0 <= statistic(aws, "ReplicationLag", dims, start) <= 15.0
            assert statistic(aws, "MasterLinkHealthStatus", dims, start, "Minimum") == 1.0
        else:
            assert statistic(aws, "ReplicationBytes", dims, start) > 0.0  # the SETs replicated
    cluster_dims = (("ClusterName", CLUSTER),)
    assert statistic(aws, "AzLossSafe", cluster_dims, start, "Minimum") == 1.0
    assert statistic(aws, "ClusterSlotsOk", cluster_dims, start, "Minimum") == 1.0
    # (moto matches dimensions as a subset, so ClusterName-only statistics here
    # also take in the node series; their values agree, their counts do not.)
    assert published_names(aws, cluster_dims) == {"NodeUp", "ClusterStateOk", "ClusterSlotsOk", "AzLossSafe",
                                                  "BackupAgeSeconds"}
    assert published_names(aws, (("ClusterName", CLUSTER), ("Role", "master"))) == {
        "EngineCPUUtilization", "DatabaseMemoryUsagePercentage", "CurrConnections", "Evictions", "CacheHitRate",
        "ReplicationBytes", "SaveInProgress", "PersistenceErrors"}
    age = statistic(aws, "BackupAgeSeconds", cluster_dims, start)
    assert 3 * 3600 - 5 <= age <= 3 * 3600 + 120


def test_the_node_policy_limits_put_metric_data_to_its_namespace_in_the_policy(aws):
    # moto evaluates the action but not the cloudwatch:namespace condition:
    # the sandbox enforces "no PutMetricData rights" (below), AWS the namespace.
    node = client("cloudwatch", aws["endpoint"], **dict(zip(("access_key", "secret_key"), _node_keys(aws))))
    with pytest.raises(Exception, match="AccessDenied|not authorized"):
        node.put_metric_alarm(AlarmName="x", MetricName="NodeUp", Namespace=NAMESPACE, Statistic="Minimum",
                              ComparisonOperator="LessThanThreshold", Threshold=1, Period=60, EvaluationPeriods=1)


def _node_keys(aws):
    text = Path(aws["credentials"]).read_text().splitlines()
    values = dict(line.split(" = ") for line in text if " = " in line)
    return values["aws_access_key_id"], values["aws_secret_access_key"]


# ---------------------------------------------------------------- failover


def test_a_failover_flips_is_master(cluster, nodes, aws):
    master = min(cluster.masters(), key=lambda n: n.port)
    replica = cluster.replica_of(master)
    replica.command("CLUSTER", "FAILOVER")
    wait_for(lambda: replica.role() == "master" and master.role() == "slave", 30, "the failover")
    cluster.wait_ok()
    start, _results = run_all(nodes)
    assert statistic(aws, "IsMaster", node_dims(nodes[replica.port]), start) == 1.0
    assert statistic(aws, "IsMaster", node_dims(nodes[master.port]), start) == 0.0
    # The node-scoped series (and so its alarms) is the same before and after: no Role in it.
    assert statistic(aws, "ReplicationLag", node_dims(nodes[master.port]), start) is not None
    assert statistic(aws, "ReplicationLag", node_dims(nodes[replica.port]), start) is None


# ---------------------------------------------------------------- nodes going down


def test_a_stopped_replica_is_reported_down_and_the_cluster_no_longer_az_safe(cluster, nodes, aws):
    replica = next(n for n in cluster.nodes if n.role() == "slave")
    master = cluster.master_of(replica)
    replica.stop()
    wait_for(lambda: "fail" in next(line for line in master.command("CLUSTER", "NODES").splitlines()
                                    if line.split()[1].startswith(replica.address)).split()[2],
             30, "the others flag the stopped replica as failed")
    start, results = run_all(nodes)
    assert results[replica.port].returncode == 0
    assert "cannot be read" in (nodes[replica.port]["dir"] / "metrics.log").read_text()
    assert statistic(aws, "NodeUp", node_dims(nodes[replica.port]), start, "Maximum") == 0.0
    assert statistic(aws, "ClusterStateOk", node_dims(nodes[replica.port]), start) is None
    for port in PORTS:
        if port != replica.port:
            assert statistic(aws, "NodeUp", node_dims(nodes[port]), start, "Minimum") == 1.0
    cluster_dims = (("ClusterName", CLUSTER),)
    assert statistic(aws, "ClusterStateOk", cluster_dims, start, "Minimum") == 1.0
    assert statistic(aws, "AzLossSafe", cluster_dims, start, "Maximum") == 0.0  # its master's shard is in one AZ
    assert statistic(aws, "NodeUp", cluster_dims, start, "Minimum") == 0.0


def lone_master(cluster):
    """A live master without a live replica (its replica stopped first if need be): losing it loses its shard."""
    live_masters = [n for n in cluster.nodes if n.process.poll() is None and n.role() == "master"]
    for master in live_masters:
        if not any(n.process.poll() is None and n.role() == "slave" and cluster.master_of(n) is master
                   for n in cluster.nodes):
            return master
    cluster.replica_of(live_masters[0]).stop()
    return live_masters[0]


def test_a_lost_shard_turns_cluster_state_not_ok(cluster, nodes, aws):
    master = lone_master(cluster)
    master.stop()
    others = [n for n in cluster.nodes if n.process.poll() is None]
    wait_for(lambda: all("cluster_state:fail" in n.command("CLUSTER", "INFO") for n in others),
             30, "cluster_state:fail on the live nodes")
    start, _results = run_all(nodes)
    cluster_dims = (("ClusterName", CLUSTER),)
    assert statistic(aws, "ClusterStateOk", cluster_dims, start, "Maximum") == 0.0
    assert statistic(aws, "ClusterSlotsOk", cluster_dims, start, "Maximum") == 0.0
    assert statistic(aws, "NodeUp", node_dims(nodes[master.port]), start) == 0.0


# ---------------------------------------------------------------- exit codes


def test_exit_codes_for_the_lock_bad_configuration_and_a_failed_publish(nodes, tmp_path):
    entry = nodes[PORTS[-1]]
    with open(entry["dir"] / "lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert run_publisher(entry).returncode == 3
    broken = dict(entry, dir=tmp_path)
    (tmp_path / "node.json").write_text(json.dumps(dict(entry["config"], metrics={"interval_seconds": 5})))
    (tmp_path / "agent.json").write_text("{}")
    result = run_publisher(broken)
    assert result.returncode == 2
    assert "interval_seconds" in (tmp_path / "metrics.log").read_text()
    (tmp_path / "node.json").write_text(json.dumps(dict(entry["config"], aws=dict(
        entry["config"]["aws"], endpoint_url="http://127.0.0.1:%d" % (MOTO_PORT + 1)))))
    (tmp_path / "agent.json").write_text((entry["dir"] / "agent.json").read_text())
    result = run_publisher(broken)
    assert result.returncode == 1, result.stderr
    assert result.duration < 30
    assert "PutMetricData" in (tmp_path / "metrics.log").read_text()


def test_a_hung_node_is_reported_down_within_the_timeouts(nodes, tmp_path):
    """A port that accepts connections but never answers (a node stuck in a
    long command, a half-dead host): the publisher gives up after its
    bounded waits and reports the node down."""
    entry = nodes[PORTS[0]]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 7607))
    listener.listen(8)
    try:
        hung = dict(entry, dir=tmp_path)
        (tmp_path / "node.json").write_text(json.dumps(dict(entry["config"], port=7607)))
        (tmp_path / "agent.json").write_text((entry["dir"] / "agent.json").read_text())
        result = run_publisher(hung, "--dry-run")
    finally:
        listener.close()
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)["metric_data"]
    assert {d["MetricName"]: d["Value"] for d in data}["NodeUp"] == 0.0
    assert result.duration < 15, result.duration
    assert "Timeout" in (tmp_path / "metrics.log").read_text()
