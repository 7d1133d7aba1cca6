"""What "the sandbox is up" means, checked through moto, the Terraform
state and Docker; used after every up in the session."""

import json
import os
import re
import subprocess

from redisops_testlib.sandbox import ENDPOINT_LABEL, ID_LABEL, ROOT, load_module_utils

iam_policies = load_module_utils("redisops_iam_policies", "iam_policies.py")
CACHE = "redisops/ami-cache"


def node_image_cache():
    """Tags of the sandbox node image cache (one entry per engine), e.g. redisops/ami-cache:redis-7.0.15-<key>."""
    out = subprocess.run(["docker", "image", "ls", CACHE, "--format", "{{.Repository}}:{{.Tag}}"],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    return set(out.split())


def expected_ips(identity, per_az=2):
    """Private IPs sandbox_up.yml gives the instances: .11, .12 in each AZ's /24."""
    return {re.sub(r"\.0/24$", ".%d" % (11 + n), s["cidr"]) for s in identity["private_subnets"] for n in range(per_az)}


def tags(resource):
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def containers(sandbox, docker_client, all_states=True):
    """This sandbox's instance containers (labelled with its endpoint)."""
    return docker_client.containers.list(
        all=all_states, filters={"label": [ID_LABEL, "%s=%s" % (ENDPOINT_LABEL, sandbox.endpoint)]})


def node_policy(sandbox, outputs):
    """iam/node.json.tpl rendered with the sandbox's values (terraform/main.tf's placeholders)."""
    account = outputs["backup_kms_key_arn"].split(":")[4]
    with open(ROOT / "iam" / ("node" + iam_policies.TEMPLATE_SUFFIX)) as handle:
        return iam_policies.render(handle.read(), {
            "account_id": account, "region": sandbox.region, "cluster_name": sandbox.cluster,
            "backup_bucket": outputs["backup_bucket"], "backup_prefix": "backups",
            "backup_kms_key_arn": outputs["backup_kms_key_arn"], "metrics_namespace": "RedisCluster"}, "node")


def check_sandbox_up(sandbox, docker_client):
    identity = sandbox.identity
    azs = [s["az"] for s in identity["private_subnets"]]
    assert sandbox.moto_answers()
    instances = sandbox.instances(states=("running",))
    assert len(instances) == 6
    by_ip = {i["PrivateIpAddress"]: i for i in instances}
    assert set(by_ip) == expected_ips(identity)
    assert sorted(tags(i)["Name"] for i in instances) == ["%s-%d" % (sandbox.cluster, n) for n in range(1, 7)]
    subnet_az = {s["cidr"].rsplit(".", 1)[0]: s["az"] for s in identity["private_subnets"]}  # 10.78.1 -> a
    for ip, inst in by_ip.items():
        assert inst["Placement"]["AvailabilityZone"] == subnet_az[ip.rsplit(".", 1)[0]]
        assert tags(inst)["Role"] == "redis-cluster" and tags(inst)["RedisCluster"] == sandbox.cluster
    for az in azs:
        assert sum(i["Placement"]["AvailabilityZone"] == az for i in instances) == 2

    ec2 = sandbox.aws("ec2")
    amis = ec2.describe_images(ImageIds=sorted({i["ImageId"] for i in instances}))["Images"]
    assert amis and all(tags(a).get("Role") == "redis-node-ami" for a in amis)

    state = sandbox.read_state()
    assert state["version"] == 4 and state["lineage"] and state["serial"] >= 1 and state["terraform_version"]
    outputs = {name: out["value"] for name, out in state["outputs"].items()}
    assert set(outputs) == {
        "region", "cluster_name", "vpc_id", "vpc_cidr", "private_subnet_ids", "redis_security_group_id",
        "redis_instance_profile", "backup_bucket", "backup_kms_key_arn", "alarm_topic_arn",
        "bastion_public_ip", "key_pair_name",
    }
    # The way in, as on AWS: the bastion on the loopback, the key pair every instance was launched with.
    assert outputs["bastion_public_ip"] == "127.0.0.1"
    assert outputs["key_pair_name"] == "redisops-%s" % sandbox.cluster
    # (the key pair is a base resource: read as its creator, the sandbox principal)
    (pair,) = sandbox.aws("ec2", "sandbox").describe_key_pairs(
        KeyNames=[outputs["key_pair_name"]], IncludePublicKey=True)["KeyPairs"]
    with open(ssh_key_file(sandbox) + ".pub") as handle:
        assert pair["PublicKey"].split()[:2] == handle.read().split()[:2]
    assert all(inst.get("KeyName") == outputs["key_pair_name"] for inst in instances)
    assert state["outputs"]["private_subnet_ids"]["type"] == ["map", "string"]
    assert outputs["region"] == sandbox.region and outputs["cluster_name"] == sandbox.cluster
    assert outputs["vpc_cidr"] == identity["vpc_cidr"]
    vpc = ec2.describe_vpcs(VpcIds=[outputs["vpc_id"]])["Vpcs"][0]
    assert vpc["CidrBlock"] == identity["vpc_cidr"]
    subnets = ec2.describe_subnets(SubnetIds=list(outputs["private_subnet_ids"].values()))["Subnets"]
    assert {s["AvailabilityZone"]: s["CidrBlock"] for s in subnets} == {s["az"]: s["cidr"] for s in identity["private_subnets"]}
    assert {s["AvailabilityZone"]: s["SubnetId"] for s in subnets} == outputs["private_subnet_ids"]
    assert all(not s["MapPublicIpOnLaunch"] for s in subnets)
    for inst in instances:
        assert inst["SubnetId"] == outputs["private_subnet_ids"][inst["Placement"]["AvailabilityZone"]]
        assert [g["GroupId"] for g in inst["SecurityGroups"]] == [outputs["redis_security_group_id"]]
        assert inst["IamInstanceProfile"]["Arn"].endswith("/" + outputs["redis_instance_profile"])

    group = ec2.describe_security_groups(GroupIds=[outputs["redis_security_group_id"]])["SecurityGroups"][0]
    ingress = {(p["FromPort"], p["ToPort"]): [r["CidrIp"] for r in p["IpRanges"]] for p in group["IpPermissions"]}
    assert ingress == {(port, port): [identity["vpc_cidr"]] for port in (6379, 6380, 16379, 16380)}
    assert all(not p.get("Ipv6Ranges") and not p.get("UserIdGroupPairs") for p in group["IpPermissions"])

    # The base resources are read as their creator, the sandbox principal
    # (the controller's policy does not cover them, as in production).
    s3 = sandbox.aws("s3", "sandbox")
    assert s3.get_bucket_versioning(Bucket=outputs["backup_bucket"])["Status"] == "Enabled"
    rule = s3.get_bucket_encryption(Bucket=outputs["backup_bucket"])["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == outputs["backup_kms_key_arn"]
    key = sandbox.aws("kms", "sandbox").describe_key(KeyId=outputs["backup_kms_key_arn"])["KeyMetadata"]
    assert key["Enabled"] and key["KeyState"] == "Enabled"
    assert sandbox.aws("sns", "sandbox").get_topic_attributes(TopicArn=outputs["alarm_topic_arn"])["Attributes"]

    iam = sandbox.aws("iam", "sandbox")
    profile = iam.get_instance_profile(InstanceProfileName=outputs["redis_instance_profile"])["InstanceProfile"]
    (role,) = profile["Roles"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    (policy_name,) = iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]
    document = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=policy_name)["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    # The one node policy, iam/node.json.tpl, rendered as Terraform does.
    assert document == node_policy(sandbox, outputs)

    # Its sandbox copy is what the node principal's IAM user holds.
    node_user = sandbox.key("node")["user_name"]
    assert node_user == "redisops-%s-node" % sandbox.cluster
    (user_policy,) = iam.list_user_policies(UserName=node_user)["PolicyNames"]
    held = iam.get_user_policy(UserName=node_user, PolicyName=user_policy)["PolicyDocument"]
    held = json.loads(held) if isinstance(held, str) else held
    assert held == iam_policies.sandbox_copy(node_policy(sandbox, outputs), "node")[0]

    params = sandbox.aws("ssm", "sandbox").get_parameters_by_path(
        Path="/redisops/%s/acl" % sandbox.cluster, WithDecryption=True)["Parameters"]
    assert sorted(p["Name"] for p in params) == ["/redisops/%s/acl/%s" % (sandbox.cluster, u) for u in ("admin", "agent", "app", "replication")]
    assert all(p["Type"] == "SecureString" and len(p["Value"]) == 32 and p["Value"].isalnum() for p in params)
    assert len({p["Value"] for p in params}) == len(params)

    found = {c.name: c for c in containers(sandbox, docker_client)}
    assert set(found) == {sandbox.container(i["InstanceId"]) for i in instances}
    for inst in instances:
        container = found[sandbox.container(inst["InstanceId"])]
        assert container.status == "running"
        assert "redisops/ami:%s" % inst["ImageId"] in container.image.tags
        networks = container.attrs["NetworkSettings"]["Networks"]
        assert list(networks) == [sandbox.network]  # on the sandbox's network only
        assert networks[sandbox.network]["IPAddress"] == inst["PrivateIpAddress"]
    network = docker_client.networks.get(sandbox.network)
    assert network.attrs["IPAM"]["Config"][0]["Subnet"] == identity["vpc_cidr"]
    bastion = docker_client.containers.get(bastion_container(sandbox))
    assert bastion.status == "running"
    assert bastion.attrs["NetworkSettings"]["Networks"][sandbox.network]["IPAddress"] == identity["bastion_address"]
    # sshd published on the loopback only, at the identity's bastion port
    assert bastion.attrs["NetworkSettings"]["Ports"]["22/tcp"] == [
        {"HostIp": "127.0.0.1", "HostPort": str(identity["bastion_port"])}]
    return instances, params


def bastion_container(sandbox):
    return sandbox.prefix + "bastion"


def ssh_dir(sandbox):
    """The sandbox's key pair and known hosts: <sandbox dir>/ssh/<cluster>/ (never ~/.ssh)."""
    return os.path.join(sandbox.identity["dir"], "ssh", sandbox.cluster)


def ssh_key_file(sandbox):
    return os.path.join(ssh_dir(sandbox), "redisops-%s" % sandbox.cluster)


def builders(sandbox):
    """AMI builder instances of this sandbox's moto, in every state."""
    return sandbox.instances(role="redis-ami-builder", states=("pending", "running", "stopping", "stopped",
                                                                 "shutting-down", "terminated"))
