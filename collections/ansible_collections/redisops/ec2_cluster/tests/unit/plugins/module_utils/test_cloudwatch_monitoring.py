"""Alarms, stale alarms, log groups and the dashboard of a cluster, as data."""

import json

import pytest
from hypothesis import example, given, settings
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from hypothesis import strategies as st

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import cloudwatch_monitoring as cw
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import redis_metrics as rm

TOPIC = "arn:aws:sns:us-west-2:123456789012:alarms"
NODES = [{"instance_id": "i-0000000000000a001", "availability_zone": "us-west-2a", "address": "10.77.1.11"},
         {"instance_id": "i-0000000000000b001", "availability_zone": "us-west-2b", "address": "10.77.2.11"},
         {"instance_id": "i-0000000000000c001", "availability_zone": "us-west-2c", "address": "10.77.3.11"}]


def alarms(**kwargs):
    return cw.desired_alarms("prod", "RedisCluster", NODES, TOPIC, **kwargs)


def by_name(items):
    return {a["name"]: a for a in items}


def test_one_alarm_per_node_and_check_plus_the_cluster_checks():
    result = alarms()
    per_node = [s for s in cw.ALARMS if s.scope == rm.NODE]
    per_cluster = [s for s in cw.ALARMS if s.scope == rm.CLUSTER]
    assert len(result) == len(NODES) * len(per_node) + len(per_cluster)
    assert len(by_name(result)) == len(result)
    assert {s.key for s in cw.ALARMS} == {"node_down", "memory", "evictions", "replication_lag", "persistence_errors",
                                          "cpu", "cluster_state", "cluster_slots", "az_loss_safe", "backup_age"}


def test_node_alarms_hang_on_the_failover_proof_dimensions():
    down = by_name(alarms())["redisops-prod-node-i-0000000000000a001-node-down"]
    assert down["dimensions"] == {"ClusterName": "prod", "NodeId": "i-0000000000000a001",
                                  "AvailabilityZone": "us-west-2a"}
    assert "Role" not in down["dimensions"]
    assert (down["metric_name"], down["statistic"], down["comparison"], down["threshold"]) == (
        "NodeUp", "Minimum", "LessThanThreshold", 1.0)
    assert down["treat_missing_data"] == "breaching"  # a dead publisher or instance sends nothing
    assert down["alarm_actions"] == [TOPIC] and down["ok_actions"] == [TOPIC]
    assert down["unit"] == "None" and down["period"] == 60
    assert down["evaluation_periods"] == down["datapoints_to_alarm"] == 3
    assert "10.77.1.11" in down["description"]


def test_cluster_alarms_take_the_worst_node():
    found = by_name(alarms())
    state = found["redisops-prod-cluster-cluster-state"]
    assert state["dimensions"] == {"ClusterName": "prod"}
    assert (state["statistic"], state["comparison"], state["treat_missing_data"]) == (
        "Minimum", "LessThanThreshold", "breaching")
    backup = found["redisops-prod-cluster-backup-age"]
    assert (backup["threshold"], backup["comparison"], backup["unit"]) == (93600.0, "GreaterThanThreshold", "Seconds")
    assert found["redisops-prod-cluster-az-loss-safe"]["metric_name"] == "AzLossSafe"


def test_the_default_thresholds_of_the_issue():
    found = by_name(alarms())
    node = "redisops-prod-node-i-0000000000000b001-"
    assert found[node + "memory"]["threshold"] == 80.0
    assert found[node + "evictions"]["threshold"] == 0.0 and found[node + "evictions"]["statistic"] == "Sum"
    assert found[node + "replication-lag"]["threshold"] == 60.0
    assert found[node + "persistence-errors"]["threshold"] == 0.0
    assert found[node + "cpu"]["metric_name"] == "EngineCPUUtilization"


def test_settings_change_thresholds_periods_and_turn_alarms_off():
    found = by_name(alarms(overrides={"memory": {"threshold": 70, "evaluation_periods": 2},
                                      "cpu": {"enabled": False}}))
    memory = found["redisops-prod-node-i-0000000000000a001-memory"]
    assert memory["threshold"] == 70.0 and memory["evaluation_periods"] == 2 and memory["datapoints_to_alarm"] == 2
    assert not [n for n in found if n.endswith("-cpu")]


