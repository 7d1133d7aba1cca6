#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: redisops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: redis_rdb_migrate
short_description: Move the keys of a shard's RDB into a cluster of another shape
version_added: "0.2.0"
description:
  - Used by the restore when the set's shards do not match the cluster's masters (for example 3 shards into 4).
  - Starts a temporary server on 127.0.0.1 (no cluster, no AOF, no saves, a random password, run as O(run_as)) on
    O(rdb), then moves its keys with C(MIGRATE ... REPLACE KEYS) in batches to the masters that own their slots, as
    C(CLUSTER SLOTS) of the node at O(login_host):O(login_port) says. Slots are computed locally (CRC16 of the key or
    its hash tag), so every batch goes to one master. Keys keep their TTLs.
  - Stops the temporary server at the end, also on failure. The staging RDBs themselves are left unchanged.
author:
  - redisops maintainers
extends_documentation_fragment:
  - redisops.ec2_cluster.redis
  - redisops.ec2_cluster.redis.single_node
options:
  rdbs:
    description: The verified RDBs of the shards this node moves, one after the other.
    type: list
    elements: path
    required: true
  server_bin:
    description: The engine's server binary.
    type: path
    required: true
  run_as:
    description: User the temporary server runs as (when the module runs as root).
    type: str
  batch_keys:
    description: Keys per C(MIGRATE).
    type: int
    default: 1000
  migrate_timeout_ms:
    description: Timeout of one C(MIGRATE) in milliseconds.
    type: int
    default: 60000
  timeout:
    description: Upper bound in seconds of loading the RDB and, separately, of moving all keys.
    type: int
    default: 3600
attributes:
  check_mode:
    description: Does nothing and reports a change.
    support: full
  diff_mode:
    description: No diff.
    support: none
"""

EXAMPLES = r"""
- name: Move the shard's keys into the cluster
  redisops.ec2_cluster.redis_rdb_migrate:
    rdbs:
      - /var/lib/redis-node/restore/20261127T020000Z/shard-0-5460.rdb
    server_bin: /usr/bin/redis-server
    run_as: redis
    login_user: admin
    login_password: "{{ admin_password }}"
"""

RETURN = r"""
shards:
  description: One entry per RDB of O(rdbs).
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The RDB's file name without C(.rdb) (the shard name).
      type: str
    keys_loaded:
      description: Keys the temporary server loaded from the RDB (expired ones are not loaded).
      type: int
    keys_moved:
      description: Keys moved into the cluster.
      type: int
    migrate_calls:
      description: MIGRATE commands sent.
      type: int
    seconds:
      description: Time spent moving keys.
      type: float
"""

import os
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import redis_connection, redis_nodes, restore_node
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.key_slot import key_slot
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.redis_info import SLOT_COUNT


def slot_owners(client):
    """slot -> 'ip:port' of its master, from CLUSTER SLOTS."""
    owners = [None] * SLOT_COUNT
    for entry in client.call("CLUSTER", "SLOTS"):
        first, last, master = int(entry[0]), int(entry[1]), entry[2]
        host = master[0].decode() if isinstance(master[0], bytes) else str(master[0])
        for slot in range(first, last + 1):
            owners[slot] = "%s:%d" % (host, int(master[1]))
    missing = [slot for slot, owner in enumerate(owners) if owner is None]
    if missing:
        raise RuntimeError("the target cluster does not serve %d slots (first %d)" % (len(missing), missing[0]))
    return owners


def move_keys(temp, owners, params, deadline):
    """SCAN the temporary server and MIGRATE what it finds to the owners; each
    pass empties it unless keys are refused; bounded in passes and time."""
    auth = ["AUTH2", params["login_user"], params["login_password"]] if params["login_user"] else ["AUTH", params["login_password"]]
    if params["login_password"] is None:
        auth = []
    calls = 0
    for _pass in range(3):
        cursor = b"0"
        while True:
            cursor, keys = temp.call("SCAN", cursor, "COUNT", params["batch_keys"])
            groups = {}
            for key in keys:
                groups.setdefault(owners[key_slot(key)], []).append(key)
            for owner, batch in sorted(groups.items()):
                host, _sep, port = owner.rpartition(":")
                reply = temp.call("MIGRATE", host, int(port), "", 0, params["migrate_timeout_ms"], "REPLACE",
                                  *(auth + ["KEYS"] + batch))
                calls += 1
                text = reply.decode() if isinstance(reply, bytes) else str(reply)
                if text not in ("OK", "NOKEY"):
                    raise RuntimeError("MIGRATE to %s answered %s" % (owner, text))
            if time.monotonic() > deadline:
                raise TimeoutError("moving keys took longer than %ss" % params["timeout"])
            if cursor in (b"0", 0, "0"):
                break
        if int(temp.call("DBSIZE")) == 0:
            return calls
    raise RuntimeError("%d keys are still on the temporary server after 3 passes" % int(temp.call("DBSIZE")))


def move_rdb(params, rdb, cluster, owners):
    tls = None
    if params["tls"]:
        tls = {"ca_cert": params["tls_ca_cert"], "cert": params["tls_cert"], "key": params["tls_key"]}
    server = restore_node.TempServer(params["server_bin"], rdb, user=params["run_as"], tls=tls)
    try:
        temp = server.start(params["timeout"])
        loaded = int(temp.call("DBSIZE"))
        started = time.monotonic()
        calls = move_keys(temp, owners, params, started + params["timeout"])
        seconds = round(time.monotonic() - started, 3)
        temp.close()
    finally:
        server.stop()
    name = os.path.basename(rdb)
    return {"name": name[:-4] if name.endswith(".rdb") else name, "rdb": rdb, "keys_loaded": loaded,
            "keys_moved": loaded, "migrate_calls": calls, "seconds": seconds}


def main():
    spec = restore_node.connection_argument_spec()
    spec.update(rdbs=dict(type="list", elements="path", required=True), server_bin=dict(type="path", required=True),
                run_as=dict(type="str"), batch_keys=dict(type="int", default=1000),
                migrate_timeout_ms=dict(type="int", default=60000), timeout=dict(type="int", default=3600))
    module = AnsibleModule(argument_spec=spec, **redis_connection.CONNECTION_RULES, supports_check_mode=True)
    if not redis_nodes.HAS_REDIS:
        module.fail_json(msg=missing_required_lib("redis"), exception=repr(redis_nodes.REDIS_IMPORT_ERROR))
    params = module.params
    if module.check_mode:
        module.exit_json(changed=bool(params["rdbs"]), shards=[])
    cluster = redis_nodes.NodeClient(restore_node.address_of(params), restore_node.settings_from(params))
    shards = []
    try:
        owners = slot_owners(cluster)
        for rdb in params["rdbs"]:
            shards.append(move_rdb(params, rdb, cluster, owners))
    except (RuntimeError, TimeoutError, redis_nodes.RedisError) as exc:
        module.fail_json(msg="moving the keys of %s failed: %s" % (params["rdbs"][len(shards)], exc),
                         exception=traceback.format_exc(), shards=shards)
    finally:
        cluster.close()
    module.exit_json(changed=bool(shards), shards=shards)


if __name__ == "__main__":
    main()
