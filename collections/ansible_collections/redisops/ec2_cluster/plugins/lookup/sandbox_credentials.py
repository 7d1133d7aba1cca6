# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: sandbox_credentials
short_description: The access key of a sandbox IAM principal
version_added: 0.1.0
author:
  - redisops maintainers
description:
  - The sandbox's moto enforces IAM; C(roles/sandbox_aws) gives each principal an IAM user and keeps
    its key in C(iam-keys.json) in the sandbox's state directory (module M(redisops.ec2_cluster.sandbox_iam)).
    This returns the key of each principal named.
  - Principals are C(sandbox) (the sandbox roles), C(controller) (the playbooks), C(node) (the
    programs on the instances) and C(operator) (backup rotation).
  - Before the sandbox made its keys (no keys file) moto does not enforce IAM yet, and the dummy key
    C(testing) is returned, which moto then accepts and refuses once it enforces IAM.
options:
  _terms:
    description: Principal names.
    required: true
    type: list
    elements: str
  keys_file:
    description:
      - The keys file.
      - Defaults to C(iam-keys.json) in the state directory of the sandbox identity (lookup
        M(redisops.ec2_cluster.sandbox_identity), C(REDISOPS_SANDBOX_*)).
    type: path
    required: false
"""

EXAMPLES = r"""
# inventories/sandbox/group_vars/all/aws.yml
# redisops_aws_access_key: "{{ lookup('redisops.ec2_cluster.sandbox_credentials', 'controller').access_key }}"
- name: Who the node key is
  ansible.builtin.debug:
    msg: "{{ lookup('redisops.ec2_cluster.sandbox_credentials', 'node').user_name }}"
"""

RETURN = r"""
_raw:
  description: One dictionary per principal.
  type: list
  elements: dict
  contains:
    access_key:
      description: The access key id.
      type: str
    secret_key:
      description: Its secret.
      type: str
    user_name:
      description: The IAM user (empty for the dummy key).
      type: str
"""

import os

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.lookup import LookupBase

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import sandbox_iam
from ansible_collections.redisops.ec2_cluster.plugins.plugin_utils import project
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.sandbox_identity import (
    SandboxIdentityError,
    from_environ,
)


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        path = self.get_option("keys_file")
        try:
            if not path:
                path = os.path.join(from_environ(os.environ, project.project_dir())["dir"], sandbox_iam.KEYS_FILE_NAME)
            sandbox_iam.check_principals(terms)
            if not os.path.exists(path):
                return [dict(sandbox_iam.DUMMY_KEY, user_name="") for _ in terms]
            with open(path) as handle:
                return sandbox_iam.credentials(sandbox_iam.parse_keys(handle.read(), path), terms)
        except (OSError, SandboxIdentityError, sandbox_iam.SandboxIamError) as exc:
            raise AnsibleLookupError(to_text(exc))