@pytest.mark.parametrize("overrides,message", [
    ({"nope": {}}, "no alarm named"),
    ({"memory": {"treshold": 1}}, "unknown settings treshold"),
    ({"memory": {"missing_data": "maybe"}}, "missing_data"),
    ({"memory": {"evaluation_periods": 0}}, "at least 1"),
])
def test_bad_settings_are_refused(overrides, message):
    with pytest.raises(cw.MonitoringError, match=message):
        alarms(overrides=overrides)


def test_bad_nodes_and_topics_are_refused():
    with pytest.raises(cw.MonitoringError, match="instance id"):
        cw.desired_alarms("prod", "NS", [{"instance_id": "", "availability_zone": "a", "address": "10.0.0.1"}], TOPIC)
    with pytest.raises(cw.MonitoringError, match="availability zone"):
        cw.desired_alarms("prod", "NS", [{"instance_id": "i-0123456789abcdef0", "availability_zone": ""}], TOPIC)
    with pytest.raises(cw.MonitoringError, match="twice"):
        cw.desired_alarms("prod", "NS", NODES + NODES[:1], TOPIC)
    with pytest.raises(cw.MonitoringError, match="SNS topic ARN"):
        cw.desired_alarms("prod", "NS", NODES, "")


@pytest.mark.parametrize("interval,period", [(10, 60), (60, 60), (61, 120), (300, 300)])
def test_the_alarm_period_holds_a_data_point_of_every_node(interval, period):
    assert cw.period_seconds(interval) == period
    assert {a["period"] for a in alarms(interval_seconds=interval)} == {period}


def test_every_alarm_watches_a_published_metric_with_its_unit():
    for spec in cw.ALARMS:
        assert spec.scope in rm.collector(spec.metric).dimension_sets
    for alarm in alarms():
        assert alarm["unit"] == rm.collector(alarm["metric_name"]).unit


def existing(names, cluster="prod", namespace="RedisCluster", snake=True):
    result = []
    for name in names:
        dims = [{"name": "ClusterName", "value": cluster}] if snake else [{"Name": "ClusterName", "Value": cluster}]
        result.append({"alarm_name": name, "namespace": namespace, "dimensions": dims} if snake else
                      {"AlarmName": name, "Namespace": namespace, "Dimensions": dims})
    return result


def test_stale_alarms_are_ours_and_not_desired():
    desired = cw.desired_alarms("prod", "RedisCluster", NODES[:2], TOPIC)
    current = existing([a["name"] for a in alarms()])
    stale = cw.stale_alarms("prod", "RedisCluster", current, desired)
    assert stale and all("i-0000000000000c001" in name for name in stale)
    assert len(stale) == len([s for s in cw.ALARMS if s.scope == rm.NODE])
    assert cw.stale_alarms("prod", "RedisCluster", existing(["redisops-prod-x"], snake=False), desired) == [
        "redisops-prod-x"]


def test_another_cluster_sharing_the_name_prefix_keeps_its_alarms():
    other = existing(["redisops-prod-2-cluster-cluster-state"], cluster="prod-2")
    foreign_namespace = existing(["redisops-prod-node-i-0000000000000a009-memory"], namespace="Other")
    assert cw.stale_alarms("prod", "RedisCluster", other + foreign_namespace, alarms()) == []


@settings(derandomize=True, max_examples=60)
@given(st.lists(st.sampled_from(NODES), unique_by=lambda n: n["instance_id"]),
       st.lists(st.sampled_from(NODES), unique_by=lambda n: n["instance_id"]))
@example([], NODES)
def test_after_cleanup_exactly_the_desired_alarms_remain(before, after):
    current = cw.desired_alarms("prod", "RedisCluster", before, TOPIC)
    desired = cw.desired_alarms("prod", "RedisCluster", after, TOPIC)
    stale = set(cw.stale_alarms("prod", "RedisCluster", existing([a["name"] for a in current]), desired))
    remaining = ({a["name"] for a in current} - stale) | {a["name"] for a in desired}
    assert remaining == {a["name"] for a in desired}


