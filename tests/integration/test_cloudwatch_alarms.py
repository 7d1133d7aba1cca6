"""Module cloudwatch_alarms against moto: check mode with diff creates
nothing; one task puts every alarm; a second run lists once and changes
nothing; a changed threshold is put alone; the alarms of nodes that left are
deleted (more than one DeleteAlarms batch) while another cluster's stay.

Uses moto on 127.0.0.1:5231 (run under flock /tmp/redisops-local.lock)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import cloudwatch_monitoring as cw
from moto_server import REGION, client, moto_server
from redisops_testlib import run_playbook

PORT = 5231
CLUSTER = "alarms-itest"
NAMESPACE = "RedisCluster"
TOPIC = "arn:aws:sns:us-west-2:123456789012:alarms"
# 24 nodes: 24 x 6 node alarms + 4 cluster alarms = 148, so removing 20 nodes deletes 120 (two batches).
NODES = [{"instance_id": "i-%017x" % (0xa000 + i), "availability_zone": "us-west-2" + "abc"[i % 3],
          "address": "10.77.%d.%d" % (i % 3 + 1, 11 + i)} for i in range(24)]
# Another cluster whose name starts with ours.
OTHER = "redisops-alarms-itest-2-node-i-0000000000000a000-node-down"
PLAYBOOK = """
- name: The cluster's alarms
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Create, update and delete the cluster's alarms
      redisops.ec2_cluster.cloudwatch_alarms:
        cluster: "{{ cluster }}"
        namespace: "{{ namespace }}"
        alarms: "{{ alarms }}"
        endpoint_url: "{{ endpoint }}"
        region: "{{ region }}"
        access_key: testing
        secret_key: testing
      register: result

    - name: Keep the result for the test
      ansible.builtin.copy:
        content: "{{ result | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
      check_mode: false
      changed_when: false
"""


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    with moto_server(PORT, tmp_path_factory.mktemp("moto")) as endpoint:
        yield {"endpoint": endpoint, "cloudwatch": client("cloudwatch", endpoint)}


def apply(tmp_path, aws, nodes, *args, overrides=None):
    variables = {"result_file": str(tmp_path / "result.json"), "cluster": CLUSTER, "namespace": NAMESPACE,
                 "endpoint": aws["endpoint"], "region": REGION,
                 "alarms": cw.desired_alarms(CLUSTER, NAMESPACE, nodes, TOPIC, overrides=overrides)}
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    (tmp_path / "alarms.yml").write_text(PLAYBOOK)
    run = run_playbook(tmp_path / "alarms.yml", "-i", "localhost,", "-c", "local", "-e",
                       "@" + str(tmp_path / "vars.json"), "-e", "ansible_python_interpreter=auto_silent", *args)
    assert run.rc == 0, run.explain()
    return run, json.loads((tmp_path / "result.json").read_text())


def alarms(aws, prefix="redisops-"):
    pages = aws["cloudwatch"].get_paginator("describe_alarms").paginate(AlarmNamePrefix=prefix)
    return {a["AlarmName"]: a for page in pages for a in page["MetricAlarms"]}


def test_check_mode_with_diff_creates_nothing(tmp_path, aws):
    run, result = apply(tmp_path, aws, NODES, "--check", "--diff")
    desired = cw.desired_alarms(CLUSTER, NAMESPACE, NODES, TOPIC)
    assert run.changed() == 1 and sorted(result["put"]) == sorted(a["name"] for a in desired)
    assert "redisops-alarms-itest-cluster-az-loss-safe" in run.stdout  # the diff
    assert alarms(aws) == {}


def test_one_task_puts_every_alarm_then_a_second_run_changes_nothing(tmp_path, aws):
    other = cw.put_alarm_request(cw.desired_alarms(CLUSTER + "-2", NAMESPACE, NODES[:1], TOPIC)[0])
    assert other["AlarmName"] == OTHER
    aws["cloudwatch"].put_metric_alarm(**other)
    run, result = apply(tmp_path, aws, NODES)
    desired = cw.desired_alarms(CLUSTER, NAMESPACE, NODES, TOPIC)
    assert run.changed() == 1 and len(result["put"]) == len(desired) == 148
    found = alarms(aws, cw.alarm_prefix(CLUSTER))
    assert set(found) == {a["name"] for a in desired} | {OTHER}
    memory = found["redisops-alarms-itest-node-i-0000000000000a001-memory"]
    assert memory["Threshold"] == 80.0 and memory["OKActions"] == [TOPIC] and memory["ActionsEnabled"] is True
    assert {(d["Name"], d["Value"]) for d in memory["Dimensions"]} == {
        ("ClusterName", CLUSTER), ("NodeId", "i-0000000000000a001"), ("AvailabilityZone", "us-west-2b")}
    again, result = apply(tmp_path, aws, NODES)
    assert again.changed() == 0 and result["put"] == [] and result["deleted"] == [] and result["unchanged"] == 148


def test_a_changed_threshold_is_put_alone(tmp_path, aws):
    run, result = apply(tmp_path, aws, NODES, "--diff", overrides={"backup_age": {"threshold": 3600}})
    assert run.changed() == 1 and result["put"] == ["redisops-alarms-itest-cluster-backup-age"]
    assert alarms(aws)["redisops-alarms-itest-cluster-backup-age"]["Threshold"] == 3600.0
    assert alarms(aws)["redisops-alarms-itest-node-i-0000000000000a001-memory"]["Threshold"] == 80.0


def test_the_alarms_of_nodes_that_left_are_deleted_and_another_cluster_keeps_its_own(tmp_path, aws):
    run, result = apply(tmp_path, aws, NODES[:4], overrides={"backup_age": {"threshold": 3600}})
    assert run.changed() == 1 and result["put"] == [] and len(result["deleted"]) == 20 * 6
    found = alarms(aws)
    assert set(found) == {a["name"] for a in cw.desired_alarms(CLUSTER, NAMESPACE, NODES[:4], TOPIC)} | {OTHER}
    again, _result = apply(tmp_path, aws, NODES[:4], overrides={"backup_age": {"threshold": 3600}})
    assert again.changed() == 0
