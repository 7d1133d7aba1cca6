"""The redis_node filters are thin shims over module_utils."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.ec2_cluster.plugins.filter import redis_node, topology
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import acl_rules, node_input, restart_policy


def test_filter_module_exposes_one_function_per_decision():
    filters = redis_node.FilterModule().filters()
    assert filters == {
        "redis_acl_user_lines": acl_rules.acl_user_lines,
        "redis_config_split": redis_node.redis_config_split,
        "redis_maxmemory": redis_node.redis_maxmemory,
        "redis_memory_bytes": redis_node.redis_memory_bytes,
        "redis_node_validate": node_input.node_input_errors,
        "redis_restart_order": restart_policy.restart_order,
    }


def test_shims_return_what_module_utils_decides():
    assert redis_node.redis_memory_bytes("64mb") == 64 * 1024**2
    assert redis_node.redis_maxmemory(4096, 50) == 2 * 1024**3
    assert redis_node.redis_config_split({"port": 1})["static"] == {"port": "1"}


@pytest.mark.parametrize("call,message", [
    (lambda: redis_node.redis_memory_bytes("lots"), "redis_memory_bytes: not a memory size: 'lots'"),
    (lambda: redis_node.redis_maxmemory(4096, 0), "redis_maxmemory: maxmemory percent must be 1..100, not 0"),
    (lambda: redis_node.redis_config_split("port"), "redis_config_split: expected a dict of settings, got str"),
])
def test_bad_values_become_filter_errors_naming_the_filter(call, message):
    with pytest.raises(AnsibleFilterError, match="^" + message.replace("(", r"\(").replace(".", r"\.")):
        call()


def test_topology_filters():
    filters = topology.FilterModule().filters()
    assert set(filters) == {"topology_nodes", "topology_table"}
    with pytest.raises(AnsibleFilterError, match="topology_nodes: host x is not in the inventory"):
        topology.topology_nodes({}, ["x"])
