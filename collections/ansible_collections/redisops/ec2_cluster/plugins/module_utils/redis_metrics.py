# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every metric the node publisher sends, as pure functions of what one run
saw (docs/metrics.md).

A run reads INFO, CLUSTER INFO and CLUSTER NODES from its own node (or
fails to: the node is down), the previous run's counters from the state
file, the backup catalog's newest complete set and the backup program's
state. Each metric is one Collector: a function of that RunView returning a
value, or None for "not published this run" (a replica-only metric on a
master, a rate without a previous sample). Adding a metric (PitrLagSeconds
with point-in-time recovery) is one more entry in COLLECTORS; its alarm is
one more entry in cloudwatch_monitoring.ALARMS.

Pure (no boto3, no redis-py): runs on the controller in tests and on the
nodes under Python 3.11.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.az_safety import Member, az_loss_safe
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.cluster_model import NodeEntry
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.redis_info import SLOT_COUNT, is_replica

DEFAULT_NAMESPACE = "RedisCluster"
DEFAULT_INTERVAL_SECONDS = 60

# Dimension sets. NODE survives a failover (the alarms hang on it); ROLE
# aggregates nodes by their current role for the dashboard; CLUSTER carries
# what every node sees of the whole cluster (alarms take the Minimum).
NODE = "node"
ROLE = "role"
CLUSTER = "cluster"
DIMENSION_SETS = (NODE, ROLE, CLUSTER)

# PutMetricData limits per request (API reference): 1000 metric data, 1 MB
# of HTTP POST body. The byte bound keeps headroom for the request's own
# parameters and for the query protocol's member prefixes.
MAX_DATA_PER_REQUEST = 1000
MAX_REQUEST_BYTES = 900_000

# States of the backup program (docs/node-programs.md, state.json) that are
# not failures; anything else (failed, or a status this code does not know)
# counts as one persistence error.
BACKUP_RUN_HEALTHY = ("success", "skipped")

# The previous sample is used for rates only when it is this many intervals
# old at most; an older one would smear hours into one data point.
PREVIOUS_MAX_INTERVALS = 3


# ---------------------------------------------------------------- what one run saw


@dataclass(frozen=True)
class NodeIdentity:
    """Who publishes: from node.json."""

    cluster_name: str
    instance_id: str
    availability_zone: str
    zones: Mapping[str, str] = field(default_factory=dict)  # "ip" or "ip:port" -> AZ


@dataclass(frozen=True)
class Sample:
    """One successful read of the node (time: epoch seconds, wall clock)."""

    time: float
    info: Mapping[str, object]
    cluster_info: Mapping[str, object]
    cluster_nodes: Sequence[NodeEntry] = ()


@dataclass(frozen=True)
class BackupView:
    """The backup facts this run knows.

    newest_complete_set_time: epoch seconds of the newest complete set's
    schedule slot (None: no complete set known, or never listed).
    program: the backup program's state.json ({} when absent).
    """

    newest_complete_set_time: Optional[float] = None
    program: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class RunView:
    identity: NodeIdentity
    now: float
    sample: Optional[Sample]  # None: the node could not be read
    previous: Optional[Mapping[str, object]]  # counters() of the previous run, already checked usable
    backup: BackupView = BackupView()


# ---------------------------------------------------------------- reading INFO values


def _float(mapping, key) -> Optional[float]:
    try:
        return float(mapping[key])
    except (KeyError, TypeError, ValueError):
        return None


def _engine_cpu_seconds(info) -> Optional[float]:
    """CPU seconds of the main thread (Redis >= 6.2, Valkey); the whole
    process on engines that do not report the main thread."""
    sys_main, user_main = _float(info, "used_cpu_sys_main_thread"), _float(info, "used_cpu_user_main_thread")
    if sys_main is not None and user_main is not None:
        return sys_main + user_main
    sys_all, user_all = _float(info, "used_cpu_sys"), _float(info, "used_cpu_user")
    if sys_all is not None and user_all is not None:
        return sys_all + user_all
    return None


