"""What keeps a node from counting as healthy."""

import pytest

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import health_gate as hg
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.redis_info import parse_info

HEALTHY = {
    "cluster_state": "ok",
    "cluster_slots_assigned": "16384",
    "cluster_slots_ok": "16384",
    "role": "slave",
    "master_link_status": "up",
    "master_sync_in_progress": "0",
    "loading": "0",
}

MASTER_INFO = """# Replication\r
role:master\r
connected_slaves:2\r
slave0:ip=10.0.1.6,port=6379,state=online,offset=100,lag=0\r
slave1:ip=10.0.1.7,port=6380,state=online,offset=90,lag=1\r
master_repl_offset:100\r
"""


def test_a_healthy_node_has_no_problems():
    assert hg.node_problems(HEALTHY) == []
    assert hg.node_problems(dict(HEALTHY, role="master")) == []


@pytest.mark.parametrize(
    "change,fragment",
    [
        ({"cluster_state": "fail"}, "cluster_state is fail"),
        ({"cluster_slots_ok": "16000"}, "cluster_slots_ok is 16000"),
        ({"cluster_slots_assigned": "5461"}, "cluster_slots_assigned is 5461"),
        ({"master_link_status": "down"}, "replication link to the master is down"),
        ({"master_sync_in_progress": "1"}, "full sync"),
        ({"loading": "1"}, "loading"),
        ({"role": "replica", "master_link_status": "down"}, "replication link to the master is down"),
    ],
)
def test_problems_name_what_is_unhealthy(change, fragment):
    problems = hg.node_problems({**HEALTHY, **change})
    assert len(problems) == 1 and fragment in problems[0], problems


def test_a_node_without_cluster_fields_in_a_cluster_has_every_cluster_problem():
    problems = hg.node_problems({"role": "master", "loading": "0"})
    assert problems == ["cluster_state is unknown, not ok", "cluster_slots_assigned is 0, not 16384",
                        "cluster_slots_ok is 0, not 16384"]


def test_outside_a_cluster_only_an_answer_and_loaded_data_count():
    assert hg.node_problems({"role": "master", "loading": "0", "cluster_state": "fail"}, in_cluster=False) == []
    assert hg.node_problems({"role": "master", "loading": "1"}, in_cluster=False) == ["still loading its data set"]
    assert hg.node_problems({}, in_cluster=False) == ["the node did not answer"]


def test_replica_as_seen_by_master_matches_ip_and_port():
    info = parse_info(MASTER_INFO)
    assert hg.replica_as_seen_by_master(info, "10.0.1.7")["lag_bytes"] == 10
    assert hg.replica_as_seen_by_master(info, "10.0.1.7", 6380)["port"] == "6380"
    assert hg.replica_as_seen_by_master(info, "10.0.1.7", 6379) is None
    assert hg.replica_as_seen_by_master(info, "10.0.1.9") is None


def test_replica_sync_compares_offsets_as_the_master_sees_them():
    info = parse_info(MASTER_INFO)
    assert hg.replica_sync_problems(info, "10.0.1.6") == []
    assert hg.replica_sync_problems(info, "10.0.1.7") == ["replica 10.0.1.7 is 10 bytes behind its master (allowed 0)"]
    assert hg.replica_sync_problems(info, "10.0.1.7", max_lag_bytes=10) == []
    assert hg.replica_sync_problems(info, "10.0.1.9") == ["the master does not list replica 10.0.1.9"]
    assert hg.replica_sync_problems(info, "10.0.1.6", replica_port=7000) == [
        "the master does not list replica 10.0.1.6:7000"]


def test_replica_not_online_is_a_problem():
    info = parse_info(MASTER_INFO.replace("state=online,offset=100", "state=wait_bgsave,offset=100"))
    assert hg.replica_sync_problems(info, "10.0.1.6") == ["the master sees replica 10.0.1.6 in state wait_bgsave"]
