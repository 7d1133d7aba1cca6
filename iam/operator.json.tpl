{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ListClusterBackupsAndVersions",
      "Effect": "Allow",
      "Action": [
        "s3:ListBucket",
        "s3:ListBucketVersions"
      ],
      "Resource": "arn:aws:s3:::${backup_bucket}",
      "Condition": {
        "StringLike": {
          "s3:prefix": "${backup_prefix}/${cluster_name}/*"
        }
      }
    },
    {
      "Sid": "ReadAndDeleteClusterBackups",
      "Effect": "Allow",
      "Action": [
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion"
      ],
      "Resource": "arn:aws:s3:::${backup_bucket}/${backup_prefix}/${cluster_name}/*"
    },
    {
      "Sid": "DecryptBackupsThroughS3Only",
      "Effect": "Allow",
      "Action": "kms:Decrypt",
      "Resource": "${backup_kms_key_arn}",
      "Condition": {
        "StringEquals": {
          "kms:ViaService": "s3.${region}.amazonaws.com"
        }
      }
    }
  ]
}
