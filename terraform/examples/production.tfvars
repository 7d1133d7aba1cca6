# terraform plan -var-file=examples/production.tfvars
# cluster_name must equal tag:RedisCluster in inventories/production/aws_ec2.yml.
cluster_name           = "redis-production"
region                 = "us-west-2"
availability_zones     = ["us-west-2a", "us-west-2b", "us-west-2c"]
vpc_cidr               = "10.80.0.0/16"
nat_gateway_per_az     = true
bastion_allowed_cidrs  = ["198.51.100.0/24"] # CHANGE-ME: your office or VPN range
ssh_public_key         = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICHANGEMEChangeMeChangeMeChangeMeChangeMe0000 ops@example.com"
terraform_state_bucket = "CHANGE-ME-terraform-state"
terraform_state_key    = "redisops/production.tfstate"
