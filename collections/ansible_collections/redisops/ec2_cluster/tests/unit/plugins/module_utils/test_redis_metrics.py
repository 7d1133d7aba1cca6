"""Every derived metric of the node publisher, one by one, from INFO text."""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import redis_metrics as rm
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.cluster_model import parse_cluster_nodes
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.redis_info import parse_info

IDENTITY = rm.NodeIdentity("sandbox", "i-0aaa", "us-west-2a",
                           zones={"10.0.1.1": "a", "10.0.2.1": "b", "10.0.3.1": "c",
                                  "10.0.1.2": "a", "10.0.2.2": "b", "10.0.3.2": "c"})

MASTER_INFO = """# Server
redis_version:7.0.15
run_id:r1
uptime_in_seconds:1000
# Clients
connected_clients:4
# Memory
used_memory:250000000
maxmemory:1000000000
total_system_memory:4000000000
# Persistence
rdb_bgsave_in_progress:0
rdb_last_bgsave_status:ok
aof_enabled:1
aof_last_bgrewrite_status:ok
aof_last_write_status:ok
# Stats
evicted_keys:10
keyspace_hits:900
keyspace_misses:100
# Replication
role:master
connected_slaves:1
slave0:ip=10.0.2.2,port=6379,state=online,offset=5000,lag=0
master_replid:abc
master_repl_offset:5000
# CPU
used_cpu_sys:10.0
used_cpu_user:20.0
used_cpu_sys_main_thread:4.0
used_cpu_user_main_thread:6.0
"""

REPLICA_INFO = """run_id:r2
uptime_in_seconds:500
connected_clients:2
used_memory:100
maxmemory:1000
rdb_bgsave_in_progress:1
rdb_last_bgsave_status:ok
aof_enabled:0
evicted_keys:0
keyspace_hits:0
keyspace_misses:0
role:slave
master_host:10.0.1.1
master_port:6379
master_link_status:up
master_last_io_seconds_ago:3
master_sync_in_progress:0
master_repl_offset:5000
used_cpu_sys_main_thread:1.0
used_cpu_user_main_thread:1.0
"""

NODES = """m1 10.0.1.1:6379@16379 myself,master - 0 0 1 connected 0-5460
m2 10.0.2.1:6379@16379 master - 0 0 2 connected 5461-10922
m3 10.0.3.1:6379@16379 master - 0 0 3 connected 10923-16383
r1 10.0.2.2:6379@16379 slave m1 0 0 1 connected
r2 10.0.3.2:6379@16379 slave m2 0 0 2 connected
r3 10.0.1.2:6379@16379 slave m3 0 0 3 connected
"""

CLUSTER_OK = "cluster_state:ok\ncluster_slots_assigned:16384\ncluster_slots_ok:16384\n"


def sample(info=MASTER_INFO, cluster=CLUSTER_OK, nodes=NODES, time=1000.0, **overrides):
    parsed = parse_info(info)
    parsed.update({k: str(v) for k, v in overrides.items()})
    return rm.Sample(time=time, info=parsed, cluster_info=parse_info(cluster), cluster_nodes=parse_cluster_nodes(nodes))


def view(current=None, previous=None, now=None, backup=rm.BackupView(), identity=IDENTITY):
    now = now if now is not None else (current.time if current else 1000.0)
    return rm.RunView(identity=identity, now=now, sample=current,
                      previous=rm.counters(previous) if previous else None, backup=backup)


# ---------------------------------------------------------------- NodeUp and the down node


def test_node_up_is_one_when_read_and_zero_when_not():
    assert rm.node_up(view(sample())) == 1.0
    assert rm.node_up(view(None)) == 0.0


def test_a_down_node_publishes_node_up_and_what_it_knows_without_redis():
    down = view(None, now=5000.0, backup=rm.BackupView(newest_complete_set_time=1400.0))
    assert rm.values(down) == {"NodeUp": 0.0, "BackupAgeSeconds": 3600.0}
    data = rm.metric_data(down)
    assert {(d["MetricName"], tuple(x["Name"] for x in d["Dimensions"])) for d in data} == {
        ("NodeUp", ("ClusterName", "NodeId", "AvailabilityZone")),
        ("NodeUp", ("ClusterName",)),
        ("BackupAgeSeconds", ("ClusterName",)),
    }
    assert rm.role_of(down) is None


# ---------------------------------------------------------------- EngineCPUUtilization


