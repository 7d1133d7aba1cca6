# The principals of the cluster (README "IAM"). Every permission policy is a
# template in ../iam, rendered with the same values the collection uses.
locals {
  iam_dir = "${path.module}/../iam"
}

# Nodes: their own backups, metrics in their namespace, their log groups.
resource "aws_iam_role" "node" {
  name               = local.node_role_name
  description        = "Redis Cluster nodes of ${var.cluster_name}"
  assume_role_policy = templatefile("${local.iam_dir}/ec2_assume_role.json.tpl", {})

  tags = { Name = local.node_role_name }
}

resource "aws_iam_role_policy" "node" {
  name   = "redis-node"
  role   = aws_iam_role.node.id
  policy = templatefile("${local.iam_dir}/node.json.tpl", local.policy_values.node)
}

resource "aws_iam_instance_profile" "node" {
  name = local.node_role_name
  role = aws_iam_role.node.name

  tags = { Name = local.node_role_name }
}

# The AMI builder installs packages and calls no AWS API: no permissions
# beyond the optional Session Manager policy.
resource "aws_iam_role" "builder" {
  name               = local.builder_role_name
  description        = "AMI builder instances of ${var.cluster_name}"
  assume_role_policy = templatefile("${local.iam_dir}/ec2_assume_role.json.tpl", {})

  tags = { Name = local.builder_role_name }
}

resource "aws_iam_instance_profile" "builder" {
  name = local.builder_role_name
  role = aws_iam_role.builder.name

  tags = { Name = local.builder_role_name }
}

# The bastion only forwards SSH: no permissions beyond the optional Session
# Manager policy.
resource "aws_iam_role" "bastion" {
  name               = "${local.name}-bastion"
  description        = "Bastion of ${var.cluster_name}"
  assume_role_policy = templatefile("${local.iam_dir}/ec2_assume_role.json.tpl", {})

  tags = { Name = "${local.name}-bastion" }
}

resource "aws_iam_instance_profile" "bastion" {
  name = "${local.name}-bastion"
  role = aws_iam_role.bastion.name

  tags = { Name = "${local.name}-bastion" }
}

# Session Manager instead of SSH through the bastion (enable_ssm_session).
resource "aws_iam_role_policy" "ssm_session" {
  for_each = var.enable_ssm_session ? {
    node    = aws_iam_role.node.id
    builder = aws_iam_role.builder.id
    bastion = aws_iam_role.bastion.id
  } : {}

  name   = "ssm-session"
  role   = each.value
  policy = templatefile("${local.iam_dir}/ssm_session.json.tpl", local.policy_values.ssm_session)
}

# Operators: backup rotation, and restores of this cluster's backups into
# another cluster. Assumed by people or CI, never by an instance.
data "aws_iam_policy_document" "operator_trust" {
  statement {
    sid     = "TrustedPrincipalsAssumeThisRole"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = length(var.operator_trusted_principal_arns) > 0 ? var.operator_trusted_principal_arns : ["arn:aws:iam::${local.account_id}:root"]
    }
  }
}

resource "aws_iam_role" "operator" {
  name               = "${local.name}-operator"
  description        = "Backup rotation and restore for ${var.cluster_name}"
  assume_role_policy = data.aws_iam_policy_document.operator_trust.json

  tags = { Name = "${local.name}-operator" }
}

resource "aws_iam_role_policy" "operator" {
  name   = "redis-operator"
  role   = aws_iam_role.operator.id
  policy = templatefile("${local.iam_dir}/operator.json.tpl", local.policy_values.operator)
}

# VPC flow logs write to their log group.
resource "aws_iam_role" "flow_logs" {
  name               = "${local.name}-flow-logs"
  description        = "VPC flow logs of ${var.cluster_name}"
  assume_role_policy = templatefile("${local.iam_dir}/vpc_flow_logs_assume_role.json.tpl", { account_id = local.account_id })

  tags = { Name = "${local.name}-flow-logs" }
}

resource "aws_iam_role_policy" "flow_logs" {
  name   = "vpc-flow-logs"
  role   = aws_iam_role.flow_logs.id
  policy = templatefile("${local.iam_dir}/vpc_flow_logs.json.tpl", local.policy_values.vpc_flow_logs)
}
