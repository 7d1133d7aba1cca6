variable "project" {
  description = "Project tag on every resource and the first part of every name."
  type        = string
  default     = "redisops"
}

variable "cluster_name" {
  description = "Name of the Redis Cluster: tags, metric dimensions, backup keys, SSM paths (the cluster_name output)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,30}[a-z0-9]$", var.cluster_name))
    error_message = "cluster_name: 2 to 32 lower-case letters, digits and dashes, starting and ending with a letter or digit."
  }
}

variable "region" {
  description = "AWS region of every resource."
  type        = string
}

variable "availability_zones" {
  description = "Availability zones, one private subnet each (3 or more: the cluster spreads masters and replicas over them)."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 3 && length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "availability_zones: at least 3 distinct zones."
  }
}

variable "vpc_cidr" {
  description = "CIDR of the VPC."
  type        = string
  default     = "10.80.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr))
    error_message = "vpc_cidr must be an IPv4 CIDR block."
  }
}

variable "private_subnet_cidrs" {
  description = "One CIDR per availability zone, in the same order, for the private subnets; empty: /24s carved from vpc_cidr (10.80.1.0/24, ...)."
  type        = list(string)
  default     = []
}

variable "public_subnet_cidrs" {
  description = "One CIDR per availability zone for the public subnets (bastion, NAT); empty: /24s carved from vpc_cidr (10.80.101.0/24, ...)."
  type        = list(string)
  default     = []
}

variable "nat_gateway_per_az" {
  description = "One NAT gateway per zone (egress survives the loss of a zone) instead of one in the first zone (cheaper)."
  type        = bool
  default     = false
}

variable "redis_ports" {
  description = "Ports the nodes accept from inside the VPC: plain and TLS client ports and their cluster bus ports (port + 10000)."
  type        = list(number)
  default     = [6379, 16379, 6380, 16380]
}

variable "bastion_allowed_cidrs" {
  description = "Addresses allowed to reach the bastion on port 22. Never 0.0.0.0/0."
  type        = list(string)

  validation {
    condition     = length(var.bastion_allowed_cidrs) > 0 && alltrue([for cidr in var.bastion_allowed_cidrs : can(cidrnetmask(cidr)) && cidr != "0.0.0.0/0"])
    error_message = "bastion_allowed_cidrs: one or more IPv4 CIDR blocks, none of them 0.0.0.0/0."
  }
}

variable "bastion_instance_type" {
  description = "Instance type of the bastion."
  type        = string
  default     = "t3.micro"
}

variable "bastion_ami_id" {
  description = "AMI of the bastion; empty: the newest Debian 12 amd64 image from Debian's account."
  type        = string
  default     = ""
}

variable "ssh_public_key" {
  description = "OpenSSH public key of the key pair for the bastion, the nodes and the AMI builder."
  type        = string
}

variable "backup_bucket_name" {
  description = "Name of the backup bucket; empty: <project>-<cluster_name>-backups-<account id>."
  type        = string
  default     = ""
}

variable "backup_prefix" {
  description = "Backups live under <backup_prefix>/<cluster_name>/ (docs/backups.md)."
  type        = string
  default     = "backups"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$", var.backup_prefix))
    error_message = "backup_prefix: path segments of letters, digits, dots, dashes and underscores, no leading or trailing slash."
  }
}

variable "backup_noncurrent_version_days" {
  description = "Days a deleted or overwritten backup object version is kept before S3 expires it."
  type        = number
  default     = 30
}

variable "metrics_namespace" {
  description = "CloudWatch namespace the nodes may publish to (docs/metrics.md)."
  type        = string
  default     = "RedisCluster"
}

variable "log_retention_days" {
  description = "Retention of the VPC flow log group (the node log groups are created by Ansible with their own retention)."
  type        = number
  default     = 365
}

variable "enable_ssm_session" {
  description = "Let Session Manager reach the nodes, the builder and the bastion (the alternative to SSH through the bastion)."
  type        = bool
  default     = false
}

variable "ssm_transfer_expiry_days" {
  description = "Days after which Session Manager's transfer objects expire (the connection deletes them itself; this catches interrupted runs)."
  type        = number
  default     = 3
}

variable "operator_trusted_principal_arns" {
  description = "Principals that may assume the operator role (backup rotation and restore); empty: any principal of this account allowed to by its own policy."
  type        = list(string)
  default     = []
}

variable "terraform_state_bucket" {
  description = "Bucket of this configuration's state (examples/backend.tf.example): the controller policy lets Ansible read its outputs."
  type        = string
}

variable "terraform_state_key" {
  description = "Key of this configuration's state in terraform_state_bucket."
  type        = string
}

variable "tags" {
  description = "Extra tags on every resource (Project and RedisCluster are always set)."
  type        = map(string)
  default     = {}
}
