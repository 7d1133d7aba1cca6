# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a backup set goes back into a cluster, as a pure function.

plan_restore(manifests, nodes, force) checks everything that must hold before
any node is touched and says which node does what:

- the set covers every slot exactly once (a complete set);
- the target engine reads every shard's RDB format;
- the target cluster serves every slot, and holds no keys unless forced;
- same shape (every manifest's slot ranges are exactly one current master's):
  each shard's RDB becomes its master's dump.rdb, the replicas resync;
- otherwise (another number of masters, other ranges): each shard's RDB is
  loaded into a temporary server on one master's loopback and its keys move
  through cluster routing; shards are spread over the masters, each going
  where most of its slots now live.

``nodes`` are the facts redis_node_info reports per inventory host: host,
node_id, address, role, master_id, slot_ranges, keys, engine, version.
"""

from __future__ import annotations

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_layout as layout
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.redis_info import SLOT_COUNT

SAME_SHAPE = "same_shape"
REDISTRIBUTE = "redistribute"


class RestorePlanError(ValueError):
    """The restore is refused; the message lists every reason."""


def _ranges_text(ranges):
    return ",".join("%d-%d" % (first, last) for first, last in ranges)


def _overlap(a, b):
    total = 0
    for first_a, last_a in a:
        for first_b, last_b in b:
            total += max(0, min(last_a, last_b) - max(first_a, first_b) + 1)
    return total


def shard_name(manifest):
    return layout.shard_name(manifest["shard"]["first_slot"], manifest["shard"]["last_slot"])


def refusals(manifests, nodes, force=False):
    """Every reason to refuse the restore; [] when it may go ahead."""
    problems = []
    if not manifests:
        return ["the set has no manifests"]
    cover = layout.coverage(manifests)
    if cover["missing"] or cover["overlapping"]:
        problems.append("the set is incomplete: slots %s have no shard, slots %s have more than one" % (
            _ranges_text(cover["missing"]) or "none", _ranges_text(cover["overlapping"]) or "none"))
    masters = [n for n in nodes if n.get("role") == "master" and n.get("slot_ranges")]
    if not masters:
        problems.append("the target cluster has no master serving slots")
        return problems
    engines = sorted({(n.get("engine"), n.get("version")) for n in nodes})
    if len(engines) != 1:
        problems.append("the target nodes run different engines or versions: %s" % ", ".join(
            "%s %s" % e for e in engines))
    engine, version = engines[0]
    for manifest in sorted(manifests, key=lambda m: m["shard"]["first_slot"]):
        rdb = int(manifest["engine"]["rdb_version"])
        if not layout.rdb_readable(engine, version, rdb):
            problems.append("%s was written by %s %s in RDB format %d; the target's %s %s reads up to format %d" % (
                shard_name(manifest), manifest["engine"]["name"], manifest["engine"]["version"], rdb, engine,
                version, layout.rdb_read_max(engine, version)))
    served = layout.normalise_ranges([r for m in masters for r in m["slot_ranges"]])
    if layout.slot_count(served) != SLOT_COUNT or sum(layout.slot_count(m["slot_ranges"]) for m in masters) \
            != SLOT_COUNT:
        problems.append("the target cluster serves %d of %d slots: form it completely first" % (
            layout.slot_count(served), SLOT_COUNT))
    holding = [n for n in nodes if int(n.get("keys") or 0) > 0]
    if holding and not force:
        problems.append("the target holds data (%s); restore_force=true overwrites it" % ", ".join(
            "%s: %d keys" % (n["host"], int(n["keys"])) for n in sorted(holding, key=lambda n: n["host"])))
    return problems


def plan_restore(manifests, nodes, force=False):
    """The restore plan (a dict), or RestorePlanError with every refusal."""
    problems = refusals(manifests, nodes, force)
    if problems:
        raise RestorePlanError("; ".join(problems))
    masters = sorted((n for n in nodes if n.get("role") == "master" and n.get("slot_ranges")),
                     key=lambda n: layout.normalise_ranges(n["slot_ranges"])[0])
    by_ranges = {tuple(layout.normalise_ranges(m["slot_ranges"])): m for m in masters}
    ordered = sorted(manifests, key=lambda m: m["shard"]["first_slot"])
    same = len(ordered) == len(masters) and all(
        tuple(layout.normalise_ranges(m["shard"]["slot_ranges"])) in by_ranges for m in ordered)

    hosts = {n["host"]: {"fetch": [], "master_of": None, "replica_of": None, "load": [], "flush": False}
             for n in nodes}
    shards = []
    load_count = {m["host"]: 0 for m in masters}
    cap = -(-len(ordered) // len(masters))
    for manifest in ordered:
        ranges = layout.normalise_ranges(manifest["shard"]["slot_ranges"])
        obj = manifest["objects"][0]
        shard = {"name": shard_name(manifest), "slot_ranges": [list(r) for r in ranges],
                 "keys_expected": int(manifest["keys"]), "object": dict(obj),
                 "source": manifest["source"], "engine": manifest["engine"]}
        if same:
            master = by_ranges[tuple(ranges)]
            replicas = sorted(n["host"] for n in nodes if n.get("master_id") == master["node_id"])
            shard.update(target_host=master["host"], target_node_id=master["node_id"], replica_hosts=replicas)
            hosts[master["host"]]["master_of"] = shard["name"]
            for replica in replicas:
                hosts[replica]["replica_of"] = shard["name"]
        else:
            # Most keys then travel over the loopback; no master loads more than its share.
            master = max((m for m in masters if load_count[m["host"]] < cap),
                         key=lambda m: (_overlap(ranges, layout.normalise_ranges(m["slot_ranges"])),
                                        -load_count[m["host"]], -layout.normalise_ranges(m["slot_ranges"])[0][0]))
            load_count[master["host"]] += 1
            shard.update(target_host=master["host"], target_node_id=master["node_id"], replica_hosts=[])
            hosts[master["host"]]["load"].append(shard["name"])
        hosts[shard["target_host"]]["fetch"].append(shard["name"])
        shards.append(shard)
    if not same and force:
        for master in masters:
            hosts[master["host"]]["flush"] = int(master.get("keys") or 0) > 0
    return {"mode": SAME_SHAPE if same else REDISTRIBUTE, "shards": shards, "hosts": hosts,
            "keys_expected": sum(s["keys_expected"] for s in shards)}


def report(plan, loaded_by_host, moved_by_host):
    """Keys expected (manifest) and found per shard once the restore ran.

    loaded_by_host: host -> redis_node_data result of the master (same shape);
    moved_by_host: host -> redis_rdb_migrate result (redistribute).
    """
    rows = []
    for shard in plan["shards"]:
        host = shard["target_host"]
        found = None
        if plan["mode"] == SAME_SHAPE:
            found = (loaded_by_host.get(host) or {}).get("keys")
        else:
            for result in (moved_by_host.get(host) or {}).get("shards", []):
                if result.get("name") == shard["name"]:
                    found = result.get("keys_moved")
        rows.append({"shard": shard["name"], "host": host, "keys_expected": shard["keys_expected"],
                     "keys_found": found, "match": found == shard["keys_expected"]})
    lines = ["%s on %s: %d keys expected (manifest), %s found" % (
        r["shard"], r["host"], r["keys_expected"], "?" if r["keys_found"] is None else r["keys_found"])
        for r in rows]
    return {"set_id": plan.get("set_id"), "mode": plan["mode"], "shards": rows, "lines": lines,
            "all_found": all(r["match"] for r in rows)}
