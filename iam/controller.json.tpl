{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ReadTerraformOutputs",
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Resource": "arn:aws:s3:::${state_bucket}/${state_key}"
    },
    {
      "Sid": "DescribeEc2",
      "Effect": "Allow",
      "Action": [
        "ec2:DescribeAvailabilityZones",
        "ec2:DescribeImages",
        "ec2:DescribeInstanceStatus",
        "ec2:DescribeInstances",
        "ec2:DescribeLaunchTemplateVersions",
        "ec2:DescribeLaunchTemplates",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSnapshots",
        "ec2:DescribeSubnets",
        "ec2:DescribeTags",
        "ec2:DescribeVolumes",
        "ec2:DescribeVpcs"
      ],
      "Resource": "*"
    },
    {
      "Sid": "LaunchOnlyClusterTaggedInstances",
      "Effect": "Allow",
      "Action": "ec2:RunInstances",
      "Resource": "arn:aws:ec2:${region}:${account_id}:instance/*",
      "Condition": {
        "StringEquals": {
          "aws:RequestTag/RedisCluster": "${cluster_name}"
        }
      }
    },
    {
      "Sid": "LaunchIntoTheseResources",
      "Effect": "Allow",
      "Action": "ec2:RunInstances",
      "Resource": [
        "arn:aws:ec2:${region}::image/*",
        "arn:aws:ec2:${region}:${account_id}:key-pair/*",
        "arn:aws:ec2:${region}:${account_id}:network-interface/*",
        "arn:aws:ec2:${region}:${account_id}:security-group/*",
        "arn:aws:ec2:${region}:${account_id}:subnet/*",
        "arn:aws:ec2:${region}:${account_id}:volume/*"
      ]
    },
    {
      "Sid": "OperateOnlyClusterInstances",
      "Effect": "Allow",
      "Action": [
        "ec2:CreateImage",
        "ec2:DeleteTags",
        "ec2:DescribeInstanceAttribute",
        "ec2:StartInstances",
        "ec2:StopInstances",
        "ec2:TerminateInstances"
      ],
      "Resource": "arn:aws:ec2:${region}:${account_id}:instance/*",
      "Condition": {
        "StringEquals": {
          "aws:ResourceTag/RedisCluster": "${cluster_name}"
        }
      }
    },
    {
      "Sid": "CreateImagesAndSnapshots",
      "Effect": "Allow",
      "Action": "ec2:CreateImage",
      "Resource": [
        "arn:aws:ec2:${region}::image/*",
        "arn:aws:ec2:${region}::snapshot/*"
      ]
    },
    {
      "Sid": "ReadImageAttributes",
      "Effect": "Allow",
      "Action": "ec2:DescribeImageAttribute",
      "Resource": "arn:aws:ec2:${region}::image/*"
    },
    {
      "Sid": "TagWhatIsBeingCreated",
      "Effect": "Allow",
      "Action": "ec2:CreateTags",
      "Resource": [
        "arn:aws:ec2:${region}::image/*",
        "arn:aws:ec2:${region}::snapshot/*",
        "arn:aws:ec2:${region}:${account_id}:instance/*",
        "arn:aws:ec2:${region}:${account_id}:volume/*"
      ],
      "Condition": {
        "StringEquals": {
          "ec2:CreateAction": [
            "CreateImage",
            "RunInstances"
          ]
        }
      }
    },
    {
      "Sid": "RetagClusterInstances",
      "Effect": "Allow",
      "Action": "ec2:CreateTags",
      "Resource": "arn:aws:ec2:${region}:${account_id}:instance/*",
      "Condition": {
        "StringEquals": {
          "aws:ResourceTag/RedisCluster": "${cluster_name}"
        }
      }
    },
    {
      "Sid": "TagNodeImages",
      "Effect": "Allow",
      "Action": "ec2:CreateTags",
      "Resource": [
        "arn:aws:ec2:${region}::image/*",
        "arn:aws:ec2:${region}::snapshot/*"
      ],
      "Condition": {
        "StringEquals": {
          "aws:RequestTag/Role": "redis-node-ami"
        }
      }
    },
    {
      "Sid": "PruneOnlyNodeImages",
      "Effect": "Allow",
      "Action": [
        "ec2:DeleteSnapshot",
        "ec2:DeregisterImage"
      ],
      "Resource": [
        "arn:aws:ec2:${region}::image/*",
        "arn:aws:ec2:${region}::snapshot/*"
      ],
      "Condition": {
        "StringEquals": {
          "aws:ResourceTag/Role": "redis-node-ami"
        }
      }
    },
    {
      "Sid": "PassOnlyNodeAndBuilderRoles",
      "Effect": "Allow",
      "Action": "iam:PassRole",
      "Resource": [
        "arn:aws:iam::${account_id}:role/${node_role_name}",
        "arn:aws:iam::${account_id}:role/${builder_role_name}"
      ],
      "Condition": {
        "StringEquals": {
          "iam:PassedToService": "ec2.amazonaws.com"
        }
      }
    },
    {
      "Sid": "ListInstanceProfiles",
      "Effect": "Allow",
      "Action": "iam:ListInstanceProfiles",
      "Resource": "*"
    },
    {
      "Sid": "ReadClusterInstanceProfiles",
      "Effect": "Allow",
      "Action": "iam:GetInstanceProfile",
      "Resource": [
        "arn:aws:iam::${account_id}:instance-profile/${node_role_name}",
        "arn:aws:iam::${account_id}:instance-profile/${builder_role_name}"
      ]
    },
    {
      "Sid": "ClusterParameters",
      "Effect": "Allow",
      "Action": [
        "ssm:AddTagsToResource",
        "ssm:GetParameter",
        "ssm:GetParameters",
        "ssm:GetParametersByPath",
        "ssm:ListTagsForResource",
        "ssm:PutParameter"
      ],
      "Resource": "arn:aws:ssm:${region}:${account_id}:parameter/redisops/${cluster_name}/*"
    },
    {
      "Sid": "FindParameters",
      "Effect": "Allow",
      "Action": "ssm:DescribeParameters",
      "Resource": "*"
    },
    {
      "Sid": "ParameterKeyThroughSsmOnly",
      "Effect": "Allow",
      "Action": [
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:GenerateDataKey"
      ],
      "Resource": "arn:aws:kms:${region}:${account_id}:key/*",
      "Condition": {
        "StringEquals": {
          "kms:ViaService": "ssm.${region}.amazonaws.com"
        }
      }
    },
    {
      "Sid": "ClusterAlarms",
      "Effect": "Allow",
      "Action": [
        "cloudwatch:DeleteAlarms",
        "cloudwatch:DescribeAlarms",
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:TagResource"
      ],
      "Resource": "arn:aws:cloudwatch:${region}:${account_id}:alarm:redisops-${cluster_name}-*"
    },
    {
      "Sid": "ClusterDashboards",
      "Effect": "Allow",
      "Action": [
        "cloudwatch:DeleteDashboards",
        "cloudwatch:GetDashboard",
        "cloudwatch:PutDashboard"
      ],
      "Resource": "arn:aws:cloudwatch::${account_id}:dashboard/redisops-${cluster_name}*"
    },
    {
      "Sid": "ClusterLogGroups",
      "Effect": "Allow",
      "Action": [
        "logs:CreateLogGroup",
        "logs:ListTagsLogGroup",
        "logs:PutRetentionPolicy",
        "logs:TagResource"
      ],
      "Resource": "arn:aws:logs:${region}:${account_id}:log-group:/redisops/${cluster_name}/*"
    },
    {
      "Sid": "FindLogGroups",
      "Effect": "Allow",
      "Action": "logs:DescribeLogGroups",
      "Resource": "*"
    }
  ]
}
