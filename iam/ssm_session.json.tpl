{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "RegisterWithSessionManager",
      "Effect": "Allow",
      "Action": "ssm:UpdateInstanceInformation",
      "Resource": "arn:aws:ec2:${region}:${account_id}:instance/*"
    },
    {
      "Sid": "OpenSessionChannels",
      "Effect": "Allow",
      "Action": [
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel"
      ],
      "Resource": "*"
    }
  ]
}
