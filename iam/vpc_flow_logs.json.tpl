{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "WriteFlowLogsToTheirGroup",
      "Effect": "Allow",
      "Action": [
        "logs:CreateLogStream",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents"
      ],
      "Resource": "arn:aws:logs:${region}:${account_id}:log-group:${log_group_name}:*"
    }
  ]
}
