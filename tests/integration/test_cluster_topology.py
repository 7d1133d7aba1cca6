# -*- coding: utf-8 -*-
"""cluster_topology against real redis-server processes on 127.0.0.1.

Each test starts its own cluster-enabled servers (ACL user, no default user)
in a temp dir (tests/integration/redis_servers.py) and kills them in
teardown. AZs are assigned in the module input, round-robin over three fake
zones.
"""

from __future__ import annotations

import time

import pytest
import redis

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import redis_nodes
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.cluster_model import parse_cluster_nodes
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.redis_info import parse_info
from ansible_collections.redisops.ec2_cluster.plugins.modules import cluster_topology
from redis_servers import HOST, PASSWORD, USER, free_port_pair, wait_for

ZONES = ["zone-a", "zone-b", "zone-c"]
SETTINGS = redis_nodes.ConnectionSettings(login_user=USER, login_password=PASSWORD)


def node_list(ports, zones=None):
    return [{"host": HOST, "port": port, "availability_zone": (zones or {}).get(port, ZONES[i % 3])}
            for i, port in enumerate(ports)]


@pytest.fixture
def topology(run_module):
    def run(nodes, check=False, diff=False, expect_failure=False, **options):
        return run_module(cluster_topology, expect_failure=expect_failure, check=check, diff=diff, nodes=nodes,
                          login_user=USER, login_password=PASSWORD, wait_timeout=60, connect_timeout=2, **options)
    return run


def cluster_view(servers, port):
    conn = redis_nodes.NodeClient("%s:%d" % (HOST, port), SETTINGS)
    try:
        return parse_cluster_nodes(conn.text("CLUSTER", "NODES"))
    finally:
        conn.close()


def raw_info(servers, port, *section):
    conn = redis_nodes.NodeClient("%s:%d" % (HOST, port), SETTINGS)
    try:
        return parse_info(conn.text(*section))
    finally:
        conn.close()


def check_healthy(servers, ports, zones_by_port, masters_expected, strict):
    for port in ports:
        assert raw_info(servers, port, "CLUSTER", "INFO")["cluster_state"] == "ok"
    entries = {e.node_id: e for e in cluster_view(servers, ports[0])}
    assert {int(e.address.rsplit(":", 1)[1]) for e in entries.values()} == set(ports), [
        (e.address, e.flags, e.node_id[:8]) for e in entries.values() if int(e.address.rsplit(":", 1)[1]) not in ports]
    masters = [e for e in entries.values() if e.is_master]
    assert len(masters) == masters_expected, masters
    assert sum(last - first + 1 for m in masters for first, last in m.slots) == 16384
    zone = {e.node_id: zones_by_port[int(e.address.rsplit(":", 1)[1])] for e in entries.values()}
    per_zone = {}
    for master in masters:
        per_zone[zone[master.node_id]] = per_zone.get(zone[master.node_id], 0) + 1
        replicas = [e for e in entries.values() if e.master_id == master.node_id]
        assert replicas, "master %s has no replica" % master.address
        outside = [r for r in replicas if zone[r.node_id] != zone[master.node_id]]
        assert outside, "master %s has no replica in another AZ" % master.address
        if strict:
            assert outside == replicas, "a replica of %s is in its AZ" % master.address
    if strict:
        assert max(per_zone.values()) - min(per_zone.values()) <= 1, per_zone
    return entries


def assert_healthy(servers, ports, zones_by_port, masters_expected, strict=True):
    """Every node agrees: all slots served, every AZ can be lost, placement
    rules hold (strict). Gossip needs a moment to reach every node, so this
    retries for a bounded time and re-raises the last failure."""
    deadline = time.monotonic() + 15
    while True:
        try:
            return check_healthy(servers, ports, zones_by_port, masters_expected, strict)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)


def zones_of(nodes):
    return {n["port"]: n["availability_zone"] for n in nodes}


def cluster_client(port):
    return redis.RedisCluster(host=HOST, port=port, username=USER, password=PASSWORD, decode_responses=True)


def write_keys(port, count):
    client = cluster_client(port)
    try:
        for i in range(count):
            client.set("key:%d" % i, "value-%d" % i)
    finally:
        client.close()


def sync_replicas(servers, ports):
    """WAIT until every master's writes reached its replicas (replication is async)."""
    for port in ports:
        if raw_info(servers, port, "INFO", "replication")["role"] == "master":
            assert servers.client(port).execute_command("WAIT", 1, 5000) >= 1


def assert_keys(port, count):
    client = cluster_client(port)
    try:
        for i in range(count):
            assert client.get("key:%d" % i) == "value-%d" % i
    finally:
        client.close()


