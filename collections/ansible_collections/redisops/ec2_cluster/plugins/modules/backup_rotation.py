#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: backup_rotation
short_description: Rotate a cluster's backup sets in S3 (keep daily, weekly, monthly; prune the rest)
version_added: "0.1.0"
description:
  - Lists the backup sets of one cluster under C(<prefix>/<cluster_name>/) in O(bucket), applies the
    retention policy to the complete sets and deletes whole sets that no rule keeps, plus incomplete
    sets older than O(incomplete_grace_days).
  - The policy is restic's C(forget --keep-daily/--keep-weekly/--keep-monthly) applied to set ids
    (UTC day, ISO week, month); the project's C(docs/rotation.md) has worked examples. The newest
    complete set is never deleted.
  - Deleting a set removes every object version and delete marker under its prefix (a versioned
    bucket keeps nothing of it) with C(DeleteObjects) batches of at most 1000 keys. Any key that fails
    to delete fails the task, which then reports what was and was not deleted.
  - Nothing is deleted, and the task fails, when the listing failed or was cut short (more than
    O(max_objects) versions), when no complete set exists, or when the newest complete set is older than
    O(max_newest_age_hours). Backups may be failing then, and pruning would only lose history.
  - Check mode lists and plans exactly as a real run does, including what would be deleted with
    object and version counts, and deletes nothing.
  - Runs on the controller with operator credentials that may list and delete under the cluster's
    prefix (C(s3:ListBucket), C(s3:ListBucketVersions), C(s3:GetObject) for manifests,
    C(s3:DeleteObject), C(s3:DeleteObjectVersion)); the nodes' own credentials cannot delete.
author:
  - redisops maintainers
options:
  bucket:
    description: The backup bucket (the C(backup_bucket) Terraform output).
    type: str
    required: true
  prefix:
    description: Key prefix of all backups; a cluster's sets live under C(<prefix>/<cluster_name>/).
    type: str
    default: backups
  cluster_name:
    description: The cluster whose sets are rotated (the C(cluster_name) Terraform output).
    type: str
    required: true
  keep_daily:
    description: Keep the newest set of each of this many most recent UTC days that hold a set; 0 disables the rule.
    type: int
    default: 7
  keep_weekly:
    description: Keep the newest set of each of this many most recent ISO weeks (Monday to Sunday) that hold a set; 0 disables.
    type: int
    default: 4
  keep_monthly:
    description: Keep the newest set of each of this many most recent months that hold a set; 0 disables.
    type: int
    default: 3
  incomplete_grace_days:
    description:
      - Incomplete sets (manifests do not cover all 16384 slots) whose set id is more than this many
        days old are deleted; younger ones may be a backup still running.
    type: int
    default: 2
  max_newest_age_hours:
    description:
      - Refuse to prune when the newest complete set is older than this. The default suits the default
        daily schedule (one failed night passes, two in a row stop the pruning until backups work again).
    type: float
    default: 48
  max_objects:
    description:
      - Upper bound on the object versions and delete markers listed under the cluster's prefix (one
        listing of versions gives both the current objects and what deleting a set removes). More
        than that is treated like a failed listing (nothing is deleted).
    type: int
    default: 100000
  delete_batch_size:
    description: Keys per C(DeleteObjects) request (1 to 1000).
    type: int
    default: 1000
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    description: Plans and prints what a real run would delete, deleting nothing.
    support: full
  diff_mode:
    description: No diff is returned.
    support: none
notes:
  - Set ids, buckets and ages are all in UTC.
  - Objects under the cluster prefix that are not inside a set are listed in RV(stray_keys) and left alone.
"""

EXAMPLES = r"""
- name: Rotate the cluster's backups with the default 7 daily, 4 weekly, 3 monthly
  redisops.ec2_cluster.backup_rotation:
    bucket: acme-redis-backups
    cluster_name: prod
    region: us-west-2
  register: rotation

- name: Show what was kept and deleted, and why
  ansible.builtin.debug:
    var: rotation.table

- name: Dry run with a longer history, against the local sandbox
  redisops.ec2_cluster.backup_rotation:
    bucket: redisops-sandbox-backups
    cluster_name: sandbox
    keep_daily: 14
    keep_monthly: 12
    endpoint_url: http://127.0.0.1:5000
    access_key: testing
    secret_key: testing
    region: us-west-2
  check_mode: true
"""

RETURN = r"""
location:
  description: Where the cluster's sets are.
  returned: always
  type: str
  sample: s3://acme-redis-backups/backups/prod/