def test_engine_cpu_is_main_thread_cpu_over_wall_time():
    before = sample(time=1000.0)
    after = sample(time=1060.0, used_cpu_sys_main_thread=7.0, used_cpu_user_main_thread=9.0)  # +6 s of CPU
    assert rm.engine_cpu_utilization(view(after, before)) == pytest.approx(10.0)


def test_engine_cpu_falls_back_to_process_cpu_without_main_thread_fields():
    info = "\n".join(line for line in MASTER_INFO.splitlines() if "main_thread" not in line)
    before = sample(info, time=0.0)
    after = sample(info, time=100.0, used_cpu_sys=20.0, used_cpu_user=30.0)  # +20 s
    assert rm.engine_cpu_utilization(view(after, before)) == pytest.approx(20.0)


def test_engine_cpu_needs_a_previous_sample_of_the_same_process():
    assert rm.engine_cpu_utilization(view(sample())) is None
    restarted = sample(time=1060.0, run_id="other")
    assert rm.engine_cpu_utilization(view(restarted, sample(time=1000.0))) is None


def test_engine_cpu_is_capped_at_one_core():
    after = sample(time=1001.0, used_cpu_user_main_thread=60.0)
    assert rm.engine_cpu_utilization(view(after, sample(time=1000.0))) == 100.0


# ---------------------------------------------------------------- memory, connections


def test_memory_percentage_is_of_maxmemory():
    assert rm.database_memory_usage_percentage(view(sample())) == pytest.approx(25.0)


def test_memory_percentage_without_maxmemory_is_of_the_host():
    assert rm.database_memory_usage_percentage(view(sample(maxmemory=0))) == pytest.approx(6.25)


def test_memory_percentage_unknown_without_any_limit():
    assert rm.database_memory_usage_percentage(view(sample(maxmemory=0, total_system_memory=0))) is None


def test_connections_leave_out_the_publisher_on_a_master():
    # connected_clients already leaves out replicas (Redis counts them apart).
    assert rm.curr_connections(view(sample())) == 3.0


def test_connections_leave_out_the_master_link_on_a_replica():
    assert rm.curr_connections(view(sample(REPLICA_INFO))) == 0.0
    down = sample(REPLICA_INFO, master_link_status="down", connected_clients=1)
    assert rm.curr_connections(view(down)) == 0.0


# ---------------------------------------------------------------- counters since the previous run


def test_evictions_are_the_increase_since_the_previous_run():
    assert rm.evictions(view(sample(time=1060.0, evicted_keys=25), sample())) == 15.0
    assert rm.evictions(view(sample())) is None


def test_counters_after_a_restart_or_resetstat_count_from_zero():
    restarted = sample(time=1060.0, run_id="r9", evicted_keys=3)
    assert rm.evictions(view(restarted, sample())) == 3.0
    reset = sample(time=1060.0, evicted_keys=2)
    assert rm.evictions(view(reset, sample())) == 2.0


def test_cache_hit_rate_is_hits_over_lookups_in_the_interval():
    after = sample(time=1060.0, keyspace_hits=1200, keyspace_misses=200)  # +300 hits, +100 misses
    assert rm.cache_hit_rate(view(after, sample())) == pytest.approx(75.0)


def test_cache_hit_rate_not_published_without_lookups():
    assert rm.cache_hit_rate(view(sample(time=1060.0), sample())) is None


@settings(derandomize=True, max_examples=200)
@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 10**6))
@example(0, 0, 5, 0)
def test_cache_hit_rate_stays_a_percentage(hits_before, misses_before, hits_added, misses_added):
    before = sample(keyspace_hits=hits_before, keyspace_misses=misses_before)
    after = sample(time=1060.0, keyspace_hits=hits_before + hits_added, keyspace_misses=misses_before + misses_added)
    rate = rm.cache_hit_rate(view(after, before))
    if hits_added + misses_added == 0:
        assert rate is None
    else:
        assert 0.0 <= rate <= 100.0
        assert rate == pytest.approx(100.0 * hits_added / (hits_added + misses_added))


def test_replication_bytes_is_offset_growth_on_a_master_only():
    assert rm.replication_bytes(view(sample(time=1060.0, master_repl_offset=9000), sample())) == 4000.0
    assert rm.replication_bytes(view(sample(REPLICA_INFO, time=1060.0), sample(REPLICA_INFO))) is None
    assert rm.replication_bytes(view(sample())) is None


# ---------------------------------------------------------------- replication


def test_replication_lag_on_a_replica_with_the_link_up():
    assert rm.replication_lag(view(sample(REPLICA_INFO))) == 3.0