def total_keys_on_masters(servers, ports):
    return sum(servers.client(p).dbsize() for p in ports
               if raw_info(servers, p, "INFO", "replication")["role"] == "master")


# ---------------------------------------------------------------- tests


def test_create_check_mode_real_run_and_idempotence(servers, topology):
    ports = servers.start(6)
    nodes = node_list(ports)

    planned = topology(nodes, check=True, diff=True)
    assert planned["changed"] is True
    assert [a["done"] for a in planned["actions"]] == [False] * len(planned["actions"])
    kinds = [a["kind"] for a in planned["actions"]]
    assert kinds.count("add_slots") == 3 and kinds.count("replicate") == 3 and kinds.count("meet") == 5
    assert "zone-a" in planned["diff"]["after"] and " slots 0-" in planned["diff"]["after"]
    for port in ports:  # check mode changed nothing
        assert raw_info(servers, port, "CLUSTER", "INFO")["cluster_known_nodes"] == "1"

    created = topology(nodes, diff=True)
    assert created["changed"] is True
    assert all(a["done"] for a in created["actions"])
    assert [a["kind"] for a in created["actions"]] == kinds
    entries = assert_healthy(servers, ports, zones_of(nodes), masters_expected=3)
    assert len(created["topology_after"]) == 6
    assert created["diff"]["before"] != created["diff"]["after"]
    # the module's report matches what the servers say
    reported_masters = {t["node_id"] for t in created["topology_after"] if t["role"] == "master"}
    assert reported_masters == {i for i, e in entries.items() if e.is_master}

    again = topology(nodes)
    assert again["changed"] is False and again["actions"] == []
    assert again["topology_before"] == again["topology_after"]
    checked = topology(nodes, check=True)
    assert checked["changed"] is False and checked["actions"] == []


def test_scale_out_moves_slots_and_keeps_keys(servers, topology):
    ports = servers.start(6)
    nodes = node_list(ports)
    topology(nodes)
    write_keys(ports[0], 300)

    new_ports = servers.start(3)
    bigger = nodes + [{"host": HOST, "port": p, "availability_zone": z} for p, z in zip(new_ports, ZONES)]
    result = topology(bigger)
    assert result["changed"] is True
    moved = sum(a["args"]["count"] for a in result["actions"] if a["kind"] == "migrate_slots")
    assert moved == 4096  # exactly the new master's share, nothing more
    assert [a["kind"] for a in result["actions"]].count("meet") == 3
    entries = assert_healthy(servers, ports + new_ports, zones_of(bigger), masters_expected=4)
    for master in (e for e in entries.values() if e.is_master):
        assert sum(last - first + 1 for first, last in master.slots) == 4096
    assert_keys(ports[0], 300)
    assert total_keys_on_masters(servers, ports + new_ports) == 300

    assert topology(bigger)["changed"] is False


def test_scale_in_drains_forgets_and_resets(servers, topology):
    ports = servers.start(9)
    nodes = node_list(ports)
    topology(nodes)
    assert_healthy(servers, ports, zones_of(nodes), masters_expected=4)
    write_keys(ports[0], 200)

    keep, drop = ports[:6], ports[6:]
    smaller = node_list(keep)
    leaving = [dict(n, leaving=True) for n in nodes[6:]]
    result = topology(smaller + leaving)
    assert result["changed"] is True
    dropped = {"%s:%d" % (HOST, p) for p in drop}
    forgets = [i for i, a in enumerate(result["actions"]) if a["kind"] == "forget" and a["node"] in dropped]
    migrations = [i for i, a in enumerate(result["actions"]) if a["kind"] == "migrate_slots"]
    assert len(forgets) == 3 and migrations and max(migrations) < min(forgets)
    # Which nodes go decides whether the AZ layout can stay perfect; every
    # master keeps a replica in another AZ whatever was removed.
    assert_healthy(servers, keep, zones_of(smaller), masters_expected=3, strict=False)
    for port in drop:  # removed nodes were reset and know nobody
        assert raw_info(servers, port, "CLUSTER", "INFO")["cluster_known_nodes"] == "1"
        assert servers.client(port).dbsize() == 0
        # ... and stay empty after a restart: the stale copy a replica held
        # must not come back from its AOF.
        servers.restart(port)
        assert servers.client(port).dbsize() == 0
        assert raw_info(servers, port, "CLUSTER", "INFO")["cluster_known_nodes"] == "1"
    assert_keys(keep[0], 200)
    assert total_keys_on_masters(servers, keep) == 200
    assert topology(smaller + leaving)["changed"] is False


