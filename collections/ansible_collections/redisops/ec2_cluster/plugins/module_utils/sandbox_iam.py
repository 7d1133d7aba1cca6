# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sandbox's IAM principals and their keys, as pure functions.

The sandbox's moto enforces IAM (docs/targets.md, "IAM in the sandbox"): each
caller has an IAM user of its own holding the sandbox copy of its policy
(``iam_policies.sandbox_copy`` of the ``iam/`` template), and its access key
is kept in one JSON file of the sandbox's state directory (mode 0600,
``KEYS_FILE_NAME``). The principals:

- ``sandbox``: the sandbox itself, in Terraform's place (base resources, the
  AMIs it publishes in Debian's place); allowed everything, used by the
  sandbox roles only;
- ``controller``: every playbook run on the controller (iam/controller);
- ``node``: the programs on the instances (iam/node);
- ``operator``: backup rotation (iam/operator).

:func:`plan` decides what to change in moto from what it holds; the module
``redisops.ec2_cluster.sandbox_iam`` carries it out.
"""

from __future__ import annotations

import json
import re

KEYS_FILE_NAME = "iam-keys.json"
KEYS_FILE_VERSION = 1
PRINCIPALS = ("sandbox", "controller", "node", "operator")
# The policy template of each principal (iam/<name>.json.tpl); None: ADMIN_POLICY.
TEMPLATE_OF = {"sandbox": None, "controller": "controller", "node": "node", "operator": "operator"}
ADMIN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "SandboxStandsInForTerraform", "Effect": "Allow", "Action": "*", "Resource": "*"}],
}
# Granted in the sandbox only, for moto's own answers (moto 5.2.5): an
# instance launched with a network interface (ec2_instance does so with a
# subnet and groups, as the bake's builder is) has an empty groupSet, so
# ec2_instance "corrects" it with ModifyInstanceAttribute after the launch.
# On AWS the groups match and nothing is modified.
SANDBOX_ONLY_STATEMENTS = {
    "controller": [{"Sid": "MotoReportsNoGroupsOfLaunchedInstances", "Effect": "Allow",
                    "Action": ["ec2:ModifyInstanceAttribute"], "Resource": "*"}],
}
# What moto accepts with IAM off, and refuses with IAM on.
DUMMY_KEY = {"access_key": "testing", "secret_key": "testing"}

_CLUSTER_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
_KEY_ID = re.compile(r"^[A-Z0-9]{16,128}$")


class SandboxIamError(ValueError):
    """A principal, a keys file or a policy that cannot be used."""


def user_name(cluster_name, principal):
    """The IAM user of one principal: redisops-<cluster>-<principal>."""
    check_principals([principal])
    if not isinstance(cluster_name, str) or not _CLUSTER_NAME.match(cluster_name):
        raise SandboxIamError("cluster name %r: lowercase letters, digits and '-', at most 40" % (cluster_name,))
    return "redisops-%s-%s" % (cluster_name, principal)


def policy_name(principal):
    return "redisops-" + principal


def check_principals(principals):
    unknown = [p for p in principals if p not in PRINCIPALS]
    if unknown:
        raise SandboxIamError("unknown principal%s %s (known: %s)" % (
            "s" if len(unknown) > 1 else "", ", ".join(map(str, unknown)), ", ".join(PRINCIPALS)))
    return list(principals)


def with_sandbox_only_statements(principal, policy):
    """The policy a principal's IAM user holds: its sandbox copy plus SANDBOX_ONLY_STATEMENTS."""
    check_principals([principal])
    extra = SANDBOX_ONLY_STATEMENTS.get(principal, [])
    if not extra:
        return policy
    policy = normalise_policy(policy)
    return dict(policy, Statement=list(policy["Statement"]) + [dict(s) for s in extra])


def parse_keys(text, where="keys file"):
    """{principal: {user_name, access_key_id, secret_access_key}} from the keys file's text."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SandboxIamError("%s is not JSON: %s" % (where, exc))
    if not isinstance(data, dict) or data.get("version") != KEYS_FILE_VERSION:
        raise SandboxIamError("%s: not a version %d sandbox keys file" % (where, KEYS_FILE_VERSION))
    principals = data.get("principals")
    if not isinstance(principals, dict):
        raise SandboxIamError("%s: 'principals' must be a mapping" % where)
    check_principals(sorted(principals))
    for name, entry in principals.items():
        if not isinstance(entry, dict) or sorted(entry) != ["access_key_id", "secret_access_key", "user_name"]:
            raise SandboxIamError("%s: principal %s needs exactly user_name, access_key_id, secret_access_key" % (where, name))
        if not all(isinstance(v, str) and v for v in entry.values()) or not _KEY_ID.match(entry["access_key_id"]):
            raise SandboxIamError("%s: principal %s has an empty or malformed key" % (where, name))
    return {name: dict(entry) for name, entry in principals.items()}


def render_keys(principals, endpoint_url):
    """The keys file's text (stable: sorted keys, one trailing newline)."""
    check_principals(sorted(principals))
    return json.dumps({"version": KEYS_FILE_VERSION, "endpoint_url": endpoint_url, "principals": principals},
                      indent=2, sort_keys=True) + "\n"


def credentials(principals, wanted):
    """{access_key, secret_key, user_name} of each wanted principal, in order."""
    check_principals(wanted)
    missing = [p for p in wanted if p not in principals]
    if missing:
        raise SandboxIamError("no key for principal%s %s" % ("s" if len(missing) > 1 else "", ", ".join(missing)))
    return [{"access_key": principals[p]["access_key_id"], "secret_key": principals[p]["secret_access_key"],
             "user_name": principals[p]["user_name"]} for p in wanted]


def normalise_policy(document):
    """A policy as moto returns it (a dict, or JSON text) in one comparable form."""
    if isinstance(document, str):
        document = json.loads(document)
    return json.loads(json.dumps(document, sort_keys=True))


def plan(wanted, current, keys):
    """What to change so that moto holds ``wanted`` and ``keys`` names a live key of each user.

    ``wanted``: {principal: {"user_name", "policy"}}; ``current``: {user_name:
    {"policy": document or None, "key_ids": [...]}} for the users that exist;
    ``keys``: the keys file's principals (may be empty). Returns a list of
    steps ``(action, principal, detail)`` in the order to carry them out:
    ``create_user``, ``put_policy`` (detail: the policy), ``delete_key``
    (detail: key id), ``create_key``. A user keeps its key when the file
    names one of its live keys; otherwise its old keys go and a new one is
    made (a secret cannot be read back).
    """
    steps = []
    for principal in check_principals(list(wanted)):
        user = wanted[principal]["user_name"]
        policy = normalise_policy(wanted[principal]["policy"])
        state = current.get(user)
        if state is None:
            steps.append(("create_user", principal, user))
            state = {"policy": None, "key_ids": []}
        if state["policy"] is None or normalise_policy(state["policy"]) != policy:
            steps.append(("put_policy", principal, policy))
        known = keys.get(principal)
        if known and known["user_name"] == user and known["access_key_id"] in state["key_ids"]:
            continue
        steps.extend(("delete_key", principal, key_id) for key_id in sorted(state["key_ids"]))
        steps.append(("create_key", principal, user))
    return steps
