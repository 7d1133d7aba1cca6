"""parliament on every policy in iam/, rendered as AWS gets it.

Every finding must be explained below, and every explanation must still
match a finding, so this list is the exact account of what parliament says.
"""

import json
import os
import warnings

import pytest

from conftest import EXAMPLE_POLICY_VALUES, IAM_DIR
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import iam_policies

with warnings.catch_warnings():
    # parliament 1.6.4 still imports pkg_resources.
    warnings.simplefilter("ignore")
    import parliament

RUN_THROUGH_BOTH_STATEMENTS = (
    "ec2:%s needs several resource types; they are granted in two statements so that "
    "the instance (or image) side carries its own tag condition. Together they cover every type parliament lists."
)

EXPLAINED = {
    ("controller", "PERMISSIONS_MANAGEMENT_ACTIONS", "iam:passrole"):
        "iam:PassRole is how the controller launches nodes and the builder with their instance profiles; "
        "it names the node and builder roles only and requires iam:PassedToService = ec2.amazonaws.com.",
    ("controller", "PRIVILEGE_ESCALATION", "ec2:runinstances,iam:passrole"):
        "Launching an instance with a passable role hands it that role: the passable roles are the node role "
        "(its own cluster's backups, metrics, logs) and the builder role (nothing), both narrower than the controller.",
    ("controller", "RESOURCE_MISMATCH", "ec2:RunInstances"): RUN_THROUGH_BOTH_STATEMENTS % "RunInstances",
    ("controller", "RESOURCE_MISMATCH", "ec2:CreateImage"): RUN_THROUGH_BOTH_STATEMENTS % "CreateImage",
    ("ec2_assume_role", "MALFORMED", "Statement contains neither Resource nor NotResource"):
        "A trust policy names a Principal, never a Resource; parliament reads every document as an identity policy.",
    ("vpc_flow_logs_assume_role", "MALFORMED", "Statement contains neither Resource nor NotResource"):
        "A trust policy names a Principal, never a Resource; parliament reads every document as an identity policy.",
}

# Filled in by the tests, printed by conftest's terminal summary.
REPORT = []


def finding_key(name, finding):
    """(template, issue, the actions concerned or parliament's detail text)."""
    detail = finding.detail
    location = finding.location if isinstance(finding.location, dict) else {}
    if isinstance(detail, list):
        what = ",".join(sorted({item["action"] for item in detail}))
    elif location.get("actions"):
        what = ",".join(sorted(location["actions"]))
    else:
        what = str(detail)
    return name, finding.issue, what


def rendered(name):
    with open(os.path.join(IAM_DIR, name + iam_policies.TEMPLATE_SUFFIX)) as handle:
        text = handle.read()
    values = {key: EXAMPLE_POLICY_VALUES[key] for key in iam_policies.placeholders(text, name)}
    return iam_policies.render(text, values, name)


@pytest.fixture(scope="module")
def findings():
    found = {}
    for name in iam_policies.TEMPLATES:
        policy = parliament.analyze_policy_string(json.dumps(rendered(name)), include_community_auditors=True)
        keys = [finding_key(name, finding) for finding in policy.findings]
        found[name] = keys
        REPORT.append((name, keys))
    return found


@pytest.mark.parametrize("name", iam_policies.TEMPLATES)
def test_every_finding_is_explained(findings, name):
    unexplained = [key for key in findings[name] if key not in EXPLAINED]
    assert not unexplained, "parliament findings without an explanation in EXPLAINED: %s" % unexplained


def test_every_explanation_still_matches_a_finding(findings):
    found = {key for keys in findings.values() for key in keys}
    assert set(EXPLAINED) - found == set(), "stale explanations"


@pytest.mark.parametrize("name", ["node", "operator", "ssm_session", "vpc_flow_logs"])
def test_the_instance_and_operator_policies_are_clean(findings, name):
    assert findings[name] == []
