resource "aws_key_pair" "this" {
  key_name   = local.name
  public_key = var.ssh_public_key
}

data "aws_ami" "debian12" {
  most_recent = true
  owners      = ["136693071363"] # Debian's official AMI account

  filter {
    name   = "name"
    values = ["debian-12-amd64-*"]
  }

  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
}

resource "aws_instance" "bastion" {
  #checkov:skip=CKV_AWS_88:the bastion is the one instance meant to be reached from outside (port 22 from bastion_allowed_cidrs only)
  ami                         = var.bastion_ami_id != "" ? var.bastion_ami_id : data.aws_ami.debian12.id
  instance_type               = var.bastion_instance_type
  subnet_id                   = aws_subnet.public[var.availability_zones[0]].id
  vpc_security_group_ids      = [aws_security_group.bastion.id]
  key_name                    = aws_key_pair.this.key_name
  iam_instance_profile        = aws_iam_instance_profile.bastion.name
  associate_public_ip_address = true
  monitoring                  = true
  ebs_optimized               = true

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
  }

  root_block_device {
    encrypted   = true
    volume_type = "gp3"
  }

  tags = { Name = "${local.name}-bastion" }
}