def counters(sample: Sample) -> Dict[str, object]:
    """What the state file keeps of a sample for the next run's rates."""
    info = sample.info
    return {
        "time": sample.time,
        "run_id": info.get("run_id", ""),
        "engine_cpu_seconds": _engine_cpu_seconds(info),
        "evicted_keys": _float(info, "evicted_keys"),
        "keyspace_hits": _float(info, "keyspace_hits"),
        "keyspace_misses": _float(info, "keyspace_misses"),
        "master_repl_offset": _float(info, "master_repl_offset"),
    }


def usable_previous(previous, now, interval_seconds) -> Optional[Dict[str, object]]:
    """The previous run's counters if they can be the base of a rate now."""
    if not isinstance(previous, dict):
        return None
    try:
        age = now - float(previous["time"])
    except (KeyError, TypeError, ValueError):
        return None
    if age <= 0 or age > PREVIOUS_MAX_INTERVALS * max(int(interval_seconds), 1):
        return None
    return previous


def _counter_delta(view: RunView, key) -> Optional[float]:
    """Increase of an INFO counter since the previous run.

    After a restart (new run_id) or CONFIG RESETSTAT (counter went down) the
    counter started again from 0 within this interval, so its value is the
    increase."""
    if view.sample is None or view.previous is None:
        return None
    current = _float(view.sample.info, key)
    before = _float(view.previous, key)
    if current is None:
        return None
    if before is None or view.sample.info.get("run_id") != view.previous.get("run_id") or current < before:
        return current
    return current - before


def _is_master(view: RunView) -> bool:
    return view.sample is not None and view.sample.info.get("role") == "master"


def _is_replica(view: RunView) -> bool:
    return view.sample is not None and is_replica(view.sample.info)


def _link_up(info) -> bool:
    return info.get("master_link_status") == "up"


# ---------------------------------------------------------------- the metrics


def node_up(view: RunView) -> float:
    """1 when the publisher could read its node, else 0."""
    return 1.0 if view.sample is not None else 0.0


def engine_cpu_utilization(view: RunView) -> Optional[float]:
    """Percent of one core the main thread used since the previous run
    (ElastiCache's EngineCPUUtilization)."""
    if view.sample is None or view.previous is None:
        return None
    if view.sample.info.get("run_id") != view.previous.get("run_id"):
        return None
    now_cpu = _engine_cpu_seconds(view.sample.info)
    before_cpu = _float(view.previous, "engine_cpu_seconds")
    elapsed = view.sample.time - float(view.previous["time"])
    if now_cpu is None or before_cpu is None or elapsed <= 0 or now_cpu < before_cpu:
        return None
    return min(100.0, (now_cpu - before_cpu) / elapsed * 100.0)


def database_memory_usage_percentage(view: RunView) -> Optional[float]:
    """used_memory / maxmemory in percent; of the host's memory when
    maxmemory is 0 (no limit), which is what Redis can then grow to."""
    if view.sample is None:
        return None
    used = _float(view.sample.info, "used_memory")
    limit = _float(view.sample.info, "maxmemory") or _float(view.sample.info, "total_system_memory")
    if used is None or not limit:
        return None
    return used / limit * 100.0


def curr_connections(view: RunView) -> Optional[float]:
    """Client connections: connected_clients (which already leaves out
    replicas) without the publisher's own connection and, on a replica, its
    link to the master."""
    if view.sample is None:
        return None
    clients = _float(view.sample.info, "connected_clients")
    if clients is None:
        return None
    own = 1 + (1 if _is_replica(view) and _link_up(view.sample.info) else 0)
    return max(0.0, clients - own)


def evictions(view: RunView) -> Optional[float]:
    """Keys evicted for maxmemory since the previous run (evicted_keys)."""
    return _counter_delta(view, "evicted_keys")


