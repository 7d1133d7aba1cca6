# -*- coding: utf-8 -*-
"""IAM policy templates: rendering (the same text Terraform's templatefile
produces), clear errors, and the sandbox copy with what it relaxes."""

from __future__ import annotations

import json
import os
import string

import pytest
from hypothesis import example, given, settings, strategies as st

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import iam_policies as ip

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), *[".."] * 8))
IAM_DIR = os.path.join(REPO, "iam")

VALUES = {
    "account_id": "123456789012",
    "backup_bucket": "redisops-prod-backups",
    "backup_kms_key_arn": "arn:aws:kms:us-west-2:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    "backup_prefix": "backups",
    "builder_role_name": "redisops-prod-builder",
    "cluster_name": "prod",
    "log_group_name": "/aws/vpc/redisops-prod/flow-logs",
    "metrics_namespace": "RedisCluster",
    "node_role_name": "redisops-prod-node",
    "region": "us-west-2",
    "state_bucket": "acme-tfstate",
    "state_key": "redisops/prod.tfstate",
    "ssm_transfer_bucket": "redisops-prod-ssm-transfer-123456789012",
}


def template(name):
    with open(os.path.join(IAM_DIR, name + ip.TEMPLATE_SUFFIX)) as handle:
        return handle.read()


def rendered(name):
    text = template(name)
    return ip.render(text, {k: VALUES[k] for k in ip.placeholders(text, name)}, name)


def statements(document):
    return {s["Sid"]: s for s in document["Statement"]}


def actions_of(document):
    return {a for s in document["Statement"] for a in ip._as_list(s["Action"])}


def test_the_iam_directory_holds_exactly_the_known_templates():
    on_disk = sorted(f[: -len(ip.TEMPLATE_SUFFIX)] for f in os.listdir(IAM_DIR) if f.endswith(ip.TEMPLATE_SUFFIX))
    assert on_disk == sorted(ip.TEMPLATES)
    assert sorted(os.listdir(IAM_DIR)) == sorted(n + ip.TEMPLATE_SUFFIX for n in ip.TEMPLATES)


@pytest.mark.parametrize("name", ip.TEMPLATES)
def test_every_template_renders_to_a_valid_policy(name):
    document = rendered(name)
    assert document["Version"] == "2012-10-17"
    assert "${" not in json.dumps(document)


def test_placeholders_of_each_template():
    assert ip.placeholders(template("node")) == [
        "account_id", "backup_bucket", "backup_kms_key_arn", "backup_prefix", "cluster_name",
        "metrics_namespace", "region"]
    assert ip.placeholders(template("operator")) == [
        "backup_bucket", "backup_kms_key_arn", "backup_prefix", "cluster_name", "region"]
    assert ip.placeholders(template("ec2_assume_role")) == []


