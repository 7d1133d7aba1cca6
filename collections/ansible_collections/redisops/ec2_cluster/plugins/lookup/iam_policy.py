# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: iam_policy
short_description: An IAM policy of the project's iam/ templates, rendered (or its sandbox copy)
version_added: 0.1.0
author:
  - redisops maintainers
description:
  - Renders the policy templates C(iam/<name>.json.tpl) with O(values), the same text Terraform's
    C(templatefile()) produces, and returns each policy document (a dictionary), checked.
  - With O(sandbox=true), returns instead the copy the sandbox's moto can enforce (the C(monitoring:)
    alias of CloudWatch actions, conditions dropped, resources of services other than S3 widened to
    C(*)); C(plugins/module_utils/iam_policies.py) says why.
  - Each template takes the placeholders it uses from O(values), so one mapping serves every template.
    A placeholder without a value, or a value with quotes, wildcards or C($), fails with an error
    naming the template.
options:
  _terms:
    description: Template names, e.g. C(node), C(controller), C(operator).
    required: true
    type: list
    elements: str
  values:
    description: Placeholder name to value (text). Required unless O(template=true).
    type: dict
    required: false
  template:
    description:
      - Return each template's text instead, unrendered (its placeholders checked), for a module that renders it
        once values only it knows are there (module P(redisops.ec2_cluster.sandbox_base_resources#module)).
    type: bool
    default: false
  sandbox:
    description: Return the sandbox copy instead of the policy as written.
    type: bool
    default: false
  iam_dir:
    description:
      - The directory of the templates.
      - Defaults to C(iam/) next to the Ansible configuration file in use (the project's ansible.cfg),
        else in the current directory.
    type: path
    required: false
"""

EXAMPLES = r"""
- name: The node role's policy, as Terraform attaches it
  amazon.aws.iam_policy:
    iam_type: role
    iam_name: redisops-sandbox-node
    policy_name: redis-node
    policy_json: "{{ lookup('redisops.ec2_cluster.iam_policy', 'node', values=policy_values) | to_json }}"
    state: present
"""

RETURN = r"""
_raw:
  description: One policy document per term (with O(template=true), one template text per term).
  type: list
  elements: raw
"""

import os

from ansible import constants as C
from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.lookup import LookupBase

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import iam_policies


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        iam_dir = self.get_option("iam_dir")
        if not iam_dir:
            config = getattr(C, "CONFIG_FILE", None)
            iam_dir = os.path.join(os.path.dirname(config) if config else os.getcwd(), "iam")
        values = {str(k): v for k, v in (self.get_option("values") or {}).items()}
        documents = []
        for name in terms:
            if name not in iam_policies.TEMPLATES:
                raise AnsibleLookupError("no IAM policy template %r (known: %s)" % (name, ", ".join(iam_policies.TEMPLATES)))
            path = os.path.join(iam_dir, name + iam_policies.TEMPLATE_SUFFIX)
            try:
                with open(path) as handle:
                    text = handle.read()
                used = iam_policies.placeholders(text, path)
                if self.get_option("template"):
                    documents.append(text)
                    continue
                if self.get_option("values") is None:
                    raise AnsibleLookupError("iam_policy: values are required unless template=true")
                document = iam_policies.render(text, {k: values[k] for k in used if k in values}, path)
                if self.get_option("sandbox"):
                    document = iam_policies.sandbox_copy(document, name)[0]
            except (OSError, iam_policies.PolicyError) as exc:
                raise AnsibleLookupError(to_text(exc))
            documents.append(document)
        return documents
