"""The node_failover module with fake node clients (no server). The real
failover runs against redis-server in tests/integration."""

import pytest

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import redis_connection, redis_nodes
from ansible_collections.redisops.ec2_cluster.plugins.modules import node_failover

CLUSTER = "cluster_state:ok\r\ncluster_known_nodes:3\r\n"
MASTER = ("role:master\r\nconnected_slaves:2\r\nslave0:ip=10.0.1.12,port=6379,state=online,offset=90,lag=0\r\n"
          "slave1:ip=10.0.1.13,port=6379,state=online,offset=100,lag=0\r\nmaster_repl_offset:100\r\n")


class FakeNode:
    roles = {}
    commands = []

    def __init__(self, address, settings):
        self.address = address

    def text(self, *args):
        if args == ("CLUSTER", "INFO"):
            return CLUSTER
        if args == ("INFO", "persistence"):
            return "loading:0\r\n"
        role = FakeNode.roles[self.address]
        if isinstance(role, Exception):
            raise role
        return MASTER if role == "master" else "role:%s\r\n" % role

    def ok(self, *args):
        FakeNode.commands.append((self.address,) + args)
        if FakeNode.obedient:
            FakeNode.roles[self.address] = "master"
            FakeNode.roles["127.0.0.1:6379"] = "slave"

    def close(self):
        pass


class FakeModule:
    def __init__(self, check_mode=False, **overrides):
        self.params = dict(login_host="127.0.0.1", login_port=6379, max_replica_lag_bytes=0,
                           allow_unreplicated_master=False, wait_timeout=5, poll_interval=1)
        self.params.update(overrides)
        self.check_mode = check_mode
        self.warnings = []

    def fail_json(self, **kwargs):
        self.failed = kwargs
        raise SystemExit(1)

    def warn(self, text):
        self.warnings.append(text)


@pytest.fixture(autouse=True)
def fake_nodes(monkeypatch):
    FakeNode.roles = {"127.0.0.1:6379": "master", "10.0.1.12:6379": "slave", "10.0.1.13:6379": "slave"}
    FakeNode.commands = []
    FakeNode.obedient = True
    monkeypatch.setattr(redis_nodes, "NodeClient", FakeNode)
    monkeypatch.setattr(node_failover.time, "sleep", lambda seconds: None)


SETTINGS = redis_connection.ConnectionSettings()


def test_hands_over_to_the_most_caught_up_replica():
    result = node_failover.run(FakeModule(), SETTINGS)
    assert result == dict(changed=True, address="127.0.0.1:6379", role_before="master", in_cluster=True,
                          failover_to="10.0.1.13:6379", role_after="slave")
    assert FakeNode.commands == [("10.0.1.13:6379", "CLUSTER", "FAILOVER")]


def test_check_mode_names_the_replica_and_asks_nothing():
    result = node_failover.run(FakeModule(check_mode=True), SETTINGS)
    assert result["changed"] is True and result["failover_to"] == "10.0.1.13:6379" and result["role_after"] == "master"
    assert FakeNode.commands == []


@pytest.mark.parametrize("role", ["slave", "replica"])
def test_a_replica_has_nothing_to_hand_over(role):
    FakeNode.roles["127.0.0.1:6379"] = role
    result = node_failover.run(FakeModule(), SETTINGS)
    assert result["changed"] is False and result["failover_to"] is None and FakeNode.commands == []


def test_a_master_without_a_healthy_replica_is_refused_unless_allowed():
    module = FakeModule(max_replica_lag_bytes=0)
    global MASTER
    original = MASTER
    MASTER = MASTER.replace("state=online", "state=wait_bgsave")
    try:
        with pytest.raises(SystemExit):
            node_failover.run(module, SETTINGS)
        assert "is a cluster master without an online replica at most 0 bytes behind (connected_slaves=2)" in \
            module.failed["msg"]
        assert "Nothing was changed" in module.failed["msg"] and module.failed["changed"] is False
        allowed = FakeModule(allow_unreplicated_master=True)
        assert node_failover.run(allowed, SETTINGS)["changed"] is False
        assert "allowed by allow_unreplicated_master" in allowed.warnings[0]
    finally:
        MASTER = original
    assert FakeNode.commands == []


def test_a_failover_that_does_not_happen_is_asked_again_then_times_out():
    FakeNode.obedient = False
    clock = iter(range(0, 1000, 2))
    node = FakeNode("127.0.0.1:6379", SETTINGS)
    replica = FakeNode("10.0.1.13:6379", SETTINGS)
    assert node_failover.swap_roles(node, replica, 30, 1, clock=lambda: next(clock), sleep=lambda s: None) is False
    asked = [c for c in FakeNode.commands if c[1:] == ("CLUSTER", "FAILOVER")]
    assert 2 <= len(asked) <= 4  # every FAILOVER_RETRY_SECONDS within the bound, not on every poll


def test_a_timeout_fails_the_module_saying_the_node_was_not_changed_over():
    FakeNode.obedient = False
    module = FakeModule(wait_timeout=1, poll_interval=0.5)
    with pytest.raises(SystemExit):
        node_failover.run(module, SETTINGS)
    assert module.failed["msg"] == ("CLUSTER FAILOVER from 127.0.0.1:6379 to 10.0.1.13:6379 did not complete within "
                                    "1 s (127.0.0.1:6379 is still master)")


def test_a_silent_node_fails_before_anything():
    FakeNode.roles["127.0.0.1:6379"] = redis_connection.RedisError("Connection refused")

    class Silent(FakeNode):
        def text(self, *args):
            raise redis_connection.RedisError("Connection refused")

    redis_nodes.NodeClient = Silent
    module = FakeModule()
    with pytest.raises(SystemExit):
        node_failover.run(module, SETTINGS)
    assert module.failed["msg"] == "127.0.0.1:6379 does not answer: RedisError: Connection refused"


def test_a_replica_that_acks_a_moment_later_is_still_chosen(monkeypatch):
    behind = {"role": "master", "master_repl_offset": "120", "connected_slaves": "1",
              "slave0": {"ip": "10.0.1.12", "port": "6379", "state": "online", "offset": "100", "lag": "0"}}
    caught_up = dict(behind, slave0=dict(behind["slave0"], offset="120"))
    reads = iter([caught_up])
    monkeypatch.setattr(redis_nodes, "read_node_info", lambda node: next(reads))
    now = [0.0]
    params = dict(max_replica_lag_bytes=0, wait_timeout=60, poll_interval=1)
    chosen = node_failover.caught_up_replica(None, behind, params, clock=lambda: now[0],
                                             sleep=lambda s: now.__setitem__(0, now[0] + s))
    assert chosen == {"ip": "10.0.1.12", "port": "6379"}
    assert now[0] == 1.0


def test_a_replica_that_stays_behind_is_not_chosen_within_the_bound(monkeypatch):
    behind = {"role": "master", "master_repl_offset": "120", "connected_slaves": "1",
              "slave0": {"ip": "10.0.1.12", "port": "6379", "state": "online", "offset": "100", "lag": "0"}}
    reads = []
    monkeypatch.setattr(redis_nodes, "read_node_info", lambda node: reads.append(1) or behind)
    now = [0.0]
    params = dict(max_replica_lag_bytes=0, wait_timeout=60, poll_interval=1)
    assert node_failover.caught_up_replica(None, behind, params, clock=lambda: now[0],
                                           sleep=lambda s: now.__setitem__(0, now[0] + s)) == {}
    assert now[0] == 6.0 and len(reads) == 6