def cache_hit_rate(view: RunView) -> Optional[float]:
    """hits / (hits + misses) of the lookups since the previous run, in
    percent; not published for an interval without lookups."""
    hits, misses = _counter_delta(view, "keyspace_hits"), _counter_delta(view, "keyspace_misses")
    if hits is None or misses is None or hits + misses <= 0:
        return None
    return hits / (hits + misses) * 100.0


def replication_lag(view: RunView) -> Optional[float]:
    """Replicas only: seconds since the replica last heard from its master
    (master_last_io_seconds_ago; the master pings every
    repl-ping-replica-period, 10 s by default, so an idle link reads up to
    that), or since the link went down (master_link_down_since_seconds;
    the whole uptime when it never came up)."""
    if not _is_replica(view):
        return None
    info = view.sample.info
    if _link_up(info):
        seconds = _float(info, "master_last_io_seconds_ago")
        return None if seconds is None or seconds < 0 else seconds
    seconds = _float(info, "master_link_down_since_seconds")
    if seconds is None or seconds < 0:
        seconds = _float(info, "uptime_in_seconds")
    return seconds


def replication_bytes(view: RunView) -> Optional[float]:
    """Masters only: bytes of replication stream the master produced since
    the previous run (the growth of master_repl_offset)."""
    if not _is_master(view) or view.previous is None:
        return None
    current = _float(view.sample.info, "master_repl_offset")
    before = _float(view.previous, "master_repl_offset")
    if current is None or before is None or current < before:
        return None
    return current - before


def is_master(view: RunView) -> Optional[float]:
    if view.sample is None:
        return None
    return 1.0 if _is_master(view) else 0.0


def master_link_health_status(view: RunView) -> Optional[float]:
    """Replicas only: 1 when the link to the master is up and no full sync
    is running, else 0."""
    if not _is_replica(view):
        return None
    info = view.sample.info
    return 1.0 if _link_up(info) and str(info.get("master_sync_in_progress", "0")) == "0" else 0.0


def save_in_progress(view: RunView) -> Optional[float]:
    """1 while an RDB background save runs (rdb_bgsave_in_progress)."""
    if view.sample is None:
        return None
    return 1.0 if str(view.sample.info.get("rdb_bgsave_in_progress", "0")) == "1" else 0.0


def persistence_problems(info, backup_program) -> List[str]:
    """What is failing in persistence, one short reason each."""
    problems = []
    if info.get("rdb_last_bgsave_status", "ok") != "ok":
        problems.append("last RDB background save failed")
    if str(info.get("aof_enabled", "0")) == "1":
        if info.get("aof_last_write_status", "ok") != "ok":
            problems.append("last AOF write failed")
        if info.get("aof_last_bgrewrite_status", "ok") != "ok":
            problems.append("last AOF rewrite failed")
    status = (backup_program or {}).get("last_run_status")
    if status is not None and status not in BACKUP_RUN_HEALTHY:
        problems.append("last backup run: %s" % status)
    return problems


def persistence_errors(view: RunView) -> Optional[float]:
    """Count of failing persistence paths: RDB saves, AOF writes, AOF
    rewrites and this node's last backup program run."""
    if view.sample is None:
        return None
    return float(len(persistence_problems(view.sample.info, view.backup.program)))


def cluster_state_ok(view: RunView) -> Optional[float]:
    """1 when this node sees cluster_state:ok (nothing when CLUSTER INFO
    could not be read: an ACL or a non-cluster node is not a failed cluster)."""
    if view.sample is None or not view.sample.cluster_info:
        return None
    return 1.0 if view.sample.cluster_info.get("cluster_state") == "ok" else 0.0


def cluster_slots_ok(view: RunView) -> Optional[float]:
    """1 when this node sees every slot served by a healthy master."""
    if view.sample is None or not view.sample.cluster_info:
        return None
    return 1.0 if _float(view.sample.cluster_info, "cluster_slots_ok") == SLOT_COUNT else 0.0


def zone_of(address: str, zones: Mapping[str, str]) -> str:
    """AZ of 'ip:port' from node.json's zones: keyed by IP (one node per
    IP, as on EC2) or by 'ip:port' where nodes share an IP; '' if unknown."""
    if address in zones:
        return zones[address]
    return zones.get(address.rsplit(":", 1)[0], "")


