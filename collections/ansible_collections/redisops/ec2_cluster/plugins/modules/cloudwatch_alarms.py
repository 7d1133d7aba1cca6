#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudwatch_alarms
short_description: Make a Redis cluster's CloudWatch metric alarms the desired ones, in one task
version_added: "0.3.0"
description:
  - Lists the cluster's alarms once (name prefix C(redisops-<cluster>-)), compares them with O(alarms) and puts
    only the alarms that are missing or differ; with O(purge), deletes the cluster's alarms that are no longer
    desired (nodes that left, checks turned off). An unchanged cluster costs one listing.
  - Only alarms with the cluster's name prefix, the O(namespace) and the cluster's C(ClusterName) dimension are
    ever deleted, so another cluster whose name starts with this one keeps its alarms.
  - Incomplete alarms are refused before anything changes. Check mode performs the real comparison and changes
    nothing. Diff mode shows the alarms that change, before and after.
author:
  - redisops maintainers
options:
  cluster:
    description: The cluster name (C(ClusterName) dimension, part of every alarm name).
    type: str
    required: true
  namespace:
    description: The metrics' CloudWatch namespace.
    type: str
    required: true
  alarms:
    description:
      - The desired alarms, as the filter P(redisops.ec2_cluster.monitoring_alarms#filter) builds them
        (C(name), C(metric_name), C(namespace), C(statistic), C(comparison), C(threshold), C(period),
        C(evaluation_periods), C(datapoints_to_alarm), C(treat_missing_data), C(unit), C(description),
        C(dimensions) as a dict, C(alarm_actions), C(ok_actions), C(insufficient_data_actions)).
    type: list
    elements: dict
    required: true
  purge:
    description: Delete the cluster's alarms that are not in O(alarms).
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Put the cluster's alarms, delete those of nodes that left
  redisops.ec2_cluster.cloudwatch_alarms:
    cluster: prod
    namespace: RedisCluster
    alarms: "{{ nodes | redisops.ec2_cluster.monitoring_alarms('prod', 'RedisCluster', topic_arn) }}"
    region: us-west-2
"""

RETURN = r"""
put:
  description: Names of the alarms created or updated (or that would be, in check mode).
  returned: always
  type: list
  elements: str
deleted:
  description: Names of the alarms deleted (or that would be, in check mode).
  returned: always
  type: list
  elements: str
unchanged:
  description: How many desired alarms already matched.
  returned: always
  type: int
"""

import json

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports the missing library

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import cloudwatch_monitoring as cw

# DeleteAlarms takes at most 100 names per call.
DELETE_BATCH = 100


def list_alarms(client, cluster):
    """The metric alarms named after the cluster, as snake-case describe entries."""
    pages = client.get_paginator("describe_alarms").paginate(AlarmNamePrefix=cw.alarm_prefix(cluster),
                                                             AlarmTypes=["MetricAlarm"])
    return [camel_dict_to_snake_dict(alarm) for page in pages for alarm in page.get("MetricAlarms", [])]


def diff(plan, existing):
    current = {a["alarm_name"]: a for a in existing}
    before = {a["name"]: cw.current_alarm_options(current[a["name"]]) for a in plan["put"] if a["name"] in current}
    before.update({name: cw.current_alarm_options(current[name]) for name in plan["delete"]})
    after = {a["name"]: dict(a) for a in plan["put"]}
    return {"before": _dump(before), "after": _dump(after)}


def _dump(alarms):
    return json.dumps(alarms, indent=1, sort_keys=True) + "\n" if alarms else ""


def apply(client, plan):
    for alarm in plan["put"]:
        client.put_metric_alarm(**cw.put_alarm_request(alarm))
    for start in range(0, len(plan["delete"]), DELETE_BATCH):
        client.delete_alarms(AlarmNames=plan["delete"][start:start + DELETE_BATCH])


def run_module(module, client):
    cluster, namespace, desired = module.params["cluster"], module.params["namespace"], module.params["alarms"]
    try:
        existing = list_alarms(client, cluster)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        module.fail_json_aws(exc, msg="listing the alarms of cluster %s failed" % cluster)
    try:
        plan = cw.plan_alarms(cluster, namespace, desired, existing)
    except cw.MonitoringError as exc:
        module.fail_json(msg=str(exc))
    if not module.params["purge"]:
        plan["delete"] = []
    result = {"changed": bool(plan["put"] or plan["delete"]), "put": [a["name"] for a in plan["put"]],
              "deleted": list(plan["delete"]), "unchanged": len(desired) - len(plan["put"])}
    if module._diff:
        result["diff"] = diff(plan, existing)
    if result["changed"] and not module.check_mode:
        try:
            apply(client, plan)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            module.fail_json_aws(exc, msg="changing the alarms of cluster %s failed" % cluster)
    module.exit_json(**result)


def main():
    module = AnsibleAWSModule(
        argument_spec={
            "cluster": {"type": "str", "required": True},
            "namespace": {"type": "str", "required": True},
            "alarms": {"type": "list", "elements": "dict", "required": True},
            "purge": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    run_module(module, module.client("cloudwatch"))


if __name__ == "__main__":
    main()
