"""The cluster after side_effect (scale out, scale in, lost master replaced).

Everything is read from the nodes; the AZ of each address comes from the
scenario's inventory (molecule.yml), as the inventory is what the playbooks
place by.
"""

import re

from conftest import as_json, cli, group_vars, node, parse_nodes, platforms, run_playbook, running

EXPECTED_NODES = 6
ALL_SLOTS = 16384


def cluster_info(name):
    return dict(line.split(":", 1) for line in cli(name, "CLUSTER", "INFO").splitlines() if ":" in line)


def test_redis_cli_cluster_check_passes(live_members):
    ip = platforms()[live_members[0]]["ip"]
    cmd = node(live_members[0]).run(f"redis-node-cli --cluster check {ip}:6379")
    assert cmd.rc == 0, cmd.stdout + cmd.stderr
    assert "[OK] All 16384 slots covered." in cmd.stdout
    assert "[ERR]" not in cmd.stdout and "[WARNING]" not in cmd.stdout, cmd.stdout


def test_every_member_sees_a_healthy_cluster(live_members):
    assert len(live_members) == EXPECTED_NODES
    for name in live_members:
        info = cluster_info(name)
        assert info["cluster_state"] == "ok", (name, info)
        assert int(info["cluster_slots_assigned"]) == ALL_SLOTS, (name, info)
        assert int(info["cluster_slots_ok"]) == ALL_SLOTS, (name, info)
        assert int(info["cluster_known_nodes"]) == EXPECTED_NODES, (name, info)


def test_placement_masters_spread_and_no_replica_beside_its_master(live_members):
    az_by_ip = {p["ip"]: p["az"] for p in platforms().values()}
    nodes = parse_nodes(cli(live_members[0], "CLUSTER", "NODES"))
    assert not any({"fail", "fail?", "handshake", "noaddr"} & n["flags"] for n in nodes.values()), as_json(nodes)
    masters = {i: n for i, n in nodes.items() if n["role"] == "master"}
    replicas = {i: n for i, n in nodes.items() if n["role"] == "replica"}
    assert len(masters) == 3 and len(replicas) == 3, as_json(nodes)
    assert sum(m["slots"] for m in masters.values()) == ALL_SLOTS
    assert sorted(az_by_ip[m["ip"]] for m in masters.values()) == ["us-west-2a", "us-west-2b", "us-west-2c"]
    for replica in replicas.values():
        master = masters[replica["master_id"]]
        assert az_by_ip[replica["ip"]] != az_by_ip[master["ip"]], (replica, master)
    assert sorted(r["master_id"] for r in replicas.values()) == sorted(masters), "every master has one replica"


def test_the_replacement_took_the_lost_nodes_place(live_members):
    spares = [name for name, p in platforms().items() if "redis_spares" in p["groups"]]
    lost = [name for name, p in platforms().items() if "redis_cluster" in p["groups"] and name not in live_members]
    assert len(lost) == 1, lost
    replacement = [name for name in spares if name in live_members]
    assert len(replacement) == 1, replacement
    # (It is the spare of the lost node's AZ by construction in side_effect.)
    # Every member has forgotten the lost node and knows the replacement.
    lost_ip, new_ip = platforms()[lost[0]]["ip"], platforms()[replacement[0]]["ip"]
    for member in live_members:
        known = {n["ip"] for n in parse_nodes(cli(member, "CLUSTER", "NODES")).values()}
        assert lost_ip not in known and new_ip in known, (member, known)


def test_test_keys_intact(live_members):
    expected = group_vars()["cluster_test_key_count"]
    nodes = parse_nodes(cli(live_members[0], "CLUSTER", "NODES"))
    sizes = {i: int(cli(live_members[0], "-h", n["ip"], "DBSIZE")) for i, n in nodes.items()}
    assert sum(size for i, size in sizes.items() if nodes[i]["role"] == "master") == expected, sizes
    for node_id, entry in nodes.items():
        if entry["role"] == "replica":
            assert sizes[node_id] == sizes[entry["master_id"]], (entry, sizes)
    sample = cli(live_members[0], "-c", "-h", nodes[next(iter(nodes))]["ip"], "GET", "app:key:1234")
    assert sample == "app:key:1234"[::-1]


def _cluster_unchanged(live_members, before):
    assert parse_nodes(cli(live_members[0], "CLUSTER", "NODES")).keys() == before.keys()
    assert cluster_info(live_members[0])["cluster_state"] == "ok"


def _flat(output):
    """The playbook output with whitespace runs as single spaces: the YAML
    result format wraps long messages over lines."""
    return " ".join(output.split())


def _running_hosts_and_localhost():
    """--limit for runs against this inventory: the stopped containers stand
    for instances the aws_ec2 inventory would not list."""
    return ",".join(["localhost"] + [name for name in platforms() if running(name)])


def test_scale_in_refuses_too_few_nodes(live_members, tmp_path):
    before = parse_nodes(cli(live_members[0], "CLUSTER", "NODES"))
    # a member of the inventory's six: the other five (a lost one included) remain
    leaving = [m for m in live_members if "redis_cluster" in platforms()[m]["groups"]][-1]
    run = run_playbook("scale_in.yml", "--limit", _running_hosts_and_localhost(),
                       extra_inventory={"redis_member_leaving": {"hosts": {leaving: {}}}}, tmp_path=tmp_path)
    assert run.rc != 0, run.output
    assert "refusing to scale in to 5 nodes: 3 masters with 1 replica(s) each need at least 6; leaving: " \
        f"{platforms()[leaving]['ip']}:6379" in _flat(run.output), run.output
    _cluster_unchanged(live_members, before)


def test_scale_in_refuses_to_empty_an_az(live_members, tmp_path):
    before = parse_nodes(cli(live_members[0], "CLUSTER", "NODES"))
    spares = {name: {} for name, p in platforms().items() if "redis_spares" in p["groups"]}
    zone_a = {name: {} for name, p in platforms().items() if p["az"] == "us-west-2a"}
    run = run_playbook("scale_in.yml", "--limit", _running_hosts_and_localhost(), extra_inventory={
        "redis_cluster": {"hosts": spares}, "redis_member_leaving": {"hosts": zone_a}}, tmp_path=tmp_path)
    assert run.rc != 0, run.output
    assert "refusing to remove every node of us-west-2a while us-west-2b, us-west-2c keep nodes" \
        in _flat(run.output), run.output
    _cluster_unchanged(live_members, before)


def test_replace_node_never_removes_a_healthy_node(live_members):
    before = parse_nodes(cli(live_members[0], "CLUSTER", "NODES"))
    healthy = live_members[-1]
    # A healthy member left out of the run looks like a lost node to the
    # playbook, but it answers: it is kept (never forgotten or drained), and
    # the nodes the run reaches are too few to plan without it.
    run = run_playbook("replace_node.yml", "--limit", f"all:!{healthy}")
    assert run.rc != 0, run.output
    assert re.search(r"too few nodes: \d given, .*; cluster nodes not in nodes are kept: .*"
                     + re.escape(f"{platforms()[healthy]['ip']}:6379 (answers, in no list)"), _flat(run.output)), \
        run.output
    _cluster_unchanged(live_members, before)