def members(entries: Sequence[NodeEntry], zones: Mapping[str, str]) -> List[Member]:
    """CLUSTER NODES entries as az_safety members (nodes without an address
    or still in handshake are not members yet)."""
    known = [e for e in entries if e.address and not e.in_handshake]
    address_of = {e.node_id: e.address for e in known}
    return [Member(address=e.address, zone=zone_of(e.address, zones), is_master=e.is_master,
                   master=address_of.get(e.master_id or ""),
                   slots=sum(last - first + 1 for first, last in e.slots), failed=e.is_failed)
            for e in known]


def az_loss_safe_metric(view: RunView) -> Optional[float]:
    """1 when losing any one AZ keeps every slot served and the failover
    majority (az_safety), as this node sees the cluster."""
    if view.sample is None or not view.sample.cluster_nodes:
        return None
    return 1.0 if az_loss_safe(members(view.sample.cluster_nodes, view.identity.zones)) else 0.0


def backup_age_seconds(view: RunView) -> Optional[float]:
    """Age of the newest complete backup set, from its schedule slot."""
    if view.backup.newest_complete_set_time is None:
        return None
    return max(0.0, view.now - view.backup.newest_complete_set_time)


# ---------------------------------------------------------------- the registry


@dataclass(frozen=True)
class Collector:
    name: str
    unit: str
    function: Callable[[RunView], Optional[float]]
    dimension_sets: Tuple[str, ...]
    description: str


COLLECTORS: Tuple[Collector, ...] = (
    Collector("NodeUp", "None", node_up, (NODE, CLUSTER),
              "1 when the publisher read its node, 0 when it could not; missing when the publisher itself is gone"),
    Collector("EngineCPUUtilization", "Percent", engine_cpu_utilization, (NODE, ROLE),
              "main thread CPU since the previous run, percent of one core"),
    Collector("DatabaseMemoryUsagePercentage", "Percent", database_memory_usage_percentage, (NODE, ROLE),
              "used_memory / maxmemory"),
    Collector("CurrConnections", "Count", curr_connections, (NODE, ROLE),
              "client connections, without replication links and the publisher"),
    Collector("Evictions", "Count", evictions, (NODE, ROLE), "keys evicted since the previous run"),
    Collector("CacheHitRate", "Percent", cache_hit_rate, (NODE, ROLE),
              "keyspace hits / lookups since the previous run"),
    Collector("ReplicationLag", "Seconds", replication_lag, (NODE, ROLE), "replicas: seconds behind the master link"),
    Collector("ReplicationBytes", "Bytes", replication_bytes, (NODE, ROLE),
              "masters: replication stream bytes since the previous run"),
    Collector("IsMaster", "None", is_master, (NODE,), "1 on a master, 0 on a replica"),
    Collector("MasterLinkHealthStatus", "None", master_link_health_status, (NODE, ROLE),
              "replicas: 1 when the link to the master is up and in sync"),
    Collector("SaveInProgress", "None", save_in_progress, (NODE, ROLE), "1 while an RDB background save runs"),
    Collector("PersistenceErrors", "Count", persistence_errors, (NODE, ROLE),
              "failing persistence paths (RDB, AOF write, AOF rewrite, last backup run)"),
    Collector("ClusterStateOk", "None", cluster_state_ok, (NODE, CLUSTER), "1 when the node sees cluster_state:ok"),
    Collector("ClusterSlotsOk", "None", cluster_slots_ok, (NODE, CLUSTER),
              "1 when the node sees all 16384 slots ok"),
    Collector("AzLossSafe", "None", az_loss_safe_metric, (CLUSTER,),
              "1 when losing any one AZ keeps every slot served and the failover majority"),
    Collector("BackupAgeSeconds", "Seconds", backup_age_seconds, (CLUSTER,),
              "age of the newest complete backup set"),
)


