# The backup bucket (docs/backups.md): versioned, SSE-KMS with the backup
# key, no public access, no ACLs, TLS only; old versions expire.
resource "aws_s3_bucket" "backups" {
  #checkov:skip=CKV_AWS_18:server access logs need a second bucket (with the same findings); object-level auditing is CloudTrail data events, an account-level choice
  #checkov:skip=CKV_AWS_144:cross-region replication is a disaster-recovery and cost decision per environment, not a default; versioning and rotation protect against deletes
  #checkov:skip=CKV2_AWS_62:nothing consumes object events; a missing backup is alarmed from the BackupAgeSeconds metric (docs/metrics.md)
  bucket = local.backup_bucket_name

  tags = { Name = local.backup_bucket_name }
}

resource "aws_s3_bucket_ownership_controls" "backups" {
  bucket = aws_s3_bucket.backups.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "backups" {
  bucket = aws_s3_bucket.backups.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "backups" {
  bucket = aws_s3_bucket.backups.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "backups" {
  bucket = aws_s3_bucket.backups.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.backups.arn
    }
    # One KMS request per bucket key period instead of per object.
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "backups" {
  bucket = aws_s3_bucket.backups.id

  # Rotation deletes sets (a delete marker on a versioned bucket); the data
  # itself goes once the old version is this many days old.
  rule {
    id     = "expire-old-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.backup_noncurrent_version_days
    }

    expiration {
      expired_object_delete_marker = true
    }
  }

  # A backup that died mid-upload leaves parts nobody will complete.
  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 2
    }
  }

  depends_on = [aws_s3_bucket_versioning.backups]
}

resource "aws_s3_bucket_policy" "backups" {
  bucket = aws_s3_bucket.backups.id
  policy = data.aws_iam_policy_document.backups_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.backups]
}

data "aws_iam_policy_document" "backups_bucket" {
  statement {
    sid     = "TlsOnly"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.backups.arn,
      "${aws_s3_bucket.backups.arn}/*",
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
