# Encrypts the backup objects (the backup_kms_key_arn output). The key policy
# leaves the decisions to IAM: the node and operator policies allow its use
# through S3 only.
resource "aws_kms_key" "backups" {
  description             = "${local.name} Redis backups in S3"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.backups_key.json

  tags = { Name = "${local.name}-backups" }
}

resource "aws_kms_alias" "backups" {
  name          = "alias/${local.name}-backups"
  target_key_id = aws_kms_key.backups.key_id
}

data "aws_iam_policy_document" "backups_key" {
  #checkov:skip=CKV_AWS_109:key policy: Resource "*" is this key only; kms:* for the account root is what delegates the key to IAM policies (AWS's default key policy)
  #checkov:skip=CKV_AWS_111:key policy: as for CKV_AWS_109, the statements name this key and the account root or a service principal, not any resource
  #checkov:skip=CKV_AWS_356:key policy: a key policy's Resource can only be "*" (this key)
  statement {
    sid       = "AccountPoliciesDecide"
    actions   = ["kms:*"]
    resources = ["*"] # in a key policy, "*" is this key
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${local.account_id}:root"]
    }
  }
}

# Encrypts what the operations services write: the alarm topic and the VPC
# flow logs. CloudWatch alarms can only publish to an encrypted topic whose
# key lets CloudWatch use it, which an AWS managed key does not.
resource "aws_kms_key" "operations" {
  description             = "${local.name} alarm topic and flow logs"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.operations_key.json

  tags = { Name = "${local.name}-operations" }
}

resource "aws_kms_alias" "operations" {
  name          = "alias/${local.name}-operations"
  target_key_id = aws_kms_key.operations.key_id
}

data "aws_iam_policy_document" "operations_key" {
  #checkov:skip=CKV_AWS_109:key policy: Resource "*" is this key only; kms:* for the account root is what delegates the key to IAM policies (AWS's default key policy)
  #checkov:skip=CKV_AWS_111:key policy: as for CKV_AWS_109, the statements name this key and the account root or a service principal, not any resource
  #checkov:skip=CKV_AWS_356:key policy: a key policy's Resource can only be "*" (this key)
  statement {
    sid       = "AccountPoliciesDecide"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchAlarmsPublishToTheTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
  }

  statement {
    sid       = "CloudWatchLogsEncryptThisAccountsGroups"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:aws:logs:${var.region}:${local.account_id}:log-group:*"]
    }
  }
}
