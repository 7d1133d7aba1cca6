"""The node_health module with fake node clients (no server): what it reads,
how it judges, how long it waits. Against real servers: tests/integration."""

import pytest

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import redis_connection, redis_nodes
from ansible_collections.redisops.ec2_cluster.plugins.modules import node_health

CLUSTER_OK = "cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\ncluster_known_nodes:2\r\n"
PERSISTENCE = "# Persistence\r\nloading:0\r\n"
MYSELF = ("a" * 40 + " 10.0.1.12:6379@16379 myself,slave " + "b" * 40 + " 0 0 1 connected\n"
          + "b" * 40 + " 10.0.1.11:6379@16379 master - 0 0 1 connected 0-16383\n")


def replica_info(link="up"):
    return "role:slave\r\nmaster_host:10.0.1.11\r\nmaster_port:6379\r\nmaster_link_status:%s\r\n" \
           "master_sync_in_progress:0\r\n" % link


MASTER_REPLICATION = ("role:master\r\nconnected_slaves:1\r\n"
                      "slave0:ip=10.0.1.12,port=6379,state=online,offset=%d,lag=0\r\nmaster_repl_offset:100\r\n")


class FakeNode:
    """Replies by command; an Exception value is raised."""

    nodes = {}
    opened = []

    def __init__(self, address, settings):
        self.address = address
        FakeNode.opened.append(address)
        self.replies = FakeNode.nodes[address]
        self.closed = False

    def text(self, *args):
        reply = self.replies[" ".join(args)]
        if isinstance(reply, Exception):
            raise reply
        return reply() if callable(reply) else reply

    def close(self):
        self.closed = True


@pytest.fixture
def nodes(monkeypatch):
    FakeNode.nodes = {}
    FakeNode.opened = []
    monkeypatch.setattr(redis_nodes, "NodeClient", FakeNode)
    return FakeNode.nodes


def params(**overrides):
    base = dict(login_host="127.0.0.1", login_port=6379, in_cluster=None, max_replica_lag_bytes=0, check_master=True,
                announce_ip=None, wait_timeout=0, poll_interval=1, fail_on_problems=True)
    base.update(overrides)
    return base


SETTINGS = redis_connection.ConnectionSettings()


def replica_node(link="up", offset=100):
    return {
        "127.0.0.1:6379": {"CLUSTER INFO": CLUSTER_OK, "INFO replication": replica_info(link),
                           "INFO persistence": PERSISTENCE, "CLUSTER NODES": MYSELF},
        "10.0.1.11:6379": {"INFO replication": MASTER_REPLICATION % offset},
    }


def test_a_caught_up_replica_is_healthy_and_reported(nodes):
    nodes.update(replica_node())
    reading = node_health.read_once(params(), SETTINGS)
    assert reading["problems"] == []
    assert reading == dict(reading, address="127.0.0.1:6379", answered=True, role="slave", in_cluster=True,
                           loading=False, cluster_state="ok", cluster_slots_assigned=16384, cluster_slots_ok=16384,
                           master_host="10.0.1.11", master_port=6379, master_link_status="up",
                           replica_state="online", replication_lag_bytes=0)
    assert FakeNode.opened == ["127.0.0.1:6379", "10.0.1.11:6379"]


def test_a_lagging_replica_names_its_lag_and_the_allowance_passes_it(nodes):
    nodes.update(replica_node(offset=40))
    reading = node_health.read_once(params(), SETTINGS)
    assert reading["problems"] == ["replica 10.0.1.12 is 60 bytes behind its master (allowed 0)"]
    assert reading["replication_lag_bytes"] == 60
    assert node_health.read_once(params(max_replica_lag_bytes=60), SETTINGS)["problems"] == []


def test_the_master_is_not_read_when_asked_not_to(nodes):
    nodes.update(replica_node(link="down"))
    reading = node_health.read_once(params(check_master=False), SETTINGS)
    assert reading["problems"] == ["replication link to the master is down"]
    assert FakeNode.opened == ["127.0.0.1:6379"]


def test_a_silent_master_is_a_problem(nodes):
    nodes.update(replica_node())
    nodes["10.0.1.11:6379"]["INFO replication"] = redis_connection.RedisError("Connection refused")
    reading = node_health.read_once(params(announce_ip="10.0.1.12"), SETTINGS)
    assert reading["problems"] == ["the master 10.0.1.11:6379 does not answer: RedisError: Connection refused"]


def test_a_silent_node_is_a_problem(nodes):
    nodes["127.0.0.1:6379"] = {"CLUSTER INFO": redis_connection.RedisError("Connection refused")}
    reading = node_health.read_once(params(), SETTINGS)
    assert reading["answered"] is False
    assert reading["problems"] == ["127.0.0.1:6379 does not answer: RedisError: Connection refused"]


def test_a_loading_node_outside_its_cluster_view(nodes):
    nodes["127.0.0.1:6379"] = {
        "CLUSTER INFO": redis_connection.RedisError("LOADING Redis is loading the dataset in memory"),
        "INFO replication": "role:master\r\n", "INFO persistence": "loading:1\r\n",
        "CLUSTER NODES": redis_connection.RedisError("LOADING"),
    }
    reading = node_health.read_once(params(in_cluster=True), SETTINGS)
    assert reading["loading"] is True and reading["in_cluster"] is True
    assert reading["problems"][0] == "still loading its data set"
    assert "cluster_state is unknown, not ok" in reading["problems"]


def test_a_standalone_master_only_needs_to_answer(nodes):
    nodes["127.0.0.1:6379"] = {
        "CLUSTER INFO": redis_connection.RedisError("ERR This instance has cluster support disabled"),
        "INFO replication": "role:master\r\n", "INFO persistence": PERSISTENCE, "CLUSTER NODES": "",
    }
    reading = node_health.read_once(params(), SETTINGS)
    assert reading["problems"] == [] and reading["in_cluster"] is False


class Clock:
    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_waiting_stops_as_soon_as_the_node_is_healthy(monkeypatch):
    readings = [["still loading its data set"], ["cluster_state is fail, not ok"], []]
    monkeypatch.setattr(node_health, "read_once", lambda p, s: {"problems": readings.pop(0)})
    clock = Clock()
    reading = node_health.wait_healthy(params(wait_timeout=30, poll_interval=2), SETTINGS, clock, clock.sleep)
    assert reading == {"problems": [], "waited_seconds": 4.0}
    assert clock.sleeps == [2.0, 2.0]


def test_waiting_is_bounded_and_reports_the_last_problems(monkeypatch):
    calls = []
    monkeypatch.setattr(node_health, "read_once", lambda p, s: calls.append(1) or {"problems": ["down"]})
    clock = Clock()
    reading = node_health.wait_healthy(params(wait_timeout=10, poll_interval=3), SETTINGS, clock, clock.sleep)
    assert reading["problems"] == ["down"] and reading["waited_seconds"] <= 10
    assert len(calls) == 4 and clock.sleeps == [3.0, 3.0, 3.0]


def test_no_wait_reads_once(monkeypatch):
    calls = []
    monkeypatch.setattr(node_health, "read_once", lambda p, s: calls.append(1) or {"problems": ["down"]})
    clock = Clock()
    assert node_health.wait_healthy(params(), SETTINGS, clock, clock.sleep)["waited_seconds"] == 0
    assert len(calls) == 1 and clock.sleeps == []
