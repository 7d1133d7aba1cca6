"""terraform/ against the contracts it serves: the outputs the collection's
lookup reads (and the sandbox writes), the tags the inventories filter on, the
policy templates in iam/, and the settings the backup bucket must have."""

import glob
import os
import re

import pytest
import yaml

from conftest import IAM_DIR, REPO, TERRAFORM, load_hcl
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import iam_policies, node_access
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.terraform_state import CONTRACT_OUTPUTS

INVENTORIES = sorted(glob.glob(os.path.join(REPO, "inventories", "*", "aws_ec2.yml")))


def expression_type(expression):
    """The Terraform type an output expression evaluates to, as far as this
    configuration writes them: a tomap() of a for expression, a list, or a
    single reference / string template."""
    if not isinstance(expression, str):
        return None
    if re.match(r"^\$\{tomap\(\{for .+ => .+\}\)\}$", expression):
        return ["map", "string"]
    if expression.startswith("${{") or expression.startswith("${[") or expression.startswith("${tomap"):
        return None  # an object or tuple: never what the contract wants
    if re.match(r"^\$\{(var|local|aws_[a-z0-9_]+)\.[A-Za-z0-9_.]+\}$", expression):
        return "string"
    return None


# ----------------------------------------------------------------- outputs


def test_outputs_hold_the_contract_with_its_types(module):
    outputs = module.outputs
    missing = sorted(set(CONTRACT_OUTPUTS) - set(outputs))
    assert not missing, "terraform/outputs.tf lacks contract outputs: %s" % missing
    for name, wanted in CONTRACT_OUTPUTS.items():
        assert expression_type(outputs[name]["value"]) == wanted, (name, outputs[name]["value"])


def test_contract_outputs_come_from_the_resources_they_name(module):
    values = {name: body["value"] for name, body in module.outputs.items()}
    assert values["region"] == "${var.region}"
    assert values["cluster_name"] == "${var.cluster_name}"
    assert values["vpc_id"] == "${aws_vpc.this.id}"
    assert values["vpc_cidr"] == "${aws_vpc.this.cidr_block}"
    assert values["private_subnet_ids"] == "${tomap({for zone, subnet in aws_subnet.private : zone => subnet.id})}"
    assert values["redis_security_group_id"] == "${aws_security_group.redis.id}"
    assert values["redis_instance_profile"] == "${aws_iam_instance_profile.node.name}"
    assert values["backup_bucket"] == "${aws_s3_bucket.backups.bucket}"
    assert values["backup_kms_key_arn"] == "${aws_kms_key.backups.arn}"
    assert values["alarm_topic_arn"] == "${aws_sns_topic.alarms.arn}"


def test_the_sandbox_state_writes_exactly_the_contract():
    with open(os.path.join(REPO, "roles", "sandbox_aws", "vars", "main.yml")) as handle:
        sandbox_outputs = yaml.safe_load(handle)["__sandbox_aws_outputs"]
    assert {name: body["type"] for name, body in sandbox_outputs.items()} == CONTRACT_OUTPUTS


def test_every_output_is_described(module):
    for name, body in module.outputs.items():
        assert body.get("description"), name


# ----------------------------------------------------------------- tags


def test_every_resource_gets_the_project_tags(module):
    (provider,) = [entry["aws"] for entry in module.blocks["provider"]]
    (default_tags,) = provider["default_tags"]
    tags = default_tags["tags"]
    assert "Project = var.project" in tags and "RedisCluster = var.cluster_name" in tags, tags
    # Resources add a Name (and the like), never their own Project/RedisCluster.
    for (rtype, name), body in module.resources().items():
        own = body.get("tags", {})
        assert not {"Project", "RedisCluster"} & set(own), (rtype, name, own)


