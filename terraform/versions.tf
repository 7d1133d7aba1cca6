# Base resources of one Redis Cluster: network, bastion, backup bucket and
# key, alarm topic and the IAM principals. The nodes themselves are launched
# by the Ansible collection (ARCHITECTURE section 4), never by Terraform.
terraform {
  # 1.11: S3 backend locking with use_lockfile (examples/backend.tf.example).
  required_version = ">= 1.11.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }
}

provider "aws" {
  region = var.region

  # Every resource carries the project's tags; the collection filters its
  # instances on the same RedisCluster key (local.node_instance_tags).
  default_tags {
    tags = merge(var.tags, {
      Project      = var.project
      RedisCluster = var.cluster_name
    })
  }
}
