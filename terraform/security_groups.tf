# Redis nodes: client and bus ports from inside the VPC, SSH from the bastion.
resource "aws_security_group" "redis" {
  #checkov:skip=CKV2_AWS_5:attached by the collection to the node instances it launches (redis_security_group_id output); Terraform launches no node
  name        = "${local.name}-redis"
  description = "Redis Cluster nodes: client and bus ports from the VPC, SSH from the bastion"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${local.name}-redis" }
}

resource "aws_vpc_security_group_ingress_rule" "redis_ports" {
  for_each = toset([for port in var.redis_ports : tostring(port)])

  security_group_id = aws_security_group.redis.id
  description       = "Redis port ${each.key} from inside the VPC"
  ip_protocol       = "tcp"
  from_port         = tonumber(each.key)
  to_port           = tonumber(each.key)
  cidr_ipv4         = var.vpc_cidr
}

resource "aws_vpc_security_group_ingress_rule" "redis_ssh" {
  #checkov:skip=CKV_AWS_24:false positive: the source is the bastion's security group (referenced_security_group_id), not 0.0.0.0/0
  security_group_id            = aws_security_group.redis.id
  description                  = "SSH from the bastion only"
  ip_protocol                  = "tcp"
  from_port                    = 22
  to_port                      = 22
  referenced_security_group_id = aws_security_group.bastion.id
}

resource "aws_vpc_security_group_egress_rule" "redis_peers" {
  for_each = toset([for port in var.redis_ports : tostring(port)])

  security_group_id = aws_security_group.redis.id
  description       = "Redis port ${each.key} to the other nodes"
  ip_protocol       = "tcp"
  from_port         = tonumber(each.key)
  to_port           = tonumber(each.key)
  cidr_ipv4         = var.vpc_cidr
}

# S3 (gateway endpoint), CloudWatch and CloudWatch Logs over HTTPS.
resource "aws_vpc_security_group_egress_rule" "redis_https" {
  security_group_id = aws_security_group.redis.id
  description       = "HTTPS to the AWS APIs (backups, metrics, logs)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

# The AMI builder: reached from the bastion, fetches packages over HTTP(S).
resource "aws_security_group" "builder" {
  #checkov:skip=CKV2_AWS_5:attached by the AMI bake to the builder instance it launches (builder_security_group_id output)
  name        = "${local.name}-builder"
  description = "AMI builder: SSH from the bastion, package downloads out"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${local.name}-builder" }
}

resource "aws_vpc_security_group_ingress_rule" "builder_ssh" {
  #checkov:skip=CKV_AWS_24:false positive: the source is the bastion's security group (referenced_security_group_id), not 0.0.0.0/0
  security_group_id            = aws_security_group.builder.id
  description                  = "SSH from the bastion only"
  ip_protocol                  = "tcp"
  from_port                    = 22
  to_port                      = 22
  referenced_security_group_id = aws_security_group.bastion.id
}

resource "aws_vpc_security_group_egress_rule" "builder_packages" {
  for_each = toset(["80", "443"])

  security_group_id = aws_security_group.builder.id
  description       = "Package mirrors on port ${each.key}"
  ip_protocol       = "tcp"
  from_port         = tonumber(each.key)
  to_port           = tonumber(each.key)
  cidr_ipv4         = "0.0.0.0/0"
}

# The bastion: SSH in from the allowed addresses, SSH out into the VPC only.
resource "aws_security_group" "bastion" {
  name        = "${local.name}-bastion"
  description = "Bastion: SSH from the allowed addresses, SSH into the VPC"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${local.name}-bastion" }
}

resource "aws_vpc_security_group_ingress_rule" "bastion_ssh" {
  for_each = toset(var.bastion_allowed_cidrs)

  security_group_id = aws_security_group.bastion.id
  description       = "SSH from ${each.key}"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = each.key
}

resource "aws_vpc_security_group_egress_rule" "bastion_ssh" {
  security_group_id = aws_security_group.bastion.id
  description       = "SSH to the nodes and the builder"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = var.vpc_cidr
}