def test_replace_failed_master_and_restore_placement(servers, topology):
    ports = servers.start(6)
    nodes = node_list(ports)
    topology(nodes)
    write_keys(ports[1], 100)
    sync_replicas(servers, ports)
    zones = zones_of(nodes)

    victim = [p for p in ports if zones[p] == "zone-a"
              and raw_info(servers, p, "INFO", "replication")["role"] == "master"][0]
    survivors = [p for p in ports if p != victim]
    servers.kill(victim)

    def failed_over():
        entries = cluster_view(servers, survivors[0])
        dead = [e for e in entries if e.address.endswith(":%d" % victim)]
        return dead and dead[0].is_failed and raw_info(servers, survivors[0], "CLUSTER", "INFO")[
            "cluster_state"] == "ok"
    wait_for(failed_over, timeout=30, what="failover of the killed master")

    replacement = servers.start(1)[0]
    new_nodes = [n for n in nodes if n["port"] != victim] + [
        {"host": HOST, "port": replacement, "availability_zone": "zone-a"}]
    plain = topology(new_nodes, check=True, restore_placement="never")
    assert "failover" not in [a["kind"] for a in plain["actions"]]

    lost = ["%s:%d" % (HOST, victim)]
    result = topology(new_nodes, restore_placement="always", forget_nodes=lost)
    kinds = [a["kind"] for a in result["actions"]]
    assert kinds == ["forget", "meet", "wait", "replicate", "failover"]
    assert result["actions"][0]["args"]["node_id"] not in {t["node_id"] for t in result["topology_after"]}
    assert_healthy(servers, survivors + [replacement], zones_of(new_nodes), masters_expected=3)
    assert raw_info(servers, replacement, "INFO", "replication")["role"] == "master"
    assert_keys(survivors[0], 100)
    assert topology(new_nodes, restore_placement="always", forget_nodes=lost)["changed"] is False
    assert zones[victim] == "zone-a"


def test_refuses_node_of_another_cluster_unless_forced(servers, topology):
    ports = servers.start(7)
    stranger, listed = ports[6], ports[:6]
    servers.client(listed[0]).execute_command("CLUSTER", "MEET", HOST, stranger)
    wait_for(lambda: [e for e in cluster_view(servers, listed[0])
                      if e.address.endswith(":%d" % stranger) and not e.in_handshake],
             what="the meet with the unlisted node")
    nodes = node_list(listed)
    refused = topology(nodes, expect_failure=True)
    assert "force_create_over_data" in refused["msg"] and "%s:%d" % (HOST, listed[0]) in refused["msg"]
    for port in listed[1:]:  # refused before acting
        assert raw_info(servers, port, "CLUSTER", "INFO")["cluster_known_nodes"] == "1"

    forced = topology(nodes, force_create_over_data=True)
    assert forced["actions"][0]["kind"] == "reset"
    assert_healthy(servers, listed, zones_of(nodes), masters_expected=3)


def test_refuses_node_holding_keys(servers, topology):
    ports = servers.start(6)
    client = servers.client(ports[2])
    client.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
    wait_for(lambda: raw_info(servers, ports[2], "CLUSTER", "INFO")["cluster_state"] == "ok", what="cluster ok")
    client.set("precious", "data")
    client.execute_command("CLUSTER", "DELSLOTSRANGE", 0, 16383)
    assert client.dbsize() == 1
    refused = topology(node_list(ports), expect_failure=True)
    assert "holds 1 keys" in refused["msg"] and str(ports[2]) in refused["msg"]
    assert client.dbsize() == 1


@pytest.mark.parametrize("mutate, message", [
    (lambda nodes: nodes + [dict(nodes[0])], "duplicate node address"),
    (lambda nodes: nodes[:5], "too few nodes"),
    (lambda nodes: [dict(n, availability_zone="zone-a") for n in nodes], "at least 2 availability zones"),
])
def test_refuses_bad_input_before_acting(servers, topology, mutate, message):
    ports = servers.start(6)
    result = topology(mutate(node_list(ports)), expect_failure=True)
    assert message in result["msg"]
    for port in ports:
        assert raw_info(servers, port, "CLUSTER", "INFO")["cluster_known_nodes"] == "1"


def test_refuses_unreachable_node_during_create(servers, topology):
    ports = servers.start(5)
    closed = free_port_pair()  # nothing listens there
    result = topology(node_list(ports + [closed]), expect_failure=True)
    assert "unreachable nodes while creating the cluster" in result["msg"] and str(closed) in result["msg"]
