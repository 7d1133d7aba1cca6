# -*- coding: utf-8 -*-
"""cluster_topology's safety options against real redis-server processes on 127.0.0.1.

restore_placement auto/always/never, nodes flagged leaving (scale-in rules),
forget_nodes (a failed node is only forgotten when listed) and the AZ risks
the module returns and warns about. Servers, module runs and cluster reads
come from the real-server helpers (redis_servers, test_cluster_topology).
"""

from __future__ import annotations


from redis_servers import HOST, wait_for
from test_cluster_topology import (
    assert_healthy,
    assert_keys,
    cluster_view,
    node_list,
    raw_info,
    sync_replicas,
    topology,  # noqa: F401  (a fixture)
    write_keys,
    zones_of,
)


def address(port):
    return "%s:%d" % (HOST, port)


def warnings(result):
    """The module's warnings as text (newer ansible-core wraps each in an event)."""
    return [w["event"]["msg"] if isinstance(w, dict) else w for w in result.get("warnings", [])]


def role_of(servers, port):
    return raw_info(servers, port, "INFO", "replication")["role"]


def masters_by_zone(servers, ports, zones):
    found = {}
    for port in ports:
        if role_of(servers, port) == "master" and any(e.is_myself and e.slots for e in cluster_view(servers, port)):
            found.setdefault(zones[port], []).append(port)
    return found


def known_addresses(servers, port):
    return {e.address for e in cluster_view(servers, port) if not e.in_handshake}


def kill_and_wait_failed(servers, victim, witness):
    """Kill the server (its files stay, as on a stopped instance); servers.restart brings it back."""
    servers.procs[victim].kill()
    servers.procs[victim].wait(timeout=10)

    def failed():
        dead = [e for e in cluster_view(servers, witness) if e.address == address(victim)]
        return dead and dead[0].is_failed and raw_info(servers, witness, "CLUSTER", "INFO")["cluster_state"] == "ok"
    wait_for(failed, timeout=30, what="%d to be marked failed (and a replica to take over)" % victim)


def fail_over_to(servers, replica):
    """A routine failover, as the cluster makes after a master's brief outage."""
    servers.client(replica).execute_command("CLUSTER", "FAILOVER")
    wait_for(lambda: role_of(servers, replica) == "master", timeout=30, what="replica %d to take over" % replica)
    wait_for(lambda: settled(servers), timeout=30, what="every node to agree on the failover")


def settled(servers):
    """Every node has the same view of masters and replicas, and every replica's link is up
    (a loaded machine spreads the gossip of a failover over seconds)."""
    ports = [port for port, proc in servers.procs.items() if proc.poll() is None]
    views = {frozenset((e.node_id, e.is_master, e.master_id) for e in cluster_view(servers, port)) for port in ports}
    links = [raw_info(servers, port, "INFO", "replication").get("master_link_status", "up") for port in ports]
    return len(views) == 1 and all(link == "up" for link in links)


def cluster_with_keys(servers, topology, count):
    """A cluster of count fresh servers over three zones, 100 keys written and replicated."""
    ports = servers.start(count)
    nodes = node_list(ports)
    topology(nodes)
    write_keys(ports[0], 100)
    sync_replicas(servers, ports)
    return ports, nodes, zones_of(nodes)


# ---------------------------------------------------------------- restore_placement


def test_auto_restores_the_failover_majority_and_says_why(servers, topology):
    """The sandbox case: two of three masters in one AZ after routine failovers."""
    ports, nodes, zones = cluster_with_keys(servers, topology, 6)
    crowded_zone = zones[ports[0]]
    # the replica in zone-a of the zone-c master takes over: zone-a holds 2 masters
    zone_c_master = masters_by_zone(servers, ports, zones)["zone-c"][0]
    promoted = next(p for p in ports if zones[p] == crowded_zone and role_of(servers, p) != "master")
    view = cluster_view(servers, promoted)
    master_id = next(e.master_id for e in view if e.is_myself)
    assert next(e.address for e in view if e.node_id == master_id) == address(zone_c_master)
    fail_over_to(servers, promoted)
    assert_healthy(servers, ports, zones, masters_expected=3, strict=False)

    kept = topology(nodes, check=True, restore_placement="never")
    assert kept["changed"] is False
    majority_risk = ("losing %s: 2 of 3 masters go and the 1 left cannot elect replicas (a failover needs 2 votes)"
                     % crowded_zone)
    assert kept["az_loss_risks_before"] == kept["az_loss_risks_after"] == [majority_risk]
    assert "AZ safety: %s" % majority_risk in warnings(kept)
    assert kept["az_loss_notes"] == ["restore_placement=never: no planned failover moves masters out of the "
                                     "crowded AZ"]

    result = topology(nodes)  # auto, the default
    assert [(a["kind"], a["node"], a["args"]["master"]) for a in result["actions"]] == [
        ("failover", address(zone_c_master), address(promoted))]
    assert result["actions"][0]["reason"].endswith(
        "restore_placement=auto: losing %s would have cost the failover majority" % crowded_zone)
    assert result["az_loss_risks_before"] == [majority_risk]
    assert result["az_loss_risks_after"] == [] and result["az_loss_notes"] == []
    assert not [w for w in warnings(result) if w.startswith("AZ safety")]
    assert_healthy(servers, ports, zones, masters_expected=3)
    assert_keys(ports[1], 100)
    assert topology(nodes)["changed"] is False


