#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: redisops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: node_health
short_description: Read a Redis or Valkey node and report what keeps it from being healthy
version_added: "0.2.0"
description:
  - Reads one node (by default 127.0.0.1 on the host the task runs on) with C(CLUSTER INFO), C(INFO replication) and
    C(INFO persistence) and returns RV(problems), a list of what is unhealthy; an empty list means healthy.
  - A node is healthy when it answers and has loaded its data set; in a cluster, when C(cluster_state) is C(ok) and all
    16384 slots are assigned and ok; as a replica, when its link to the master is up, no full sync runs, and its master
    lists it C(online) and at most O(max_replica_lag_bytes) behind (the master's C(INFO replication) is read too).
  - With O(wait_timeout=0) the node is read once. Otherwise it is read every O(poll_interval) seconds until it is
    healthy or O(wait_timeout) seconds have passed.
  - The decisions are the pure functions of C(module_utils/health_gate.py). Rolling restarts gate every node on this
    module before the next one goes down.
author:
  - redisops maintainers
options:
  in_cluster:
    description:
      - Whether the node must serve a healthy cluster. By default the node decides (it knows other cluster nodes).
      - Pass what the node was before a restart, so that a node that comes back without its cluster is not healthy.
    type: bool
  max_replica_lag_bytes:
    description: Replication offset lag a replica may have, as its master sees it, and still be healthy.
    type: int
    default: 0
  check_master:
    description: For a replica, also read its master's C(INFO replication) (link state and lag as the master sees them).
    type: bool
    default: true
  announce_ip:
    description:
      - Address the node's master lists it under (with O(login_port)). By default the node's own address in
        C(CLUSTER NODES), else O(login_host).
    type: str
  wait_timeout:
    description: Seconds to wait for the node to become healthy; V(0) reads it once.
    type: int
    default: 0
  poll_interval:
    description: Seconds between two reads while waiting.
    type: float
    default: 1
  fail_on_problems:
    description: Fail the task when the node is not healthy (after the wait). When false, only report RV(problems).
    type: bool
    default: true
extends_documentation_fragment:
  - redisops.ec2_cluster.redis
  - redisops.ec2_cluster.redis.single_node
attributes:
  check_mode:
    description: Only reads; runs the same in check mode.
    support: full
  diff_mode:
    description: Changes nothing, so there is no diff.
    support: none
"""

EXAMPLES = r"""
- name: Wait until the restarted node is healthy (at most 3 minutes)
  redisops.ec2_cluster.node_health:
    login_user: admin
    login_password: "{{ admin_password }}"
    in_cluster: true
    wait_timeout: 180
    poll_interval: 2

- name: Read a node over TLS without failing
  redisops.ec2_cluster.node_health:
    login_port: 6379
    login_user: admin
    login_password: "{{ admin_password }}"
    tls: true
    tls_ca_cert: /etc/redis-node/tls/ca.crt
    fail_on_problems: false
  register: health
"""

RETURN = r"""
problems:
  description: What keeps the node from being healthy; empty when it is healthy.
  returned: always
  type: list
  elements: str
  sample: ["cluster_state is fail, not ok", "replica 10.0.1.12 is 120 bytes behind its master (allowed 0)"]
healthy:
  description: Whether RV(problems) is empty.
  returned: always
  type: bool
address:
  description: The node read, as host:port.
  returned: always
  type: str
answered:
  description: Whether the node answered at the last read.
  returned: always
  type: bool
role:
  description: C(master) or C(slave) (the node's own word), empty when it did not answer.
  returned: always
  type: str
in_cluster:
  description: Whether the node was judged as a cluster member (O(in_cluster), else its own view).
  returned: always
  type: bool
loading:
  description: Whether the node was still loading its data set.
  returned: always
  type: bool
cluster_state:
  description: C(cluster_state) of C(CLUSTER INFO), empty outside cluster mode.
  returned: always
  type: str
cluster_slots_assigned:
  description: Slots assigned in the cluster, as the node sees it.
  returned: always
  type: int
cluster_slots_ok:
  description: Slots the node sees served without failure.
  returned: always
  type: int
master_host:
  description: Address of the master of a replica, else empty.
  returned: always
  type: str
master_port:
  description: Port of the master of a replica, else null.
  returned: always
  type: int
master_link_status:
  description: Replica link state (C(up) or C(down)), empty for a master.
  returned: always
  type: str
replica_state:
  description: How the master sees this replica (C(online), C(wait_bgsave)...), empty when unknown or not a replica.
  returned: always
  type: str
replication_lag_bytes:
  description: Bytes this replica is behind, as its master sees it; null when unknown or not a replica.
  returned: always
  type: int
waited_seconds:
  description: Seconds spent waiting for the node to become healthy.
  returned: always
  type: float
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import redis_connection, redis_nodes
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.health_gate import (
    node_problems,
    replica_as_seen_by_master,
    replica_sync_problems,
)
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.redis_info import is_replica, parse_info

COMMAND_TIMEOUT = 10


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def read_master(host, port, settings, replica, max_lag_bytes):
    """(problems, entry) of a replica (ip, port) as its master at host:port sees it."""
    client = redis_nodes.NodeClient("%s:%s" % (host, port), settings)
    try:
        replication = parse_info(client.text("INFO", "replication"))
    except redis_nodes.RedisError as exc:
        return ["the master %s:%s does not answer: %s" % (host, port, redis_nodes.describe_error(exc))], None
    finally:
        client.close()
    return (replica_sync_problems(replication, replica[0], max_lag_bytes, replica[1]),
            replica_as_seen_by_master(replication, replica[0], replica[1]))


def read_once(params, settings):
    """One reading of the node (and of its master for a replica)."""
    address = "%s:%s" % (params["login_host"], params["login_port"])
    reading = dict(address=address, answered=False, role="", in_cluster=bool(params["in_cluster"]), loading=False,
                   cluster_state="", cluster_slots_assigned=0, cluster_slots_ok=0, master_host="", master_port=None,
                   master_link_status="", replica_state="", replication_lag_bytes=None)
    client = redis_nodes.NodeClient(address, settings)
    try:
        info = redis_nodes.read_node_info(client)
        replica_ip = params["announce_ip"] or redis_nodes.own_ip(client) or params["login_host"]
    except redis_nodes.RedisError as exc:
        reading["problems"] = ["%s does not answer: %s" % (address, redis_nodes.describe_error(exc))]
        return reading
    finally:
        client.close()
    judged_in_cluster = redis_nodes.in_cluster(info) if params["in_cluster"] is None else params["in_cluster"]
    reading.update(
        answered=True, role=info.get("role", ""), in_cluster=judged_in_cluster, loading=info.get("loading") == "1",
        cluster_state=info.get("cluster_state", ""), cluster_slots_assigned=_int(info.get("cluster_slots_assigned"), 0),
        cluster_slots_ok=_int(info.get("cluster_slots_ok"), 0), master_host=info.get("master_host", ""),
        master_port=_int(info.get("master_port")), master_link_status=info.get("master_link_status", ""),
    )
    problems = node_problems(info, judged_in_cluster)
    if is_replica(info) and params["check_master"] and reading["master_host"]:
        master_problems, entry = read_master(reading["master_host"], reading["master_port"], settings,
                                             (replica_ip, params["login_port"]), params["max_replica_lag_bytes"])
        problems += master_problems
        if entry is not None:
            reading.update(replica_state=entry.get("state", ""), replication_lag_bytes=entry["lag_bytes"])
    reading["problems"] = problems
    return reading


def wait_healthy(params, settings, clock=time.monotonic, sleep=time.sleep):
    """Read until healthy or wait_timeout passed (bounded in time and count)."""
    start = clock()
    deadline = start + max(0, params["wait_timeout"])
    interval = max(0.1, float(params["poll_interval"]))
    attempts = int(max(0, params["wait_timeout"]) / interval) + 2
    for _attempt in range(attempts):
        reading = read_once(params, settings)
        if not reading["problems"] or clock() + interval > deadline:
            break
        sleep(interval)
    reading["waited_seconds"] = round(clock() - start, 1)
    return reading


def main():
    argument_spec = redis_connection.connection_argument_spec()
    argument_spec.update(
        in_cluster=dict(type="bool"),
        max_replica_lag_bytes=dict(type="int", default=0),
        check_master=dict(type="bool", default=True),
        announce_ip=dict(type="str"),
        wait_timeout=dict(type="int", default=0),
        poll_interval=dict(type="float", default=1),
        fail_on_problems=dict(type="bool", default=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **redis_connection.CONNECTION_RULES)
    redis_connection.fail_without_redis(module)
    if module.params["wait_timeout"] < 0 or module.params["poll_interval"] <= 0:
        module.fail_json(msg="wait_timeout must be >= 0 and poll_interval > 0")
    result = wait_healthy(module.params, redis_connection.settings_from_params(module.params, COMMAND_TIMEOUT))
    result.update(changed=False, healthy=not result["problems"])
    if result["problems"] and module.params["fail_on_problems"]:
        waited = " after waiting %d s" % module.params["wait_timeout"] if module.params["wait_timeout"] else ""
        module.fail_json(msg="%s is not healthy%s: %s" % (result["address"], waited, "; ".join(result["problems"])),
                         **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
