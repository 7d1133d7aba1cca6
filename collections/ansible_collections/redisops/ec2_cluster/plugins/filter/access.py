# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter over module_utils/node_access.py (documented in node_access.yml)."""

from __future__ import annotations

import os

from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.node_access import (
    NodeAccessError,
    node_access as _node_access,
)


def node_access(settings, outputs):
    # Paths are the controller's: ~ is expanded here, where the filter runs.
    settings = dict(settings or {})
    for name in ("known_hosts_dir", "private_key_file"):
        if isinstance(settings.get(name), str) and settings[name]:
            settings[name] = os.path.expanduser(settings[name])
    try:
        return _node_access(settings, outputs or {})
    except NodeAccessError as error:
        raise AnsibleFilterError("node_access: %s" % error) from error


class FilterModule:
    def filters(self):
        return {"node_access": node_access}
