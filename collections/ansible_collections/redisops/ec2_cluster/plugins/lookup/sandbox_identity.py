# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: sandbox_identity
short_description: The identity of the local sandbox this run talks to
version_added: 0.1.0
author:
  - redisops maintainers
description:
  - Returns one dictionary with every name and address that tells one local
    sandbox from another on the same Docker host, so the sandbox inventory,
    its group_vars and the sandbox roles all derive the same values.
  - Each field comes from the environment variable C(REDISOPS_SANDBOX_<FIELD>)
    (C(REDISOPS_SANDBOX_PORT), C(REDISOPS_SANDBOX_NETWORK),
    C(REDISOPS_SANDBOX_VPC_CIDR), C(REDISOPS_SANDBOX_DIR),
    C(REDISOPS_SANDBOX_CONTAINER_PREFIX), C(REDISOPS_SANDBOX_CLUSTER_NAME)), or
    is the user's sandbox default (5000, redisops-sandbox, 10.77.0.0/16,
    .sandbox, redisops-sbx-, sandbox) when unset.
  - A field that cannot work (a port out of range, a public or too small
    network, a name Docker or S3 refuses) fails with an error naming its
    variable, before anything is started.
options:
  project_dir:
    description:
      - Directory a relative C(REDISOPS_SANDBOX_DIR) is taken from.
      - Defaults to the directory of the Ansible configuration file in use
        (the project's ansible.cfg), else the current directory.
    type: str
    required: false
"""

EXAMPLES = r"""
- name: Where this sandbox's moto answers
  ansible.builtin.debug:
    msg: "{{ lookup('redisops.ec2_cluster.sandbox_identity').endpoint_url }}"

# inventories/sandbox/group_vars/all: one variable the sandbox roles read.
# redisops_sandbox: "{{ lookup('redisops.ec2_cluster.sandbox_identity') }}"
"""

RETURN = r"""
_raw:
  description: One dictionary, the identity.
  type: list
  elements: dict
  contains:
    port:
      description: TCP port of the sandbox's moto server on 127.0.0.1.
      type: int
    endpoint_url:
      description: C(http://127.0.0.1:<port>).
      type: str
    bastion_port:
      description: The bastion container's SSH port on 127.0.0.1, C(<port> + 1) (a port clashes when either is shared).
      type: int
    bastion_address:
      description: The bastion container's address on the network, the second of the VPC's first /24.
      type: str
    network:
      description: Docker network that stands in for the VPC.
      type: str
    vpc_cidr:
      description: CIDR of the VPC and of that network.
      type: str
    private_subnets:
      description: One C({az, cidr}) per availability zone, the 2nd to 4th /24 of the VPC.
      type: list
      elements: dict
    dir:
      description: Absolute state directory (moto pid and log, Terraform state).
      type: str
    container_prefix:
      description: Prefix of instance container names (the instance id follows).
      type: str
    cluster_name:
      description: The cluster name (Terraform output cluster_name, tags, SSM path).
      type: str
    region:
      description: The sandbox's AWS region.
      type: str
"""

import os

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.lookup import LookupBase

from ansible_collections.redisops.ec2_cluster.plugins.plugin_utils import project

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.sandbox_identity import (
    SandboxIdentityError,
    from_environ,
)


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        project_dir = self.get_option("project_dir") or project.project_dir()
        try:
            return [from_environ(os.environ, project_dir)]
        except SandboxIdentityError as exc:
            raise AnsibleLookupError(to_text(exc))
