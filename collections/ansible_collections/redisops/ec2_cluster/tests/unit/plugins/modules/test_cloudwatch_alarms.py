"""The cloudwatch_alarms module: one listing, puts only what differs, deletes
what left, nothing in check mode; the before/after diff names the changes."""

import json

import pytest

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import cloudwatch_monitoring as cw
from ansible_collections.redisops.ec2_cluster.plugins.modules import cloudwatch_alarms as mod

TOPIC = "arn:aws:sns:us-west-2:123456789012:alarms"
NODES = [{"instance_id": "i-0000000000000a00%d" % i, "availability_zone": "us-west-2a", "address": ""}
         for i in range(1, 4)]


class Client:
    """describe_alarms / put_metric_alarm / delete_alarms over a dict, counting calls."""

    def __init__(self):
        self.alarms, self.calls = {}, []

    def get_paginator(self, name):
        assert name == "describe_alarms"
        client = self

        class Paginator:
            def paginate(self, AlarmNamePrefix, AlarmTypes):
                client.calls.append("describe_alarms")
                assert AlarmTypes == ["MetricAlarm"]
                names = sorted(n for n in client.alarms if n.startswith(AlarmNamePrefix))
                return [{"MetricAlarms": [dict(client.alarms[n]) for n in names[:2]]},
                        {"MetricAlarms": [dict(client.alarms[n]) for n in names[2:]]}]
        return Paginator()

    def put_metric_alarm(self, **request):
        self.calls.append("put_metric_alarm")
        self.alarms[request["AlarmName"]] = dict(request, StateValue="INSUFFICIENT_DATA")

    def delete_alarms(self, AlarmNames):
        self.calls.append("delete_alarms")
        assert len(AlarmNames) <= 100
        for name in AlarmNames:
            del self.alarms[name]


class Done(Exception):
    pass


class Module:
    def __init__(self, alarms, check_mode=False, diff=False, purge=True):
        self.params = {"cluster": "prod", "namespace": "RedisCluster", "alarms": alarms, "purge": purge}
        self.check_mode, self._diff, self.result = check_mode, diff, None

    def exit_json(self, **result):
        self.result = result
        raise Done()

    def fail_json(self, **result):
        self.result = dict(result, failed=True)
        raise Done()

    fail_json_aws = None


def run(client, alarms, **kwargs):
    module = Module(alarms, **kwargs)
    with pytest.raises(Done):
        mod.run_module(module, client)
    return module.result


def desired(nodes=NODES, **overrides):
    return cw.desired_alarms("prod", "RedisCluster", nodes, TOPIC, overrides=overrides)


def test_first_run_puts_every_alarm_then_nothing_changes():
    client, alarms = Client(), desired()
    first = run(client, alarms)
    assert first["changed"] and sorted(first["put"]) == sorted(a["name"] for a in alarms) and first["deleted"] == []
    assert set(client.alarms) == {a["name"] for a in alarms}
    client.calls.clear()
    second = run(client, alarms)
    assert second == {"changed": False, "put": [], "deleted": [], "unchanged": len(alarms)}
    assert client.calls == ["describe_alarms"]


def test_check_mode_changes_nothing_and_the_diff_shows_the_change():
    client = Client()
    run(client, desired())
    before = json.loads(json.dumps(client.alarms, default=str))
    result = run(client, desired(memory={"threshold": 70}), check_mode=True, diff=True)
    name = "redisops-prod-node-i-0000000000000a001-memory"
    assert result["changed"] and name in result["put"] and len(result["put"]) == len(NODES)
    assert json.loads(json.dumps(client.alarms, default=str)) == before
    assert json.loads(result["diff"]["before"])[name]["threshold"] == 80.0
    assert json.loads(result["diff"]["after"])[name]["threshold"] == 70.0
    assert set(json.loads(result["diff"]["after"])) == set(result["put"])


def test_alarms_of_a_node_that_left_are_deleted_unless_purge_is_off():
    client = Client()
    run(client, desired())
    kept = run(client, desired(NODES[:2]), purge=False)
    assert not kept["changed"] and any("a003" in n for n in client.alarms)
    left = run(client, desired(NODES[:2]), diff=True)
    assert left["changed"] and left["put"] == [] and left["deleted"]
    assert all("i-0000000000000a003" in n for n in left["deleted"])
    assert not any("a003" in n for n in client.alarms)
    assert set(json.loads(left["diff"]["before"])) == set(left["deleted"]) and left["diff"]["after"] == ""


def test_an_incomplete_alarm_fails_before_anything_changes():
    client, alarms = Client(), desired()
    alarms[-1] = dict(alarms[-1], threshold=None)
    result = run(client, alarms)
    assert result["failed"] and "lacks threshold" in result["msg"]
    assert client.alarms == {} and "put_metric_alarm" not in client.calls
