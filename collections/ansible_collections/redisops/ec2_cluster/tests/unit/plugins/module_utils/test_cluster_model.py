# -*- coding: utf-8 -*-
"""Parsing CLUSTER NODES / INFO text and consolidating the views of all nodes."""

from __future__ import annotations

from hypothesis import given, strategies as st

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.cluster_model import (
    NodeObservation,
    consolidate,
    engine_of,
    expand_ranges,
    format_ranges,
    parse_cluster_nodes,
    parse_info,
    parse_ranges,
    cluster_signature,
    to_ranges,
    topology,
    topology_text,
)

A, B, C, D, E, F = ("%s" % ch * 40 for ch in "abcdef")

# Redis 7 format: address with bus port and (empty) hostname.
NODES_FROM_A = """\
{a} 10.0.1.10:6379@16379, myself,master - 0 0 1 connected 0-5460 [5461-<-{b}]
{b} 10.0.2.11:6379@16379, master - 0 1700000000000 2 connected 5461-10922
{c} 10.0.3.12:6379@16379, master - 0 1700000000000 3 connected 10923-16383
{d} 10.0.1.13:6379@16379, slave {c} 0 1700000000000 3 connected
{e} 10.0.2.14:6379@16379, slave {a} 0 1700000000000 1 connected
{f} 10.0.3.15:6379@16379, slave {b} 0 1700000000000 2 connected
""".format(a=A, b=B, c=C, d=D, e=E, f=F)

ZONES = {"10.0.1.10:6379": "az-a", "10.0.2.11:6379": "az-b", "10.0.3.12:6379": "az-c",
         "10.0.1.13:6379": "az-a", "10.0.2.14:6379": "az-b", "10.0.3.15:6379": "az-c"}


def view_as(text, me):
    """The same cluster seen from node `me` (flags move the 'myself')."""
    lines = []
    for line in text.splitlines():
        parts = line.split(" ")
        flags = [f for f in parts[2].split(",") if f != "myself"]
        if parts[0] == me:
            flags.insert(0, "myself")
        parts[2] = ",".join(flags)
        lines.append(" ".join(parts))
    return "\n".join(lines) + "\n"


def observe_all(text, skip=(), keys=None):
    observations = []
    for entry in parse_cluster_nodes(text):
        if entry.address in skip:
            observations.append(NodeObservation(address=entry.address, reachable=False, error="refused"))
            continue
        observations.append(NodeObservation(
            address=entry.address, reachable=True, node_id=entry.node_id,
            view=parse_cluster_nodes(view_as(text, entry.node_id)),
            server={"redis_version": "7.0.15"}, keys=(keys or {}).get(entry.address, 0)))
    return observations


def test_parse_cluster_nodes_reads_roles_slots_and_open_slots():
    entries = {e.node_id: e for e in parse_cluster_nodes(NODES_FROM_A)}
    me = entries[A]
    assert me.is_myself and me.is_master and me.address == "10.0.1.10:6379"
    assert me.slots == ((0, 5460),) and me.importing == ((5461, B),) and me.migrating == ()
    assert entries[D].master_id == C and not entries[D].is_master and entries[D].config_epoch == 3
    assert entries[B].link_state == "connected"


def test_parse_cluster_nodes_handles_odd_lines():
    text = (
        "%s 10.0.0.1:7000@17000,node-1.example myself,master - 0 0 5 connected 7 100-200 [300->-%s]\n"
        "%s :0@0 master,noaddr - 0 0 0 disconnected\n"
        "%s 10.0.0.3:7000@17000 handshake - 0 0 0 connected\n"
        "%s 10.0.0.4:7000@17000 master,fail - 0 0 4 disconnected\n"
        "garbage\n\n" % (A, B, C, D, E))
    entries = parse_cluster_nodes(text)
    assert [e.node_id for e in entries] == [A, C, D, E]
    first = entries[0]
    assert first.address == "10.0.0.1:7000" and first.slots == ((7, 7), (100, 200))
    assert first.migrating == ((300, B),)
    assert entries[1].address == "" and entries[1].in_handshake
    assert entries[2].in_handshake and entries[3].is_failed


def test_parse_info_and_engine():
    info = parse_info("# Server\r\nredis_version:7.0.15\r\nos:Linux 6.1\r\n\r\n# Replication\r\nrole:master\r\n")
    assert info == {"redis_version": "7.0.15", "os": "Linux 6.1", "role": "master"}
    assert engine_of(info) == ("redis", "7.0.15")
    valkey = parse_info("redis_version:7.2.4\nserver_name:valkey\nvalkey_version:8.0.2\n")
    assert engine_of(valkey) == ("valkey", "8.0.2")


@given(st.sets(st.integers(min_value=0, max_value=16383), max_size=300))
def test_ranges_round_trip(slots):
    ranges = to_ranges(slots)
    assert expand_ranges(ranges) == sorted(slots)
    assert expand_ranges(format_ranges(ranges)) == sorted(slots)
    assert all(b[0] > a[1] + 1 for a, b in zip(ranges, ranges[1:])), "ranges are maximal"
    assert parse_ranges(["5", "7-9"]) == [(5, 5), (7, 9)]


def test_consolidate_existing_cluster():
    state = consolidate(observe_all(NODES_FROM_A, keys={"10.0.1.10:6379": 7}), ZONES)
    assert state.has_cluster() and all(n.in_cluster and n.live for n in state.nodes.values())
    assert state.slot_counts() == {A: 5461, B: 5462, C: 5461}
    assert state.open_slots == {5461: (B, A)}
    assert [r.address for r in state.replicas_of(A)] == ["10.0.2.14:6379"]
    assert state.nodes[D].availability_zone == "az-a" and state.nodes[A].keys == 7
    assert not any(n.foreign for n in state.nodes.values())
    report = {t["address"]: t for t in topology(state)}
    assert report["10.0.1.10:6379"]["slots"] == ["0-5460"]
    assert report["10.0.1.13:6379"] == {"address": "10.0.1.13:6379", "node_id": D, "availability_zone": "az-a",
                                        "role": "replica", "master": "10.0.3.12:6379", "slots": [], "keys": 0}
    assert "10.0.1.10:6379 az-a master slots 0-5460\n" in topology_text(topology(state))