def test_node_tags_are_the_ones_the_inventories_filter_on(module):
    node_tags = module.locals["node_instance_tags"]
    assert node_tags == {"Role": "redis-cluster", "RedisCluster": "${var.cluster_name}"}
    assert module.outputs["node_instance_tags"]["value"] == "${local.node_instance_tags}"
    assert len(INVENTORIES) == 3
    for path in INVENTORIES:
        with open(path) as handle:
            inventory = yaml.safe_load(handle)
        tag_filters = {k[len("tag:"):]: v for k, v in inventory["filters"].items() if k.startswith("tag:")}
        assert set(tag_filters) <= set(node_tags), (path, tag_filters)
        assert tag_filters["Role"] == node_tags["Role"], path
        assert "ec2_tags.Role == '%s'" % node_tags["Role"] in inventory["groups"]["redis_cluster"], path
        assert inventory["compose"]["redis_cluster_name"] == "ec2_tags.RedisCluster", path


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_example_variables_name_the_cluster_its_inventory_filters_on(environment):
    tfvars = load_hcl(os.path.join(TERRAFORM, "examples", environment + ".tfvars"))
    with open(os.path.join(REPO, "inventories", environment, "aws_ec2.yml")) as handle:
        inventory = yaml.safe_load(handle)
    assert tfvars["cluster_name"] == inventory["filters"]["tag:RedisCluster"]
    assert tfvars["region"] in inventory["regions"]


# ----------------------------------------------------------------- IAM


def _templatefile_calls(module):
    """[(template name, argument text)] of every templatefile() in the module."""
    calls = []
    pattern = re.compile(r'templatefile\("\$\{local\.iam_dir\}/([a-z0-9_]+)\.json\.tpl",\s*(\{[^}]*\}|local\.policy_values\.[a-z0-9_]+)\)')
    for text in module.text.values():
        calls.extend(pattern.findall(text))
    assert len(calls) == sum(text.count("templatefile(\"") for text in module.text.values()), "unparsed templatefile()"
    return calls


def test_every_policy_template_is_used_with_exactly_its_placeholders(module):
    values = module.locals["policy_values"]
    used = set()
    for name, argument in _templatefile_calls(module):
        with open(os.path.join(IAM_DIR, name + iam_policies.TEMPLATE_SUFFIX)) as handle:
            wanted = iam_policies.placeholders(handle.read(), name)
        if argument.startswith("local.policy_values."):
            given = sorted(values[argument[len("local.policy_values."):]])
        else:
            given = sorted(re.findall(r"([a-z_]+)\s*=", argument))
        assert given == wanted, (name, given, wanted)
        used.add(name)
    assert used == set(iam_policies.TEMPLATES)


def test_policy_values_point_at_the_resources_the_outputs_name(module):
    node = module.locals["policy_values"]["node"]
    outputs = module.outputs
    assert node["backup_bucket"] == outputs["backup_bucket"]["value"]
    assert node["backup_kms_key_arn"] == outputs["backup_kms_key_arn"]["value"]
    assert node["cluster_name"] == outputs["cluster_name"]["value"]
    assert node["region"] == outputs["region"]["value"]
    assert node["backup_prefix"] == "${var.backup_prefix}"
    assert node["metrics_namespace"] == "${var.metrics_namespace}"
    assert module.locals["policy_values"]["operator"] == {k: v for k, v in node.items() if k in module.locals["policy_values"]["operator"]}


def test_roles_and_instance_profiles(module):
    policies = module.resources("aws_iam_role_policy")
    attached = {name: body["role"] for (_t, name), body in policies.items()}
    assert attached == {
        "node": "${aws_iam_role.node.id}",
        "operator": "${aws_iam_role.operator.id}",
        "flow_logs": "${aws_iam_role.flow_logs.id}",
        "ssm_session": "${each.value}",
    }
    # Session Manager only on request, for the instances only.
    ssm = policies[("aws_iam_role_policy", "ssm_session")]
    assert ssm["for_each"].startswith("${var.enable_ssm_session ? {")
    assert "aws_iam_role.operator" not in ssm["for_each"]
    assert not module.resources("aws_iam_role_policy_attachment"), "no managed policies: every permission is in iam/"
    profiles = module.resources("aws_iam_instance_profile")
    assert {body["role"] for body in profiles.values()} == {
        "${aws_iam_role.node.name}", "${aws_iam_role.builder.name}", "${aws_iam_role.bastion.name}"}
    assert module.outputs["builder_instance_profile"]["value"] == "${aws_iam_instance_profile.builder.name}"
    assert module.resource("aws_iam_role", "node")["name"] == "${local.node_role_name}"
    assert module.resource("aws_iam_role", "builder")["name"] == "${local.builder_role_name}"


# ----------------------------------------------------------------- the backup bucket


