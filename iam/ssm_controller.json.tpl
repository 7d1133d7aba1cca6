{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "StartSessionsOnClusterInstances",
      "Effect": "Allow",
      "Action": "ssm:StartSession",
      "Resource": "arn:aws:ec2:${region}:${account_id}:instance/*",
      "Condition": {
        "StringEquals": {
          "ssm:resourceTag/RedisCluster": "${cluster_name}"
        }
      }
    },
    {
      "Sid": "StartSessionsWithTheDefaultShellDocument",
      "Effect": "Allow",
      "Action": "ssm:StartSession",
      "Resource": "arn:aws:ssm:${region}:${account_id}:document/SSM-SessionManagerRunShell"
    },
    {
      "Sid": "EndSessions",
      "Effect": "Allow",
      "Action": [
        "ssm:ResumeSession",
        "ssm:TerminateSession"
      ],
      "Resource": "arn:aws:ssm:${region}:${account_id}:session/*"
    },
    {
      "Sid": "TransferFiles",
      "Effect": "Allow",
      "Action": [
        "s3:DeleteObject",
        "s3:GetObject",
        "s3:PutObject"
      ],
      "Resource": "arn:aws:s3:::${ssm_transfer_bucket}/*"
    },
    {
      "Sid": "FindTheTransferBucket",
      "Effect": "Allow",
      "Action": [
        "s3:GetBucketLocation",
        "s3:ListBucket"
      ],
      "Resource": "arn:aws:s3:::${ssm_transfer_bucket}"
    }
  ]
}
