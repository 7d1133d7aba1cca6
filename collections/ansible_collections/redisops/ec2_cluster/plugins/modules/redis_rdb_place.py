#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: redisops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: redis_rdb_place
short_description: Make a verified RDB the stopped node's data set, its AOF moved aside
version_added: "0.2.0"
description:
  - Used by the restore (same shape) on a master whose service is stopped. Refuses to act while anything answers on
    O(port).
  - Moves the node's current O(dbfilename) and AOF directory O(appenddirname) into O(previous_dir), then renames
    O(rdb) (a staging file on the same file system) to O(dbfilename). With AOF on, Redis loads the AOF and ignores
    C(dump.rdb); the AOF directory is therefore moved aside, and the node is started once with AOF off (the role's
    runtime drop-in) so that it loads this RDB.
  - A marker in O(previous_dir) makes a second run (RDB already placed) report no change.
author:
  - redisops maintainers
options:
  rdb:
    description: The verified RDB (from M(redisops.ec2_cluster.backup_fetch)).
    type: path
    required: true
  sha256:
    description: SHA-256 of the RDB, recorded in the marker.
    type: str
    required: true
  data_dir:
    description: The node's C(dir).
    type: path
    required: true
  dbfilename:
    description: The node's C(dbfilename).
    type: str
    default: dump.rdb
  appenddirname:
    description: The node's C(appenddirname).
    type: str
    default: appendonlydir
  previous_dir:
    description: Where the node's previous RDB and AOF directory are moved (same file system).
    type: path
    required: true
  host:
    description: Address of the node; something answering at O(host):O(port) means the node runs.
    type: str
    default: 127.0.0.1
  port:
    description: Client port of the node.
    type: int
    default: 6379
  owner:
    description: Owner of the placed RDB.
    type: str
  group:
    description: Group of the placed RDB.
    type: str
attributes:
  check_mode:
    description: Says what would move without moving it.
    support: full
  diff_mode:
    description: The node's data files before and after.
    support: full
"""

EXAMPLES = r"""
- name: Place the shard's RDB
  redisops.ec2_cluster.redis_rdb_place:
    rdb: /var/lib/redis-node/restore/20261127T020000Z/shard-0-5460.rdb
    sha256: "{{ shard.object.uncompressed_sha256 }}"
    data_dir: /var/lib/redis-node
    previous_dir: /var/lib/redis-node/restore/20261127T020000Z/previous
    owner: redis
    group: redis
"""

RETURN = r"""
moved:
  description: Paths moved into O(previous_dir).
  returned: always
  type: list
  elements: str
placed:
  description: The node's RDB path.
  returned: always
  type: str
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import restore_node

MARKER = "placed.json"


def main():
    module = AnsibleModule(
        argument_spec=dict(
            rdb=dict(type="path", required=True),
            sha256=dict(type="str", required=True),
            data_dir=dict(type="path", required=True),
            dbfilename=dict(type="str", default="dump.rdb"),
            appenddirname=dict(type="str", default="appendonlydir"),
            previous_dir=dict(type="path", required=True),
            host=dict(type="str", default="127.0.0.1"),
            port=dict(type="int", default=6379),
            owner=dict(type="str"),
            group=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    target = os.path.join(p["data_dir"], p["dbfilename"])
    marker = os.path.join(p["previous_dir"], MARKER)
    result = dict(changed=False, moved=[], placed=target)
    try:
        with open(marker) as handle:
            done = json.load(handle)
        if done.get("sha256") == p["sha256"] and os.path.isfile(target) and not os.path.exists(p["rdb"]):
            module.exit_json(**result)
    except (OSError, ValueError):
        pass
    if not os.path.isfile(p["rdb"]):
        module.fail_json(msg="the staged RDB %s does not exist" % p["rdb"], **result)
    if restore_node.port_answers(p["host"], p["port"]):
        module.fail_json(msg="something answers at %s:%d: stop the node before placing its RDB" % (
            p["host"], p["port"]), **result)
    if os.stat(p["rdb"]).st_dev != os.stat(p["data_dir"]).st_dev:
        module.fail_json(msg="%s is not on the file system of %s" % (p["rdb"], p["data_dir"]), **result)
    aof = os.path.join(p["data_dir"], p["appenddirname"])
    moves = [(path, os.path.join(p["previous_dir"], os.path.basename(path)))
             for path in (target, aof) if os.path.lexists(path)]
    result.update(changed=True, moved=[src for src, _dst in moves])
    if module._diff:
        result["diff"] = dict(before="%s\n" % "\n".join(src for src, _dst in moves),
                              after="%s (restored RDB)\n" % target)
    if module.check_mode:
        module.exit_json(**result)
    os.makedirs(p["previous_dir"], mode=0o700, exist_ok=True)
    for src, dst in moves:
        if os.path.lexists(dst):
            module.fail_json(msg="%s already exists: an earlier restore left it; remove it first" % dst, **result)
        os.rename(src, dst)
    os.rename(p["rdb"], target)
    os.chmod(target, 0o600)
    restore_node.chown(target, p["owner"], p["group"])
    with open(marker, "w") as handle:
        json.dump({"sha256": p["sha256"], "placed": target, "moved": result["moved"]}, handle)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