def test_log_groups_and_their_retention():
    groups = cw.log_groups("prod", 30)
    assert [g["name"] for g in groups] == ["/redisops/prod/redis", "/redisops/prod/backup", "/redisops/prod/metrics",
                                           "/redisops/prod/system"]
    assert {g["retention_days"] for g in groups} == {30}
    with pytest.raises(cw.MonitoringError, match="retention"):
        cw.log_groups("prod", 31)


def test_dashboard_groups_nodes_by_az_and_shows_health_and_roles():
    body = cw.dashboard_body("prod", "RedisCluster", "us-west-2", NODES)
    text = json.dumps(body)
    assert json.loads(text) == body
    metrics = [w for w in body["widgets"] if w["type"] == "metric"]
    titles = [w["properties"]["title"] for w in metrics]
    for wanted in ("Cluster state ok (worst node)", "Survives losing an AZ", "Newest complete backup set, age (s)",
                   "Client connections, by role", "Replication lag (s), replicas, by role", "us-west-2b: Memory %"):
        assert wanted in titles
    zone_rows = [w["properties"]["markdown"] for w in body["widgets"] if w["type"] == "text"][1:]
    assert [row.split(":")[0] for row in zone_rows] == ["## us-west-2a", "## us-west-2b", "## us-west-2c"]
    memory_b = next(w for w in metrics if w["properties"]["title"] == "us-west-2b: Memory %")
    assert memory_b["properties"]["metrics"] == [["RedisCluster", "DatabaseMemoryUsagePercentage", "ClusterName",
                                                  "prod", "NodeId", "i-0000000000000b001", "AvailabilityZone",
                                                  "us-west-2b", {"label": "10.77.2.11"}]]
    by_role = next(w for w in metrics if w["properties"]["title"] == "Client connections, by role")
    assert [m[5] for m in by_role["properties"]["metrics"]] == ["master", "replica"]
    for widget in body["widgets"]:
        assert 0 <= widget["x"] and widget["x"] + widget["width"] <= 24


def described(alarm):
    """An alarm as cloudwatch_metric_alarm_info returns it (snake case, dimensions as a list)."""
    return {"alarm_name": alarm["name"], "metric_name": alarm["metric_name"], "namespace": alarm["namespace"],
            "statistic": alarm["statistic"], "comparison_operator": alarm["comparison"],
            "threshold": alarm["threshold"], "period": alarm["period"],
            "evaluation_periods": alarm["evaluation_periods"], "datapoints_to_alarm": alarm["datapoints_to_alarm"],
            "treat_missing_data": alarm["treat_missing_data"], "unit": alarm["unit"],
            "alarm_description": alarm["description"], "alarm_actions": list(alarm["alarm_actions"]),
            "ok_actions": list(alarm["ok_actions"]), "insufficient_data_actions": [],
            "dimensions": [{"name": k, "value": v} for k, v in reversed(list(alarm["dimensions"].items()))],
            "state_value": "ALARM"}


def test_unchanged_alarms_are_not_applied_again():
    desired = alarms()
    assert cw.alarms_to_apply(desired, [described(a) for a in desired]) == []
    assert cw.alarms_to_apply(desired, []) == desired


@pytest.mark.parametrize("field,value", [("threshold", 81.0), ("evaluation_periods", 9), ("unit", "Count"),
                                         ("alarm_actions", []), ("treat_missing_data", "missing"),
                                         ("dimensions", [{"name": "ClusterName", "value": "prod"}]),
                                         ("alarm_description", "old words")])
def test_an_alarm_differing_in_one_field_is_applied(field, value):
    desired = alarms()
    current = [described(a) for a in desired]
    current[0][field] = value
    assert [a["name"] for a in cw.alarms_to_apply(desired, current)] == [desired[0]["name"]]


