# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters between the inventory, the cluster_topology module and people.

Thin shims over module_utils/topology_view.py; each filter is documented in
its own plugins/filter/<name>.yml."""

from __future__ import annotations

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