def test_node_policy_grants_its_own_prefix_and_nothing_destructive():
    node = rendered("node")
    by_sid = statements(node)
    objects = by_sid["ReadWriteOwnClusterBackups"]
    assert objects["Resource"] == "arn:aws:s3:::redisops-prod-backups/backups/prod/*"
    assert sorted(objects["Action"]) == ["s3:AbortMultipartUpload", "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]
    assert by_sid["ListOwnClusterBackups"]["Condition"] == {"StringLike": {"s3:prefix": "backups/prod/*"}}
    assert by_sid["UseBackupKeyThroughS3Only"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com"}}
    assert by_sid["PublishMetricsInOwnNamespace"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "RedisCluster"}}
    granted = actions_of(node)
    assert not any("Delete" in a for a in granted)
    assert not any(a.startswith(("ssm:", "ec2:", "iam:")) for a in granted)
    assert "logs:CreateLogGroup" not in granted
    assert all("*" not in a for a in granted)


def test_operator_policy_lists_reads_and_deletes_versions_of_its_prefix_only():
    by_sid = statements(rendered("operator"))
    assert by_sid["ReadAndDeleteClusterBackups"]["Resource"] == "arn:aws:s3:::redisops-prod-backups/backups/prod/*"
    assert {"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetObjectVersion"} <= set(
        by_sid["ReadAndDeleteClusterBackups"]["Action"])
    assert "s3:ListBucketVersions" in by_sid["ListClusterBackupsAndVersions"]["Action"]
    assert by_sid["DecryptBackupsThroughS3Only"]["Action"] == "kms:Decrypt"


def test_controller_passes_only_the_node_and_builder_roles():
    by_sid = statements(rendered("controller"))
    assert by_sid["PassOnlyNodeAndBuilderRoles"]["Resource"] == [
        "arn:aws:iam::123456789012:role/redisops-prod-node", "arn:aws:iam::123456789012:role/redisops-prod-builder"]
    assert by_sid["ReadTerraformOutputs"]["Resource"] == "arn:aws:s3:::acme-tfstate/redisops/prod.tfstate"


def test_render_matches_what_templatefile_would_substitute():
    # The same substitution, done by hand: every ${name} replaced, nothing else touched.
    text = template("node")
    by_hand = text
    for key in ip.placeholders(text):
        by_hand = by_hand.replace("${%s}" % key, VALUES[key])
    assert ip.render_text(text, {k: VALUES[k] for k in ip.placeholders(text)}) == by_hand


@pytest.mark.parametrize("text, message", [
    ('{"a": "${aws:username}"}', "not a ${name} placeholder"),
    ('{"a": "$name"}', "not a ${name} placeholder"),
    ('{"a": "$${x}"}', "not a ${name} placeholder"),
    ('{"a": "%{ if x }y%{ endif }"}', "directives"),
])
def test_templates_that_terraform_and_python_would_read_differently_are_refused(text, message):
    with pytest.raises(ip.PolicyError, match=r"(?s).*" + message.replace("$", r"\$").replace("{", r"\{")):
        ip.placeholders(text, "t")


def test_missing_and_unknown_values_are_named():
    text = '{"a": "${cluster_name}", "b": "${region}"}'
    with pytest.raises(ip.PolicyError, match="missing value for region; unknown placeholder regoin"):
        ip.render_text(text, {"cluster_name": "prod", "regoin": "us-west-2"}, "t")


@pytest.mark.parametrize("value", ['pro"d', "pro\\d", "", "a*", "x$y", "a\nb", 7])
def test_values_that_would_break_json_or_widen_an_arn_are_refused(value):
    with pytest.raises(ip.PolicyError, match="cluster_name"):
        ip.render_text('{"a": "${cluster_name}"}', {"cluster_name": value}, "t")


@pytest.mark.parametrize("document, message", [
    ({"Version": "2008-10-17", "Statement": []}, "Version"),
    ({"Version": "2012-10-17", "Statement": []}, "non-empty"),
    ({"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject"}]}, "Resource"),
    ({"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "Allow", "Action": "GetObject", "Resource": "*"}]},
     "service:Action"),
    ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}, "Sid"),
    ({"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "Allow", "NotAction": "s3:GetObject",
                                              "Action": "s3:GetObject", "Resource": "*"}]}, "NotAction"),
])
def test_malformed_documents_are_refused(document, message):
    with pytest.raises(ip.PolicyError, match=message):
        ip.validate(document, "t")


def test_sandbox_copy_of_the_node_policy():
    sandbox, relaxed = ip.sandbox_copy(rendered("node"), "node")
    by_sid = statements(sandbox)
    # S3 keeps its resources; moto enforces them as written.
    assert by_sid["ReadWriteOwnClusterBackups"]["Resource"] == ["arn:aws:s3:::redisops-prod-backups/backups/prod/*"]
    assert by_sid["ListOwnClusterBackups"]["Resource"] == ["arn:aws:s3:::redisops-prod-backups"]
    assert "Condition" not in json.dumps(sandbox)
    assert set(by_sid["PublishMetricsInOwnNamespace"]["Action"]) == {
        "cloudwatch:PutMetricData", "monitoring:PutMetricData"}
    assert by_sid["ShipLogsToOwnClusterGroups"]["Resource"] == "*"
    assert by_sid["UseBackupKeyThroughS3Only"]["Resource"] == "*"
    kinds = sorted((r["sid"], r["kind"]) for r in relaxed)
    assert kinds == [
        ("ListOwnClusterBackups", "condition_dropped"),
        ("PublishMetricsInOwnNamespace", "action_aliased"),
        ("PublishMetricsInOwnNamespace", "condition_dropped"),
        ("ShipLogsToOwnClusterGroups", "resource_widened"),
        ("UseBackupKeyThroughS3Only", "condition_dropped"),
        ("UseBackupKeyThroughS3Only", "resource_widened"),
    ]
    lines = ip.describe_relaxations(relaxed)
    assert 'ListOwnClusterBackups: condition not enforced: {"StringLike": {"s3:prefix": "backups/prod/*"}}' in lines
    assert "PublishMetricsInOwnNamespace: also allowed as monitoring:PutMetricData (for cloudwatch:PutMetricData)" in lines