class AlarmStore:
    """CloudWatch's alarms as put_metric_alarm stores them and describe_alarms
    returns them (CamelCase), listed in snake case as module cloudwatch_alarms does."""

    def __init__(self, alarms=()):
        self.alarms = {a["AlarmName"]: dict(a) for a in alarms}

    def listing(self, cluster):
        return [camel_dict_to_snake_dict(a) for n, a in sorted(self.alarms.items()) if n.startswith(cw.alarm_prefix(cluster))]

    def apply(self, plan):
        for alarm in plan["put"]:
            self.alarms[alarm["name"]] = cw.put_alarm_request(alarm)
        for name in plan["delete"]:
            del self.alarms[name]


node_sets = st.lists(st.sampled_from(NODES), unique_by=lambda n: n["instance_id"])
threshold_overrides = st.fixed_dictionaries({}, optional={
    "memory": st.fixed_dictionaries({"threshold": st.sampled_from([70, 80, 85.5])}),
    "cpu": st.fixed_dictionaries({"enabled": st.booleans()}),
    "node_down": st.fixed_dictionaries({"evaluation_periods": st.integers(1, 4)})})


@settings(derandomize=True, max_examples=80, deadline=None)
@given(node_sets, threshold_overrides, node_sets, threshold_overrides)
@example([], {}, NODES, {})
@example(NODES, {}, NODES[:1], {"cpu": {"enabled": False}})
def test_one_plan_makes_the_alarms_the_desired_ones_and_the_next_plan_is_empty(before, old, after, new):
    other = cw.put_alarm_request(dict(cw.desired_alarms("prod-2", "RedisCluster", NODES[:1], TOPIC)[0]))
    store = AlarmStore([other] + [cw.put_alarm_request(a) for a in cw.desired_alarms("prod", "RedisCluster", before,
                                                                                    TOPIC, overrides=old)])
    desired = cw.desired_alarms("prod", "RedisCluster", after, TOPIC, overrides=new)
    plan = cw.plan_alarms("prod", "RedisCluster", desired, store.listing("prod"))
    assert {a["name"] for a in plan["put"]} <= {a["name"] for a in desired}
    assert not set(plan["delete"]) & {a["name"] for a in desired}
    store.apply(plan)
    assert set(store.alarms) == {a["name"] for a in desired} | {other["AlarmName"]}
    assert store.alarms[other["AlarmName"]] == other
    assert cw.plan_alarms("prod", "RedisCluster", desired, store.listing("prod")) == {"put": [], "delete": []}


def test_the_put_request_carries_every_option():
    alarm = by_name(alarms())["redisops-prod-node-i-0000000000000a001-memory"]
    request = cw.put_alarm_request(alarm)
    assert request == {
        "AlarmName": alarm["name"], "MetricName": "DatabaseMemoryUsagePercentage", "Namespace": "RedisCluster",
        "Statistic": "Maximum", "ComparisonOperator": "GreaterThanThreshold", "Threshold": 80.0, "Period": 60,
        "EvaluationPeriods": 5, "DatapointsToAlarm": 5, "TreatMissingData": "notBreaching", "Unit": "Percent",
        "AlarmDescription": alarm["description"], "AlarmActions": [TOPIC], "OKActions": [TOPIC],
        "InsufficientDataActions": [], "ActionsEnabled": True,
        "Dimensions": [{"Name": "AvailabilityZone", "Value": "us-west-2a"}, {"Name": "ClusterName", "Value": "prod"},
                       {"Name": "NodeId", "Value": "i-0000000000000a001"}]}
    assert cw.current_alarm_options(camel_dict_to_snake_dict(request)) == alarm


@pytest.mark.parametrize("change, message", [
    (lambda a: a.pop("threshold"), "lacks threshold"),
    (lambda a: a.update(name="redisops-other-x"), "is named redisops-prod-"),
    (lambda a: a.update(metric_name=""), "lacks metric_name"),
])
def test_an_incomplete_or_foreign_alarm_is_refused_before_anything_changes(change, message):
    desired = alarms()
    change(desired[3])
    with pytest.raises(cw.MonitoringError, match=message):
        cw.plan_alarms("prod", "RedisCluster", desired, [])


def test_an_alarm_listed_twice_is_refused():
    desired = alarms()
    with pytest.raises(cw.MonitoringError, match="listed twice"):
        cw.plan_alarms("prod", "RedisCluster", desired + desired[:1], [])
