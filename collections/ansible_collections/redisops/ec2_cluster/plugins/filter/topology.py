# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters between the inventory, the cluster_topology module and people."""

from __future__ import annotations

DOCUMENTATION = r"""
---
name: topology_nodes
short_description: The cluster_topology nodes option from inventory hosts
version_added: "0.1.0"
description:
  - Builds the O(redisops.ec2_cluster.cluster_topology#module:nodes) list from the hosts' C(private_ip_address) and
    C(placement.availability_zone), with optional C(redis_topology_port) and C(redis_topology_role) host variables.
  - The filter file also provides C(topology_table), which turns a topology report into aligned lines.
options:
  _input:
    description: C(hostvars).
    type: dict
    required: true
  hosts:
    description: Inventory hostnames of the cluster.
    type: list
    elements: str
    required: true
  default_port:
    description: Port of hosts without C(redis_topology_port).
    type: int
    default: 6379
"""

EXAMPLES = r"""
- name: Build the desired nodes
  ansible.builtin.set_fact:
    nodes: "{{ hostvars | redisops.ec2_cluster.topology_nodes(groups['redis_cluster']) }}"

- name: Print a topology report
  ansible.builtin.debug:
    msg: "{{ result.topology_after | redisops.ec2_cluster.topology_table }}"
"""

RETURN = r"""
_value:
  description: One dict per node (host, port, availability_zone, role), sorted by address.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.topology_view import (
    InventoryError,
    desired_nodes,
    topology_table,
)


def topology_nodes(hostvars, hosts, default_port=6379):
    try:
        return desired_nodes(hostvars, hosts, int(default_port))
    except InventoryError as error:
        raise AnsibleFilterError("topology_nodes: %s" % error) from error


class FilterModule:
    def filters(self):
        return {"topology_nodes": topology_nodes, "topology_table": topology_table}
