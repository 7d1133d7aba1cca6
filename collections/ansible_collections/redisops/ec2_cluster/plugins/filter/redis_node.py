# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the redis_node role renders its configuration with.

Thin shims: the decisions live in module_utils (redis_settings, node_input,
acl_rules, restart_policy) and are unit tested there. Each filter is
documented in its own plugins/filter/<name>.yml.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import redis_settings
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.acl_rules import acl_user_lines
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.node_input import node_input_errors
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.restart_policy import restart_order


def _setting(function, name):
    def shim(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except redis_settings.SettingError as error:
            raise AnsibleFilterError("%s: %s" % (name, error)) from error
    shim.__name__ = name
    shim.__doc__ = function.__doc__
    return shim


redis_memory_bytes = _setting(redis_settings.memory_bytes, "redis_memory_bytes")
redis_maxmemory = _setting(redis_settings.maxmemory_bytes, "redis_maxmemory")
redis_config_split = _setting(redis_settings.split_settings, "redis_config_split")


class FilterModule:
    """redis_node decisions, one filter each."""

    def filters(self):
        return {
            "redis_acl_user_lines": acl_user_lines,
            "redis_config_split": redis_config_split,
            "redis_maxmemory": redis_maxmemory,
            "redis_memory_bytes": redis_memory_bytes,
            "redis_node_validate": node_input_errors,
            "redis_restart_order": restart_order,
        }
