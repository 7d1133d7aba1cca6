#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: redisops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: backup_restore_plan
short_description: Choose a complete backup set and plan its restore into a cluster
version_added: "0.2.0"
description:
  - Lists the cluster's backup sets in S3 (C(module_utils/backup_catalog.py)), picks O(set) (V(latest) is the newest
    complete set; a named set must be complete), reads and checks every manifest of it.
  - Plans the restore with the pure C(module_utils/restore_plan.py) from O(nodes), the facts
    M(redisops.ec2_cluster.redis_node_info) read on every target node.
  - Refuses, before any node is touched, an incomplete set, a set with a shard in a newer RDB format than the target
    engine reads, a target cluster that does not serve every slot, and a target that holds keys unless O(force).
  - Read-only; runs on the controller with the operator's AWS credentials.
author:
  - redisops maintainers
options:
  bucket:
    description: Backup bucket (Terraform output C(backup_bucket)).
    type: str
    required: true
  prefix:
    description: Key prefix of the backups.
    type: str
    default: backups
  cluster:
    description: Cluster name whose sets are read (Terraform output C(cluster_name)).
    type: str
    required: true
  set:
    description: V(latest) or a set id such as V(20261127T020000Z).
    type: str
    default: latest
  nodes:
    description: The target nodes' facts (RV(redisops.ec2_cluster.redis_node_info#module:node) of each).
    type: list
    elements: dict
    required: true
  force:
    description: Restore into a cluster that holds keys (they are replaced).
    type: bool
    default: false
  max_keys:
    description: Upper bound of objects listed under the cluster's prefix.
    type: int
    default: 100000
  aws_access_key:
    description: Access key; empty for the standard credential chain.
    type: str
    default: ""
  aws_secret_key:
    description: Secret key of O(aws_access_key).
    type: str
    default: ""
extends_documentation_fragment:
  - redisops.ec2_cluster.backup_s3
attributes:
  check_mode:
    description: Read-only; runs the same in check mode.
    support: full
  diff_mode:
    description: Nothing changes, so there is no diff.
    support: none
"""

EXAMPLES = r"""
- name: Plan the restore of the newest complete set
  redisops.ec2_cluster.backup_restore_plan:
    bucket: "{{ cluster_facts_outputs.backup_bucket }}"
    cluster: "{{ cluster_facts_outputs.cluster_name }}"
    set: latest
    nodes: "{{ ansible_play_hosts | map('extract', hostvars, ['__redis_restore_info', 'node']) | list }}"
    aws_region: us-west-2
  delegate_to: localhost
  run_once: true
  register: restore_plan
"""

RETURN = r"""
set_id:
  description: The set restored.
  returned: success
  type: str
  sample: 20261127T020000Z
mode:
  description: V(same_shape) (each shard's RDB placed on its master) or V(redistribute) (keys moved through cluster
    routing from temporary servers).
  returned: success
  type: str
shards:
  description: One entry per shard of the set, in slot order.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: shard-<first>-<last>.
      type: str
    slot_ranges:
      description: Slot ranges of the shard.
      type: list
    keys_expected:
      description: Keys the manifest records.
      type: int
    object:
      description: The manifest's data object (key, version_id, size, sha256, uncompressed_size, uncompressed_sha256).
      type: dict
    target_host:
      description: Inventory host that fetches the shard and places (same shape) or loads (redistribute) it.
      type: str
    replica_hosts:
      description: Same shape only, the replicas of the target master (stopped first, resynced last).
      type: list
hosts:
  description: Per inventory host, what it does (fetch, master_of, replica_of, load, flush).
  returned: success
  type: dict
keys_expected:
  description: Keys of all shards.
  returned: success
  type: int
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_catalog as catalog
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_layout as layout
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import restore_plan

try:
    import boto3
    from botocore.config import Config
    HAS_BOTO3 = True
except ImportError:
    HAS_BOTO3 = False


def s3_client(params):
    kwargs = {"region_name": params["aws_region"],
              "config": Config(connect_timeout=10, read_timeout=60, retries={"max_attempts": 3, "mode": "standard"})}
    if params["aws_endpoint_url"]:
        kwargs["endpoint_url"] = params["aws_endpoint_url"]
    if params["aws_access_key"]:
        kwargs.update(aws_access_key_id=params["aws_access_key"], aws_secret_access_key=params["aws_secret_key"])
    return boto3.session.Session().client("s3", **kwargs)


def choose_set(s3, params, listing):
    args = (s3, params["bucket"], params["prefix"], params["cluster"])
    if params["set"] == "latest":
        chosen = catalog.newest_complete(*args, listing=listing)
        if chosen is None:
            raise restore_plan.RestorePlanError("no complete backup set of cluster %s in s3://%s/%s" % (
                params["cluster"], params["bucket"], layout.cluster_prefix(params["prefix"], params["cluster"])))
        return chosen
    layout.parse_set_id(params["set"])
    chosen = listing.sets.get(params["set"])
    if chosen is None:
        raise restore_plan.RestorePlanError("set %s of cluster %s does not exist" % (params["set"], params["cluster"]))
    if not catalog.is_complete(*args, backup_set=chosen):
        raise restore_plan.RestorePlanError("set %s is incomplete: only %s have manifests" % (
            params["set"], ", ".join(chosen.manifest_names) or "no shards"))
    return chosen


def main():
    module = AnsibleModule(
        argument_spec=dict(
            bucket=dict(type="str", required=True),
            prefix=dict(type="str", default="backups"),
            cluster=dict(type="str", required=True),
            set=dict(type="str", default="latest"),
            nodes=dict(type="list", elements="dict", required=True),
            force=dict(type="bool", default=False),
            max_keys=dict(type="int", default=100000),
            aws_region=dict(type="str", required=True),
            aws_endpoint_url=dict(type="str", default=""),
            aws_access_key=dict(type="str", default="", no_log=True),
            aws_secret_key=dict(type="str", default="", no_log=True),
        ),
        supports_check_mode=True,
    )
    if not HAS_BOTO3:
        module.fail_json(msg=missing_required_lib("boto3"))
    params = module.params
    try:
        s3 = s3_client(params)
        listing = catalog.list_sets(s3, params["bucket"], params["prefix"], params["cluster"],
                                    max_keys=params["max_keys"])
        chosen = choose_set(s3, params, listing)
        manifests = catalog.read_manifests(s3, params["bucket"], params["prefix"], params["cluster"], chosen)
        missing = [obj["key"] for m in manifests for obj in m["objects"]
                   if layout.parse_key(obj["key"], params["prefix"], params["cluster"]) is None
                   or obj["key"].rsplit("/", 1)[1] not in chosen.objects]
        if missing:
            raise restore_plan.RestorePlanError("set %s lacks data objects its manifests list: %s" % (
                chosen.set_id, ", ".join(missing)))
        plan = restore_plan.plan_restore(manifests, params["nodes"], force=params["force"])
    except (catalog.CatalogError, layout.LayoutError, restore_plan.RestorePlanError) as exc:
        module.fail_json(msg="restore refused: %s" % exc, changed=False)
    except Exception as exc:
        module.fail_json(msg="restore planning failed: %s" % exc, exception=traceback.format_exc(), changed=False)
    module.exit_json(changed=False, set_id=chosen.set_id, **plan)


if __name__ == "__main__":
    main()
