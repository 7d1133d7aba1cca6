# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster's alarms, dashboard and log groups as pure data
(docs/metrics.md), built on the controller from the inventory's nodes.

ALARMS is the registry of alarm specifications over the metrics of
redis_metrics.COLLECTORS: per node (dimensions ClusterName, NodeId,
AvailabilityZone, which survive a failover) or per cluster (ClusterName,
taking the Minimum or Maximum over what every node reports).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import redis_metrics as rm

ALARM_PREFIX = "redisops"
# CloudWatch Logs' accepted retention periods, in days.
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                  3288, 3653)
COMPARISONS = {"<": "LessThanThreshold", "<=": "LessThanOrEqualToThreshold", ">": "GreaterThanThreshold",
               ">=": "GreaterThanOrEqualToThreshold"}
MISSING_DATA = ("breaching", "notBreaching", "ignore", "missing")
_INSTANCE_ID = re.compile(r"^i-[0-9a-f]{8,17}$")


class MonitoringError(ValueError):
    """Bad input to the alarm, dashboard or log group builders."""


@dataclass(frozen=True)
class AlarmSpec:
    key: str  # settings key and part of the alarm name
    metric: str
    scope: str  # rm.NODE or rm.CLUSTER
    statistic: str
    comparison: str  # one of COMPARISONS
    threshold: float
    evaluation_periods: int
    missing_data: str
    summary: str  # what the alarm means, for its description


ALARMS = (
    AlarmSpec("node_down", "NodeUp", rm.NODE, "Minimum", "<", 1, 3, "breaching",
              "the node's Redis cannot be read, or its publisher or instance is gone (missing data)"),
    AlarmSpec("memory", "DatabaseMemoryUsagePercentage", rm.NODE, "Maximum", ">", 80, 5, "notBreaching",
              "memory use above the threshold, percent of maxmemory"),
    AlarmSpec("evictions", "Evictions", rm.NODE, "Sum", ">", 0, 1, "notBreaching", "keys evicted for maxmemory"),
    AlarmSpec("replication_lag", "ReplicationLag", rm.NODE, "Maximum", ">", 60, 3, "notBreaching",
              "replica behind its master by more than the threshold, seconds"),
    AlarmSpec("persistence_errors", "PersistenceErrors", rm.NODE, "Maximum", ">", 0, 1, "notBreaching",
              "an RDB save, AOF write or rewrite, or the last backup run failed"),
    AlarmSpec("cpu", "EngineCPUUtilization", rm.NODE, "Average", ">", 90, 5, "notBreaching",
              "Redis main thread busier than the threshold, percent of one core"),
    AlarmSpec("cluster_state", "ClusterStateOk", rm.CLUSTER, "Minimum", "<", 1, 2, "breaching",
              "a node sees cluster_state other than ok, or no node reports"),
    AlarmSpec("cluster_slots", "ClusterSlotsOk", rm.CLUSTER, "Minimum", "<", 1, 2, "breaching",
              "a node sees slots not served by a healthy master, or no node reports"),
    AlarmSpec("az_loss_safe", "AzLossSafe", rm.CLUSTER, "Minimum", "<", 1, 5, "breaching",
              "losing one AZ would now lose slots or the failover majority"),
    AlarmSpec("backup_age", "BackupAgeSeconds", rm.CLUSTER, "Minimum", ">", 26 * 3600, 1, "breaching",
              "the newest complete backup set is older than the threshold (seconds), or none is known"),
)
SETTING_KEYS = ("enabled", "threshold", "evaluation_periods", "statistic", "missing_data")


def alarm_spec(key: str) -> AlarmSpec:
    for spec in ALARMS:
        if spec.key == key:
            return spec
    raise MonitoringError("no alarm named %r (known: %s)" % (key, ", ".join(s.key for s in ALARMS)))


def alarm_prefix(cluster: str) -> str:
    return "%s-%s-" % (ALARM_PREFIX, cluster)


