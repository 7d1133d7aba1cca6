#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: redisops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: redis_node_data
short_description: Bring a node's data set to a state the restore needs, with bounded waits
version_added: "0.2.0"
description:
  - V(loaded) waits until the node answers and finished loading its data set, turns AOF on with C(CONFIG SET
    appendonly yes) when the node runs with it off (a restored master started with C(--appendonly no)), and waits until
    the AOF rewrite that follows has finished, so that the AOF holds every restored key before anything else happens.
  - V(synced) waits until a replica is linked to its master, has finished its full sync and loading, and has no AOF
    rewrite running.
  - V(empty) removes every key of a master with C(FLUSHALL) (restore into another shape with force).
  - Returns the node's key count.
author:
  - redisops maintainers
extends_documentation_fragment:
  - redisops.ec2_cluster.redis
  - redisops.ec2_cluster.redis.single_node
options:
  state:
    description: The state to reach.
    type: str
    choices: [loaded, synced, empty]
    required: true
  timeout:
    description: Upper bound in seconds of each wait (loading, AOF rewrite, full sync).
    type: int
    default: 1800
attributes:
  check_mode:
    description: Reports whether AOF would be turned on or keys flushed, without doing it.
    support: full
  diff_mode:
    description: No diff.
    support: none
"""

EXAMPLES = r"""
- name: Wait for the restored master and turn its AOF back on
  redisops.ec2_cluster.redis_node_data:
    state: loaded
    login_user: admin
    login_password: "{{ admin_password }}"
"""

RETURN = r"""
keys:
  description: DBSIZE once the state was reached.
  returned: always
  type: int
aof_enabled:
  description: Whether AOF is on at the end.
  returned: always
  type: bool
"""

import time
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import redis_connection, redis_nodes, restore_node


def info(client, section):
    return redis_nodes.parse_info(client.text("INFO", section))


def connect(module, deadline):
    """A connection once the node answers PING (it may still be starting)."""
    address = restore_node.address_of(module.params)
    settings = restore_node.settings_from(module.params)
    last = ""
    while True:
        client = None
        try:
            client = redis_nodes.NodeClient(address, settings)
            client.call("PING")
            return client
        except redis_nodes.RedisError as exc:
            last = str(exc)
            if client is not None:
                client.close()
            # LOADING answers PING with an error: the node is up, loading
            if "loading" in last.lower():
                return redis_nodes.NodeClient(address, settings)
        if time.monotonic() > deadline:
            module.fail_json(msg="%s did not answer: %s" % (address, last))
        time.sleep(0.5)


def wait(module, check, deadline, what):
    try:
        return redis_nodes.wait_until(check, max(1.0, deadline - time.monotonic()), step=0.5, what=what)
    except TimeoutError as exc:
        module.fail_json(msg=str(exc))


def loaded(module, client, deadline):
    wait(module, lambda: info(client, "persistence").get("loading") == "0", deadline, "the data set to load")
    persistence = info(client, "persistence")
    changed = False
    if persistence.get("aof_enabled") != "1":
        changed = True
        if module.check_mode:
            return changed, False
        rewrites = int(persistence.get("aof_rewrites", "0"))
        client.ok("CONFIG", "SET", "appendonly", "yes")

        def rewritten():
            now = info(client, "persistence")
            if now.get("aof_last_bgrewrite_status") == "err" and int(now.get("aof_rewrites", "0")) > rewrites:
                raise RuntimeError("the AOF rewrite failed; the server log says why")
            return now.get("aof_enabled") == "1" and now.get("aof_rewrite_in_progress") == "0" \
                and now.get("aof_rewrite_scheduled") == "0" and int(now.get("aof_rewrites", "0")) > rewrites
        wait(module, rewritten, deadline, "the AOF rewrite after turning AOF on")
    else:
        wait(module, lambda: info(client, "persistence").get("aof_rewrite_in_progress") == "0", deadline,
             "a running AOF rewrite")
    return changed, True


def synced(module, client, deadline):
    def in_sync():
        replication = info(client, "replication")
        persistence = info(client, "persistence")
        return replication.get("role") == "slave" and replication.get("master_link_status") == "up" \
            and replication.get("master_sync_in_progress") == "0" and persistence.get("loading") == "0" \
            and persistence.get("aof_rewrite_in_progress") == "0" and persistence.get("aof_rewrite_scheduled") == "0"
    wait(module, in_sync, deadline, "the replica to finish its sync with its master")
    return False, info(client, "persistence").get("aof_enabled") == "1"


def empty(module, client, deadline):
    if info(client, "replication").get("role") != "master":
        module.fail_json(msg="%s is not a master; only masters are flushed" % client.address)
    keys = int(client.call("DBSIZE"))
    if keys and not module.check_mode:
        client.ok("FLUSHALL")
    return bool(keys), info(client, "persistence").get("aof_enabled") == "1"


def main():
    spec = restore_node.connection_argument_spec()
    spec.update(state=dict(type="str", choices=["loaded", "synced", "empty"], required=True),
                timeout=dict(type="int", default=1800))
    module = AnsibleModule(argument_spec=spec, **redis_connection.CONNECTION_RULES, supports_check_mode=True)
    if not redis_nodes.HAS_REDIS:
        module.fail_json(msg=missing_required_lib("redis"), exception=repr(redis_nodes.REDIS_IMPORT_ERROR))
    deadline = time.monotonic() + module.params["timeout"]
    client = connect(module, deadline)
    try:
        changed, aof = {"loaded": loaded, "synced": synced, "empty": empty}[module.params["state"]](
            module, client, deadline)
        keys = int(client.call("DBSIZE"))
    except (RuntimeError, redis_nodes.RedisError) as exc:
        module.fail_json(msg="%s: %s" % (client.address, exc), exception=traceback.format_exc())
    finally:
        client.close()
    module.exit_json(changed=changed, keys=keys, aof_enabled=aof)


if __name__ == "__main__":
    main()
