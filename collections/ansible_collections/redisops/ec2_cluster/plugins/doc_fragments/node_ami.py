# -*- coding: utf-8 -*-
# Copyright: redisops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Options of the modules that find node AMIs (module_utils/node_ami.py)."""

    DOCUMENTATION = r"""
options:
  cluster_name:
    description: The cluster whose parameters hold the published AMIs (the Terraform output C(cluster_name)).
    type: str
    required: true
  role_tag:
    description: Value of the C(Role) tag every node AMI carries.
    type: str
    default: redis-node-ami
"""
