#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: redisops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: redis_node_info
short_description: Read what a Redis (or Valkey) cluster node is, holds and where it keeps its files
version_added: "0.2.0"
description:
  - Read-only. Reads C(CLUSTER MYID), C(CLUSTER NODES), C(CLUSTER INFO), C(INFO replication), C(INFO server),
    C(INFO persistence), C(DBSIZE) and the persistence settings (C(CONFIG GET dir), C(dbfilename), C(appenddirname),
    C(appendonly)) of the node it connects to.
  - The restore (role C(redis_restore)) plans from these facts which node receives which shard.
author:
  - redisops maintainers
options:
  host:
    description: Name of the node in the caller's inventory, returned as RV(node.host) so plans can name hosts.
    type: str
    default: ""
extends_documentation_fragment:
  - redisops.ec2_cluster.redis
  - redisops.ec2_cluster.redis.single_node
attributes:
  check_mode:
    description: Read-only; runs the same in check mode.
    support: full
  diff_mode:
    description: Nothing changes, so there is no diff.
    support: none
"""

EXAMPLES = r"""
- name: Read the node's facts
  redisops.ec2_cluster.redis_node_info:
    host: "{{ inventory_hostname }}"
    login_port: 6379
    login_user: admin
    login_password: "{{ admin_password }}"
  register: node_info
"""

RETURN = r"""
node:
  description: The node's facts.
  returned: always
  type: dict
  contains:
    host:
      description: O(host).
      type: str
    node_id:
      description: Cluster node id.
      type: str
    address:
      description: ip:port the cluster knows the node by.
      type: str
    role:
      description: master or replica.
      type: str
    master_id:
      description: Node id of the master of a replica, else null.
      type: str
    slot_ranges:
      description: Slot ranges the node serves, as [first, last] pairs.
      type: list
      elements: list
    keys:
      description: DBSIZE.
      type: int
    engine:
      description: redis or valkey.
      type: str
    version:
      description: Engine version, for example 7.0.15.
      type: str
    cluster_state:
      description: cluster_state of CLUSTER INFO.
      type: str
    data_dir:
      description: The node's C(dir).
      type: str
    dbfilename:
      description: The node's C(dbfilename).
      type: str
    appenddirname:
      description: The node's C(appenddirname).
      type: str
    appendonly:
      description: Whether AOF is on.
      type: bool
    loading:
      description: Whether the node is still loading its data set.
      type: bool
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import redis_connection, redis_nodes, restore_node
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.cluster_model import engine_of


def config_get(client, name):
    reply = client.call("CONFIG", "GET", name)
    # [name, value] from RESP2; newer redis-py hands a dict back whatever the callbacks
    if isinstance(reply, dict):
        value = reply.get(name.encode(), reply.get(name, b""))
    else:
        value = reply[1] if isinstance(reply, list) and len(reply) > 1 else b""
    return value.decode() if isinstance(value, bytes) else str(value)


def read_facts(client, host):
    observation = redis_nodes.observe(client)
    if not observation.reachable:
        raise RuntimeError("node %s is not reachable: %s" % (client.address, observation.error))
    me = observation.myself
    if me is None:
        raise RuntimeError("node %s does not list itself in CLUSTER NODES" % client.address)
    engine, version = engine_of(observation.server)
    persistence = redis_nodes.parse_info(client.text("INFO", "persistence"))
    return {
        "host": host,
        "node_id": observation.node_id,
        "address": me.address,
        "role": "master" if me.is_master else "replica",
        "master_id": me.master_id,
        "slot_ranges": [list(r) for r in me.slots],
        "keys": observation.keys,
        "engine": engine,
        "version": version,
        "cluster_state": observation.cluster_info.get("cluster_state", ""),
        "data_dir": config_get(client, "dir"),
        "dbfilename": config_get(client, "dbfilename"),
        "appenddirname": config_get(client, "appenddirname") or "appendonlydir",
        "appendonly": config_get(client, "appendonly") == "yes",
        "loading": persistence.get("loading") == "1",
    }


def main():
    spec = restore_node.connection_argument_spec()
    spec.update(host=dict(type="str", default=""))
    module = AnsibleModule(argument_spec=spec, **redis_connection.CONNECTION_RULES, supports_check_mode=True)
    if not redis_nodes.HAS_REDIS:
        module.fail_json(msg=missing_required_lib("redis"), exception=repr(redis_nodes.REDIS_IMPORT_ERROR))
    client = redis_nodes.NodeClient(restore_node.address_of(module.params), restore_node.settings_from(module.params))
    try:
        node = read_facts(client, module.params["host"])
    except (RuntimeError, redis_nodes.RedisError) as exc:
        module.fail_json(msg=str(exc), exception=traceback.format_exc())
    finally:
        client.close()
    module.exit_json(changed=False, node=node)


if __name__ == "__main__":
    main()
