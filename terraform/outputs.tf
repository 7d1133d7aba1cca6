# The contract (ARCHITECTURE section 3): read by the collection's
# terraform_output lookup from the state, written the same way by the
# sandbox. Names and types are tested against CONTRACT_OUTPUTS in
# plugins/module_utils/terraform_state.py.

output "region" {
  description = "AWS region."
  value       = var.region
}

output "cluster_name" {
  description = "Name used in tags, metric dimensions and backup keys."
  value       = var.cluster_name
}

output "vpc_id" {
  description = "The VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "CIDR of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "private_subnet_ids" {
  description = "One private subnet per availability zone: zone => subnet id."
  value       = tomap({ for zone, subnet in aws_subnet.private : zone => subnet.id })
}

output "redis_security_group_id" {
  description = "Security group of the nodes: Redis ports from the VPC, SSH from the bastion."
  value       = aws_security_group.redis.id
}

output "redis_instance_profile" {
  description = "Instance profile of the nodes."
  value       = aws_iam_instance_profile.node.name
}

output "backup_bucket" {
  description = "S3 bucket for backups (versioned, SSE-KMS)."
  value       = aws_s3_bucket.backups.bucket
}

output "backup_kms_key_arn" {
  description = "KMS key of the backup objects."
  value       = aws_kms_key.backups.arn
}

output "alarm_topic_arn" {
  description = "SNS topic for alarms."
  value       = aws_sns_topic.alarms.arn
}

# Beyond the contract: what the AWS target needs besides.

output "backup_prefix" {
  description = "Backups live under <backup_prefix>/<cluster_name>/."
  value       = var.backup_prefix
}

output "metrics_namespace" {
  description = "CloudWatch namespace the node policy allows."
  value       = var.metrics_namespace
}

output "node_instance_tags" {
  description = "Tags the collection must put on node instances (the inventories filter on them)."
  value       = local.node_instance_tags
}

output "node_role_name" {
  description = "Role of the node instance profile."
  value       = aws_iam_role.node.name
}

output "builder_instance_profile" {
  description = "Instance profile of the AMI builder."
  value       = aws_iam_instance_profile.builder.name
}

output "builder_security_group_id" {
  description = "Security group of the AMI builder: SSH from the bastion, HTTP(S) out."
  value       = aws_security_group.builder.id
}

output "operator_role_arn" {
  description = "Role for backup rotation and restores."
  value       = aws_iam_role.operator.arn
}

output "bastion_public_ip" {
  description = "Address the controller jumps through to the nodes and the builder (redisops_ssh_bastion_host overrides it)."
  value       = aws_instance.bastion.public_ip
}

output "bastion_private_ip" {
  description = "The bastion's address inside the VPC (for an ssh_config of your own, or a VPN that reaches it)."
  value       = aws_instance.bastion.private_ip
}

output "key_pair_name" {
  description = "Key pair of the bastion, the nodes and the builder; its private key is <redisops_ssh_known_hosts_dir>/<cluster>/<name> on the controller."
  value       = aws_key_pair.this.key_name
}

output "controller_policy_json" {
  description = "The policy the Ansible controller needs (README \"IAM\"), for the principal that runs the playbooks."
  value       = templatefile("${local.iam_dir}/controller.json.tpl", local.policy_values.controller)
}

output "ssm_transfer_bucket" {
  description = "Bucket of Session Manager's file transfers (ansible_aws_ssm_bucket_name); empty unless enable_ssm_session."
  value       = var.enable_ssm_session ? aws_s3_bucket.ssm_transfer[0].bucket : ""
}

output "controller_ssm_policy_json" {
  description = "What the controller needs besides controller_policy_json to reach the nodes through Session Manager; empty unless enable_ssm_session."
  value       = var.enable_ssm_session ? templatefile("${local.iam_dir}/ssm_controller.json.tpl", local.policy_values.ssm_controller) : ""
}
