#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sandbox_iam
short_description: IAM users with their own keys in the sandbox's moto, then IAM enforcement on
version_added: "0.1.0"
description:
  - Makes the local sandbox's moto server hold one IAM user per principal with exactly the given
    inline policy, keeps one access key per user in O(keys_file) (JSON, mode 0600), and with
    O(enforce=true) switches moto's IAM enforcement on (C(POST /moto-api/reset-auth) with C(0)), after
    which moto refuses any key it did not issue.
  - Safe to re-run. With moto already enforcing, the keys of the C(sandbox) principal in O(keys_file)
    are used to read and change IAM, and nothing changes when users, policies and keys are as wanted.
    A moto that lost its state (restarted) accepts any key again, and everything is made anew.
  - Principals are C(sandbox) (allowed everything, the sandbox in Terraform's place), C(controller),
    C(node) and C(operator) (their policies are the sandbox copies of the C(iam/) templates, given in
    O(policies)), plus the few grants moto's own answers need in the sandbox only
    (C(plugins/module_utils/sandbox_iam.py), C(SANDBOX_ONLY_STATEMENTS)); users are named
    C(redisops-<cluster_name>-<principal>).
  - Only C(http://127.0.0.1) or C(http://localhost) endpoints are accepted.
  - Check mode reports what would change and changes nothing.
author:
  - redisops maintainers
options:
  endpoint_url:
    description: The sandbox's moto, C(http://127.0.0.1:<port>).
    type: str
    required: true
  region:
    description: Region the clients sign for.
    type: str
    required: true
  cluster_name:
    description: The sandbox's cluster name (part of every user name).
    type: str
    required: true
  keys_file:
    description: The JSON file the keys are kept in (written with mode 0600).
    type: path
    required: true
  principals:
    description: The principals to provide (C(sandbox) is always provided, first).
    type: list
    elements: str
    default: [sandbox]
  policies:
    description: The policy document of each principal other than C(sandbox).
    type: dict
    default: {}
  enforce:
    description: Switch IAM enforcement on once the users and keys are there.
    type: bool
    default: false
  bootstrap_access_key:
    description: The key used while moto does not enforce IAM yet (any key works then).
    type: str
    default: testing
  bootstrap_secret_key:
    description: Its secret.
    type: str
    default: testing
  timeout_s:
    description: Connect and read timeout of each request to moto.
    type: int
    default: 10
"""

EXAMPLES = r"""
- name: The sandbox principal, to create the base resources with
  redisops.ec2_cluster.sandbox_iam:
    endpoint_url: http://127.0.0.1:5000
    region: us-west-2
    cluster_name: sandbox
    keys_file: .sandbox/iam-keys.json

- name: Use its key
  amazon.aws.aws_caller_info:
    endpoint_url: http://127.0.0.1:5000
    access_key: "{{ lookup('redisops.ec2_cluster.sandbox_credentials', 'sandbox', keys_file='.sandbox/iam-keys.json').access_key }}"
    secret_key: "{{ lookup('redisops.ec2_cluster.sandbox_credentials', 'sandbox', keys_file='.sandbox/iam-keys.json').secret_key }}"

- name: Every principal, then enforcement
  redisops.ec2_cluster.sandbox_iam:
    endpoint_url: http://127.0.0.1:5000
    region: us-west-2
    cluster_name: sandbox
    keys_file: .sandbox/iam-keys.json
    principals: [sandbox, controller, node, operator]
    policies:
      controller: "{{ lookup('redisops.ec2_cluster.iam_policy', 'controller', values=policy_values, sandbox=true) }}"
      node: "{{ lookup('redisops.ec2_cluster.iam_policy', 'node', values=policy_values, sandbox=true) }}"
      operator: "{{ lookup('redisops.ec2_cluster.iam_policy', 'operator', values=policy_values, sandbox=true) }}"
    enforce: true
"""

RETURN = r"""
users:
  description: The IAM user of each principal provided (the keys are in O(keys_file) only).
  returned: always
  type: dict
  sample: {sandbox: redisops-sandbox-sandbox, controller: redisops-sandbox-controller}
enforced:
  description: Whether moto enforces IAM after this run.
  returned: always
  type: bool
steps:
  description: What was (in check mode, would be) changed, one C(<action> <principal>) line each.
  returned: always
  type: list
  elements: str
"""

import json
import os
import urllib.error

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.urls import open_url

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import atomic_file, sandbox_iam, sandbox_identity

try:
    import boto3
    import botocore.config
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    boto3 = None

REFUSED = ("InvalidClientTokenId", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403")


class Moto:
    def __init__(self, module):
        self.module = module
        params = module.params
        self.endpoint = params["endpoint_url"].rstrip("/")
        self.region = params["region"]
        self.config = botocore.config.Config(connect_timeout=params["timeout_s"], read_timeout=params["timeout_s"],
                                             retries={"max_attempts": 2})

    def client(self, service, key):
        return boto3.session.Session().client(
            service, endpoint_url=self.endpoint, region_name=self.region, config=self.config,
            aws_access_key_id=key["access_key"], aws_secret_access_key=key["secret_key"])

    def accepts(self, key):
        """Whether moto answers this key (False: refused as unknown)."""
        try:
            self.client("sts", key).get_caller_identity()
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in REFUSED:
                return False
            raise

    def enforce(self):
        response = open_url(self.endpoint + "/moto-api/reset-auth", data=b"0", method="POST",
                            headers={"Content-Type": "text/plain"}, timeout=self.module.params["timeout_s"])
        answer = json.load(response)
        if answer.get("status") != "ok":
            self.module.fail_json(msg="moto did not switch IAM enforcement on: %r" % (answer,))


def read_keys(module, path):
    if not os.path.exists(path):
        return {}
    try:
        with open(path) as handle:
            return sandbox_iam.parse_keys(handle.read(), path)
    except (OSError, sandbox_iam.SandboxIamError) as exc:
        module.fail_json(msg="cannot use %s: %s; remove it and bring the sandbox up again" % (path, exc))


def write_keys(path, principals, endpoint):
    atomic_file.replace(path, sandbox_iam.render_keys(principals, endpoint).encode(),
                        prepare=lambda temporary: os.chmod(temporary, 0o600))


def current_users(iam, wanted):
    """{user_name: {policy, key_ids}} of the wanted users that exist."""
    found = {}
    for principal, entry in wanted.items():
        user = entry["user_name"]
        try:
            iam.get_user(UserName=user)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "NoSuchEntity":
                continue
            raise
        try:
            policy = iam.get_user_policy(UserName=user, PolicyName=sandbox_iam.policy_name(principal))["PolicyDocument"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "NoSuchEntity":
                raise
            policy = None
        key_ids = [k["AccessKeyId"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]]
        found[user] = {"policy": policy, "key_ids": key_ids}
    return found


def carry_out(iam, steps, wanted, keys):
    for action, principal, detail in steps:
        user = wanted[principal]["user_name"]
        if action == "create_user":
            iam.create_user(UserName=user, Tags=[{"Key": "Project", "Value": "redisops"},
                                                 {"Key": "SandboxPrincipal", "Value": principal}])
        elif action == "put_policy":
            iam.put_user_policy(UserName=user, PolicyName=sandbox_iam.policy_name(principal),
                                PolicyDocument=json.dumps(detail, sort_keys=True))
        elif action == "delete_key":
            iam.delete_access_key(UserName=user, AccessKeyId=detail)
        elif action == "create_key":
            key = iam.create_access_key(UserName=user)["AccessKey"]
            keys[principal] = {"user_name": user, "access_key_id": key["AccessKeyId"],
                               "secret_access_key": key["SecretAccessKey"]}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            endpoint_url=dict(type="str", required=True),
            region=dict(type="str", required=True),
            cluster_name=dict(type="str", required=True),
            keys_file=dict(type="path", required=True),
            principals=dict(type="list", elements="str", default=["sandbox"]),
            policies=dict(type="dict", default={}),
            enforce=dict(type="bool", default=False),
            bootstrap_access_key=dict(type="str", default="testing", no_log=True),
            bootstrap_secret_key=dict(type="str", default="testing", no_log=True),
            timeout_s=dict(type="int", default=10),
        ),
        supports_check_mode=True,
    )
    if boto3 is None:
        module.fail_json(msg=missing_required_lib("boto3"))
    params = module.params
    problem = sandbox_identity.moto_endpoint_problem(params["endpoint_url"])
    if problem:
        module.fail_json(msg=problem)
    try:
        principals = sandbox_iam.check_principals(
            ["sandbox"] + [p for p in params["principals"] if p != "sandbox"])
        missing = [p for p in principals if sandbox_iam.TEMPLATE_OF[p] and p not in params["policies"]]
        if missing:
            raise sandbox_iam.SandboxIamError("no policy given for %s" % ", ".join(missing))
        wanted = {p: {"user_name": sandbox_iam.user_name(params["cluster_name"], p),
                      "policy": sandbox_iam.with_sandbox_only_statements(
                          p, params["policies"].get(p, sandbox_iam.ADMIN_POLICY))} for p in principals}
    except sandbox_iam.SandboxIamError as exc:
        module.fail_json(msg=str(exc))

    moto = Moto(module)
    bootstrap = {"access_key": params["bootstrap_access_key"], "secret_key": params["bootstrap_secret_key"]}
    keys = read_keys(module, params["keys_file"])
    try:
        enforcing = not moto.accepts(bootstrap)
        if enforcing:
            known = keys.get("sandbox")
            admin = sandbox_iam.credentials(keys, ["sandbox"])[0] if known else None
            if admin is None or not moto.accepts(admin):
                module.fail_json(msg="moto at %s enforces IAM but %s holds no key it knows; stop the sandbox "
                                     "(playbooks/sandbox_down.yml) and bring it up again" % (
                                         params["endpoint_url"], params["keys_file"]))
        else:
            admin = bootstrap
        iam = moto.client("iam", admin)
        steps = sandbox_iam.plan(wanted, current_users(iam, wanted), keys)
        will_enforce = params["enforce"] and not enforcing
        if not module.check_mode:
            carry_out(iam, steps, wanted, keys)
            if any(action == "create_key" for action, _, _ in steps):
                write_keys(params["keys_file"], keys, params["endpoint_url"])
            if will_enforce:
                moto.enforce()
                admin = sandbox_iam.credentials(keys, ["sandbox"])[0]
                if moto.accepts(bootstrap) or not moto.accepts(admin):
                    module.fail_json(msg="moto's IAM enforcement did not take effect at %s" % params["endpoint_url"])
    except (BotoCoreError, ClientError, OSError, urllib.error.URLError) as exc:
        module.fail_json(msg="sandbox IAM at %s: %s" % (params["endpoint_url"], exc))

    changed = bool(steps) or will_enforce
    module.exit_json(changed=changed, users={p: wanted[p]["user_name"] for p in principals}, enforced=enforcing or params["enforce"],
                     steps=["%s %s" % (action, principal) for action, principal, _ in steps]
                     + (["enforce IAM"] if will_enforce else []))


if __name__ == "__main__":
    main()