def test_backup_bucket_is_versioned_encrypted_private_tls_only_and_expires_old_versions(module):
    versioning = module.resource("aws_s3_bucket_versioning", "backups")
    assert versioning["versioning_configuration"][0]["status"] == "Enabled"

    encryption = module.resource("aws_s3_bucket_server_side_encryption_configuration", "backups")["rule"][0]
    default = encryption["apply_server_side_encryption_by_default"][0]
    assert default == {"sse_algorithm": "aws:kms", "kms_master_key_id": "${aws_kms_key.backups.arn}"}
    assert encryption["bucket_key_enabled"] is True

    public = module.resource("aws_s3_bucket_public_access_block", "backups")
    for setting in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
        assert public[setting] is True, setting
    assert module.resource("aws_s3_bucket_ownership_controls", "backups")["rule"][0]["object_ownership"] == \
        "BucketOwnerEnforced"

    assert module.resource("aws_s3_bucket_policy", "backups")["policy"] == \
        "${data.aws_iam_policy_document.backups_bucket.json}"
    (tls,) = module.data("aws_iam_policy_document", "backups_bucket")["statement"]
    assert tls["effect"] == "Deny" and tls["actions"] == ["s3:*"]
    assert tls["principals"] == [{"type": "*", "identifiers": ["*"]}]
    assert tls["condition"] == [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}]
    assert sorted(tls["resources"]) == ["${aws_s3_bucket.backups.arn}", "${aws_s3_bucket.backups.arn}/*"]

    rules = {rule["id"]: rule for rule in module.resource("aws_s3_bucket_lifecycle_configuration", "backups")["rule"]}
    assert rules["expire-old-versions"]["status"] == "Enabled"
    assert rules["expire-old-versions"]["noncurrent_version_expiration"][0]["noncurrent_days"] == \
        "${var.backup_noncurrent_version_days}"
    assert rules["abort-incomplete-uploads"]["abort_incomplete_multipart_upload"][0]["days_after_initiation"] > 0


def test_keys_rotate(module):
    for name in ("backups", "operations"):
        key = module.resource("aws_kms_key", name)
        assert key["enable_key_rotation"] is True, name
    assert module.resource("aws_sns_topic", "alarms")["kms_master_key_id"] == "${aws_kms_key.operations.arn}"


# ----------------------------------------------------------------- network


def test_one_private_subnet_per_zone_with_egress(module):
    assert module.locals["zone_index"] == "${{for index, zone in var.availability_zones : zone => index}}"
    private = module.resource("aws_subnet", "private")
    assert private["for_each"] == "${local.zone_index}" and private["map_public_ip_on_launch"] is False
    route = module.resource("aws_route", "private_egress")
    assert route["destination_cidr_block"] == "0.0.0.0/0" and "aws_nat_gateway.this" in route["nat_gateway_id"]
    assert module.resource("aws_vpc_endpoint", "s3")["vpc_endpoint_type"] == "Gateway"


def test_redis_ports_only_from_the_vpc_and_ssh_only_from_the_bastion(module):
    ingress = module.resources("aws_vpc_security_group_ingress_rule")
    by_group = {}
    for (_t, name), rule in ingress.items():
        by_group.setdefault(rule["security_group_id"], {})[name] = rule
        assert rule.get("cidr_ipv4") != "0.0.0.0/0" and rule.get("cidr_ipv6") is None, name
    redis = by_group.pop("${aws_security_group.redis.id}")
    assert redis["redis_ports"]["cidr_ipv4"] == "${var.vpc_cidr}"
    assert module.variables["redis_ports"]["default"] == [6379, 16379, 6380, 16380]
    assert redis["redis_ssh"]["referenced_security_group_id"] == "${aws_security_group.bastion.id}"
    assert redis["redis_ssh"]["from_port"] == redis["redis_ssh"]["to_port"] == 22
    builder = by_group.pop("${aws_security_group.builder.id}")
    assert builder["builder_ssh"]["referenced_security_group_id"] == "${aws_security_group.bastion.id}"
    bastion = by_group.pop("${aws_security_group.bastion.id}")
    assert bastion["bastion_ssh"]["cidr_ipv4"] == "${each.key}"
    assert bastion["bastion_ssh"]["for_each"] == "${toset(var.bastion_allowed_cidrs)}"
    assert not by_group
    assert module.resource("aws_default_security_group", "this").keys() <= {"vpc_id", "tags"}


def test_bastion_and_key_pair(module):
    bastion = module.resource("aws_instance", "bastion")
    assert bastion["metadata_options"][0]["http_tokens"] == "required"
    assert bastion["root_block_device"][0]["encrypted"] is True
    assert bastion["key_name"] == "${aws_key_pair.this.key_name}"
    assert bastion["vpc_security_group_ids"] == ["${aws_security_group.bastion.id}"]
    assert module.resource("aws_key_pair", "this")["public_key"] == "${var.ssh_public_key}"


