data "aws_caller_identity" "current" {}

locals {
  name       = "${var.project}-${var.cluster_name}"
  account_id = data.aws_caller_identity.current.account_id

  zone_index           = { for index, zone in var.availability_zones : zone => index }
  private_subnet_cidrs = length(var.private_subnet_cidrs) > 0 ? var.private_subnet_cidrs : [for index, _ in var.availability_zones : cidrsubnet(var.vpc_cidr, 8, index + 1)]
  public_subnet_cidrs  = length(var.public_subnet_cidrs) > 0 ? var.public_subnet_cidrs : [for index, _ in var.availability_zones : cidrsubnet(var.vpc_cidr, 8, index + 101)]
  nat_zones            = var.nat_gateway_per_az ? var.availability_zones : [var.availability_zones[0]]

  # Tags the collection puts on the node instances it launches; the
  # inventories (inventories/*/aws_ec2.yml) filter on exactly these.
  node_instance_tags = {
    Role         = "redis-cluster"
    RedisCluster = var.cluster_name
  }

  backup_bucket_name = var.backup_bucket_name != "" ? var.backup_bucket_name : "${local.name}-backups-${local.account_id}"
  # Session Manager's transfer bucket (enable_ssm_session only).
  ssm_transfer_bucket_name = "${local.name}-ssm-transfer-${local.account_id}"

  # Role names the controller policy may pass to EC2.
  node_role_name    = "${local.name}-node"
  builder_role_name = "${local.name}-builder"

  # Placeholder values of the policy templates in ../iam, rendered with
  # templatefile() here and with string.Template by the collection
  # (plugins/module_utils/iam_policies.py): the same text on both sides.
  policy_values = {
    node = {
      account_id         = local.account_id
      backup_bucket      = aws_s3_bucket.backups.bucket
      backup_kms_key_arn = aws_kms_key.backups.arn
      backup_prefix      = var.backup_prefix
      cluster_name       = var.cluster_name
      metrics_namespace  = var.metrics_namespace
      region             = var.region
    }
    operator = {
      backup_bucket      = aws_s3_bucket.backups.bucket
      backup_kms_key_arn = aws_kms_key.backups.arn
      backup_prefix      = var.backup_prefix
      cluster_name       = var.cluster_name
      region             = var.region
    }
    controller = {
      account_id        = local.account_id
      builder_role_name = local.builder_role_name
      cluster_name      = var.cluster_name
      node_role_name    = local.node_role_name
      region            = var.region
      state_bucket      = var.terraform_state_bucket
      state_key         = var.terraform_state_key
    }
    ssm_session = {
      account_id = local.account_id
      region     = var.region
    }
    ssm_controller = {
      account_id          = local.account_id
      cluster_name        = var.cluster_name
      region              = var.region
      ssm_transfer_bucket = local.ssm_transfer_bucket_name
    }
    vpc_flow_logs = {
      account_id     = local.account_id
      log_group_name = aws_cloudwatch_log_group.flow_logs.name
      region         = var.region
    }
  }
}