def collector(name: str) -> Collector:
    for item in COLLECTORS:
        if item.name == name:
            return item
    raise KeyError("no metric named %r" % (name,))


# ---------------------------------------------------------------- data for PutMetricData


def dimensions(identity: NodeIdentity, dimension_set: str, role: Optional[str] = None) -> List[Dict[str, str]]:
    if dimension_set == NODE:
        pairs = [("ClusterName", identity.cluster_name), ("NodeId", identity.instance_id),
                 ("AvailabilityZone", identity.availability_zone)]
    elif dimension_set == ROLE:
        pairs = [("ClusterName", identity.cluster_name), ("Role", role or "")]
    elif dimension_set == CLUSTER:
        pairs = [("ClusterName", identity.cluster_name)]
    else:
        raise ValueError("unknown dimension set %r" % (dimension_set,))
    return [{"Name": name, "Value": value} for name, value in pairs]


def role_of(view: RunView) -> Optional[str]:
    if view.sample is None:
        return None
    return "master" if _is_master(view) else "replica" if _is_replica(view) else None


def values(view: RunView, collectors: Sequence[Collector] = COLLECTORS) -> Dict[str, float]:
    """Metric name -> value for every metric published this run."""
    result = {}
    for item in collectors:
        value = item.function(view)
        if value is not None:
            result[item.name] = float(value)
    return result


def metric_data(view: RunView, collectors: Sequence[Collector] = COLLECTORS) -> List[dict]:
    """The MetricData entries of this run, one per metric and dimension set."""
    role = role_of(view)
    data = []
    for item in collectors:
        value = item.function(view)
        if value is None:
            continue
        for dimension_set in item.dimension_sets:
            if dimension_set == ROLE and role is None:
                continue
            data.append({"MetricName": item.name, "Dimensions": dimensions(view.identity, dimension_set, role),
                         "Timestamp": view.now, "Value": float(value), "Unit": item.unit,
                         "StorageResolution": 60})
    return data


def _encoded_size(datum: dict) -> int:
    """Upper estimate of a datum's bytes in a query-protocol request body."""
    member = "MetricData.member.1000."
    size = 0
    for key, value in datum.items():
        if key == "Dimensions":
            for dimension in value:
                size += 2 * (len(member) + len("Dimensions.member.30.Name=&")) + len(json.dumps(dimension)) * 3
        else:
            size += len(member) + len(key) + 2 + len(str(value)) * 3
    return size


def batches(data: Sequence[dict], max_count: int = MAX_DATA_PER_REQUEST,
            max_bytes: int = MAX_REQUEST_BYTES) -> List[List[dict]]:
    """Split MetricData into requests within the API's per-request limits."""
    result: List[List[dict]] = []
    current: List[dict] = []
    size = 0
    for datum in data:
        datum_size = _encoded_size(datum)
        if current and (len(current) >= max_count or size + datum_size > max_bytes):
            result.append(current)
            current, size = [], 0
        current.append(datum)
        size += datum_size
    if current:
        result.append(current)
    return result


def expected_metrics(role: Optional[str], has_previous: bool, had_lookups: bool = True,
                     has_backup: bool = True) -> List[str]:
    """Names a node publishes in a run (for tests and docs): role None for a
    node that could not be read."""
    if role is None:
        return ["NodeUp"] + (["BackupAgeSeconds"] if has_backup else [])
    names = ["NodeUp", "DatabaseMemoryUsagePercentage", "CurrConnections", "IsMaster", "SaveInProgress",
             "PersistenceErrors", "ClusterStateOk", "ClusterSlotsOk", "AzLossSafe"]
    if has_previous:
        names += ["EngineCPUUtilization", "Evictions"] + (["CacheHitRate"] if had_lookups else [])
        if role == "master":
            names.append("ReplicationBytes")
    if role == "replica":
        names += ["ReplicationLag", "MasterLinkHealthStatus"]
    if has_backup:
        names.append("BackupAgeSeconds")
    return sorted(names)
