{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "FlowLogsOfThisAccountAssumeThisRole",
      "Effect": "Allow",
      "Principal": {
        "Service": "vpc-flow-logs.amazonaws.com"
      },
      "Action": "sts:AssumeRole",
      "Condition": {
        "StringEquals": {
          "aws:SourceAccount": "${account_id}"
        }
      }
    }
  ]
}
