# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Would the cluster survive the loss of one availability zone?

One home for the rule that the topology planner enforces, site.yml reports
and the metrics publisher turns into ``AzLossSafe``. Losing an AZ is survived
when, for every AZ:

- every shard that serves slots keeps a live member outside that AZ (else its
  slots have no copy left), and
- if the AZ holds masters, the masters outside it are a majority of all
  masters that serve slots: only a majority can elect replicas to replace the
  lost masters (Redis Cluster failover), so without it the lost masters'
  slots stay unwritable however many replicas survive.

With two AZs and an odd number of masters one AZ always holds the majority of
masters, so losing that AZ can never be survived: with two AZs the most the
placement can guarantee is that every slot keeps a copy in each AZ.

Pure (no Ansible, no redis-py): runs on the controller, in modules and on the
nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.redis_info import SLOT_COUNT


@dataclass(frozen=True)
class Member:
    """One cluster node as far as AZ safety is concerned."""

    address: str
    zone: str  # "" when unknown (a node outside the inventory)
    is_master: bool
    master: Optional[str] = None  # the master's address, for a replica
    slots: int = 0  # slots served, for a master
    failed: bool = False


def _shards(members: Sequence[Member]) -> Dict[str, List[Member]]:
    """Live shards that serve slots: master address -> [master, live replicas]."""
    shards = {m.address: [m] for m in members if m.is_master and m.slots and not m.failed}
    for member in members:
        if not member.is_master and not member.failed and member.master in shards:
            shards[member.master].append(member)
    return shards


def majority(masters: int) -> int:
    """Votes a failover needs: more than half of the masters that serve slots."""
    return masters // 2 + 1


def az_loss_risks(members: Iterable[Member]) -> List[str]:
    """What the loss of each AZ would cost; [] when any one AZ can be lost.

    Messages name the AZ and the consequence, sorted by AZ.
    """
    members = list(members)
    shards = _shards(members)
    if not shards:
        return []
    zones = sorted({m.zone for m in members if not m.failed})
    total = len(shards)
    risks = []
    for zone in zones:
        lost_masters = [a for a, shard in shards.items() if shard[0].zone == zone]
        left = total - len(lost_masters)
        if lost_masters and left < majority(total):
            risks.append(
                "losing %s: %d of %d masters go and the %d left cannot elect replicas (a failover needs %d votes)"
                % (zone or "nodes without an AZ", len(lost_masters), total, left, majority(total)))
        for address, shard in sorted(shards.items()):
            if all(member.zone == zone for member in shard):
                risks.append("losing %s: the %d slots of %s have no copy outside it"
                             % (zone or "nodes without an AZ", shard[0].slots, address))
    return risks


def az_loss_safe(members: Iterable[Member]) -> bool:
    """True when losing any one AZ keeps every slot served and writable."""
    return not az_loss_risks(members)


def slots_served(members: Iterable[Member]) -> int:
    """Slots served by live masters (SLOT_COUNT when the cluster is complete)."""
    return min(SLOT_COUNT, sum(m.slots for m in members if m.is_master and not m.failed))
