#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: node_ami_info
short_description: Find the node AMI of an engine and version, the published one first
version_added: "0.3.0"
description:
  - Reads the SSM parameter C(/redisops/<cluster>/ami/<engine>/<version>) where the bake publishes the AMI id,
    and the available AMIs owned by the account tagged C(Role), C(Engine) and C(EngineVersion).
  - Returns the published AMI when it is one of those, else the newest of them, else an empty string.
  - Reads only; check mode runs the same reads.
author:
  - redisops maintainers
options:
  engine:
    description: Engine of the node image.
    type: str
    required: true
  engine_version:
    description: Upstream engine version of the node image.
    type: str
    required: true
extends_documentation_fragment:
  - redisops.ec2_cluster.node_ami
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Find the AMI to reuse
  redisops.ec2_cluster.node_ami_info:
    cluster_name: prod
    engine: redis
    engine_version: 7.0.15
  register: node_ami

- name: Launch from it
  ansible.builtin.debug:
    msg: "{{ node_ami.image_id or 'nothing baked yet' }} (published in {{ node_ami.parameter_name }})"
"""

RETURN = r"""
image_id:
  description: The published AMI if it is available and tagged for this engine and version, else the newest such AMI;
    empty when there is none.
  returned: always
  type: str
  sample: ami-0123456789abcdef0
published_image_id:
  description: The value of the parameter, empty when it does not exist.
  returned: always
  type: str
parameter_name:
  description: The SSM parameter the bake publishes this engine and version's AMI in.
  returned: always
  type: str
  sample: /redisops/prod/ami/redis/7.0.15
image_ids:
  description: Every available AMI of this engine and version, newest first.
  returned: always
  type: list
  elements: str
"""

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports the missing library

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.node_ami import (
    NodeAmiError,
    parameter_name,
    reusable_image,
)


def read_parameter(client, name):
    """The parameter's value, '' when it does not exist."""
    try:
        return client.get_parameter(Name=name)["Parameter"]["Value"]
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ParameterNotFound":
            return ""
        raise


def read_images(client, filters):
    images = []
    for page in client.get_paginator("describe_images").paginate(Owners=["self"], Filters=filters):
        images.extend(page.get("Images", []))
    return [{"image_id": image["ImageId"], "creation_date": image.get("CreationDate", "")} for image in images]


def main():
    module = AnsibleAWSModule(
        argument_spec={
            "cluster_name": {"type": "str", "required": True},
            "engine": {"type": "str", "required": True},
            "engine_version": {"type": "str", "required": True},
            "role_tag": {"type": "str", "default": "redis-node-ami"},
        },
        supports_check_mode=True,
    )
    params = module.params
    try:
        name = parameter_name(params["cluster_name"], params["engine"], params["engine_version"])
    except NodeAmiError as exc:
        module.fail_json(msg=str(exc))
    filters = [{"Name": "tag:Role", "Values": [params["role_tag"]]},
               {"Name": "tag:Engine", "Values": [params["engine"]]},
               {"Name": "tag:EngineVersion", "Values": [params["engine_version"]]},
               {"Name": "state", "Values": ["available"]}]
    try:
        published = read_parameter(module.client("ssm"), name)
        images = read_images(module.client("ec2"), filters)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        module.fail_json_aws(exc, msg="reading the node AMIs of %s %s failed"
                             % (params["engine"], params["engine_version"]))
    ordered = sorted(images, key=lambda image: (image["creation_date"], image["image_id"]), reverse=True)
    module.exit_json(changed=False, image_id=reusable_image(images, published), published_image_id=published,
                     parameter_name=name, image_ids=[image["image_id"] for image in ordered])


if __name__ == "__main__":
    main()
