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
  - Connects with redis-py (>= 4.3), usually to 127.0.0.1 on the node itself.
author:
  - redisops maintainers
options:
  login_host:
    description: Address to connect to.
    type: str
    default: 127.0.0.1
  login_port:
    description: Port to connect to (the TLS port when O(tls=true)).
    type: int
    default: 6379
  login_user:
    description: ACL user to authenticate as; needs the CONFIG command.
    type: str
  login_password:
    description: Password of O(login_user).
    type: str
  tls:
    description: Connect with TLS.
    type: bool
    default: false
  ca_cert:
    description: CA certificate file that signed the server certificate (with O(tls=true)).
    type: path
  client_cert:
    description: Client certificate file, for servers that require client certificates.
    type: path
  client_key:
    description: Private key of O(client_cert).
    type: path
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
  connect_timeout:
    description: Seconds to wait for the connection and each reply.
    type: float
    default: 5
requirements:
  - redis (redis-py) >= 4.3
attributes:
  check_mode:
    support: full
  diff_mode:
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

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.redis_values import config_text, size_in_bytes

try:
    import redis

    HAS_REDIS = True
    REDIS_IMPORT_ERROR = None
except ImportError:
    HAS_REDIS = False
    REDIS_IMPORT_ERROR = traceback.format_exc()

MASK = "********"


def normalize_value(value):
    """The form CONFIG GET reports a value in, for comparison."""
    text = config_text(value)
    lowered = text.lower()
    if lowered in ("true", "false"):
        return "yes" if lowered == "true" else "no"
    size = size_in_bytes(lowered)
    if size is not None:
        return str(size)
    return text


def config_changes(current, desired):
    """Settings in ``desired`` whose normalised value differs from ``current``.

    Returns ``{name: (before, after)}``; a name Redis does not know (absent
    from ``current``) counts as a change so that CONFIG SET reports it.
    """
    changes = {}
    for name in sorted(desired):
        key = name.lower()
        after = normalize_value(desired[name])
        before = current.get(key)
        if before is None or normalize_value(before) != after:
            changes[key] = (before, after)
    return changes


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
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def connect(params):
    kwargs = {
        "host": params["login_host"],
        "port": params["login_port"],
        "username": params["login_user"],
        "password": params["login_password"],
        "socket_timeout": params["connect_timeout"],
        "socket_connect_timeout": params["connect_timeout"],
        "decode_responses": True,
    }
    if params["tls"]:
        kwargs.update(
            ssl=True,
            ssl_ca_certs=params["ca_cert"],
            ssl_certfile=params["client_cert"],
            ssl_keyfile=params["client_key"],
            ssl_cert_reqs="required",
        )
    return redis.Redis(**kwargs)


def read_current(client, names):
    current = {}
    for name in names:
        reply = client.config_get(name)
        for key, value in reply.items():
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
        client = connect(params)
        current = read_current(client, sorted(desired))
        changes = config_changes(current, desired)
        result["changes"] = masked_changes(changes, secret_names)
        result["changed"] = bool(changes)
        if module._diff and changes:
            result["diff"] = build_diff(changes, secret_names)
        if changes and not module.check_mode:
            result["rewritten"] = apply_changes(client, changes, params["rewrite"])
    except redis.exceptions.RedisError as exc:
        module.fail_json(msg=f"Redis at {params['login_host']}:{params['login_port']}: {exc}", **result)
    module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec={
            "login_host": {"type": "str", "default": "127.0.0.1"},
            "login_port": {"type": "int", "default": 6379},
            "login_user": {"type": "str"},
            "login_password": {"type": "str", "no_log": True},
            "tls": {"type": "bool", "default": False},
            "ca_cert": {"type": "path"},
            "client_cert": {"type": "path"},
            "client_key": {"type": "path", "no_log": False},
            "settings": {"type": "dict", "default": {}},
            "secret_settings": {"type": "dict", "default": {}, "no_log": True},
            "rewrite": {"type": "bool", "default": True},
            "connect_timeout": {"type": "float", "default": 5},
        },
        required_together=[("client_cert", "client_key")],
        supports_check_mode=True,
    )
    if not HAS_REDIS:
        module.fail_json(msg=missing_required_lib("redis"), exception=REDIS_IMPORT_ERROR)
    run_module(module)


if __name__ == "__main__":
    main()
