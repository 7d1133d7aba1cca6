"""Module sandbox_base_resources against moto: check mode creates nothing; one
run creates every base resource with the attributes role sandbox_aws had them
made with (read back with boto3); a second run changes nothing and keeps the
passwords; drift is put back, a key pair holding another key replaced; a
non-local endpoint and bad input are refused before any call.

Uses moto on 127.0.0.1:5270 (run under flock /tmp/redisops-local.lock)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ansible_collections.redisops.ec2_cluster.plugins.modules import sandbox_base_resources
from moto_server import REGION, client, moto_server

PORT = 5270
ROOT = Path(__file__).resolve().parents[2]
NAME = "redisops-itbase"
CIDR = "10.93.0.0/16"
SUBNETS = [{"az": "us-west-2a", "cidr": "10.93.1.0/24"}, {"az": "us-west-2b", "cidr": "10.93.2.0/24"},
           {"az": "us-west-2c", "cidr": "10.93.3.0/24"}]
PORTS = [6379, 16379, 6380, 16380]
USERS = ["admin", "replication", "agent", "app"]
TAGS = {"Project": "redisops", "Environment": "sandbox", "RedisCluster": "itbase"}
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMx5m7ooBbhPgnHyuiFSdXsLO2T3RzwPdkqpSTx5O0Dk itbase"
POLICY_VALUES = {
    "region": REGION, "cluster_name": "itbase", "backup_bucket": NAME + "-backups", "backup_prefix": "backups",
    "metrics_namespace": "RedisCluster", "node_role_name": NAME + "-node", "builder_role_name": NAME + "-node",
    "state_bucket": NAME + "-terraform-state", "state_key": "itbase.tfstate",
}


def arguments(endpoint, **changes):
    args = dict(
        endpoint_url=endpoint, region=REGION, access_key="testing", secret_key="testing", name=NAME,
        cluster_name="itbase", vpc_cidr=CIDR, private_subnets=SUBNETS, redis_ports=PORTS, key_pair_name=NAME,
        public_key=PUBLIC_KEY, backup_bucket=NAME + "-backups", ssm_path="/redisops/itbase", acl_users=USERS,
        password_length=32, tags=TAGS,
        trust_policy=json.loads((ROOT / "roles/sandbox_aws/files/ec2-trust-policy.json").read_text()),
        node_policy_template=(ROOT / "iam/node.json.tpl").read_text(), node_policy_values=POLICY_VALUES)
    args.update(changes)
    return args


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    with moto_server(PORT, tmp_path_factory.mktemp("moto")) as endpoint:
        yield {"endpoint": endpoint, **{s: client(s, endpoint) for s in ("ec2", "kms", "s3", "sns", "iam", "ssm")}}


@pytest.fixture(scope="module")
def first(aws):
    """What a check run reported and what moto held before and after the first run."""
    return {}


def tag_map(items, key="Key", value="Value"):
    return {i[key]: i[value] for i in items}


def passwords(aws):
    names = ["/redisops/itbase/acl/" + u for u in USERS]
    found = aws["ssm"].get_parameters(Names=names, WithDecryption=True)["Parameters"]
    return {p["Name"]: (p["Type"], p["Value"], p["Version"]) for p in found}


def test_check_mode_reads_only_and_reports_what_it_would_create(aws, run_module):
    result = run_module(sandbox_base_resources, check=True, diff=True, **arguments(aws["endpoint"]))
    assert result["changed"] is True
    assert result["diff"]["prepared"] == "".join(line + "\n" for line in result["changes"])
    assert result["changes"][0] == "vpc %s: create, set" % NAME
    assert "parameter /redisops/itbase/acl/app: create" in result["changes"]
    assert result["vpc_id"] is None and result["kms_key_arn"] is None
    assert result["private_subnet_ids"] == {"us-west-2a": None, "us-west-2b": None, "us-west-2c": None}
    assert result["account_id"] == "123456789012"
    assert result["topic_arn"] == "arn:aws:sns:%s:123456789012:%s-alarms" % (REGION, NAME)
    assert not aws["ec2"].describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [NAME]}])["Vpcs"]
    assert not aws["kms"].list_aliases()["Aliases"] or all(
        a["AliasName"] != "alias/%s-backups" % NAME for a in aws["kms"].list_aliases()["Aliases"])
    assert NAME + "-backups" not in [b["Name"] for b in aws["s3"].list_buckets()["Buckets"]]
    assert not aws["iam"].list_roles()["Roles"]
    assert not aws["ssm"].describe_parameters()["Parameters"]


def test_the_first_run_creates_every_resource_as_the_role_did(aws, run_module, first):
    result = run_module(sandbox_base_resources, **arguments(aws["endpoint"]))
    first["result"], first["passwords"] = result, passwords(aws)
    assert result["changed"] is True and len(result["changes"]) == 11 + len(USERS)
    ec2 = aws["ec2"]
    [vpc] = ec2.describe_vpcs(VpcIds=[result["vpc_id"]])["Vpcs"]
    assert vpc["CidrBlock"] == CIDR and tag_map(vpc["Tags"]) == dict(TAGS, Name=NAME)
    for attribute, key in (("enableDnsSupport", "EnableDnsSupport"), ("enableDnsHostnames", "EnableDnsHostnames")):
        assert ec2.describe_vpc_attribute(VpcId=vpc["VpcId"], Attribute=attribute)[key]["Value"] is True
    subnets = ec2.describe_subnets(SubnetIds=list(result["private_subnet_ids"].values()))["Subnets"]
    assert {s["AvailabilityZone"]: s["SubnetId"] for s in subnets} == result["private_subnet_ids"]
    for subnet in subnets:
        az = subnet["AvailabilityZone"]
        assert subnet["CidrBlock"] == [s["cidr"] for s in SUBNETS if s["az"] == az][0]
        assert subnet["VpcId"] == vpc["VpcId"] and subnet["MapPublicIpOnLaunch"] is False
        assert tag_map(subnet["Tags"]) == dict(TAGS, Name="%s-private-%s" % (NAME, az), Tier="private")
    [pair] = ec2.describe_key_pairs(KeyNames=[NAME])["KeyPairs"]
    assert tag_map(pair["Tags"]) == TAGS and pair["KeyType"] == "ed25519"
    [group] = ec2.describe_security_groups(GroupIds=[result["security_group_id"]])["SecurityGroups"]
    assert group["GroupName"] == NAME + "-redis" and group["VpcId"] == vpc["VpcId"]
    assert group["Description"] == "Redis Cluster client and bus ports, plain and TLS, from inside the VPC"
    assert tag_map(group["Tags"]) == TAGS
    assert sorted((p["IpProtocol"], p["FromPort"], p["ToPort"], r["CidrIp"], r["Description"])
                  for p in group["IpPermissions"] for r in p["IpRanges"]) == sorted(
        ("tcp", port, port, CIDR, "Redis client and cluster bus") for port in PORTS)
    kms = aws["kms"]
    key = kms.describe_key(KeyId="alias/%s-backups" % NAME)["KeyMetadata"]
    assert key["Arn"] == result["kms_key_arn"] and key["Enabled"] and key["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert key["Description"] == "Encrypts itbase Redis backups"
    assert tag_map(kms.list_resource_tags(KeyId=key["KeyId"])["Tags"], "TagKey", "TagValue") == TAGS
    s3, bucket = aws["s3"], NAME + "-backups"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"] == [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]},
        "BucketKeyEnabled": True}]
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    assert tag_map(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]) == TAGS
    sns = aws["sns"]
    assert sns.get_topic_attributes(TopicArn=result["topic_arn"])["Attributes"]["DisplayName"] == "itbase Redis alarms"
    assert tag_map(sns.list_tags_for_resource(ResourceArn=result["topic_arn"])["Tags"]) == TAGS
    iam = aws["iam"]
    role = iam.get_role(RoleName=NAME + "-node")["Role"]
    assert role["AssumeRolePolicyDocument"] == arguments("")["trust_policy"]
    assert role["Description"] == "Redis Cluster nodes and the AMI builder" and tag_map(role["Tags"]) == TAGS
    document = iam.get_role_policy(RoleName=NAME + "-node", PolicyName="redis-node")["PolicyDocument"]
    resources = {s["Sid"]: s["Resource"] for s in document["Statement"]}
    assert resources["UseBackupKeyThroughS3Only"] == key["Arn"]
    assert resources["ReadWriteOwnClusterBackups"] == "arn:aws:s3:::%s/backups/itbase/*" % bucket
    assert "${" not in json.dumps(document)
    profile = iam.get_instance_profile(InstanceProfileName=result["instance_profile"])["InstanceProfile"]
    assert [r["RoleName"] for r in profile["Roles"]] == [NAME + "-node"] and tag_map(profile["Tags"]) == TAGS
    found = first["passwords"]
    assert sorted(found) == sorted("/redisops/itbase/acl/" + u for u in USERS)
    for name, (kind, value, _) in found.items():
        assert kind == "SecureString" and len(value) == 32 and value.isalnum()
        assert value not in json.dumps(result)
        assert tag_map(aws["ssm"].list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]) == TAGS
    described = aws["ssm"].describe_parameters()["Parameters"]
    assert {p["Name"]: p["Description"] for p in described} == {
        "/redisops/itbase/acl/" + u: "Redis ACL password of user " + u for u in USERS}
    assert len({v for _, v, _ in found.values()}) == len(USERS)


def test_a_second_run_and_a_check_run_change_nothing_and_keep_the_passwords(aws, run_module, first):
    for check in (False, True):
        again = run_module(sandbox_base_resources, check=check, **arguments(aws["endpoint"]))
        assert again["changed"] is False and again["changes"] == []
        assert {k: v for k, v in again.items() if k not in ("invocation",)} == {
            k: v for k, v in first["result"].items() if k not in ("invocation", "changed", "changes")} | {
            "changed": False, "changes": []}
    assert passwords(aws) == first["passwords"]


def test_drift_is_put_back_and_a_missing_password_is_made_alone(aws, run_module, first):
    result = first["result"]
    ec2 = aws["ec2"]
    ec2.authorize_security_group_ingress(GroupId=result["security_group_id"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ec2.create_tags(Resources=[result["vpc_id"]], Tags=[{"Key": "Owner", "Value": "someone"}])
    aws["s3"].put_bucket_versioning(Bucket=NAME + "-backups", VersioningConfiguration={"Status": "Suspended"})
    aws["ssm"].delete_parameter(Name="/redisops/itbase/acl/app")
    fixed = run_module(sandbox_base_resources, **arguments(aws["endpoint"]))
    assert fixed["changed"] is True
    assert sorted(fixed["changes"]) == sorted([
        "vpc %s: untag" % NAME, "security_group %s-redis: revoke" % NAME, "bucket %s-backups: set" % NAME,
        "parameter /redisops/itbase/acl/app: create"])
    [group] = ec2.describe_security_groups(GroupIds=[result["security_group_id"]])["SecurityGroups"]
    assert sorted(p["FromPort"] for p in group["IpPermissions"]) == sorted(PORTS)
    assert aws["s3"].get_bucket_versioning(Bucket=NAME + "-backups")["Status"] == "Enabled"
    now = passwords(aws)
    assert {k: v for k, v in now.items() if not k.endswith("/app")} == {
        k: v for k, v in first["passwords"].items() if not k.endswith("/app")}
    assert now["/redisops/itbase/acl/app"][1] != first["passwords"]["/redisops/itbase/acl/app"][1]
    assert run_module(sandbox_base_resources, **arguments(aws["endpoint"]))["changed"] is False


def test_a_key_pair_holding_another_key_is_replaced(aws, run_module, first):
    # The sandbox's key file made again while moto holds the old key: the
    # instances launched from now on must get the key the controller has.
    other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP4cbEnplbKwHQfmzyQoNn12lsGgYQaeCQq7j5RcrKbg again"
    replaced = run_module(sandbox_base_resources, **arguments(aws["endpoint"], public_key=other))
    assert replaced["changed"] is True and replaced["changes"] == ["key_pair %s: replace" % NAME]
    [pair] = aws["ec2"].describe_key_pairs(KeyNames=[NAME], IncludePublicKey=True)["KeyPairs"]
    assert pair["PublicKey"].split()[:2] == other.split()[:2]
    assert tag_map(pair["Tags"]) == TAGS
    back = run_module(sandbox_base_resources, **arguments(aws["endpoint"]))
    assert back["changes"] == ["key_pair %s: replace" % NAME]
    assert run_module(sandbox_base_resources, **arguments(aws["endpoint"]))["changed"] is False


@pytest.mark.parametrize("endpoint", ["https://127.0.0.1:%d" % PORT, "http://192.0.2.10:%d" % PORT,
                                      "http://127.0.0.1"])
def test_a_non_local_endpoint_is_refused_before_any_call(endpoint, run_module):
    result = run_module(sandbox_base_resources, expect_failure=True, **arguments(endpoint))
    assert "must be the sandbox's moto" in result["msg"]


@pytest.mark.parametrize("change, message", [
    ({"private_subnets": [{"az": "us-west-2a", "cidr": "10.94.1.0/24"}]}, "not inside the VPC CIDR"),
    ({"node_policy_values": dict(POLICY_VALUES, account_id="1")}, "account_id come from moto"),
    ({"node_policy_values": {"region": REGION}}, "missing values"),
    ({"trust_policy": {"Statement": []}}, "trust_policy"),
    ({"public_key": "not a key"}, "OpenSSH public key line"),
])
def test_bad_input_is_refused_before_any_call(change, message, run_module):
    # Nothing listens at this port: a call would fail with another message.
    result = run_module(sandbox_base_resources, expect_failure=True,
                        **arguments("http://127.0.0.1:%d" % (PORT + 9), **change))
    assert message in result["msg"]
