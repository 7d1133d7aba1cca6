{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Ec2InstancesAssumeThisRole",
      "Effect": "Allow",
      "Principal": {
        "Service": "ec2.amazonaws.com"
      },
      "Action": "sts:AssumeRole"
    }
  ]
}
