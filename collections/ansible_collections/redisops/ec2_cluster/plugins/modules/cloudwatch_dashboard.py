#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudwatch_dashboard
short_description: Create, update or delete a CloudWatch dashboard
version_added: "0.2.0"
description:
  - Compares the dashboard's current body with O(body) as JSON (key order and formatting do not matter) and
    puts it only when they differ; deletes it with O(state=absent).
  - Check mode performs the real comparison and changes nothing. Diff mode shows the bodies before and after.
  - Validation messages CloudWatch returns for a body it accepted are reported as warnings.
author:
  - redisops maintainers
options:
  name:
    description: Dashboard name (letters, digits, C(-) and C(_), at most 255 characters).
    type: str
    required: true
  body:
    description: The dashboard body (C(widgets)...), as a dict or a JSON string. Required with O(state=present).
    type: raw
  state:
    description: Whether the dashboard should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Put the cluster dashboard
  redisops.ec2_cluster.cloudwatch_dashboard:
    name: redisops-prod
    body: "{{ nodes | redisops.ec2_cluster.monitoring_dashboard('prod', 'RedisCluster', 'us-west-2') }}"
    region: us-west-2

- name: Remove it
  redisops.ec2_cluster.cloudwatch_dashboard:
    name: redisops-prod
    state: absent
"""

RETURN = r"""
dashboard_arn:
  description: ARN of the dashboard (after the change; empty when absent).
  returned: always
  type: str
body:
  description: The dashboard body after the change (empty when absent).
  returned: always
  type: dict
"""

import json
import re

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports the missing library

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


def normalise_body(body):
    """A body as the dict CloudWatch stores; ValueError for anything else."""
    if isinstance(body, str):
        body = json.loads(body)
    if not isinstance(body, dict) or not isinstance(body.get("widgets"), list):
        raise ValueError("a dashboard body is a JSON object with a widgets list")
    return json.loads(json.dumps(body))


def plan(current, desired, state):
    """'put', 'delete' or None, from the current body (None when there is no dashboard)."""
    if state == "absent":
        return "delete" if current is not None else None
    return "put" if current != desired else None


def read_dashboard(client, name):
    try:
        answer = client.get_dashboard(DashboardName=name)
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("ResourceNotFound", "ResourceNotFoundException"):
            return None, ""
        raise
    return json.loads(answer.get("DashboardBody") or "{}"), answer.get("DashboardArn", "")


def run_module(module, client):
    name, state = module.params["name"], module.params["state"]
    if not _NAME.match(name):
        module.fail_json(msg="dashboard name %r: use letters, digits, '-' and '_' (at most 255)" % name)
    desired = None
    if state == "present":
        if module.params["body"] is None:
            module.fail_json(msg="body is required with state=present")
        try:
            desired = normalise_body(module.params["body"])
        except ValueError as exc:
            module.fail_json(msg="body: %s" % exc)
    try:
        current, arn = read_dashboard(client, name)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        module.fail_json_aws(exc, msg="reading dashboard %s failed" % name)
    action = plan(current, desired, state)
    result = {"changed": action is not None, "dashboard_arn": arn, "body": current or {}}
    if module._diff:
        result["diff"] = {"before": json.dumps(current, indent=1, sort_keys=True) + "\n" if current else "",
                          "after": json.dumps(desired, indent=1, sort_keys=True) + "\n" if desired else ""}
    if action is None or module.check_mode:
        if action is not None:
            result["body"] = desired or {}
        module.exit_json(**result)
    try:
        if action == "delete":
            client.delete_dashboards(DashboardNames=[name])
            result.update(dashboard_arn="", body={})
        else:
            answer = client.put_dashboard(DashboardName=name, DashboardBody=json.dumps(desired, sort_keys=True))
            for message in answer.get("DashboardValidationMessages") or []:
                module.warn("dashboard %s: %s (%s)" % (name, message.get("Message"), message.get("DataPath")))
            result["body"] = desired
            result["dashboard_arn"] = read_dashboard(client, name)[1]
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        module.fail_json_aws(exc, msg="%s of dashboard %s failed" % (action, name))
    module.exit_json(**result)


def main():
    module = AnsibleAWSModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "body": {"type": "raw"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
        supports_check_mode=True,
    )
    run_module(module, module.client("cloudwatch"))


if __name__ == "__main__":
    main()