def test_replication_lag_counts_from_the_link_going_down():
    down = sample(REPLICA_INFO, master_link_status="down", master_link_down_since_seconds=75)
    assert rm.replication_lag(view(down)) == 75.0
    never = sample(REPLICA_INFO, master_link_status="down", master_link_down_since_seconds=-1)
    assert rm.replication_lag(view(never)) == 500.0  # the whole uptime


def test_replica_only_metrics_are_not_published_by_masters():
    master = view(sample())
    assert rm.replication_lag(master) is None
    assert rm.master_link_health_status(master) is None


def test_master_link_health():
    assert rm.master_link_health_status(view(sample(REPLICA_INFO))) == 1.0
    assert rm.master_link_health_status(view(sample(REPLICA_INFO, master_sync_in_progress=1))) == 0.0
    assert rm.master_link_health_status(view(sample(REPLICA_INFO, master_link_status="down"))) == 0.0


def test_is_master_follows_the_role():
    assert rm.is_master(view(sample())) == 1.0
    assert rm.is_master(view(sample(REPLICA_INFO))) == 0.0
    assert rm.is_master(view(None)) is None


def test_save_in_progress():
    assert rm.save_in_progress(view(sample())) == 0.0
    assert rm.save_in_progress(view(sample(REPLICA_INFO))) == 1.0


# ---------------------------------------------------------------- persistence and backups


def test_persistence_errors_count_each_failing_path():
    assert rm.persistence_errors(view(sample())) == 0.0
    bad = sample(rdb_last_bgsave_status="err", aof_last_write_status="err", aof_last_bgrewrite_status="err")
    assert rm.persistence_errors(view(bad)) == 3.0


def test_aof_status_ignored_when_aof_is_off():
    off = sample(aof_enabled=0, aof_last_write_status="err")
    assert rm.persistence_errors(view(off)) == 0.0


@pytest.mark.parametrize("status,errors", [("success", 0), ("skipped", 0), ("failed", 1), ("weird", 1), (None, 0)])
def test_the_backup_programs_last_run_counts_as_a_persistence_error(status, errors):
    program = {} if status is None else {"last_run_status": status}
    assert rm.persistence_errors(view(sample(), backup=rm.BackupView(program=program))) == errors


def test_backup_age_from_the_newest_complete_set():
    assert rm.backup_age_seconds(view(sample(), now=100000.0,
                                      backup=rm.BackupView(newest_complete_set_time=10000.0))) == 90000.0
    assert rm.backup_age_seconds(view(sample())) is None


# ---------------------------------------------------------------- cluster health


def test_cluster_state_and_slots():
    assert rm.cluster_state_ok(view(sample())) == 1.0
    assert rm.cluster_slots_ok(view(sample())) == 1.0
    failing = sample(cluster="cluster_state:fail\ncluster_slots_ok:10923\n")
    assert rm.cluster_state_ok(view(failing)) == 0.0
    assert rm.cluster_slots_ok(view(failing)) == 0.0
    assert rm.cluster_state_ok(view(None)) is None


def test_no_cluster_verdict_without_cluster_info():
    unread = sample(cluster="", nodes="")
    assert rm.cluster_state_ok(view(unread)) is None
    assert rm.cluster_slots_ok(view(unread)) is None
    assert rm.az_loss_safe_metric(view(unread)) is None


def test_az_loss_safe_with_masters_and_replicas_spread():
    assert rm.az_loss_safe_metric(view(sample())) == 1.0


def test_az_loss_unsafe_when_a_shard_lives_in_one_az():
    nodes = NODES.replace("r1 10.0.2.2", "r1 10.0.1.3")  # m1's replica moved to m1's AZ
    identity = rm.NodeIdentity("sandbox", "i-0aaa", "a", zones=dict(IDENTITY.zones, **{"10.0.1.3": "a"}))
    assert rm.az_loss_safe_metric(view(sample(nodes=nodes), identity=identity)) == 0.0


def test_az_loss_unsafe_when_one_az_holds_the_master_majority():
    nodes = NODES.replace("m2 10.0.2.1", "m2 10.0.1.4")
    identity = rm.NodeIdentity("sandbox", "i-0aaa", "a", zones=dict(IDENTITY.zones, **{"10.0.1.4": "a"}))
    assert rm.az_loss_safe_metric(view(sample(nodes=nodes), identity=identity)) == 0.0


