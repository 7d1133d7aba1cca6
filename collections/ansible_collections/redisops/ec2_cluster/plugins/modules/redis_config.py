#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: redis_config
short_description: Apply runtime settings to a running Redis or Valkey node with CONFIG SET
version_added: "0.1.0"
description:
  - Reads the current values with C(CONFIG GET), compares them with O(settings) and
    O(secret_settings), and runs one C(CONFIG SET) with only the differences, so the
    node changes without a restart.
  - With O(rewrite=true) (the default) the change is persisted with C(CONFIG REWRITE)
    into the node's own configuration file.
  - Check mode performs the real comparison and reports what would change without
    changing anything. Diff mode shows sorted before/after values; values of
    O(secret_settings) are masked.
  - Connects with redis-py (>= 4.3), usually to 127.0.0.1 on the node itself, as a user that may run C(CONFIG).
author:
  - redisops maintainers
options:
  settings:
    description:
      - Setting name to desired value. Values are compared with C(CONFIG GET) after
        normalisation (whitespace, C(yes)/C(no) booleans, memory units).
    type: dict
    default: {}
  secret_settings:
    description: Like O(settings), for values that must never be shown (C(masterauth)).
    type: dict
    default: {}
  rewrite:
    description: Persist a change with C(CONFIG REWRITE).
    type: bool
    default: true
extends_documentation_fragment:
  - redisops.ec2_cluster.redis
  - redisops.ec2_cluster.redis.single_node
attributes:
  check_mode:
    description: Compares with C(CONFIG GET) and reports what would change, without changing anything.
    support: full
  diff_mode:
    description: Shows the settings that differ, sorted, before and after; secret values masked.
    support: full
notes:
  - Only runtime-changeable settings belong here; static ones (for example C(port),
    C(cluster-enabled)) make C(CONFIG SET) fail and the module reports the error.
"""

EXAMPLES = r"""
- name: Apply the runtime settings of a node
  redisops.ec2_cluster.redis_config:
    login_user: admin
    login_password: "{{ admin_password }}"
    settings:
      maxmemory: "3gb"
      maxmemory-policy: noeviction
      save: "3600 1 300 100"
    secret_settings:
      masterauth: "{{ replication_password }}"
  no_log: false
"""

RETURN = r"""
changes:
  description: Settings that differed, with their old and new values (secrets masked).
  returned: always
  type: dict
  sample: {"maxmemory": {"before": "0", "after": "3221225472"}}
rewritten:
  description: Whether CONFIG REWRITE ran.
  returned: always
  type: bool
  sample: true
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import redis_connection
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.redis_settings import config_changes

MASK = "********"
# CONFIG REWRITE of a big configuration on a slow disk may take a moment.
COMMAND_TIMEOUT = 30


def masked_changes(changes, secret_names):
    """Changes for display: secrets replaced by a mask."""
    shown = {}
    for name, (before, after) in changes.items():
        if name in secret_names:
            shown[name] = {"before": MASK, "after": MASK}
        else:
            shown[name] = {"before": before, "after": after}
    return shown


def build_diff(changes, secret_names):
    shown = masked_changes(changes, secret_names)
    before = "".join(f"{name} {shown[name]['before']}\n" for name in sorted(shown))
    after = "".join(f"{name} {shown[name]['after']}\n" for name in sorted(shown))
    return {"before": before, "after": after, "before_header": "CONFIG GET", "after_header": "CONFIG SET"}


def _text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def read_current(client, names):
    """CONFIG GET of each name, as {lower-case name: text}."""
    current = {}
    for name in names:
        reply = client.execute_command("CONFIG", "GET", name)
        for key, value in zip(reply[::2], reply[1::2]):
            current[_text(key).lower()] = _text(value)
    return current


def apply_changes(client, changes, rewrite):
    # One multi-argument CONFIG SET is atomic on Redis 7 / Valkey 8: all or nothing.
    args = []
    for name, (_, after) in changes.items():
        args += [name, after]
    client.execute_command("CONFIG", "SET", *args)
    if rewrite:
        client.execute_command("CONFIG", "REWRITE")
    return bool(rewrite)


def run_module(module):
    params = module.params
    secret_names = {name.lower() for name in params["secret_settings"]}
    desired = dict(params["settings"])
    desired.update(params["secret_settings"])
    result = {"changed": False, "changes": {}, "rewritten": False}
    try:
        client = redis_connection.connect(params["login_host"], params["login_port"],
                                          redis_connection.settings_from_params(params, COMMAND_TIMEOUT))
        current = read_current(client, sorted(desired))
        changes = config_changes(current, desired)
        result["changes"] = masked_changes(changes, secret_names)
        result["changed"] = bool(changes)
        if module._diff and changes:
            result["diff"] = build_diff(changes, secret_names)
        if changes and not module.check_mode:
            result["rewritten"] = apply_changes(client, changes, params["rewrite"])
    except redis_connection.RedisError as exc:
        module.fail_json(msg=f"Redis at {params['login_host']}:{params['login_port']}: {exc}", **result)
    module.exit_json(**result)


def main():
    argument_spec = redis_connection.connection_argument_spec()
    argument_spec.update(
        settings=dict(type="dict", default={}),
        secret_settings=dict(type="dict", default={}, no_log=True),
        rewrite=dict(type="bool", default=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **redis_connection.CONNECTION_RULES)
    redis_connection.fail_without_redis(module)
    run_module(module)


if __name__ == "__main__":
    main()
