#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: redisops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: node_failover
short_description: Hand a cluster master's slots to its best replica before the master goes down
version_added: "0.2.0"
description:
  - Reads one node (by default 127.0.0.1 on the host the task runs on). A replica, or a node outside a cluster, has
    nothing to hand over and is left alone.
  - For a cluster master, chooses the most caught-up online replica (at most O(max_replica_lag_bytes) behind, as the
    master's C(INFO replication) shows), runs C(CLUSTER FAILOVER) on it and waits, bounded by O(wait_timeout), until
    the roles have swapped. A failover the cluster abandons is asked for again every 10 seconds within that bound.
  - Refuses, before anything changes, a master without such a replica (its slots would go offline) unless
    O(allow_unreplicated_master=true). A replica acks its offset once a second, so the master is read again for up
    to a tenth of O(wait_timeout) before no replica counts as caught up.
  - The choice is the pure function C(failover_candidate) of C(module_utils/restart_policy.py).
author:
  - redisops maintainers
options:
  max_replica_lag_bytes:
    description: Replication offset lag a replica may have and still be chosen.
    type: int
    default: 0
  allow_unreplicated_master:
    description: Succeed without a failover when a cluster master has no healthy replica (its slots go offline when it stops).
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for the roles to swap.
    type: int
    default: 60
  poll_interval:
    description: Seconds between two reads while waiting.
    type: float
    default: 1
extends_documentation_fragment:
  - redisops.ec2_cluster.redis
  - redisops.ec2_cluster.redis.single_node
attributes:
  check_mode:
    description: Reads the node and reports the replica it would fail over to, without asking for the failover.
    support: full
  diff_mode:
    description: No diff; RV(failover_to) says what changes.
    support: none
"""

EXAMPLES = r"""
- name: Fail the master over to its replica before restarting it
  redisops.ec2_cluster.node_failover:
    login_user: admin
    login_password: "{{ admin_password }}"
    wait_timeout: 60
"""

RETURN = r"""
address:
  description: The node read, as host:port.
  returned: always
  type: str
role_before:
  description: The node's role before (C(master) or C(slave)).
  returned: always
  type: str
in_cluster:
  description: Whether the node is part of a cluster.
  returned: always
  type: bool
failover_to:
  description: The replica chosen (ip:port), or null when there is nothing to hand over.
  returned: always
  type: str
  sample: 10.0.2.11:6379
role_after:
  description: The node's role after the failover (what it would stay in check mode).
  returned: always
  type: str
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import redis_connection, redis_nodes
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.redis_info import REPLICA_ROLES, parse_info
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.restart_policy import failover_candidate

COMMAND_TIMEOUT = 10
# A manual failover without a majority in time is abandoned by the server
# (after 5 s); ask again after this long.
FAILOVER_RETRY_SECONDS = 10


def role_of(client):
    return parse_info(client.text("INFO", "replication")).get("role", "")


def swap_roles(node, replica, timeout, interval, clock=time.monotonic, sleep=time.sleep):
    """CLUSTER FAILOVER on ``replica``, repeated every FAILOVER_RETRY_SECONDS,
    until ``node`` is a replica and ``replica`` a master. Returns whether the
    roles swapped within ``timeout`` seconds (bounded in time and count)."""
    deadline = clock() + timeout
    asked_at = None
    for _attempt in range(int(timeout / interval) + 2):
        try:
            replica_role = role_of(replica)
            if replica_role == "master" and role_of(node) in REPLICA_ROLES:
                return True
            if replica_role != "master" and (asked_at is None or clock() - asked_at >= FAILOVER_RETRY_SECONDS):
                replica.ok("CLUSTER", "FAILOVER")
                asked_at = clock()
        except redis_nodes.RedisError:
            pass  # briefly busy during the switch: read again
        if clock() >= deadline:
            return False
        sleep(interval)
    return False


def caught_up_replica(node, info, params, clock=time.monotonic, sleep=time.sleep):
    """The failover candidate of the master read as ``info``. A replica acks
    its offset once a second, so one that is in sync may look a few bytes
    behind a master taking writes: read again for up to a tenth of
    ``wait_timeout`` (bounded in time and count) before there is none."""
    deadline = clock() + params["wait_timeout"] / 10.0
    for _attempt in range(int(params["wait_timeout"] / 10.0 / params["poll_interval"]) + 2):
        candidate = failover_candidate(info, params["max_replica_lag_bytes"])
        if candidate or clock() >= deadline:
            return candidate
        sleep(params["poll_interval"])
        info = redis_nodes.read_node_info(node)
    return failover_candidate(info, params["max_replica_lag_bytes"])


def run(module, settings):
    params = module.params
    address = "%s:%s" % (params["login_host"], params["login_port"])
    result = dict(changed=False, address=address, role_before="", in_cluster=False, failover_to=None, role_after="")
    node = redis_nodes.NodeClient(address, settings)
    replica = None
    try:
        try:
            info = redis_nodes.read_node_info(node)
        except redis_nodes.RedisError as exc:
            module.fail_json(msg="%s does not answer: %s" % (address, redis_nodes.describe_error(exc)), **result)
        result.update(role_before=info.get("role", ""), role_after=info.get("role", ""),
                      in_cluster=redis_nodes.in_cluster(info))
        if info.get("role") != "master" or not result["in_cluster"]:
            return result
        candidate = caught_up_replica(node, info, params)
        if not candidate:
            message = ("%s is a cluster master without an online replica at most %d bytes behind (connected_slaves=%s): "
                       "stopping it would take its slots offline" % (address, params["max_replica_lag_bytes"],
                                                                     info.get("connected_slaves", "?")))
            if params["allow_unreplicated_master"]:
                module.warn(message + "; allowed by allow_unreplicated_master")
                return result
            module.fail_json(msg=message + ". Nothing was changed; fix the replica, or allow it with "
                             "allow_unreplicated_master=true.", **result)
        result.update(changed=True, failover_to="%s:%s" % (candidate["ip"], candidate["port"]))
        if module.check_mode:
            return result
        replica = redis_nodes.NodeClient(result["failover_to"], settings)
        if not swap_roles(node, replica, params["wait_timeout"], params["poll_interval"]):
            try:
                result["role_after"] = role_of(node)
            except redis_nodes.RedisError:
                result["role_after"] = "unreachable"
            module.fail_json(msg="CLUSTER FAILOVER from %s to %s did not complete within %d s (%s is still %s)"
                             % (address, result["failover_to"], params["wait_timeout"], address,
                                result["role_after"]), **result)
        result["role_after"] = role_of(node)
        return result
    finally:
        node.close()
        if replica is not None:
            replica.close()


def main():
    argument_spec = redis_connection.connection_argument_spec()
    argument_spec.update(
        max_replica_lag_bytes=dict(type="int", default=0),
        allow_unreplicated_master=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=60),
        poll_interval=dict(type="float", default=1),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **redis_connection.CONNECTION_RULES)
    redis_connection.fail_without_redis(module)
    if module.params["wait_timeout"] < 1 or module.params["poll_interval"] <= 0:
        module.fail_json(msg="wait_timeout must be >= 1 and poll_interval > 0")
    module.exit_json(**run(module, redis_connection.settings_from_params(module.params, COMMAND_TIMEOUT)))


if __name__ == "__main__":
    main()
