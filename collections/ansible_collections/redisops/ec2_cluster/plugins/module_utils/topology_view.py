# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure functions between the inventory, the cluster_topology module and people:
the module's desired-node list from inventory host variables, and a readable
table of a topology report."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.redis_info import SLOT_COUNT


class InventoryError(ValueError):
    """A host lacks what the cluster needs to know about it."""


def desired_nodes(hostvars: Mapping[str, Mapping[str, Any]], hosts: Iterable[str],
                  default_port: int = 6379) -> list[dict]:
    """The cluster_topology `nodes` option for `hosts`, sorted by address.

    Each host needs `private_ip_address` and `placement.availability_zone`
    (what amazon.aws.aws_ec2 provides); `redis_topology_port` and
    `redis_topology_role` may override the port and pin a role.
    """
    nodes = []
    for host in hosts:
        variables = hostvars.get(host)
        if variables is None:
            raise InventoryError("host %s is not in the inventory" % host)
        address = variables.get("private_ip_address")
        zone = (variables.get("placement") or {}).get("availability_zone")
        if not address:
            raise InventoryError("host %s has no private_ip_address" % host)
        if not zone:
            raise InventoryError("host %s has no placement.availability_zone" % host)
        nodes.append({
            "host": str(address),
            "port": int(variables.get("redis_topology_port", default_port)),
            "availability_zone": str(zone),
            "role": str(variables.get("redis_topology_role", "auto")),
        })
    return sorted(nodes, key=lambda node: (_ip_key(node["host"]), node["port"]))


def _ip_key(address: str) -> tuple:
    parts = address.split(".")
    if len(parts) == 4 and all(part.isdigit() for part in parts):
        return tuple(int(part) for part in parts)
    return (address,)


COLUMNS = ("node", "AZ", "role", "master", "slots", "keys")


def topology_table(report: Sequence[Mapping[str, Any]]) -> list[str]:
    """Aligned lines: masters first (by first slot), each followed by its
    replicas; nodes outside that (failed, standalone) last."""
    masters = sorted((item for item in report if item["role"] == "master"),
                     key=lambda item: (_first_slot(item), item["address"]))
    ordered, seen = [], set()
    for master in masters:
        ordered.append(master)
        seen.add(master["address"])
        for replica in sorted((i for i in report if i.get("master") == master["address"] and i["role"] == "replica"),
                              key=lambda i: i["address"]):
            ordered.append(replica)
            seen.add(replica["address"])
    ordered += sorted((i for i in report if i["address"] not in seen), key=lambda i: i["address"])
    rows = [COLUMNS] + [(
        item["address"],
        item.get("availability_zone") or "-",
        item["role"],
        item.get("master") or "-",
        ",".join(item.get("slots") or []) or "-",
        str(item.get("keys", 0)),
    ) for item in ordered]
    widths = [max(len(row[column]) for row in rows) for column in range(len(COLUMNS))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


def _first_slot(item: Mapping[str, Any]) -> int:
    slots = item.get("slots") or []
    return int(str(slots[0]).split("-")[0]) if slots else SLOT_COUNT