def test_zones_by_ip_or_by_ip_and_port():
    assert rm.zone_of("10.0.1.1:6379", {"10.0.1.1": "a"}) == "a"
    assert rm.zone_of("127.0.0.1:7601", {"127.0.0.1:7601": "b", "127.0.0.1": "x"}) == "b"
    assert rm.zone_of("10.9.9.9:6379", {}) == ""


def test_members_resolve_masters_and_skip_handshakes():
    nodes = NODES + "h1 :0@0 handshake,noaddr - 0 0 0 disconnected\n"
    result = rm.members(parse_cluster_nodes(nodes), IDENTITY.zones)
    assert len(result) == 6
    replica = next(m for m in result if m.address == "10.0.2.2:6379")
    assert replica.master == "10.0.1.1:6379" and replica.zone == "b" and not replica.is_master
    assert next(m for m in result if m.address == "10.0.1.1:6379").slots == 5461


# ---------------------------------------------------------------- dimensions, registry, batching


def test_every_datum_has_the_dimensions_of_its_set():
    data = rm.metric_data(view(sample(time=1060.0, keyspace_hits=1000), sample()))
    by_set = {}
    for datum in data:
        key = tuple(d["Name"] for d in datum["Dimensions"])
        by_set.setdefault(key, set()).add(datum["MetricName"])
        assert datum["Unit"] == rm.collector(datum["MetricName"]).unit
        assert datum["StorageResolution"] == 60 and datum["Timestamp"] == 1060.0
    assert by_set[("ClusterName", "NodeId", "AvailabilityZone")] == set(
        rm.expected_metrics("master", has_previous=True)) - {"AzLossSafe", "BackupAgeSeconds"} - {"BackupAgeSeconds"}
    assert by_set[("ClusterName", "Role")] == by_set[("ClusterName", "NodeId", "AvailabilityZone")] - {
        "NodeUp", "IsMaster", "ClusterStateOk", "ClusterSlotsOk"}
    assert by_set[("ClusterName",)] == {"NodeUp", "ClusterStateOk", "ClusterSlotsOk", "AzLossSafe"}
    role = [d for d in data if d["Dimensions"][-1]["Name"] == "Role"]
    assert {d["Dimensions"][-1]["Value"] for d in role} == {"master"}


@pytest.mark.parametrize("role,info", [("master", MASTER_INFO), ("replica", REPLICA_INFO)])
def test_expected_metrics_match_what_is_published(role, info):
    before = sample(info)
    after = sample(info, time=1060.0, keyspace_hits=5)
    published = rm.values(view(after, before, backup=rm.BackupView(newest_complete_set_time=1.0)))
    assert sorted(published) == rm.expected_metrics(role, has_previous=True)
    first = rm.values(view(before, backup=rm.BackupView(newest_complete_set_time=1.0)))
    assert sorted(first) == rm.expected_metrics(role, has_previous=False)


def test_registry_names_are_unique_and_documented():
    names = [c.name for c in rm.COLLECTORS]
    assert len(names) == len(set(names))
    assert all(c.description and set(c.dimension_sets) <= set(rm.DIMENSION_SETS) for c in rm.COLLECTORS)
    with pytest.raises(KeyError):
        rm.collector("Nope")


def test_previous_sample_usable_only_when_recent():
    prev = rm.counters(sample(time=1000.0))
    assert rm.usable_previous(prev, 1060.0, 60) == prev
    assert rm.usable_previous(prev, 1000.0 + 181, 60) is None
    assert rm.usable_previous(prev, 999.0, 60) is None
    assert rm.usable_previous({"time": "x"}, 1060.0, 60) is None
    assert rm.usable_previous(None, 1060.0, 60) is None


def test_batches_respect_the_count_limit():
    data = [{"MetricName": "M%d" % i, "Dimensions": [{"Name": "A", "Value": "b"}], "Timestamp": 1.0,
             "Value": 1.0, "Unit": "None"} for i in range(2500)]
    split = rm.batches(data)
    assert [len(b) for b in split] == [1000, 1000, 500]
    assert [d for b in split for d in b] == data


def test_batches_respect_the_size_limit():
    big = {"MetricName": "M", "Dimensions": [{"Name": "N%d" % i, "Value": "v" * 1000} for i in range(30)],
           "Timestamp": 1.0, "Value": 1.0, "Unit": "None"}
    split = rm.batches([big] * 20, max_bytes=200_000)
    assert len(split) > 1
    assert all(sum(rm._encoded_size(d) for d in b) <= 200_000 for b in split)
    assert rm.batches([]) == []
