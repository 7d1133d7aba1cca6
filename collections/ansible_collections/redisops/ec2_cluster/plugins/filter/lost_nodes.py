# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter over module_utils/lost_nodes.py (documented in forgettable_nodes.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.lost_nodes import (
    LostNodesError,
    forgettable_nodes as _forgettable_nodes,
)


def forgettable_nodes(topology, instances):
    try:
        return _forgettable_nodes(topology or [], instances or [])
    except (LostNodesError, KeyError, TypeError) as error:
        raise AnsibleFilterError("forgettable_nodes: %s" % error) from error


class FilterModule:
    def filters(self):
        return {"forgettable_nodes": forgettable_nodes}