def check_nodes(nodes: Sequence[Mapping[str, str]]) -> List[Dict[str, str]]:
    """[{instance_id, availability_zone, address}] checked and sorted."""
    result, seen = [], set()
    for node in nodes:
        instance, zone = str(node.get("instance_id") or ""), str(node.get("availability_zone") or "")
        if not _INSTANCE_ID.match(instance):
            raise MonitoringError("node %r has no EC2 instance id (i-...)" % (node.get("address") or node,))
        if not zone:
            raise MonitoringError("node %s has no availability zone" % instance)
        if instance in seen:
            raise MonitoringError("instance %s is listed twice" % instance)
        seen.add(instance)
        result.append({"instance_id": instance, "availability_zone": zone, "address": str(node.get("address") or "")})
    return sorted(result, key=lambda n: (n["availability_zone"], n["address"], n["instance_id"]))


def _settings(overrides: Mapping[str, Mapping[str, object]]) -> Dict[str, Dict[str, object]]:
    settings = {}
    for key, values in (overrides or {}).items():
        alarm_spec(key)
        unknown = set(values or {}) - set(SETTING_KEYS)
        if unknown:
            raise MonitoringError("alarm %s: unknown settings %s (known: %s)"
                                  % (key, ", ".join(sorted(unknown)), ", ".join(SETTING_KEYS)))
        settings[key] = dict(values or {})
    return settings


