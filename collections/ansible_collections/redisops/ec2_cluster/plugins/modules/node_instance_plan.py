#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: node_instance_plan
short_description: Decide which node instances to launch, per availability zone, and at which private IP
version_added: "0.4.0"
description:
  - Pure decision, no API call; the caller reads the subnets and instances (M(amazon.aws.ec2_vpc_subnet_info),
    M(amazon.aws.ec2_instance_info)) and launches what is returned (M(amazon.aws.ec2_instance)).
  - Tops every AZ of O(subnets) up to its share of O(node_count) (round-robin over the sorted AZs). An instance of
    the cluster that is pending, running, stopping or stopped holds its place; nothing is ever terminated.
  - New names are the lowest C(<name_prefix>-<n>) no present instance of the cluster uses.
  - With O(first_host) set, each launch gets the lowest free address of its subnet at or above that host number
    (an address any instance in O(instances) holds is not free); with C(0), EC2 chooses.
  - The rules are the pure functions of C(module_utils/instance_plan.py).
author:
  - redisops maintainers
options:
  subnets:
    description:
      - The private subnets to launch in, one per AZ, as M(amazon.aws.ec2_vpc_subnet_info) returns them
        (C(id), C(availability_zone), C(cidr_block)).
    type: list
    elements: dict
    required: true
  instances:
    description:
      - Every instance in those subnets, as M(amazon.aws.ec2_instance_info) returns them; the cluster's are those
        carrying every tag of O(cluster_tags), the others only hold addresses.
    type: list
    elements: dict
    default: []
  cluster_tags:
    description: Tags that make an instance one of the cluster's (those the inventory filters on).
    type: dict
    required: true
  node_count:
    description: How many node instances the cluster has.
    type: int
    required: true
  name_prefix:
    description: Name tag prefix of the nodes, C(<name_prefix>-<n>).
    type: str
    required: true
  first_host:
    description: Host number of the lowest private IP to give a new node in its subnet; C(0) lets EC2 choose.
    type: int
    default: 0
attributes:
  check_mode:
    description: Decides only; the same in check mode.
    support: full
  diff_mode:
    description: No diff.
    support: none
"""

EXAMPLES = r"""
- name: Decide what to launch
  redisops.ec2_cluster.node_instance_plan:
    subnets: "{{ subnet_info.subnets }}"
    instances: "{{ instance_info.instances }}"
    cluster_tags: {Role: redis-cluster, RedisCluster: prod}
    node_count: 6
    name_prefix: prod
  register: plan

- name: Launch it
  amazon.aws.ec2_instance:
    name: "{{ item.name }}"
    vpc_subnet_id: "{{ item.subnet_id }}"
    image_id: ami-0123456789abcdef0
  loop: "{{ plan.launch }}"
"""

RETURN = r"""
launch:
  description: The instances to launch, in order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name tag.
      type: str
      sample: prod-3
    availability_zone:
      description: Its AZ.
      type: str
      sample: us-west-2b
    subnet_id:
      description: The private subnet of that AZ.
      type: str
      sample: subnet-0123456789abcdef0
    private_ip_address:
      description: Its private IP, empty when EC2 chooses.
      type: str
      sample: 10.77.2.11
wanted:
  description: Nodes per AZ the cluster should have.
  returned: always
  type: dict
  sample: {"us-west-2a": 2, "us-west-2b": 2, "us-west-2c": 2}
present:
  description: Nodes per AZ that hold a place now (pending, running, stopping or stopped).
  returned: always
  type: dict
surplus:
  description: AZs with more nodes than their share, and how many more (reported, never terminated).
  returned: always
  type: dict
outside:
  description: Instance ids of the cluster in an AZ without a subnet in O(subnets) (reported only).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.instance_plan import (
    InstancePlanError,
    PRESENT_STATES,
    plan_addresses,
    plan_launches,
)


def _state(instance):
    state = instance.get("state")
    return state.get("name") if isinstance(state, dict) else state


def _zone(instance):
    return (instance.get("placement") or {}).get("availability_zone") or instance.get("availability_zone")


def normalise(instances, cluster_tags):
    """(the cluster's instances for the planner, the addresses every live instance holds)."""
    cluster, taken = [], []
    for instance in instances:
        tags = instance.get("tags") or {}
        if _state(instance) in PRESENT_STATES and instance.get("private_ip_address"):
            taken.append(instance["private_ip_address"])
        if all(tags.get(key) == value for key, value in cluster_tags.items()):
            cluster.append({"instance_id": instance.get("instance_id"), "availability_zone": _zone(instance),
                            "state": _state(instance), "name": tags.get("Name")})
    return cluster, taken


def build_plan(subnets, instances, cluster_tags, node_count, name_prefix, first_host):
    by_zone = {}
    for subnet in subnets:
        zone = subnet.get("availability_zone")
        if not zone or not subnet.get("id") or not subnet.get("cidr_block"):
            raise InstancePlanError("a subnet needs id, availability_zone and cidr_block: %r" % (subnet,))
        if zone in by_zone:
            raise InstancePlanError("two subnets in %s (%s, %s): one private subnet per AZ"
                                    % (zone, by_zone[zone]["id"], subnet["id"]))
        by_zone[zone] = subnet
    if not cluster_tags:
        raise InstancePlanError("cluster_tags is empty: every instance would count as the cluster's")
    cluster, taken = normalise(instances, cluster_tags)
    plan = plan_launches(list(by_zone), node_count, cluster, name_prefix)
    addresses = plan_addresses(plan["launch"], {z: s["cidr_block"] for z, s in by_zone.items()}, first_host, taken)
    plan["launch"] = [dict(item, subnet_id=by_zone[item["availability_zone"]]["id"], private_ip_address=address)
                      for item, address in zip(plan["launch"], addresses)]
    return plan


def main():
    module = AnsibleModule(
        argument_spec={
            "subnets": {"type": "list", "elements": "dict", "required": True},
            "instances": {"type": "list", "elements": "dict", "default": []},
            "cluster_tags": {"type": "dict", "required": True},
            "node_count": {"type": "int", "required": True},
            "name_prefix": {"type": "str", "required": True},
            "first_host": {"type": "int", "default": 0},
        },
        supports_check_mode=True,
    )
    params = module.params
    try:
        plan = build_plan(params["subnets"], params["instances"], params["cluster_tags"], params["node_count"],
                          params["name_prefix"], params["first_host"])
    except InstancePlanError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **plan)


if __name__ == "__main__":
    main()
