# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which node instances to launch, per availability zone.

The collection owns the node instances (Terraform owns only the base
resources), so one provisioning step, the same on AWS and in the sandbox,
tops every AZ up to its share of the desired node count. It never
terminates: scale-in and node replacement are explicit playbooks. An
instance that is stopped (maintenance) still holds its place: launching a
stand-in for it would give the cluster a node too many when it comes back.
"""

from __future__ import annotations

import ipaddress

from typing import Dict, List, Mapping, Sequence

# Instance states that hold a place in the cluster.
PRESENT_STATES = ("pending", "running", "stopping", "stopped")


class InstancePlanError(ValueError):
    """The request cannot be planned; nothing was launched."""


def shares(zones: Sequence[str], node_count: int) -> Dict[str, int]:
    """Nodes per AZ: round-robin over the sorted AZs, the first ones take the remainder."""
    zones = sorted(set(zones))
    if not zones:
        raise InstancePlanError("no availability zone to launch in (private_subnet_ids is empty)")
    if isinstance(node_count, bool) or not isinstance(node_count, int) or node_count < 0:
        raise InstancePlanError("node count must be a whole number >= 0, not %r" % (node_count,))
    base, extra = divmod(node_count, len(zones))
    return {zone: base + (1 if index < extra else 0) for index, zone in enumerate(zones)}


def plan_launches(zones: Sequence[str], node_count: int, existing: Sequence[Mapping], name_prefix: str) -> dict:
    """What to launch so every AZ holds its share.

    existing: the cluster's instances, each {'instance_id', 'availability_zone', 'state', 'name'}.
    Returns {'launch': [{'availability_zone', 'name'}], 'present': {az: n}, 'wanted': {az: n},
    'surplus': {az: n}, 'outside': [instance ids in AZs without a subnet]}.
    New names take the lowest numbers <name_prefix>-<n> not used by a present instance.
    """
    wanted = shares(zones, node_count)
    present = {zone: 0 for zone in wanted}
    outside, used = [], set()
    for instance in existing:
        if instance.get("state") not in PRESENT_STATES:
            continue
        zone = instance.get("availability_zone")
        if zone not in present:
            outside.append(instance.get("instance_id"))
            continue
        present[zone] += 1
        used.add(instance.get("name"))
    launch: List[dict] = []
    number = 0
    for zone in sorted(wanted):
        for _ in range(max(0, wanted[zone] - present[zone])):
            number += 1
            while "%s-%d" % (name_prefix, number) in used:
                number += 1
            launch.append({"availability_zone": zone, "name": "%s-%d" % (name_prefix, number)})
    surplus = {zone: present[zone] - wanted[zone] for zone in wanted if present[zone] > wanted[zone]}
    return {"launch": launch, "present": present, "wanted": wanted, "surplus": surplus,
            "outside": sorted(i for i in outside if i)}


# EC2 reserves the network address, the next three (router, DNS, future use)
# and the broadcast address of every subnet.
FIRST_USABLE_HOST = 4


def plan_addresses(launch: Sequence[Mapping], cidrs: Mapping[str, str], first_host: int,
                   taken: Sequence[str]) -> List[str]:
    """A private IP for each planned launch, in order ('' each when first_host is 0: EC2 chooses).

    Each launch gets the lowest address of its AZ's subnet at or above host
    number first_host that no instance holds (taken) and no earlier launch got,
    so a fixed layout (the sandbox's .11, .12, ...) is kept and a replacement
    takes the address its predecessor released.
    """
    if isinstance(first_host, bool) or not isinstance(first_host, int) or first_host < 0:
        raise InstancePlanError("first host must be a whole number >= 0, not %r" % (first_host,))
    if first_host == 0:
        return ["" for _ in launch]
    if first_host < FIRST_USABLE_HOST:
        raise InstancePlanError("first host %d is reserved by EC2 (the first usable is %d)"
                                % (first_host, FIRST_USABLE_HOST))
    networks = {}
    for zone, cidr in cidrs.items():
        try:
            networks[zone] = ipaddress.IPv4Network(cidr)
        except ValueError as exc:
            raise InstancePlanError("subnet of %s: %s" % (zone, exc)) from None
    used = {str(address) for address in taken if address}
    addresses = []
    for item in launch:
        zone = item["availability_zone"]
        if zone not in networks:
            raise InstancePlanError("no subnet CIDR for %s" % zone)
        network = networks[zone]
        chosen = ""
        for host in range(first_host, network.num_addresses - 1):
            candidate = str(network.network_address + host)
            if candidate not in used:
                chosen = candidate
                break
        if not chosen:
            raise InstancePlanError("subnet %s of %s has no free address at or above host %d"
                                    % (network, zone, first_host))
        used.add(chosen)
        addresses.append(chosen)
    return addresses
