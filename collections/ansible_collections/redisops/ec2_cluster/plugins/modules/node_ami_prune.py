#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: node_ami_prune
short_description: Deregister old node AMIs of an engine, never one still named elsewhere
version_added: "0.3.0"
description:
  - Lists the AMIs owned by the account tagged C(Role) and C(Engine), keeps the newest O(keep) and every AMI
    that something still names, and deregisters the others, then deletes their snapshots.
  - Kept whatever their age are the AMIs named by any version of any launch template (C(ImageId), with
    C(resolve:ssm:) aliases resolved), by an instance that is pending, running, stopping or stopped, and by a
    parameter under C(/redisops/<cluster>/ami/<engine>/) (the published AMIs).
  - A snapshot is deleted only after its AMI was deregistered, and never one that a kept AMI also uses.
  - Every read happens before anything is deleted; a failed read deletes nothing.
  - Check mode makes the same reads and reports what would be deregistered.
author:
  - redisops maintainers
options:
  engine:
    description: Engine whose AMIs are pruned.
    type: str
    required: true
  keep:
    description: How many of the newest AMIs are kept whatever names them; C(0) keeps every AMI.
    type: int
    default: 3
extends_documentation_fragment:
  - redisops.ec2_cluster.node_ami
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Keep the newest three redis AMIs and whatever is still named
  redisops.ec2_cluster.node_ami_prune:
    cluster_name: prod
    engine: redis
    keep: 3
  register: pruned

- name: Say what went
  ansible.builtin.debug:
    msg: "{{ pruned.deregistered | join(', ') or 'nothing' }}"
"""

RETURN = r"""
deregistered:
  description: AMIs deregistered (in check mode, that would be), oldest first.
  returned: always
  type: list
  elements: str
deleted_snapshots:
  description: Snapshots deleted with them.
  returned: always
  type: list
  elements: str
kept:
  description: Every kept AMI with why it is kept (C(newest), C(launch_template), C(instance), C(published)).
  returned: always
  type: dict
  sample: {"ami-0123456789abcdef0": ["newest", "published"]}
"""

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports the missing library

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.node_ami import (
    NodeAmiError,
    image_references,
    parameter_path,
    plan_prune,
)

_ALIAS = "resolve:ssm:"
# Instances in these states may start again from their AMI.
_LIVE_STATES = ["pending", "running", "stopping", "stopped"]


def _paginate(client, operation, key, **kwargs):
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key, [])


def read_images(ec2, role_tag, engine):
    filters = [{"Name": "tag:Role", "Values": [role_tag]}, {"Name": "tag:Engine", "Values": [engine]}]
    return [{"image_id": image["ImageId"], "creation_date": image.get("CreationDate", ""),
             "snapshot_ids": [m["Ebs"]["SnapshotId"] for m in image.get("BlockDeviceMappings", [])
                              if m.get("Ebs", {}).get("SnapshotId")]}
            for image in _paginate(ec2, "describe_images", "Images", Owners=["self"], Filters=filters)]


def read_launch_template_images(ec2, ssm):
    """The ImageId of every version of every launch template, aliases resolved."""
    references = []
    for template in _paginate(ec2, "describe_launch_templates", "LaunchTemplates"):
        for version in _paginate(ec2, "describe_launch_template_versions", "LaunchTemplateVersions",
                                 LaunchTemplateId=template["LaunchTemplateId"], ResolveAlias=True):
            image_id = version.get("LaunchTemplateData", {}).get("ImageId", "")
            if image_id.startswith(_ALIAS):
                # GetParameter takes the alias's name[:version|:label] as it is.
                image_id = ssm.get_parameter(Name=image_id[len(_ALIAS):])["Parameter"]["Value"]
            references.append(image_id)
    return image_references(references)


def read_instance_images(ec2, image_ids):
    found = []
    for start in range(0, len(image_ids), 100):
        filters = [{"Name": "image-id", "Values": image_ids[start:start + 100]},
                   {"Name": "instance-state-name", "Values": _LIVE_STATES}]
        for reservation in _paginate(ec2, "describe_instances", "Reservations", Filters=filters):
            found.extend(instance["ImageId"] for instance in reservation.get("Instances", []))
    return image_references(found)


def read_published_images(ssm, path):
    return image_references(parameter["Value"] for parameter in
                            _paginate(ssm, "get_parameters_by_path", "Parameters", Path=path, Recursive=True))


def main():
    module = AnsibleAWSModule(
        argument_spec={
            "cluster_name": {"type": "str", "required": True},
            "engine": {"type": "str", "required": True},
            "keep": {"type": "int", "default": 3},
            "role_tag": {"type": "str", "default": "redis-node-ami"},
        },
        supports_check_mode=True,
    )
    params = module.params
    try:
        path = parameter_path(params["cluster_name"], params["engine"])
        plan_prune([], params["keep"])  # refuses a bad keep before any call
    except NodeAmiError as exc:
        module.fail_json(msg=str(exc))
    ec2, ssm = module.client("ec2"), module.client("ssm")
    try:
        images = read_images(ec2, params["role_tag"], params["engine"])
        plan = plan_prune(
            images, params["keep"],
            launch_template_images=read_launch_template_images(ec2, ssm),
            instance_images=read_instance_images(ec2, [image["image_id"] for image in images]) if images else [],
            published_images=read_published_images(ssm, path))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        module.fail_json_aws(exc, msg="reading what names the %s AMIs failed; nothing was deleted" % params["engine"])
    result = {"changed": bool(plan["deregister"]), "kept": plan["kept"],
              "deregistered": [entry["image_id"] for entry in plan["deregister"]],
              "deleted_snapshots": [s for entry in plan["deregister"] for s in entry["snapshot_ids"]]}
    if module.check_mode or not plan["deregister"]:
        module.exit_json(**result)
    done, deleted = [], []
    for entry in plan["deregister"]:
        try:
            ec2.deregister_image(ImageId=entry["image_id"])
            done.append(entry["image_id"])
            for snapshot_id in entry["snapshot_ids"]:
                ec2.delete_snapshot(SnapshotId=snapshot_id)
                deleted.append(snapshot_id)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            module.fail_json_aws(exc, msg="pruning %s failed" % entry["image_id"], deregistered=done,
                                 deleted_snapshots=deleted, kept=plan["kept"], changed=bool(done))
    module.exit_json(**dict(result, deregistered=done, deleted_snapshots=deleted))


if __name__ == "__main__":
    main()
