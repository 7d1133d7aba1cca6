{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ReadWriteOwnClusterBackups",
      "Effect": "Allow",
      "Action": [
        "s3:PutObject",
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:AbortMultipartUpload"
      ],
      "Resource": "arn:aws:s3:::${backup_bucket}/${backup_prefix}/${cluster_name}/*"
    },
    {
      "Sid": "ListOwnClusterBackups",
      "Effect": "Allow",
      "Action": "s3:ListBucket",
      "Resource": "arn:aws:s3:::${backup_bucket}",
      "Condition": {
        "StringLike": {
          "s3:prefix": "${backup_prefix}/${cluster_name}/*"
        }
      }
    },
    {
      "Sid": "UseBackupKeyThroughS3Only",
      "Effect": "Allow",
      "Action": [
        "kms:GenerateDataKey",
        "kms:Decrypt"
      ],
      "Resource": "${backup_kms_key_arn}",
      "Condition": {
        "StringEquals": {
          "kms:ViaService": "s3.${region}.amazonaws.com"
        }
      }
    },
    {
      "Sid": "PublishMetricsInOwnNamespace",
      "Effect": "Allow",
      "Action": "cloudwatch:PutMetricData",
      "Resource": "*",
      "Condition": {
        "StringEquals": {
          "cloudwatch:namespace": "${metrics_namespace}"
        }
      }
    },
    {
      "Sid": "ShipLogsToOwnClusterGroups",
      "Effect": "Allow",
      "Action": [
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogStreams"
      ],
      "Resource": "arn:aws:logs:${region}:${account_id}:log-group:/redisops/${cluster_name}/*"
    }
  ]
}
