# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The project's IAM policies: rendering and the sandbox copy, as pure functions.

Each policy is written once, as a JSON template ``<name>.json.tpl`` in the
repository's ``iam/`` directory (``TEMPLATES``). Templates hold ``${name}``
placeholders and nothing else that starts with ``$`` or ``%{``, so that
Terraform's ``templatefile()`` and :func:`render` (Python's
``string.Template``) produce the same text.

The sandbox enforces these policies with moto, which evaluates less than AWS
does (moto 5.2.5, ``moto/iam/access_control.py``, ``moto/core/authorization.py``):

- CloudWatch requests are checked as ``monitoring:<Action>`` (the signing
  name), not ``cloudwatch:<Action>``;
- a statement with a ``Condition`` has no request context to compare with and
  evaluates to an explicit deny;
- requests to services other than S3 are checked against the resource
  ``"*"``, so a statement naming a specific ARN never matches them;
- a multi-object delete (``DeleteObjects``) is checked as ``s3:DeleteObject``
  on the bucket's ARN, not on each key's (each key only against the bucket
  policy), so a grant on object ARNs alone makes every key of it fail.

:func:`sandbox_copy` therefore returns a copy that adds the ``monitoring:``
alias, drops conditions, widens non-S3 resources to ``"*"`` and grants
``s3:DeleteObject`` on the bucket of the object ARNs it is written for,
together with the list of everything it relaxed, so the documentation and the
tests can say exactly what the sandbox does not enforce. S3 actions keep their
resources: moto checks them against the bucket or object ARN, as AWS does.
"""

from __future__ import annotations

import copy
import json
import re
import string

POLICY_VERSION = "2012-10-17"
TEMPLATE_SUFFIX = ".json.tpl"

# The templates in iam/, by name. Permission policies are attached to
# principals; trust policies say who may assume a role.
PERMISSION_POLICIES = ("node", "operator", "controller", "ssm_session", "ssm_controller", "vpc_flow_logs")
TRUST_POLICIES = ("ec2_assume_role", "vpc_flow_logs_assume_role")
TEMPLATES = PERMISSION_POLICIES + TRUST_POLICIES

# moto checks CloudWatch requests under the service's signing name.
SANDBOX_ACTION_ALIASES = {"cloudwatch": "monitoring"}
# The one service whose resources moto compares with the statement's.
SANDBOX_RESOURCE_ENFORCED_SERVICES = frozenset(["s3"])
# Object actions moto checks on the bucket's ARN for a multi-object request
# (DeleteObjects: s3:DeleteObject, whatever the keys and versions).
SANDBOX_BUCKET_CHECKED_ACTIONS = ("s3:DeleteObject",)
_S3_OBJECT_ARN_RE = re.compile(r"^(arn:[a-z-]+:s3:::[^/]+)/")

_PLACEHOLDER_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_DOLLAR_RE = re.compile(r"\$")
# Placeholder values land inside JSON strings and ARNs.
_UNSAFE_VALUE_RE = re.compile(r'["\\\x00-\x1f$*?]')
_ACTION_RE = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9*]+$")


class PolicyError(ValueError):
    """A template, its values or a policy document cannot be used."""


def placeholders(template_text, name="policy template"):
    """Return the sorted placeholder names of a template.

    Anything starting with ``$`` that is not a ``${name}`` placeholder, and
    any ``%{`` directive, is an error: Terraform and ``string.Template``
    would read it differently.
    """
    if not isinstance(template_text, str):
        raise PolicyError("%s: the template must be text" % name)
    if "%{" in template_text:
        raise PolicyError("%s: template directives (%%{...}) are not allowed, only ${name} placeholders" % name)
    found = set()
    for dollar in _DOLLAR_RE.finditer(template_text):
        match = _PLACEHOLDER_RE.match(template_text, dollar.start())
        if match is None:
            line = template_text.count("\n", 0, dollar.start()) + 1
            snippet = template_text[dollar.start():dollar.start() + 20].split("\n")[0]
            raise PolicyError(
                "%s line %d: %r is not a ${name} placeholder (IAM policy variables and bare $ are not allowed)"
                % (name, line, snippet)
            )
        found.add(match.group(1))
    return sorted(found)


def render_text(template_text, values, name="policy template"):
    """Substitute ``values`` into a template; missing or unknown names are errors."""
    wanted = set(placeholders(template_text, name))
    if not isinstance(values, dict):
        raise PolicyError("%s: values must be a mapping of placeholder name to text" % name)
    missing = sorted(wanted - set(values))
    unknown = sorted(set(values) - wanted)
    if missing or unknown:
        problems = []
        if missing:
            problems.append("missing value%s for %s" % ("s" if len(missing) > 1 else "", ", ".join(missing)))
        if unknown:
            problems.append("unknown placeholder%s %s" % ("s" if len(unknown) > 1 else "", ", ".join(unknown)))
        raise PolicyError(
            "%s: %s (the template uses: %s)" % (name, "; ".join(problems), ", ".join(sorted(wanted)) or "none")
        )
    for key in sorted(values):
        value = values[key]
        if not isinstance(value, str) or not value:
            raise PolicyError("%s: the value of %s must be non-empty text, not %r" % (name, key, value))
        if _UNSAFE_VALUE_RE.search(value):
            raise PolicyError(
                "%s: the value of %s (%r) holds a quote, backslash, control character, $ or wildcard"
                % (name, key, value)
            )
    return string.Template(template_text).substitute(values)


def render(template_text, values, name="policy template"):
    """Render a template and return the policy document (a dict), validated."""
    text = render_text(template_text, values, name)
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise PolicyError("%s does not render to JSON: %s" % (name, exc))
    validate(document, name)
    return document


def _as_list(value):
    return list(value) if isinstance(value, list) else [value]


def validate(document, name="policy"):
    """Check the shape of a policy document; PolicyError names the first fault."""
    if not isinstance(document, dict):
        raise PolicyError("%s: a policy document must be a JSON object" % name)
    if document.get("Version") != POLICY_VERSION:
        raise PolicyError("%s: Version must be %r, not %r" % (name, POLICY_VERSION, document.get("Version")))
    statements = document.get("Statement")
    if not isinstance(statements, list) or not statements:
        raise PolicyError("%s: Statement must be a non-empty list" % name)
    sids = set()
    for index, statement in enumerate(statements):
        where = "%s statement %d" % (name, index)
        if not isinstance(statement, dict):
            raise PolicyError("%s: must be an object" % where)
        sid = statement.get("Sid")
        if not isinstance(sid, str) or not re.match(r"^[A-Za-z0-9]+$", sid):
            raise PolicyError("%s: needs an alphanumeric Sid" % where)
        if sid in sids:
            raise PolicyError("%s: Sid %s is used twice" % (name, sid))
        sids.add(sid)
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise PolicyError("%s (%s): Effect must be Allow or Deny" % (where, sid))
        if "Action" not in statement:
            raise PolicyError("%s (%s): needs Action (NotAction is not used here)" % (where, sid))
        for action in _as_list(statement["Action"]):
            if not isinstance(action, str) or not _ACTION_RE.match(action):
                raise PolicyError("%s (%s): %r is not a service:Action name" % (where, sid, action))
        if "Principal" not in statement and "Resource" not in statement:
            raise PolicyError("%s (%s): needs Resource" % (where, sid))
        for key in ("NotAction", "NotResource", "NotPrincipal"):
            if key in statement:
                raise PolicyError("%s (%s): %s is not supported" % (where, sid, key))
    return document


def _service(action):
    return action.split(":", 1)[0]


def sandbox_copy(document, name="policy"):
    """Return ``(sandbox_document, relaxations)`` for a permission policy.

    ``relaxations`` lists, per statement, what the sandbox cannot enforce:
    ``{"sid", "kind", "detail"}`` with kind ``condition_dropped`` (detail:
    the condition), ``resource_widened`` (detail: the actions and the
    resources they had), ``action_aliased`` (detail: the alias added) or
    ``bucket_granted`` (detail: the actions, the buckets they were added on
    and the object resources written).
    A statement mixing S3 and other services is split so that S3 keeps its
    resources. Only Allow statements are accepted: relaxing a Deny would make
    it deny more, and these identity policies have none.
    """
    validate(document, name)
    statements = []
    relaxations = []
    for statement in document["Statement"]:
        sid = statement["Sid"]
        if statement["Effect"] != "Allow":
            raise PolicyError("%s (%s): the sandbox copy accepts Allow statements only" % (name, sid))
        if "Principal" in statement:
            raise PolicyError("%s (%s): a trust policy has no sandbox copy" % (name, sid))
        actions = _as_list(statement["Action"])
        resources = _as_list(statement["Resource"])
        condition = statement.get("Condition")
        if condition:
            relaxations.append({"sid": sid, "kind": "condition_dropped", "detail": copy.deepcopy(condition)})
        enforced = [a for a in actions if _service(a) in SANDBOX_RESOURCE_ENFORCED_SERVICES]
        others = [a for a in actions if _service(a) not in SANDBOX_RESOURCE_ENFORCED_SERVICES]
        if enforced:
            statements.append({"Sid": sid, "Effect": "Allow", "Action": enforced, "Resource": list(resources)})
            on_bucket = [a for a in enforced if a in SANDBOX_BUCKET_CHECKED_ACTIONS]
            objects = [r for r in resources if _S3_OBJECT_ARN_RE.match(r)]
            buckets = sorted({_S3_OBJECT_ARN_RE.match(r).group(1) for r in objects})
            if on_bucket and buckets:
                statements.append({"Sid": sid + "OnBucket", "Effect": "Allow", "Action": on_bucket, "Resource": buckets})
                relaxations.append({"sid": sid, "kind": "bucket_granted",
                                    "detail": {"actions": on_bucket, "resources": buckets, "written": objects}})
        if others:
            aliases = []
            for action in others:
                alias_service = SANDBOX_ACTION_ALIASES.get(_service(action))
                if alias_service:
                    alias = alias_service + ":" + action.split(":", 1)[1]
                    aliases.append(alias)
                    relaxations.append({"sid": sid, "kind": "action_aliased", "detail": {action: alias}})
            if resources != ["*"]:
                relaxations.append(
                    {"sid": sid, "kind": "resource_widened", "detail": {"actions": others, "resources": list(resources)}}
                )
            statements.append(
                {"Sid": sid + ("Sandbox" if enforced else ""), "Effect": "Allow",
                 "Action": others + aliases, "Resource": "*"}
            )
    return {"Version": POLICY_VERSION, "Statement": statements}, relaxations


def describe_relaxations(relaxations):
    """One line of text per relaxation, for logs and the README."""
    lines = []
    for item in relaxations:
        if item["kind"] == "condition_dropped":
            lines.append("%s: condition not enforced: %s" % (item["sid"], json.dumps(item["detail"], sort_keys=True)))
        elif item["kind"] == "bucket_granted":
            lines.append(
                "%s: %s also allowed on %s, where moto checks a multi-object delete: DeleteObjects may remove any key"
                " of the bucket (written: %s)"
                % (item["sid"], ", ".join(item["detail"]["actions"]), ", ".join(item["detail"]["resources"]),
                   ", ".join(item["detail"]["written"]))
            )
        elif item["kind"] == "resource_widened":
            lines.append(
                "%s: %s allowed on any resource (written: %s)"
                % (item["sid"], ", ".join(item["detail"]["actions"]), ", ".join(item["detail"]["resources"]))
            )
        else:
            lines.append(
                "%s: also allowed as %s" % (item["sid"], ", ".join("%s (for %s)" % (v, k) for k, v in item["detail"].items()))
            )
    return lines
