# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: terraform_output
short_description: Read outputs from a Terraform state file, locally or in S3
version_added: 0.1.0
author:
  - redisops maintainers
description:
  - Reads the C(outputs) of a Terraform state (format version 4) without the
    terraform binary, from a local file or from an S3 backend object.
  - With output names as terms, returns their values in order. Without terms,
    returns one dictionary of every output name to its value.
  - A missing output, a missing or unreadable state, or a state format other
    than version 4 fails with an error naming the output and the state location.
options:
  _terms:
    description: Names of the outputs to read. None means all outputs, as one dictionary.
    required: false
    type: list
    elements: str
  state:
    description:
      - Where the state is, a local path or C(s3://bucket/key).
      - AWS options (credentials, region, endpoint) are only used for C(s3://) locations.
    type: str
    required: true
    env:
      - name: REDISOPS_TERRAFORM_STATE
    vars:
      - name: redisops_terraform_state
extends_documentation_fragment:
  - amazon.aws.boto3
  - amazon.aws.common.plugins
  - amazon.aws.region.plugins
"""

EXAMPLES = r"""
- name: Read one output (the state location comes from redisops_terraform_state)
  ansible.builtin.debug:
    msg: "{{ lookup('redisops.ec2_cluster.terraform_output', 'backup_bucket') }}"

- name: Read several outputs from an explicit local state
  ansible.builtin.set_fact:
    vpc_id: "{{ ids[0] }}"
    subnets_by_az: "{{ ids[1] }}"
  vars:
    ids: "{{ query('redisops.ec2_cluster.terraform_output', 'vpc_id', 'private_subnet_ids',
             state='/srv/infra/terraform.tfstate') }}"

- name: Read every output of an S3 backend state as one dictionary
  ansible.builtin.set_fact:
    base: "{{ lookup('redisops.ec2_cluster.terraform_output',
              state='s3://acme-tfstate/redis/prod.tfstate', region='us-west-2') }}"
"""

RETURN = r"""
_raw:
  description:
    - With terms, the value of each named output, in the order asked (string,
      number, bool, list or dictionary as Terraform stored it).
    - Without terms, a single dictionary of every output name to its value.
  type: list
  elements: raw
"""

import os

try:
    import botocore
except ImportError:
    pass  # Reported by AWSLookupBase.require_aws_sdk

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.plugin_utils.lookup import AWSLookupBase

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.terraform_state import (
    TerraformStateError,
    parse_location,
    parse_state,
    select_outputs,
)


class LookupModule(AWSLookupBase):
    def run(self, terms, variables=None, **kwargs):
        super().run(terms, variables, **kwargs)
        location = self.get_option("state")
        try:
            outputs = parse_state(self._read_state(location), location)
            if not terms:
                return [outputs]
            return select_outputs(outputs, [to_text(term) for term in terms], location)
        except TerraformStateError as exc:
            raise AnsibleLookupError(to_text(exc))

    def _read_state(self, location):
        try:
            kind, where, key = parse_location(location)
        except TerraformStateError as exc:
            raise AnsibleLookupError(to_text(exc))
        if kind == "s3":
            return self._read_s3(location, where, key)
        path = os.path.expanduser(where)
        try:
            with open(path, "rb") as handle:
                return handle.read().decode("utf-8")
        except FileNotFoundError:
            raise AnsibleLookupError("Terraform state %s does not exist" % location)
        except (OSError, UnicodeDecodeError) as exc:
            raise AnsibleLookupError("Terraform state %s cannot be read: %s" % (location, exc))

    def _read_s3(self, location, bucket, key):
        client = self.client("s3")
        try:
            body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except is_boto3_error_code(["NoSuchKey", "NoSuchBucket", "404"]):
            raise AnsibleLookupError("Terraform state %s does not exist" % location)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:  # pylint: disable=duplicate-except
            raise AnsibleLookupError("Terraform state %s cannot be read: %s" % (location, exc))
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise AnsibleLookupError("Terraform state %s is not readable JSON: %s" % (location, exc))