sets:
  description: Every set, newest first, with the verdict.
  returned: success
  type: list
  elements: dict
  contains:
    set_id:
      description: The set id (UTC schedule slot).
      type: str
      sample: "20261127T020000Z"
    complete:
      description: Whether the manifests cover every slot exactly once.
      type: bool
    objects:
      description: Current objects of the set.
      type: int
    versions:
      description: Object versions and delete markers of the set (what deleting it removes).
      type: int
    action:
      description: C(keep) or C(delete). With a refusal, what the policy alone would do; nothing is deleted.
      type: str
    reasons:
      description: Rules that keep the set (C(newest), C(daily), C(weekly), C(monthly), C(oldest)) or C(grace); empty when deleted.
      type: list
      elements: str
    why:
      description: The reasons in words.
      type: str
table:
  description: The plan for people, one line per set, newest first.
  returned: always, also when refused
  type: list
  elements: str
  sample:
    - "set id            state       objects  versions  action  why"
    - "20261127T020000Z  complete          6         6  keep    newest, daily, weekly, monthly"
summary:
  description: Counts of sets kept and deleted (would be deleted in check mode), and the objects and versions deleted.
  returned: always
  type: dict
  sample: {"sets": 30, "kept": 14, "deleted": 16, "deleted_objects": 96, "deleted_versions": 101}
newest_complete:
  description: Id of the newest complete set, never deleted; null when there is none.
  returned: always
  type: str
kept:
  description: Ids of the sets kept.
  returned: success
  type: list
  elements: str
deleted:
  description: Ids of the sets deleted (to be deleted in check mode; only the fully deleted ones after a failure).
  returned: always
  type: list
  elements: str
deleted_versions:
  description: Object versions and delete markers actually deleted.
  returned: when something was deleted or a deletion failed
  type: int
partly_deleted:
  description: Sets of which some but not all versions were deleted before a failure.
  returned: on a failed deletion
  type: list
  elements: str
not_deleted:
  description: Sets due for deletion that were not touched because of a failure.
  returned: on a failed deletion
  type: list
  elements: str
errors:
  description: The keys that failed to delete (at most 100), with the S3 error code and message.
  returned: on a failed deletion
  type: list
  elements: dict
stray_keys:
  description: Keys under the cluster prefix that are not inside a set; never deleted.
  returned: always
  type: list
  elements: str
listed_objects:
  description: Current objects listed.
  returned: always
  type: int
listed_versions:
  description: Object versions and delete markers listed.
  returned: always
  type: int
delete_requests:
  description: C(DeleteObjects) requests sent.
  returned: always
  type: int
durations:
  description: Seconds spent listing, planning and pruning.
  returned: always
  type: dict
  sample: {"list": 1.2, "plan": 0.05, "prune": 3.4}
"""

import datetime

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_catalog as catalog
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_prune as prune
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_rotation as rotation

try:
    import botocore.config
except ImportError:
    pass  # AnsibleAWSModule reports the missing SDK

ARGUMENT_SPEC = dict(
    bucket=dict(type="str", required=True),
    prefix=dict(type="str", default="backups"),
    cluster_name=dict(type="str", required=True),
    keep_daily=dict(type="int", default=7),
    keep_weekly=dict(type="int", default=4),
    keep_monthly=dict(type="int", default=3),
    incomplete_grace_days=dict(type="int", default=2),
    max_newest_age_hours=dict(type="float", default=48),
    max_objects=dict(type="int", default=100000),
    delete_batch_size=dict(type="int", default=1000),
)


def brief(result):
    """A failure shows the table for people, not the per-set records."""
    return {key: value for key, value in result.items() if key not in ("sets", "kept")}


def run(module, s3, now):
    """Rotate and leave the module: exit_json, or fail_json with what is known."""
    params = module.params
    try:
        result = prune.rotate(
            s3, params["bucket"], params["prefix"], params["cluster_name"], now,
            keep_daily=params["keep_daily"], keep_weekly=params["keep_weekly"], keep_monthly=params["keep_monthly"],
            incomplete_grace_days=params["incomplete_grace_days"],
            max_newest_age_hours=params["max_newest_age_hours"], max_objects=params["max_objects"],
            check_mode=module.check_mode, batch_size=params["delete_batch_size"])
    except rotation.RotationError as exc:
        module.fail_json(msg="Invalid backup rotation settings: %s" % exc)
    except catalog.CatalogError as exc:
        module.fail_json(msg="Refusing to prune: %s; nothing was deleted." % exc, changed=False)
    except prune.RotationRefused as exc:
        module.fail_json(msg="Refusing to prune: %s." % exc, **brief(exc.result))
    except prune.PruneError as exc:
        module.fail_json(msg="Backup rotation failed part-way: %s." % exc, **brief(exc.result))
    module.exit_json(**result)


def main():
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    s3 = module.client("s3", config=botocore.config.Config(retries={"max_attempts": 5, "mode": "standard"}))
    run(module, s3, datetime.datetime.now(datetime.timezone.utc))


if __name__ == "__main__":
    main()