def test_unreachable_node_is_failed_only_when_the_cluster_says_so():
    failed_text = NODES_FROM_A.replace("%s 10.0.2.14:6379@16379, slave" % E, "%s 10.0.2.14:6379@16379, slave,fail" % E)
    state = consolidate(observe_all(failed_text, skip={"10.0.2.14:6379"}), ZONES)
    assert state.nodes[E].failed and not state.nodes[E].live and state.nodes[E].in_cluster
    state = consolidate(observe_all(NODES_FROM_A, skip={"10.0.2.14:6379"}), ZONES)
    assert not state.nodes[E].failed and not state.nodes[E].live


def test_fresh_nodes_have_no_cluster():
    observations = [
        NodeObservation(address=addr, reachable=True, node_id=node_id,
                        view=parse_cluster_nodes("%s %s@16379 myself,master - 0 0 0 connected\n" % (node_id, addr)))
        for node_id, addr in zip((A, B, C), sorted(ZONES)[:3])]
    state = consolidate(observations, ZONES)
    assert not state.has_cluster()
    assert all(not n.in_cluster and n.live and n.known_nodes == 1 and not n.foreign for n in state.nodes.values())


def test_foreign_nodes_are_flagged():
    mine = NodeObservation(
        address="10.0.1.10:6379", reachable=True, node_id=A, keys=0,
        view=parse_cluster_nodes("%s 10.0.1.10:6379@16379 myself,master - 0 0 0 connected\n"
                                 "%s 10.9.9.9:6379@16379 master - 0 0 1 connected 0-16383\n" % (A, F)))
    loaded = NodeObservation(
        address="10.0.2.11:6379", reachable=True, node_id=B, keys=3,
        view=parse_cluster_nodes("%s 10.0.2.11:6379@16379 myself,master - 0 0 0 connected\n" % B))
    state = consolidate([mine, loaded], ZONES)
    assert "another cluster" in state.nodes[A].foreign
    assert state.nodes[B].foreign == "holds 3 keys"


def test_interrupted_create_keeps_slots_added_before_the_meet():
    observations = []
    for node_id, addr, slots in ((A, "10.0.1.10:6379", "0-5460"), (B, "10.0.2.11:6379", "5461-10922")):
        observations.append(NodeObservation(
            address=addr, reachable=True, node_id=node_id,
            view=parse_cluster_nodes("%s %s@16379 myself,master - 0 0 0 connected %s\n" % (node_id, addr, slots))))
    state = consolidate(observations, ZONES)
    assert state.slot_counts() == {A: 5461, B: 5462}
    assert not any(n.foreign for n in state.nodes.values())
    assert sum(1 for n in state.nodes.values() if n.in_cluster) == 1


def test_cluster_signature_compares_views_regardless_of_order_and_myself():
    a = parse_cluster_nodes(
        "aaa 10.0.0.1:6379@16379 myself,master - 0 0 1 connected 0-99 200-299\n"
        "bbb 10.0.0.2:6379@16379 master - 0 0 2 connected 100-199\n"
        "ccc 10.0.0.3:6379@16379 slave aaa 0 0 1 connected\n")
    b = parse_cluster_nodes(
        "bbb 10.0.0.2:6379@16379 myself,master - 0 0 2 connected 100-199\n"
        "ccc 10.0.0.3:6379@16379 slave aaa 0 0 1 connected\n"
        "aaa 10.0.0.1:6379@16379 master - 0 0 1 connected 200-299 0-99\n")
    assert cluster_signature(a) == cluster_signature(b)
    assert cluster_signature(a) == (("aaa", "master", "", ((0, 99), (200, 299))),
                                    ("bbb", "master", "", ((100, 199),)),
                                    ("ccc", "replica", "aaa", ()))


def test_cluster_signature_tells_stale_views_apart():
    settled = parse_cluster_nodes(
        "aaa 10.0.0.1:6379@16379 myself,master - 0 0 3 connected 0-16383\n"
        "bbb 10.0.0.2:6379@16379 slave aaa 0 0 3 connected\n")
    # right after a failover: bbb has handed its slots over, but this node has
    # not heard yet that bbb now follows aaa
    lagging = parse_cluster_nodes(
        "bbb 10.0.0.2:6379@16379 master - 0 0 2 connected\n"
        "aaa 10.0.0.1:6379@16379 myself,master - 0 0 3 connected 0-16383\n")
    moved = parse_cluster_nodes(
        "aaa 10.0.0.1:6379@16379 myself,master - 0 0 3 connected 0-16000\n"
        "bbb 10.0.0.2:6379@16379 slave aaa 0 0 3 connected\n")
    assert cluster_signature(lagging) != cluster_signature(settled)
    assert cluster_signature(moved) != cluster_signature(settled)
    # a failed node does not hold agreement up
    with_failed = parse_cluster_nodes(
        "aaa 10.0.0.1:6379@16379 myself,master - 0 0 3 connected 0-16383\n"
        "bbb 10.0.0.2:6379@16379 slave aaa 0 0 3 connected\n"
        "ddd 10.0.0.4:6379@16379 slave,fail aaa 0 0 1 disconnected\n")
    assert cluster_signature(with_failed) == cluster_signature(settled)
