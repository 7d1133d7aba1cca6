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

With two AZs one AZ always holds at least half of the masters (the majority
of them when their number is odd), so losing that AZ can never be survived:
with two AZs the most the placement can guarantee is that every slot keeps a
copy in each AZ. With three or more AZs the failover majority can survive
the loss of any one AZ only when no AZ holds more than ceil(M/2) - 1 of the M
masters, which the AZs' node counts may or may not allow
(failover_majority_possible); four masters over three AZs never can.

Pure (no Ansible, no redis-py): runs on the controller, in modules and on the
nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable, List, Mapping, Optional, Sequence

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


@dataclass(frozen=True)
class Risk:
    """One consequence of losing one AZ.

    kind is MAJORITY (the masters left cannot elect replicas: only planned
    failovers that move masters out of that AZ help) or NO_COPY (a shard has
    no live member outside the AZ: only a replica elsewhere helps).
    """

    zone: str
    kind: str
    message: str
    shard: str = ""  # master address, for NO_COPY


MAJORITY = "majority"
NO_COPY = "no_copy"


def az_loss_risk_details(members: Iterable[Member]) -> List[Risk]:
    """az_loss_risks() as Risk records, for callers that act on the kind."""
    members = list(members)
    shards = _shards(members)
    if not shards:
        return []
    zones = sorted({m.zone for m in members if not m.failed})
    total = len(shards)
    risks = []
    for zone in zones:
        name = zone or "nodes without an AZ"
        lost_masters = [a for a, shard in shards.items() if shard[0].zone == zone]
        left = total - len(lost_masters)
        if lost_masters and left < majority(total):
            risks.append(Risk(zone, MAJORITY,
                              "losing %s: %d of %d masters go and the %d left cannot elect replicas (a failover needs "
                              "%d votes)" % (name, len(lost_masters), total, left, majority(total))))
        for address, shard in sorted(shards.items()):
            if all(member.zone == zone for member in shard):
                risks.append(Risk(zone, NO_COPY, "losing %s: the %d slots of %s have no copy outside it"
                                  % (name, shard[0].slots, address), shard=address))
    return risks


def az_loss_risks(members: Iterable[Member]) -> List[str]:
    """What the loss of each AZ would cost; [] when any one AZ can be lost.

    Messages name the AZ and the consequence, sorted by AZ.
    """
    return [risk.message for risk in az_loss_risk_details(members)]


def majority_kept(masters_per_zone: Mapping[str, int]) -> bool:
    """Would the masters outside each AZ still be a failover majority?"""
    total = sum(masters_per_zone.values())
    return all(total - count >= majority(total) for count in masters_per_zone.values() if count)


def failover_majority_possible(masters: int, nodes_per_zone: Mapping[str, int]) -> bool:
    """Can any placement of `masters` masters on these AZs' nodes keep a
    failover majority whichever AZ is lost?

    The best placement fills AZs evenly: the smallest per-AZ cap k whose
    capacity sum(min(nodes, k)) holds every master. The loss of an AZ with k
    masters is survived when the others keep a majority: masters - k >=
    majority(masters). Never true with fewer than three AZs.
    """
    if masters <= 0:
        return True
    capacity = [count for count in nodes_per_zone.values() if count > 0]
    for cap in range(1, masters + 1):
        if sum(min(count, cap) for count in capacity) >= masters:
            return masters - cap >= majority(masters)
    return False


def az_loss_safe(members: Iterable[Member]) -> bool:
    """True when losing any one AZ keeps every slot served and writable."""
    return not az_loss_risks(members)


def slots_served(members: Iterable[Member]) -> int:
    """Slots served by live masters (SLOT_COUNT when the cluster is complete)."""
    return min(SLOT_COUNT, sum(m.slots for m in members if m.is_master and not m.failed))