def test_two_azs_keep_copies_and_warn_about_the_majority(servers, topology):
    ports = servers.start(6)
    zones = {port: ("zone-a", "zone-b")[i % 2] for i, port in enumerate(ports)}
    nodes = node_list(ports, zones)
    created = topology(nodes)
    risks = created["az_loss_risks_after"]
    assert len(risks) == 1 and "cannot elect replicas" in risks[0]
    assert created["az_loss_notes"][0].startswith("with 2 AZs one AZ always holds at least half of the masters")
    assert "AZ safety: %s" % risks[0] in warnings(created)
    assert_healthy(servers, ports, zones, masters_expected=3)  # every master has a replica in the other AZ
    again = topology(nodes)
    assert again["changed"] is False and again["az_loss_risks_after"] == risks  # no failover can help: none made


# ---------------------------------------------------------------- scale in


def test_scale_in_refusals_come_before_any_change(servers, topology):
    ports = servers.start(6)
    nodes = node_list(ports)
    topology(nodes)
    before = {e.node_id for e in cluster_view(servers, ports[0])}

    too_few = topology(nodes[:5] + [dict(nodes[5], leaving=True)], expect_failure=True)
    assert too_few["msg"] == ("refusing to scale in to 5 nodes: 3 masters with 1 replica(s) each need at least 6; "
                              "leaving: %s" % address(ports[5]))
    zone_a = [dict(n, leaving=True) if n["availability_zone"] == "zone-a" else n for n in nodes]
    # Two more nodes that do not exist: the refusal comes before any connection.
    unborn = [{"host": HOST, "port": port, "availability_zone": zone} for port, zone in ((1, "zone-b"), (2, "zone-c"))]
    emptied = topology(zone_a + unborn, expect_failure=True)
    assert emptied["msg"].startswith("refusing to remove every node of zone-a while zone-b, zone-c keep nodes")
    assert "topology_before" not in emptied  # refused before connecting to any node
    for port in ports:
        assert {e.node_id for e in cluster_view(servers, port)} == before
        assert raw_info(servers, port, "CLUSTER", "INFO")["cluster_state"] == "ok"


# ---------------------------------------------------------------- forgetting


def test_a_failed_node_is_kept_until_forget_nodes_lists_it(servers, topology):
    """A stopped instance's node keeps its place; it comes back as it was."""
    ports, nodes, zones = cluster_with_keys(servers, topology, 9)
    stopped = next(p for p in ports[1:] if role_of(servers, p) != "master")
    witness = ports[0]
    kill_and_wait_failed(servers, stopped, witness)
    rest = [n for n in nodes if n["port"] != stopped]

    for remove_unlisted in (False, True):
        result = topology(rest, remove_unlisted_nodes=remove_unlisted)
        assert not [a for a in result["actions"] if a["kind"] in ("forget", "reset")], result["actions"]
        assert result["kept_nodes"] == ["%s (failed, not in forget_nodes)" % address(stopped)]
        assert address(stopped) in known_addresses(servers, witness)

    healthy = rest[-1]
    refused = topology(rest, forget_nodes=[address(healthy["port"])], expect_failure=True)
    assert refused["msg"].startswith("refusing to forget %s: it is not a failed cluster node (answers at %s)"
                                     % (address(healthy["port"]), address(healthy["port"])))

    servers.restart(stopped)  # the instance is started again: same node, same data
    wait_for(lambda: not [e for e in cluster_view(servers, witness) if e.is_failed], timeout=30,
             what="the restarted node to be healthy again")
    back = topology(nodes)
    assert_healthy(servers, ports, zones, masters_expected=4, strict=False)
    assert back["kept_nodes"] == []
    assert_keys(witness, 100)


def test_a_lost_master_listed_in_forget_nodes_is_replaced_with_placement_restored(servers, topology):
    ports = servers.start(6)
    nodes = node_list(ports)
    zones = zones_of(nodes)
    topology(nodes)
    write_keys(ports[1], 100)
    sync_replicas(servers, ports)
    victim = masters_by_zone(servers, ports, zones)["zone-a"][0]
    survivors = [p for p in ports if p != victim]
    kill_and_wait_failed(servers, victim, survivors[0])

    replacement = servers.start(1)[0]
    new_nodes = [n for n in nodes if n["port"] != victim] + [
        {"host": HOST, "port": replacement, "availability_zone": "zone-a"}]
    zones[replacement] = "zone-a"
    not_listed = topology(new_nodes, check=True)
    assert "forget" not in [a["kind"] for a in not_listed["actions"]]
    assert not_listed["kept_nodes"] == ["%s (failed, not in forget_nodes)" % address(victim)]

    result = topology(new_nodes, forget_nodes=[address(victim)])  # restore_placement=auto
    assert [a["kind"] for a in result["actions"]] == ["forget", "meet", "wait", "replicate", "failover"]
    assert result["actions"][0]["reason"] == "failed node is listed in forget_nodes"
    assert "restore_placement=auto: losing zone-" in result["actions"][-1]["reason"]
    assert any("cannot elect replicas" in risk for risk in result["az_loss_risks_before"])
    assert result["az_loss_risks_after"] == []
    assert address(victim) not in known_addresses(servers, survivors[0])
    assert_healthy(servers, survivors + [replacement], zones, masters_expected=3)
    assert role_of(servers, replacement) == "master"
    assert_keys(survivors[0], 100)
    assert topology(new_nodes, forget_nodes=[address(victim)])["changed"] is False