def test_sandbox_copy_of_the_operator_policy_grants_delete_on_the_bucket_for_deleteobjects():
    sandbox, relaxed = ip.sandbox_copy(rendered("operator"), "operator")
    by_sid = statements(sandbox)
    # The object statement is kept as written; moto checks DeleteObjects on the bucket's ARN.
    assert by_sid["ReadAndDeleteClusterBackups"]["Resource"] == ["arn:aws:s3:::redisops-prod-backups/backups/prod/*"]
    assert by_sid["ReadAndDeleteClusterBackupsOnBucket"] == {
        "Sid": "ReadAndDeleteClusterBackupsOnBucket", "Effect": "Allow", "Action": ["s3:DeleteObject"],
        "Resource": ["arn:aws:s3:::redisops-prod-backups"]}
    assert ("ReadAndDeleteClusterBackups", "bucket_granted") in [(r["sid"], r["kind"]) for r in relaxed]
    # Neither the node (no delete) nor a delete written on "*" gets it.
    assert not any(s["Sid"].endswith("OnBucket") for s in ip.sandbox_copy(rendered("node"), "node")[0]["Statement"])
    anywhere = {"Version": "2012-10-17", "Statement": [
        {"Sid": "A", "Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "*"},
        {"Sid": "B", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::b/p/*"}]}
    copied, relaxed = ip.sandbox_copy(anywhere)
    assert [s["Sid"] for s in copied["Statement"]] == ["A", "B"] and relaxed == []


def test_sandbox_copy_leaves_the_input_alone_and_refuses_trust_and_deny():
    node = rendered("node")
    before = json.dumps(node, sort_keys=True)
    ip.sandbox_copy(node)
    assert json.dumps(node, sort_keys=True) == before
    with pytest.raises(ip.PolicyError, match="trust policy"):
        ip.sandbox_copy(rendered("ec2_assume_role"))
    deny = {"Version": "2012-10-17", "Statement": [{"Sid": "D", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}
    with pytest.raises(ip.PolicyError, match="Allow statements only"):
        ip.sandbox_copy(deny)


SERVICES = ["s3", "kms", "cloudwatch", "logs", "ec2"]
ARNS = ["*", "arn:aws:s3:::b/p/c/*", "arn:aws:s3:::b", "arn:aws:kms:us-west-2:1:key/k",
        "arn:aws:logs:us-west-2:1:log-group:/redisops/c/*"]
statement_st = st.fixed_dictionaries({
    "Effect": st.just("Allow"),
    "Action": st.lists(st.tuples(st.sampled_from(SERVICES), st.sampled_from(["Get", "Put", "List"])).map(
        lambda t: "%s:%sThing" % t), min_size=1, max_size=4, unique=True),
    "Resource": st.one_of(st.sampled_from(ARNS), st.lists(st.sampled_from(ARNS), min_size=1, max_size=3, unique=True)),
    "Condition": st.one_of(st.none(), st.just({"StringEquals": {"aws:SourceVpc": "vpc-1"}})),
})


@settings(derandomize=True, max_examples=200)
@given(st.lists(statement_st, min_size=1, max_size=5))
@example([{"Effect": "Allow", "Action": ["s3:PutThing", "kms:GetThing"], "Resource": "arn:aws:s3:::b",
           "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1"}}}])
def test_sandbox_copy_relaxes_only_what_moto_cannot_check(raw_statements):
    document = {"Version": "2012-10-17", "Statement": []}
    for index, statement in enumerate(raw_statements):
        statement = {k: v for k, v in statement.items() if v is not None}
        statement["Sid"] = "S%d" % index
        document["Statement"].append(statement)
    sandbox, relaxed = ip.sandbox_copy(document)
    ip.validate(sandbox, "sandbox copy")
    # Nothing granted is lost; the only actions added are monitoring: aliases.
    added = actions_of(sandbox) - actions_of(document)
    assert actions_of(document) <= actions_of(sandbox)
    assert added == {"monitoring:" + a.split(":")[1] for a in actions_of(document) if a.startswith("cloudwatch:")}
    assert all("Condition" not in s for s in sandbox["Statement"])
    for original in document["Statement"]:
        sid = original["Sid"]
        kinds = {r["kind"] for r in relaxed if r["sid"] == sid}
        assert ("condition_dropped" in kinds) == ("Condition" in original)
        s3 = [a for a in ip._as_list(original["Action"]) if a.startswith("s3:")]
        others = [a for a in ip._as_list(original["Action"]) if not a.startswith("s3:")]
        copies = [s for s in sandbox["Statement"] if s["Sid"] in (sid, sid + "Sandbox")]
        for copied in copies:
            if set(ip._as_list(copied["Action"])) & set(s3):
                # S3 statements keep their resources exactly.
                assert copied["Resource"] == ip._as_list(original["Resource"])
                assert set(copied["Action"]) == set(s3)
            else:
                assert copied["Resource"] == "*"
        widened = others and ip._as_list(original["Resource"]) != ["*"]
        assert ("resource_widened" in kinds) == bool(widened)


def test_string_template_and_placeholders_agree_on_the_names():
    # string.Template's own idea of the identifiers equals ours for every template.
    for name in ip.TEMPLATES:
        text = template(name)
        assert sorted(set(string.Template(text).get_identifiers())) == ip.placeholders(text, name)