def test_the_outputs_node_access_reads_exist(module):
    """Bastion, key pair and transfer bucket: what the inventories reach the nodes with."""
    outputs = module.outputs
    for name in (node_access.BASTION_OUTPUT, node_access.KEY_PAIR_OUTPUT, node_access.SSM_BUCKET_OUTPUT):
        assert name in outputs, name
    assert outputs["bastion_public_ip"]["value"] == "${aws_instance.bastion.public_ip}"
    assert outputs["bastion_private_ip"]["value"] == "${aws_instance.bastion.private_ip}"
    assert outputs["key_pair_name"]["value"] == "${aws_key_pair.this.key_name}"
    assert outputs["ssm_transfer_bucket"]["value"] == \
        '${var.enable_ssm_session ? aws_s3_bucket.ssm_transfer[0].bucket : ""}'
    assert outputs["controller_ssm_policy_json"]["value"].startswith("${var.enable_ssm_session ? templatefile(")


def test_ssm_transfer_bucket_is_private_encrypted_tls_only_and_expires(module):
    """Only with Session Manager; objects are transient."""
    bucket_resources = [key for key in module.resources() if key[1] == "ssm_transfer"]
    assert len(bucket_resources) == 6
    for key in bucket_resources:
        assert module.resources()[key]["count"] == "${var.enable_ssm_session ? 1 : 0}", key
    encryption = module.resource("aws_s3_bucket_server_side_encryption_configuration", "ssm_transfer")["rule"][0]
    assert encryption["apply_server_side_encryption_by_default"][0] == {"sse_algorithm": "AES256"}
    public = module.resource("aws_s3_bucket_public_access_block", "ssm_transfer")
    for setting in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
        assert public[setting] is True, setting
    assert module.resource("aws_s3_bucket_ownership_controls", "ssm_transfer")["rule"][0]["object_ownership"] == \
        "BucketOwnerEnforced"
    (tls,) = module.data("aws_iam_policy_document", "ssm_transfer_bucket")["statement"]
    assert tls["effect"] == "Deny" and tls["actions"] == ["s3:*"]
    assert tls["condition"] == [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}]
    (rule,) = module.resource("aws_s3_bucket_lifecycle_configuration", "ssm_transfer")["rule"]
    assert rule["status"] == "Enabled"
    assert rule["expiration"][0]["days"] == "${var.ssm_transfer_expiry_days}"
    (variable,) = [v["ssm_transfer_expiry_days"] for v in module.blocks["variable"] if "ssm_transfer_expiry_days" in v]
    assert 1 <= variable["default"] <= 7
    # The nodes fetch through presigned URLs: no role of an instance names the bucket.
    for name in ("node", "ssm_session"):
        with open(os.path.join(IAM_DIR, name + iam_policies.TEMPLATE_SUFFIX)) as handle:
            assert "ssm_transfer" not in handle.read(), name


# ----------------------------------------------------------------- provider, backend, checkov


def test_provider_is_pinned(module):
    (terraform,) = module.blocks["terraform"]
    (providers,) = terraform["required_providers"]
    assert providers["aws"]["source"] == "hashicorp/aws"
    assert re.match(r"^~> \d+\.\d+$", providers["aws"]["version"])
    assert terraform["required_version"].startswith(">= 1.11")


def test_example_backend_keeps_state_in_s3_with_locking():
    example = load_hcl(os.path.join(TERRAFORM, "examples", "backend.tf.example"))
    (terraform,) = example["terraform"]
    (backend,) = terraform["backend"]
    s3 = backend["s3"]
    assert s3["use_lockfile"] is True and s3["encrypt"] is True
    assert {"bucket", "key", "region"} <= set(s3)


def test_every_checkov_skip_gives_its_reason(module):
    skips = []
    for name, text in module.text.items():
        for line in text.splitlines():
            if "checkov:skip" in line:
                match = re.match(r"^\s*#checkov:skip=(CKV2?_AWS_\d+):(.{20,})$", line)
                assert match, "%s: skip without an ID and a reason: %s" % (name, line.strip())
                skips.append(match.group(1))
    assert skips, "the skips counted here are the ones make iac-check reports"
