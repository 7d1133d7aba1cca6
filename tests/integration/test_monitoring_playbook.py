"""playbooks/monitoring.yml's controller play against moto: log groups with
retention, every alarm with its threshold and the dashboard; a second run
changes nothing; check mode changes nothing; a node that left the
inventory loses its alarms while another cluster's alarms stay.

Uses moto on 127.0.0.1:5162 (run under flock /tmp/redisops-local.lock)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import cloudwatch_monitoring as cw
from moto_server import REGION, client, moto_server

ROOT = Path(__file__).resolve().parents[2]
PORT = 5162
CLUSTER = "itest"
NAMESPACE = "RedisCluster"
NODES = [("10.77.1.11", "i-0000000000000a001", "us-west-2a"), ("10.77.2.11", "i-0000000000000b001", "us-west-2b"),
         ("10.77.3.11", "i-0000000000000c001", "us-west-2c"), ("10.77.1.12", "i-0000000000000a002", "us-west-2a")]
PER_NODE = [s for s in cw.ALARMS if s.scope == "node"]
PER_CLUSTER = [s for s in cw.ALARMS if s.scope == "cluster"]


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    with moto_server(PORT, tmp_path_factory.mktemp("moto")) as endpoint:
        topic = client("sns", endpoint).create_topic(Name="itest-alarms")["TopicArn"]
        yield {"endpoint": endpoint, "topic": topic, "cloudwatch": client("cloudwatch", endpoint),
               "logs": client("logs", endpoint)}


def write_inventory(path, nodes):
    hosts = {ip: {"instance_id": instance, "placement": {"availability_zone": zone}, "private_ip_address": ip}
             for ip, instance, zone in nodes}
    inventory = {"all": {"hosts": {"localhost": {"ansible_connection": "local"}},
                         "children": {"redis_cluster": {"hosts": hosts}}}}
    path.write_text(json.dumps(inventory))


def run_playbook(tmp_path, aws, nodes, *extra, overrides=None):
    inventory = tmp_path / "inventory.json"
    write_inventory(inventory, nodes)
    variables = {
        "cluster_facts_outputs": {"cluster_name": CLUSTER, "alarm_topic_arn": aws["topic"]},
        "redisops_aws_region": REGION, "redisops_aws_endpoint_url": aws["endpoint"],
        "redisops_aws_access_key": "testing", "redisops_aws_secret_key": "testing",
        "redisops_log_retention_days": 14,
        "cluster_monitoring_alarm_overrides": overrides or {},
    }
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    environment = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), AWS_EC2_METADATA_DISABLED="true",
                       AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_CONFIG_FILE=os.devnull,
                       ANSIBLE_PYTHON_INTERPRETER=str(Path(os.sys.executable)))
    result = subprocess.run(
        [str(Path(os.sys.executable).with_name("ansible-playbook")), "-i", str(inventory), str(ROOT / "playbooks" / "monitoring.yml"), "--limit", "localhost",
         "-e", "@" + str(tmp_path / "vars.json"), *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env=environment)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    recap = re.search(r"localhost\s+:\s+ok=(\d+)\s+changed=(\d+)", result.stdout)
    return int(recap.group(2)), result.stdout


def alarms(aws):
    pages = aws["cloudwatch"].get_paginator("describe_alarms").paginate(AlarmNamePrefix="redisops-")
    return {a["AlarmName"]: a for page in pages for a in page["MetricAlarms"]}


def test_first_run_creates_log_groups_alarms_and_dashboard(tmp_path, aws):
    aws["cloudwatch"].put_metric_alarm(  # another cluster whose name starts with ours
        AlarmName="redisops-itest-2-cluster-cluster-state", Namespace=NAMESPACE, MetricName="ClusterStateOk",
        Dimensions=[{"Name": "ClusterName", "Value": "itest-2"}], Statistic="Minimum", Period=60,
        EvaluationPeriods=2, Threshold=1, ComparisonOperator="LessThanThreshold")
    changed, _out = run_playbook(tmp_path, aws, NODES)
    assert changed > 0
    found = alarms(aws)
    ours = {name: a for name, a in found.items() if name.startswith("redisops-itest-") and "itest-2" not in name}
    assert len(ours) == len(NODES) * len(PER_NODE) + len(PER_CLUSTER)
    down = ours["redisops-itest-node-i-0000000000000a001-node-down"]
    assert down["MetricName"] == "NodeUp" and down["Statistic"] == "Minimum"
    assert down["ComparisonOperator"] == "LessThanThreshold" and down["Threshold"] == 1.0
    assert down["TreatMissingData"] == "breaching" and down["EvaluationPeriods"] == 3
    assert down["AlarmActions"] == [aws["topic"]] and down["OKActions"] == [aws["topic"]]
    assert {(d["Name"], d["Value"]) for d in down["Dimensions"]} == {
        ("ClusterName", CLUSTER), ("NodeId", "i-0000000000000a001"), ("AvailabilityZone", "us-west-2a")}
    thresholds = {name.rsplit("-", 1)[0].split("-0000000000000a001-")[-1] if "-node-" in name else name: a["Threshold"]
                  for name, a in ours.items()}
    assert ours["redisops-itest-node-i-0000000000000b001-memory"]["Threshold"] == 80.0
    assert ours["redisops-itest-node-i-0000000000000b001-replication-lag"]["Threshold"] == 60.0
    assert ours["redisops-itest-node-i-0000000000000b001-evictions"]["Threshold"] == 0.0
    assert ours["redisops-itest-cluster-backup-age"]["Threshold"] == 26 * 3600.0
    assert ours["redisops-itest-cluster-az-loss-safe"]["Dimensions"] == [{"Name": "ClusterName", "Value": CLUSTER}]
    assert thresholds
    groups = {g["logGroupName"]: g for g in aws["logs"].describe_log_groups(logGroupNamePrefix="/redisops/")["logGroups"]}
    assert sorted(groups) == ["/redisops/itest/backup", "/redisops/itest/metrics", "/redisops/itest/redis",
                              "/redisops/itest/system"]
    assert {g.get("retentionInDays") for g in groups.values()} == {14}
    body = json.loads(aws["cloudwatch"].get_dashboard(DashboardName="redisops-itest")["DashboardBody"])
    text = json.dumps(body)
    assert all(instance in text for _ip, instance, _zone in NODES)
    assert {"ClusterStateOk", "AzLossSafe", "BackupAgeSeconds", "ReplicationLag"} <= set(re.findall(r'"(\w+)"', text))


def test_second_run_changes_nothing(tmp_path, aws):
    changed, out = run_playbook(tmp_path, aws, NODES)
    assert changed == 0, [line for line in out.splitlines() if line.startswith("changed")]


def test_check_mode_reports_a_threshold_change_without_making_it(tmp_path, aws):
    changed, out = run_playbook(tmp_path, aws, NODES, "--check", "--diff", overrides={"memory": {"threshold": 70}})
    assert changed > 0
    assert alarms(aws)["redisops-itest-node-i-0000000000000a001-memory"]["Threshold"] == 80.0


def test_a_threshold_change_is_applied_and_then_stable(tmp_path, aws):
    changed, _out = run_playbook(tmp_path, aws, NODES, overrides={"memory": {"threshold": 70}})
    assert changed > 0
    assert {a["Threshold"] for n, a in alarms(aws).items() if n.endswith("-memory")} == {70.0}
    changed, _out = run_playbook(tmp_path, aws, NODES, overrides={"memory": {"threshold": 70}})
    assert changed == 0


def test_a_node_that_left_loses_its_alarms(tmp_path, aws):
    changed, _out = run_playbook(tmp_path, aws, NODES[:3])
    assert changed > 0
    found = alarms(aws)
    assert not [name for name in found if "i-0000000000000a002" in name]
    assert len([name for name in found if "i-0000000000000a001" in name]) == len(PER_NODE)
    assert "redisops-itest-2-cluster-cluster-state" in found  # the other cluster's alarm stays
    body = aws["cloudwatch"].get_dashboard(DashboardName="redisops-itest")["DashboardBody"]
    assert "i-0000000000000a002" not in body
    changed, _out = run_playbook(tmp_path, aws, NODES[:3])
    assert changed == 0