def period_seconds(interval_seconds: int) -> int:
    """Alarm period: the publisher's interval rounded up to whole minutes,
    so every period holds one data point per node."""
    interval = int(interval_seconds)
    if interval < 10:
        raise MonitoringError("metrics interval must be at least 10 s, not %r" % (interval_seconds,))
    return max(60, -(-interval // 60) * 60)


def desired_alarms(cluster: str, namespace: str, nodes: Sequence[Mapping[str, str]], topic_arn: str,
                   interval_seconds: int = rm.DEFAULT_INTERVAL_SECONDS,
                   overrides: Optional[Mapping[str, Mapping[str, object]]] = None) -> List[dict]:
    """Every alarm of the cluster, as the options of module cloudwatch_alarms
    (amazon.aws.cloudwatch_metric_alarm's names)."""
    if not cluster or not namespace:
        raise MonitoringError("cluster name and namespace must not be empty")
    if not str(topic_arn).startswith("arn:"):
        raise MonitoringError("the alarm topic must be an SNS topic ARN, not %r" % (topic_arn,))
    settings = _settings(overrides or {})
    period = period_seconds(interval_seconds)
    checked = check_nodes(nodes)
    alarms = []
    for spec in ALARMS:
        setting = settings.get(spec.key, {})
        if not setting.get("enabled", True):
            continue
        missing = setting.get("missing_data", spec.missing_data)
        if missing not in MISSING_DATA:
            raise MonitoringError("alarm %s: missing_data must be one of %s" % (spec.key, ", ".join(MISSING_DATA)))
        periods = int(setting.get("evaluation_periods", spec.evaluation_periods))
        if periods < 1:
            raise MonitoringError("alarm %s: evaluation_periods must be at least 1" % spec.key)
        base = {
            "metric_name": spec.metric, "namespace": namespace, "statistic": setting.get("statistic", spec.statistic),
            "comparison": COMPARISONS[spec.comparison], "threshold": float(setting.get("threshold", spec.threshold)),
            "period": period, "evaluation_periods": periods, "datapoints_to_alarm": periods,
            "treat_missing_data": missing, "unit": rm.collector(spec.metric).unit,
            "alarm_actions": [topic_arn], "ok_actions": [topic_arn], "insufficient_data_actions": [],
        }
        what = "%s %s %s" % (spec.metric, spec.comparison, _number(base["threshold"]))
        if spec.scope == rm.CLUSTER:
            alarms.append(dict(base, name="%scluster-%s" % (alarm_prefix(cluster), spec.key.replace("_", "-")),
                               dimensions={"ClusterName": cluster},
                               description="Redis cluster %s: %s (%s)." % (cluster, spec.summary, what)))
            continue
        for node in checked:
            alarms.append(dict(
                base, name="%snode-%s-%s" % (alarm_prefix(cluster), node["instance_id"], spec.key.replace("_", "-")),
                dimensions={"ClusterName": cluster, "NodeId": node["instance_id"],
                            "AvailabilityZone": node["availability_zone"]},
                description="Redis cluster %s, node %s (%s, %s): %s (%s)." % (
                    cluster, node["instance_id"], node["address"] or "?", node["availability_zone"], spec.summary,
                    what)))
    return alarms


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def stale_alarms(cluster: str, namespace: str, existing: Sequence[Mapping[str, object]],
                 desired: Sequence[Mapping[str, object]]) -> List[str]:
    """Names of this cluster's alarms that are no longer desired (nodes that
    left, alarms turned off). existing: describe_alarms entries (snake or
    camel case). Only alarms with our name prefix, our namespace and this
    ClusterName dimension are candidates: another cluster whose name starts
    with ours keeps its alarms."""
    wanted = {a["name"] for a in desired}
    prefix = alarm_prefix(cluster)
    stale = []
    for alarm in existing:
        name = alarm.get("alarm_name") or alarm.get("AlarmName") or ""
        space = alarm.get("namespace") or alarm.get("Namespace")
        dims = alarm.get("dimensions") or alarm.get("Dimensions") or []
        clusters = {d.get("name", d.get("Name")): d.get("value", d.get("Value")) for d in dims}.get("ClusterName")
        if name.startswith(prefix) and space == namespace and clusters == cluster and name not in wanted:
            stale.append(name)
    return sorted(stale)


# ---------------------------------------------------------------- log groups


LOG_STREAMS = ("redis", "backup", "metrics", "system")


def log_group_name(cluster: str, stream: str) -> str:
    return "/redisops/%s/%s" % (cluster, stream)


def log_groups(cluster: str, retention_days: int) -> List[Dict[str, object]]:
    """The cluster's log groups (the nodes' agents write, the controller creates them)."""
    if int(retention_days) not in RETENTION_DAYS:
        raise MonitoringError("log retention must be one of CloudWatch's periods (%s days), not %r"
                              % (", ".join(str(d) for d in RETENTION_DAYS), retention_days))
    return [{"name": log_group_name(cluster, stream), "retention_days": int(retention_days)}
            for stream in LOG_STREAMS]


# ---------------------------------------------------------------- the dashboard


def _metric(namespace, name, dimensions, label=None, stat=None):
    line = [namespace, name]
    for key, value in dimensions:
        line += [key, value]
    options = {}
    if label:
        options["label"] = label
    if stat:
        options["stat"] = stat
    return line + ([options] if options else [])


def _widget(title, metrics, x, y, width, height, region, stat="Average", view="timeSeries", period=60,
            y_axis=None):
    properties = {"title": title, "metrics": metrics, "region": region, "stat": stat, "view": view,
                  "period": period}
    if view == "timeSeries":
        properties["stacked"] = False
    if y_axis:
        properties["yAxis"] = {"left": y_axis}
    return {"type": "metric", "x": x, "y": y, "width": width, "height": height, "properties": properties}


def dashboard_name(cluster: str) -> str:
    return "redisops-%s" % cluster


def dashboard_body(cluster: str, namespace: str, region: str, nodes: Sequence[Mapping[str, str]],
                   interval_seconds: int = rm.DEFAULT_INTERVAL_SECONDS) -> dict:
    """The cluster's dashboard: health first, then masters against replicas
    (the Role series follow failovers), then one row of per-node panels per
    AZ (the node series survive failovers)."""
    checked = check_nodes(nodes)
    period = period_seconds(interval_seconds)
    cluster_dims = [("ClusterName", cluster)]
    widgets = [{"type": "text", "x": 0, "y": 0, "width": 24, "height": 2, "properties": {"markdown": (
        "# Redis cluster %s\nNamespace `%s`, one data point per node every %d s. Health takes the worst node's "
        "view; masters and replicas follow failovers; the rows below are per AZ and per node (EC2 instance)."
        % (cluster, namespace, period))}}]
    health = [
        ("Cluster state ok (worst node)", "ClusterStateOk", "Minimum"),
        ("All slots ok (worst node)", "ClusterSlotsOk", "Minimum"),
        ("Survives losing an AZ", "AzLossSafe", "Minimum"),
        ("Nodes reporting up", "NodeUp", "Sum"),
    ]
    for index, (title, name, stat) in enumerate(health):
        widgets.append(_widget(title, [_metric(namespace, name, cluster_dims)], index * 4, 2, 4, 4, region,
                               stat=stat, view="singleValue", period=period))
    widgets.append(_widget("Newest complete backup set, age (s)",
                           [_metric(namespace, "BackupAgeSeconds", cluster_dims)], 16, 2, 8, 4, region,
                           stat="Minimum", period=period))
    by_role = [
        ("Memory, percent of maxmemory", "DatabaseMemoryUsagePercentage", "Maximum"),
        ("Client connections", "CurrConnections", "Sum"),
        ("Engine CPU, percent of one core", "EngineCPUUtilization", "Maximum"),
        ("Replication lag (s), replicas", "ReplicationLag", "Maximum"),
    ]
    for index, (title, name, stat) in enumerate(by_role):
        roles = ("replica",) if name == "ReplicationLag" else ("master", "replica")
        metrics = [_metric(namespace, name, cluster_dims + [("Role", role)], label=role + "s") for role in roles]
        widgets.append(_widget("%s, by role" % title, metrics, index * 6, 6, 6, 6, region, stat=stat, period=period))
    per_node = [
        ("Memory %", "DatabaseMemoryUsagePercentage", "Maximum"),
        ("Connections", "CurrConnections", "Maximum"),
        ("Replication lag (s)", "ReplicationLag", "Maximum"),
        ("Is master", "IsMaster", "Maximum"),
        ("Up", "NodeUp", "Minimum"),
        ("Engine CPU %", "EngineCPUUtilization", "Average"),
    ]
    y = 12
    for zone in sorted({n["availability_zone"] for n in checked}):
        members = [n for n in checked if n["availability_zone"] == zone]
        widgets.append({"type": "text", "x": 0, "y": y, "width": 24, "height": 1,
                        "properties": {"markdown": "## %s: %s" % (zone, ", ".join(
                            "%s (%s)" % (n["instance_id"], n["address"] or "?") for n in members))}})
        y += 1
        for index, (title, name, stat) in enumerate(per_node):
            metrics = [_metric(namespace, name, [("ClusterName", cluster), ("NodeId", n["instance_id"]),
                                                 ("AvailabilityZone", zone)], label=n["address"] or n["instance_id"])
                       for n in members]
            widgets.append(_widget("%s: %s" % (zone, title), metrics, (index % 6) * 4, y, 4, 5, region, stat=stat,
                                   period=period))
        y += 5
    return {"widgets": widgets}


# Alarm options -> describe_alarms fields (snake case, as module cloudwatch_alarms lists them).
_ALARM_FIELDS = (("metric_name", "metric_name"), ("namespace", "namespace"), ("statistic", "statistic"),
                 ("comparison", "comparison_operator"), ("threshold", "threshold"), ("period", "period"),
                 ("evaluation_periods", "evaluation_periods"), ("datapoints_to_alarm", "datapoints_to_alarm"),
                 ("treat_missing_data", "treat_missing_data"), ("unit", "unit"), ("description", "alarm_description"),
                 ("alarm_actions", "alarm_actions"), ("ok_actions", "ok_actions"),
                 ("insufficient_data_actions", "insufficient_data_actions"))


def alarm_matches(desired: Mapping[str, object], current: Mapping[str, object]) -> bool:
    """True when an existing alarm (snake-case describe entry) already has
    every option of the desired one."""
    for option, field in _ALARM_FIELDS:
        want, have = desired.get(option), current.get(field)
        if option == "threshold":
            if have is None or float(want) != float(have):
                return False
        elif option.endswith("actions"):
            if sorted(want or []) != sorted(have or []):
                return False
        elif want != have:
            return False
    dims = {d.get("name"): d.get("value") for d in current.get("dimensions") or []}
    return dims == dict(desired.get("dimensions") or {})


def alarms_to_apply(desired: Sequence[Mapping[str, object]], existing: Sequence[Mapping[str, object]]) -> List[dict]:
    """The desired alarms that are missing or differ: only these are put, so
    an unchanged cluster costs one listing instead of one call per alarm."""
    current = {a.get("alarm_name"): a for a in existing}
    return [dict(a) for a in desired if a["name"] not in current or not alarm_matches(a, current[a["name"]])]


# Alarm options -> put_metric_alarm parameters (Dimensions apart).
_PUT_PARAMETERS = (("name", "AlarmName"), ("metric_name", "MetricName"), ("namespace", "Namespace"),
                   ("statistic", "Statistic"), ("comparison", "ComparisonOperator"), ("threshold", "Threshold"),
                   ("period", "Period"), ("evaluation_periods", "EvaluationPeriods"),
                   ("datapoints_to_alarm", "DatapointsToAlarm"), ("treat_missing_data", "TreatMissingData"),
                   ("unit", "Unit"), ("description", "AlarmDescription"), ("alarm_actions", "AlarmActions"),
                   ("ok_actions", "OKActions"), ("insufficient_data_actions", "InsufficientDataActions"))
_REQUIRED_OPTIONS = ("name", "metric_name", "namespace", "statistic", "comparison", "threshold", "period",
                     "evaluation_periods")


def put_alarm_request(alarm: Mapping[str, object]) -> Dict[str, object]:
    """put_metric_alarm parameters of one desired alarm (desired_alarms() entry)."""
    missing = [option for option in _REQUIRED_OPTIONS if alarm.get(option) in (None, "")]
    if missing:
        raise MonitoringError("alarm %s lacks %s" % (alarm.get("name") or "?", ", ".join(missing)))
    request = {parameter: alarm[option] for option, parameter in _PUT_PARAMETERS if alarm.get(option) is not None}
    request["Threshold"] = float(request["Threshold"])
    request["Dimensions"] = [{"Name": k, "Value": v} for k, v in sorted(dict(alarm.get("dimensions") or {}).items())]
    request["ActionsEnabled"] = True
    return request


def current_alarm_options(current: Mapping[str, object]) -> Dict[str, object]:
    """An existing alarm (snake-case describe entry) in desired_alarms() terms, for diffs."""
    options = {option: current.get(field) for option, field in _ALARM_FIELDS}
    options["name"] = current.get("alarm_name")
    options["dimensions"] = {d.get("name"): d.get("value") for d in current.get("dimensions") or []}
    return options


def plan_alarms(cluster: str, namespace: str, desired: Sequence[Mapping[str, object]],
                existing: Sequence[Mapping[str, object]]) -> Dict[str, list]:
    """What makes the cluster's alarms the desired ones, from one listing:
    {"put": [desired alarms missing or different], "delete": [names of this
    cluster's alarms no longer desired]}. Both empty when nothing differs.
    existing: describe_alarms entries in snake case (alarm_name, ...)."""
    names = [a.get("name") for a in desired]
    if not all(isinstance(n, str) and n.startswith(alarm_prefix(cluster)) for n in names):
        raise MonitoringError("every alarm of cluster %s is named %s...: %s" % (
            cluster, alarm_prefix(cluster), ", ".join(sorted(str(n) for n in names
                                                             if not str(n).startswith(alarm_prefix(cluster))))))
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise MonitoringError("alarms listed twice: %s" % ", ".join(twice))
    for alarm in desired:
        put_alarm_request(alarm)  # complete before anything changes
    return {"put": alarms_to_apply(desired, existing), "delete": stale_alarms(cluster, namespace, existing, desired)}
