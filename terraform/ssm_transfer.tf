# Session Manager's file transfers (enable_ssm_session): the aws_ssm
# connection uploads each module to this bucket and hands the node a
# presigned URL, so the node role needs no permission on it; only the
# controller reads and writes it (iam/ssm_controller.json.tpl). Objects are
# transient: they expire after ssm_transfer_expiry_days.
resource "aws_s3_bucket" "ssm_transfer" {
  #checkov:skip=CKV_AWS_18:transient module uploads of Session Manager; sessions are audited by SSM and CloudTrail, not by access logs of this bucket
  #checkov:skip=CKV_AWS_21:objects live a few days and are deleted by the connection itself; versions would only keep them longer
  #checkov:skip=CKV_AWS_144:transient transfer objects: nothing to replicate
  #checkov:skip=CKV_AWS_145:SSE-S3 rather than KMS: the nodes fetch through presigned URLs and hold no KMS permission on purpose
  #checkov:skip=CKV2_AWS_62:nothing consumes object events of transient uploads
  count = var.enable_ssm_session ? 1 : 0

  bucket = local.ssm_transfer_bucket_name

  tags = { Name = local.ssm_transfer_bucket_name }
}

resource "aws_s3_bucket_ownership_controls" "ssm_transfer" {
  count  = var.enable_ssm_session ? 1 : 0
  bucket = aws_s3_bucket.ssm_transfer[0].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "ssm_transfer" {
  count  = var.enable_ssm_session ? 1 : 0
  bucket = aws_s3_bucket.ssm_transfer[0].id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "ssm_transfer" {
  count  = var.enable_ssm_session ? 1 : 0
  bucket = aws_s3_bucket.ssm_transfer[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "ssm_transfer" {
  count  = var.enable_ssm_session ? 1 : 0
  bucket = aws_s3_bucket.ssm_transfer[0].id

  # The connection deletes what it uploads; what an interrupted run leaves goes here.
  rule {
    id     = "expire-transfers"
    status = "Enabled"

    filter {}

    expiration {
      days = var.ssm_transfer_expiry_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_policy" "ssm_transfer" {
  count  = var.enable_ssm_session ? 1 : 0
  bucket = aws_s3_bucket.ssm_transfer[0].id
  policy = data.aws_iam_policy_document.ssm_transfer_bucket[0].json

  depends_on = [aws_s3_bucket_public_access_block.ssm_transfer]
}

data "aws_iam_policy_document" "ssm_transfer_bucket" {
  count = var.enable_ssm_session ? 1 : 0

  statement {
    sid     = "TlsOnly"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.ssm_transfer[0].arn,
      "${aws_s3_bucket.ssm_transfer[0].arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}
