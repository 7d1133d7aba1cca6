"""node_instance_plan: the API's shapes (ec2_vpc_subnet_info, ec2_instance_info)
turned into the planner's input, and its answer into launches."""

import pytest

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.instance_plan import InstancePlanError
from ansible_collections.redisops.ec2_cluster.plugins.modules.node_instance_plan import build_plan

SUBNETS = [{"id": "subnet-%s" % z, "availability_zone": "us-west-2" + z, "cidr_block": "10.77.%d.0/24" % n}
           for n, z in enumerate("cba", start=1)]
TAGS = {"Role": "redis-cluster", "RedisCluster": "sandbox"}


def described(number, zone, ip, state="running", **tags):
    return {"instance_id": "i-%d" % number, "placement": {"availability_zone": "us-west-2" + zone},
            "state": {"name": state}, "private_ip_address": ip,
            "tags": dict(TAGS, Name="sandbox-%d" % number, **tags)}


def test_an_empty_cluster_gets_two_nodes_per_az_at_fixed_addresses():
    plan = build_plan(SUBNETS, [], TAGS, 6, "sandbox", 11)
    assert [(i["name"], i["subnet_id"], i["private_ip_address"]) for i in plan["launch"]] == [
        ("sandbox-1", "subnet-a", "10.77.3.11"), ("sandbox-2", "subnet-a", "10.77.3.12"),
        ("sandbox-3", "subnet-b", "10.77.2.11"), ("sandbox-4", "subnet-b", "10.77.2.12"),
        ("sandbox-5", "subnet-c", "10.77.1.11"), ("sandbox-6", "subnet-c", "10.77.1.12")]


def test_a_complete_cluster_launches_nothing():
    existing = [described(n, z, "10.77.%d.%d" % (s, h)) for n, (z, s, h) in enumerate(
        [("a", 3, 11), ("a", 3, 12), ("b", 2, 11), ("b", 2, 12), ("c", 1, 11), ("c", 1, 12)], start=1)]
    plan = build_plan(SUBNETS, existing, TAGS, 6, "sandbox", 11)
    assert plan["launch"] == [] and plan["present"] == plan["wanted"]


def test_other_instances_hold_addresses_but_not_places():
    builder = {"instance_id": "i-b", "placement": {"availability_zone": "us-west-2a"}, "state": {"name": "running"},
               "private_ip_address": "10.77.3.11", "tags": {"Role": "redis-ami-builder", "RedisCluster": "sandbox"}}
    other = described(9, "a", "10.77.3.12", RedisCluster="another")
    gone = described(1, "a", "10.77.3.13", state="terminated")
    plan = build_plan(SUBNETS, [builder, other, gone], TAGS, 3, "sandbox", 11)
    assert [(i["name"], i["private_ip_address"]) for i in plan["launch"]] == [
        ("sandbox-1", "10.77.3.13"), ("sandbox-2", "10.77.2.11"), ("sandbox-3", "10.77.1.11")]


def test_ec2_chooses_the_address_when_first_host_is_zero():
    assert {i["private_ip_address"] for i in build_plan(SUBNETS, [], TAGS, 6, "prod", 0)["launch"]} == {""}


@pytest.mark.parametrize("subnets, tags, match", [
    (SUBNETS + [{"id": "subnet-x", "availability_zone": "us-west-2a", "cidr_block": "10.77.9.0/24"}], TAGS,
     "two subnets in us-west-2a"),
    ([{"id": "subnet-a", "availability_zone": "us-west-2a"}], TAGS, "needs id, availability_zone and cidr_block"),
    (SUBNETS, {}, "cluster_tags is empty"),
    ([], TAGS, "no availability zone"),
])
def test_bad_input_is_refused(subnets, tags, match):
    with pytest.raises(InstancePlanError, match=match):
        build_plan(subnets, [], tags, 6, "sandbox", 11)
