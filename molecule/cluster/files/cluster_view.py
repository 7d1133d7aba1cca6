#!/usr/bin/python3
"""Print this node's view of the cluster as JSON, with placement facts (runs ON a node).

Usage: cluster_view.py AZ_MAP_JSON   ({"10.83.1.11": "us-west-2a", ...})
Admin user and password come from the environment (CLUSTER_VIEW_USER,
REDISCLI_AUTH), never from the command line.
"""

import json
import os
import sys

import redis


def main():
    zones = json.loads(sys.argv[1])
    client = redis.Redis(host="127.0.0.1", port=6379, username=os.environ["CLUSTER_VIEW_USER"],
                         password=os.environ["REDISCLI_AUTH"], decode_responses=True, socket_timeout=10)
    # Raw replies: redis-py's parsers for CLUSTER INFO/NODES differ between versions.
    client.response_callbacks.clear()
    info = dict(line.split(":", 1) for line in client.execute_command("CLUSTER INFO").splitlines() if ":" in line)
    nodes = {}
    for line in client.execute_command("CLUSTER NODES").splitlines():
        fields = line.split()
        slots = 0
        for item in fields[8:]:
            if item.startswith("["):
                continue
            first, _, last = item.partition("-")
            slots += int(last or first) - int(first) + 1
        flags = fields[2].split(",")
        nodes[fields[0]] = {"id": fields[0], "ip": fields[1].split(":")[0], "flags": flags,
                            "role": "master" if "master" in flags else "replica",
                            "master_id": None if fields[3] == "-" else fields[3], "slots": slots,
                            "failed": "fail" in flags or "fail?" in flags}
    masters = [n for n in nodes.values() if n["role"] == "master" and n["slots"]]
    replicas = [n for n in nodes.values() if n["role"] == "replica"]
    for node in nodes.values():
        node["az"] = zones.get(node["ip"])
    print(json.dumps({
        "cluster_state": info.get("cluster_state"),
        "slots_assigned": int(info.get("cluster_slots_assigned", 0)),
        "slots_ok": int(info.get("cluster_slots_ok", 0)),
        "known_nodes": int(info.get("cluster_known_nodes", 0)),
        "nodes": sorted(nodes.values(), key=lambda n: n["ip"]),
        "failed": sorted(n["ip"] for n in nodes.values() if n["failed"]),
        "master_ips": sorted(n["ip"] for n in masters),
        "master_azs": sorted(n["az"] for n in masters),
        "master_az_counts": {az: sum(1 for n in masters if n["az"] == az) for az in sorted(set(zones.values()))},
        "replica_ips": sorted(n["ip"] for n in replicas if not n["failed"]),
        "replicas_in_master_az": sorted(n["ip"] for n in replicas if n["master_id"] in nodes and not n["failed"]
                                        and nodes[n["master_id"]]["az"] == n["az"]),
        "orphan_masters": sorted(n["ip"] for n in masters
                                 if not any(r["master_id"] == n["id"] and not r["failed"] for r in replicas)),
    }))


if __name__ == "__main__":
    main()
