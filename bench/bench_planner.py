#!/usr/bin/env python3
"""Time and peak memory of the cluster topology planner.

For 6, 30, 90 and 300 desired nodes over 3 AZs (1 replica per master) it
plans a create on empty nodes and a scale-out (+1/3 more nodes) of the
resulting cluster, and prints wall time (best of a few runs) and the peak
memory tracemalloc saw during one plan.

Run from the repo root: .venv/bin/python bench/bench_planner.py
"""

from __future__ import annotations

import os
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "collections"))

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.cluster_model import (  # noqa: E402
    ClusterState,
    NodeState,
)
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.cluster_planner import (  # noqa: E402
    DesiredNode,
    Spec,
    plan,
    simulate,
)

ZONES = ("us-west-2a", "us-west-2b", "us-west-2c")
SIZES = (6, 30, 90, 300)
REPEATS = 3


def desired(index):
    return DesiredNode("10.0.%d.%d" % (index % 3 + 1, 10 + index // 3), 6379, ZONES[index % 3])


def add_fresh(state, nodes):
    for node in nodes:
        state.nodes["id-" + node.address] = NodeState(
            node_id="id-" + node.address, address=node.address, role="master", in_cluster=False,
            availability_zone=node.availability_zone, engine="redis", version="7.0.15")
    return state


def measure(spec, state):
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        actions = plan(spec, state)
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    plan(spec, state)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return actions, best, peak


def main():
    print("%-10s %6s %8s %10s %12s %s" % ("scenario", "nodes", "actions", "time_ms", "peak_KiB", "detail"))
    for size in SIZES:
        nodes = [desired(i) for i in range(size)]
        spec = Spec(nodes=tuple(nodes), replicas_per_master=1)
        fresh = add_fresh(ClusterState(), nodes)
        actions, seconds, peak = measure(spec, fresh)
        print("%-10s %6d %8d %10.1f %12.0f %s" % ("create", size, len(actions), seconds * 1000, peak / 1024,
                                                  "%d masters" % (size // 2)))

        cluster = simulate(fresh, actions)
        added = [desired(i) for i in range(size, size + max(3, size // 3))]
        bigger = Spec(nodes=tuple(nodes + added), replicas_per_master=1)
        add_fresh(cluster, added)
        actions, seconds, peak = measure(bigger, cluster)
        moved = sum(a.args["count"] for a in actions if a.kind == "migrate_slots")
        print("%-10s %6d %8d %10.1f %12.0f %s" % ("scale-out", size + len(added), len(actions), seconds * 1000,
                                                  peak / 1024, "+%d nodes, %d slots moved" % (len(added), moved)))


if __name__ == "__main__":
    main()
