"""The main job on the sandbox, as a user runs it: site.yml configures the
six nodes and forms the cluster; a second run changes nothing; the cluster
is then checked from the instances themselves, with the placement read
from the EC2 API."""

import re
from collections import Counter


def test_site_is_idempotent(deployed):
    _, second = deployed
    assert second.recap(), second.explain()
    assert second.changed() == 0, second.explain(6000)


def test_deploy_prints_the_topology(deployed):
    first, _ = deployed
    assert re.search(r"node\s+AZ\s+role\s+master\s+slots\s+keys", first.output)


def test_no_password_in_the_output(deployed, acl_passwords):
    for run in deployed:
        for password in acl_passwords.values():
            assert password not in run.output


def test_six_instances_in_three_azs(sandbox, instances):
    assert len(instances) == 6
    assert Counter(i["az"] for i in instances.values()) == {s["az"]: 2 for s in sandbox.identity["private_subnets"]}


def test_cluster_is_healthy_from_every_node(deployed, instances, acl_passwords, redis_cli):
    for ip in instances:
        info = redis_cli(ip, acl_passwords["admin"], "cluster", "info")
        assert "cluster_state:ok" in info
        assert "cluster_slots_assigned:16384" in info
        assert "cluster_known_nodes:6" in info


def test_placement_survives_the_loss_of_any_az(deployed, instances, acl_passwords, redis_cli):
    nodes = {}
    for line in redis_cli(next(iter(instances)), acl_passwords["admin"], "cluster", "nodes").splitlines():
        node_id, address, flags, master = line.split()[:4]
        ip = address.split(":")[0]
        nodes[node_id] = {"ip": ip, "master": "master" in flags.split(","), "of": master, "az": instances[ip]["az"]}
    masters = {k: v for k, v in nodes.items() if v["master"]}
    replicas = {k: v for k, v in nodes.items() if not v["master"]}
    assert len(masters) == 3 and len(replicas) == 3
    assert len({m["az"] for m in masters.values()}) == 3
    for replica in replicas.values():
        assert replica["az"] != masters[replica["of"]]["az"]
    for az in {i["az"] for i in instances.values()}:
        for master_id, master in masters.items():
            if master["az"] == az:
                assert any(r["of"] == master_id and r["az"] != az for r in replicas.values())


def test_acl_refuses_what_it_must(deployed, instances, acl_passwords, redis_cli, instance_exec):
    ip = next(iter(instances))
    anonymous = instance_exec(ip, "redis-cli", "-h", "127.0.0.1", "ping", check=False)
    assert "PONG" not in anonymous.stdout
    assert "NOPERM" in redis_cli(ip, acl_passwords["app"], "flushall", user="app", check=False)
    assert redis_cli(ip, acl_passwords["app"], "-c", "set", "e2e:key", "1", user="app").strip() == "OK"
