# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which failed cluster nodes are gone for good, by their EC2 instances.

A node the cluster marks failed may be an instance that is only stopped
(maintenance, a stop/start to change the instance type): it comes back with
its data and its node ID, and forgetting it would throw that away. Only a
node whose instance is terminated (or shutting down), or no longer known to
EC2 at all, may be forgotten; so may a node whose address now answers as
another node (the instance was replaced and the new one got the same IP).

Pure: takes cluster_topology's topology report and the instances of
amazon.aws.ec2_instance_info (queried by private IP, in every state).
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Sequence

GONE_STATES = ("shutting-down", "terminated")


class LostNodesError(ValueError):
    """The instance listing cannot be trusted to decide; the message says why."""


def _ip(address: str) -> str:
    return address.rsplit(":", 1)[0]


def _state(instance: Mapping[str, Any]) -> str:
    state = instance.get("state") or {}
    return str(state.get("name", "") if isinstance(state, Mapping) else state)


def forgettable_nodes(topology: Sequence[Mapping[str, Any]],
                      instances: Sequence[Mapping[str, Any]]) -> Dict[str, Any]:
    """Split the failed nodes of topology into those that may be forgotten and those kept.

    Returns {"forget": [address, ...], "keep": [address, ...], "report":
    ["forget <address>: <why>", "keep <address>: <why>", ...],
    "gone_instance_ids": [...]}, sorted by address; gone_instance_ids are the
    terminated (or shutting-down) instances at the forgotten addresses, whose
    host keys the controller forgets. With failed nodes, raises LostNodesError when a live member's
    instance is missing from the listing (wrong region, account or filter):
    such a listing would make every failed node look gone.
    """
    failed = sorted({item["address"] for item in topology if str(item.get("role", "")).startswith("failed ")})
    if not failed:
        return {"forget": [], "keep": [], "report": [], "gone_instance_ids": []}
    live = {item["address"]: item.get("node_id", "") for item in topology
            if item.get("role") in ("master", "replica") and item.get("address")}
    by_ip: Dict[str, List[Mapping[str, Any]]] = {}
    for instance in instances:
        by_ip.setdefault(str(instance.get("private_ip_address") or ""), []).append(instance)

    unseen = sorted(address for address in live
                    if not any(_state(i) not in GONE_STATES for i in by_ip.get(_ip(address), [])))
    if unseen:
        raise LostNodesError(
            "the EC2 listing has no instance for the live cluster nodes %s: it does not see this cluster (region, "
            "account or filters), so it cannot tell which failed nodes are gone" % ", ".join(unseen))

    forget, keep, report, gone_ids = [], [], [], set()
    for address in failed:
        others = sorted(a for a in live if _ip(a) == _ip(address))
        present = sorted(((i.get("instance_id", "?"), _state(i)) for i in by_ip.get(_ip(address), [])
                          if _state(i) not in GONE_STATES))
        gone = sorted((i.get("instance_id", "?"), _state(i)) for i in by_ip.get(_ip(address), [])
                      if _state(i) in GONE_STATES)
        if others:
            why = "its address now answers as another node (%s)" % ", ".join(
                "%s %s" % (a, live[a][:8]) for a in others)
        elif present:
            keep.append(address)
            report.append("keep %s: instance %s, the node may come back" % (
                address, ", ".join("%s is %s" % item for item in present)))
            continue
        elif gone:
            why = "instance %s" % ", ".join("%s is %s" % item for item in gone)
        else:
            why = "no EC2 instance has the private IP %s" % _ip(address)
        forget.append(address)
        report.append("forget %s: %s" % (address, why))
        gone_ids.update(instance_id for instance_id, _ in gone if instance_id != "?")
    return {"forget": forget, "keep": keep, "report": report, "gone_instance_ids": sorted(gone_ids)}
