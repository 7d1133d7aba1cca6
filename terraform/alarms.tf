# Where the CloudWatch alarms of the cluster publish (the alarm_topic_arn output).
resource "aws_sns_topic" "alarms" {
  name              = "${local.name}-alarms"
  display_name      = "${var.cluster_name} Redis alarms"
  kms_master_key_id = aws_kms_key.operations.arn

  tags = { Name = "${local.name}-alarms" }
}
