import pytest

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.topology_view import (
    InventoryError,
    desired_nodes,
    topology_table,
)


def host(ip, az, **extra):
    return dict({"private_ip_address": ip, "placement": {"availability_zone": az}}, **extra)


def test_desired_nodes_from_aws_ec2_hostvars_sorted_numerically():
    hostvars = {
        "10.77.2.11": host("10.77.2.11", "us-west-2b"),
        "10.77.1.12": host("10.77.1.12", "us-west-2a", redis_topology_port=6380, redis_topology_role="replica"),
        "10.77.1.9": host("10.77.1.9", "us-west-2a"),
    }
    nodes = desired_nodes(hostvars, ["10.77.2.11", "10.77.1.12", "10.77.1.9"])
    assert nodes == [
        {"host": "10.77.1.9", "port": 6379, "availability_zone": "us-west-2a", "role": "auto"},
        {"host": "10.77.1.12", "port": 6380, "availability_zone": "us-west-2a", "role": "replica"},
        {"host": "10.77.2.11", "port": 6379, "availability_zone": "us-west-2b", "role": "auto"},
    ]


def test_default_port_applies_to_hosts_without_their_own():
    nodes = desired_nodes({"a": host("10.0.0.1", "z")}, ["a"], default_port=6390)
    assert nodes[0]["port"] == 6390


@pytest.mark.parametrize("variables, message", [
    ({"placement": {"availability_zone": "z"}}, "no private_ip_address"),
    ({"private_ip_address": "10.0.0.1"}, "no placement.availability_zone"),
    ({"private_ip_address": "10.0.0.1", "placement": {}}, "no placement.availability_zone"),
])
def test_missing_host_facts_are_named(variables, message):
    with pytest.raises(InventoryError, match="host a has %s" % message):
        desired_nodes({"a": variables}, ["a"])


def test_unknown_host_is_named():
    with pytest.raises(InventoryError, match="host ghost is not in the inventory"):
        desired_nodes({}, ["ghost"])


def test_table_lists_masters_by_slot_with_their_replicas_then_the_rest():
    report = [
        {"address": "10.0.0.2:6379", "availability_zone": "b", "role": "replica", "master": "10.0.0.3:6379",
         "slots": [], "keys": 5},
        {"address": "10.0.0.3:6379", "availability_zone": "a", "role": "master", "master": None,
         "slots": ["8192-16383"], "keys": 5},
        {"address": "10.0.0.1:6379", "availability_zone": "c", "role": "master", "master": None,
         "slots": ["0-8191"], "keys": 7},
        {"address": "10.0.0.9:6379", "availability_zone": None, "role": "failed master", "master": None,
         "slots": [], "keys": 0},
    ]
    lines = topology_table(report)
    assert lines[0].split() == ["node", "AZ", "role", "master", "slots", "keys"]
    assert [line.split()[0] for line in lines[1:]] == [
        "10.0.0.1:6379", "10.0.0.3:6379", "10.0.0.2:6379", "10.0.0.9:6379"]
    assert lines[3].split() == ["10.0.0.2:6379", "b", "replica", "10.0.0.3:6379", "-", "5"]
    assert lines[4].split()[1:4] == ["-", "failed", "master"]
    # every column starts at the same offset on every line
    for column in ("AZ", "role", "master", "slots", "keys"):
        offset = lines[0].index(column)
        assert all(line[offset - 2:offset] == "  " and line[offset] != " " for line in lines), column
