"""The sandbox end to end: real playbooks against real moto and Docker.

The tests run in file order and build on each other: refuse a remote
endpoint, up from clean, up again (changed=0), inventory, ping, reconcile
after stop/start/terminate through the API, down, down twice, up again.
The module always ends with the sandbox down.
"""

import ipaddress
import json

import pytest

import sandboxlib as sbx

AZS = ["us-west-2a", "us-west-2b", "us-west-2c"]
EXPECTED_IPS = {"10.77.1.11", "10.77.2.11", "10.77.3.11", "10.77.1.12", "10.77.2.12", "10.77.3.12"}
TIMINGS = {}


@pytest.fixture(scope="module", autouse=True)
def clean_sandbox():
    down = sbx.playbook("sandbox_down.yml")
    assert down.rc == 0, down.explain()
    yield
    down = sbx.playbook("sandbox_down.yml")
    print("\nsandbox timings (s): %s" % {k: round(v, 1) for k, v in TIMINGS.items()})
    assert down.rc == 0, down.explain()


def _assert_sandbox_up(docker_client):
    """Everything up brings, checked through the moto API, the state file and Docker."""
    assert sbx.moto_answers()
    instances = sbx.cluster_instances(states=("running",))
    assert len(instances) == 6
    by_ip = {i["PrivateIpAddress"]: i for i in instances}
    assert set(by_ip) == EXPECTED_IPS
    assert sorted(sbx.tags(i)["Name"] for i in instances) == ["sandbox-%d" % n for n in range(1, 7)]
    for az in AZS:
        assert sum(i["Placement"]["AvailabilityZone"] == az for i in instances) == 2
    for ip, inst in by_ip.items():
        third_octet = int(ip.split(".")[2])
        assert inst["Placement"]["AvailabilityZone"] == AZS[third_octet - 1]
        assert sbx.tags(inst)["Role"] == "redis-cluster"
        assert sbx.tags(inst)["RedisCluster"] == sbx.CLUSTER

    ec2 = sbx.aws("ec2")
    amis = ec2.describe_images(ImageIds=sorted({i["ImageId"] for i in instances}))["Images"]
    assert amis and all(sbx.tags(a).get("Role") == "redis-node-ami" for a in amis)

    state = sbx.read_state()
    assert state["version"] == 4 and state["lineage"] and state["serial"] >= 1 and state["terraform_version"]
    outputs = {name: out["value"] for name, out in state["outputs"].items()}
    assert set(outputs) == {
        "region", "cluster_name", "vpc_id", "vpc_cidr", "private_subnet_ids", "redis_security_group_id",
        "redis_instance_profile", "backup_bucket", "backup_kms_key_arn", "alarm_topic_arn",
    }
    assert state["outputs"]["private_subnet_ids"]["type"] == ["map", "string"]
    assert outputs["region"] == sbx.REGION and outputs["cluster_name"] == sbx.CLUSTER
    assert outputs["vpc_cidr"] == "10.77.0.0/16"
    vpc = ec2.describe_vpcs(VpcIds=[outputs["vpc_id"]])["Vpcs"][0]
    assert vpc["CidrBlock"] == "10.77.0.0/16"
    subnets = ec2.describe_subnets(SubnetIds=list(outputs["private_subnet_ids"].values()))["Subnets"]
    assert {s["AvailabilityZone"]: s["CidrBlock"] for s in subnets} == {
        "us-west-2a": "10.77.1.0/24", "us-west-2b": "10.77.2.0/24", "us-west-2c": "10.77.3.0/24"}
    assert {s["AvailabilityZone"]: s["SubnetId"] for s in subnets} == outputs["private_subnet_ids"]
    assert all(not s["MapPublicIpOnLaunch"] for s in subnets)
    for inst in instances:
        assert inst["SubnetId"] == outputs["private_subnet_ids"][inst["Placement"]["AvailabilityZone"]]
        assert [g["GroupId"] for g in inst["SecurityGroups"]] == [outputs["redis_security_group_id"]]
        assert inst["IamInstanceProfile"]["Arn"].endswith("/" + outputs["redis_instance_profile"])

    group = ec2.describe_security_groups(GroupIds=[outputs["redis_security_group_id"]])["SecurityGroups"][0]
    ingress = {(p["FromPort"], p["ToPort"]): [r["CidrIp"] for r in p["IpRanges"]] for p in group["IpPermissions"]}
    assert ingress == {(port, port): ["10.77.0.0/16"] for port in (6379, 6380, 16379, 16380)}
    assert all(not p.get("Ipv6Ranges") and not p.get("UserIdGroupPairs") for p in group["IpPermissions"])

    s3 = sbx.aws("s3")
    assert s3.get_bucket_versioning(Bucket=outputs["backup_bucket"])["Status"] == "Enabled"
    rule = s3.get_bucket_encryption(Bucket=outputs["backup_bucket"])["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == outputs["backup_kms_key_arn"]
    key = sbx.aws("kms").describe_key(KeyId=outputs["backup_kms_key_arn"])["KeyMetadata"]
    assert key["Enabled"] and key["KeyState"] == "Enabled"
    assert sbx.aws("sns").get_topic_attributes(TopicArn=outputs["alarm_topic_arn"])["Attributes"]

    iam = sbx.aws("iam")
    profile = iam.get_instance_profile(InstanceProfileName=outputs["redis_instance_profile"])["InstanceProfile"]
    (role,) = profile["Roles"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    (policy_name,) = iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]
    document = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=policy_name)["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    actions = {a for s in document["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert actions == {
        "s3:ListBucket", "s3:GetObject", "s3:PutObject", "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey",
        "cloudwatch:PutMetricData", "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
        "logs:DescribeLogStreams", "ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath",
        "ec2:DescribeInstances", "ec2:DescribeTags",
    }
    assert all("*" not in s["Action"] for s in document["Statement"])
    resources = {s["Sid"]: s["Resource"] for s in document["Statement"]}
    assert resources["ReadWriteBackupObjects"].endswith(":::%s/backups/%s/*" % (outputs["backup_bucket"], sbx.CLUSTER))
    assert resources["UseBackupKey"] == outputs["backup_kms_key_arn"]
    assert resources["ReadClusterParameters"].endswith(":parameter/redisops/%s/*" % sbx.CLUSTER)

    ssm = sbx.aws("ssm")
    params = ssm.get_parameters_by_path(Path="/redisops/%s/acl" % sbx.CLUSTER, WithDecryption=True)["Parameters"]
    assert sorted(p["Name"] for p in params) == ["/redisops/sandbox/acl/%s" % u for u in ("admin", "agent", "app", "replication")]
    assert all(p["Type"] == "SecureString" and len(p["Value"]) == 32 and p["Value"].isalnum() for p in params)
    assert len({p["Value"] for p in params}) == len(params)

    containers = {c.name: c for c in sbx.sandbox_containers(docker_client)}
    assert set(containers) == {sbx.CONTAINER_PREFIX + i["InstanceId"] for i in instances}
    for inst in instances:
        container = containers[sbx.CONTAINER_PREFIX + inst["InstanceId"]]
        container.reload()
        assert container.status == "running"
        assert container.image.tags and "redisops/ami:%s" % inst["ImageId"] in container.image.tags
        networks = container.attrs["NetworkSettings"]["Networks"]
        assert list(networks) == [sbx.NETWORK]  # on the project network only
        assert networks[sbx.NETWORK]["IPAddress"] == inst["PrivateIpAddress"]
    network = docker_client.networks.get(sbx.NETWORK)
    assert network.attrs["IPAM"]["Config"][0]["Subnet"] == "10.77.0.0/16"
    return instances, params


def test_refuses_an_endpoint_that_is_not_local():
    result = sbx.playbook("sandbox_up.yml", "-e", "redisops_aws_endpoint_url=http://10.255.255.1:5000")
    assert result.rc != 0
    assert "only talks to a local moto server" in result.stdout
    # Failed at the first check: no API task ran and nothing was started.
    assert "Create the VPC" not in result.stdout and "Start moto" not in result.stdout
    assert not sbx.moto_answers()


def test_up_from_clean_state(docker_client):
    result = sbx.playbook("sandbox_up.yml")
    TIMINGS["up_cold"] = result.seconds
    assert result.rc == 0, result.explain()
    assert result.recap["localhost"]["failed"] == 0
    assert result.recap["localhost"]["changed"] > 0
    _, params = _assert_sandbox_up(docker_client)
    for param in params:  # secrets never reach the output
        assert param["Value"] not in result.stdout and param["Value"] not in result.stderr


def test_up_again_changes_nothing(docker_client):
    pid_before = sbx.PID_FILE.read_text()
    instances_before = sorted(i["InstanceId"] for i in sbx.cluster_instances())
    containers_before = {c.name: c.id for c in sbx.sandbox_containers(docker_client)}
    state_before = sbx.STATE_FILE.read_text()
    params_before = sbx.aws("ssm").get_parameters_by_path(
        Path="/redisops/sandbox/acl", WithDecryption=True)["Parameters"]

    result = sbx.playbook("sandbox_up.yml")
    TIMINGS["up_warm"] = result.seconds
    assert result.rc == 0, result.explain()
    assert result.recap, result.explain()
    for host, counts in result.recap.items():
        assert counts["changed"] == 0, "%s changed=%d\n%s" % (host, counts["changed"], result.explain())
        assert counts["failed"] == 0

    assert sbx.PID_FILE.read_text() == pid_before  # moto was not started twice
    assert sorted(i["InstanceId"] for i in sbx.cluster_instances()) == instances_before
    assert {c.name: c.id for c in sbx.sandbox_containers(docker_client)} == containers_before
    assert sbx.STATE_FILE.read_text() == state_before
    params_after = sbx.aws("ssm").get_parameters_by_path(Path="/redisops/sandbox/acl", WithDecryption=True)["Parameters"]
    assert {p["Name"]: p["Value"] for p in params_after} == {p["Name"]: p["Value"] for p in params_before}


def _plain(value):
    """Drop the {"__ansible_unsafe": ...} wrappers ansible-inventory --list puts on AWS values."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return _plain(value["__ansible_unsafe"])
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def test_inventory_lists_instances_by_private_ip_grouped_by_az():
    result = sbx.run(["ansible-inventory", "--list"])
    assert result.rc == 0, result.explain()
    inventory = _plain(json.loads(result.stdout))
    hostvars = inventory["_meta"]["hostvars"]
    assert set(hostvars) == EXPECTED_IPS
    assert set(inventory["redis_cluster"]["hosts"]) == EXPECTED_IPS
    for n, az in enumerate(AZS, start=1):
        group = "az_" + az.replace("-", "_")
        assert set(inventory[group]["hosts"]) == {"10.77.%d.11" % n, "10.77.%d.12" % n}
    instances = {i["PrivateIpAddress"]: i for i in sbx.cluster_instances(states=("running",))}
    for ip, hv in hostvars.items():
        assert hv["private_ip_address"] == ip
        assert hv["placement"]["availability_zone"] == instances[ip]["Placement"]["AvailabilityZone"]
        assert hv["ec2_tags"]["Role"] == "redis-cluster" and hv["ec2_tags"]["RedisCluster"] == sbx.CLUSTER
        assert hv["ansible_host"] == sbx.CONTAINER_PREFIX + instances[ip]["InstanceId"]
        assert hv["ansible_connection"] == "community.docker.docker"
        assert ipaddress.ip_address(ip) in ipaddress.ip_network("10.77.0.0/16")

    graph = sbx.run(["ansible-inventory", "--graph"])
    assert graph.rc == 0, graph.explain()
    for az in AZS:
        assert "@az_" + az.replace("-", "_") in graph.stdout


def test_every_host_answers_ping_through_its_container():
    result = sbx.run(["ansible", "all", "-m", "ansible.builtin.ping", "-o"], timeout=300)
    assert result.rc == 0, result.explain()
    answered = {line.split()[0] for line in result.stdout.splitlines() if "SUCCESS" in line and '"ping": "pong"' in line}
    assert answered == EXPECTED_IPS


def test_containers_answer_at_their_ip_on_the_project_network(docker_client):
    containers = {c.attrs["NetworkSettings"]["Networks"][sbx.NETWORK]["IPAddress"]: c
                  for c in sbx.sandbox_containers(docker_client, all_states=False)}
    assert set(containers) == EXPECTED_IPS  # checked to exist before sending anything
    source = containers["10.77.1.11"]
    for ip in sorted(EXPECTED_IPS - {"10.77.1.11"}):
        code, output = source.exec_run(["ping", "-c", "1", "-W", "2", ip])
        assert code == 0, output.decode(errors="replace")


def test_reconcile_follows_stop_start_and_terminate(docker_client):
    ec2 = sbx.aws("ec2")
    by_ip = {i["PrivateIpAddress"]: i["InstanceId"] for i in sbx.cluster_instances(states=("running",))}
    stopped, terminated = by_ip["10.77.2.12"], by_ip["10.77.3.12"]

    ec2.stop_instances(InstanceIds=[stopped])
    ec2.terminate_instances(InstanceIds=[terminated])
    result = sbx.playbook("sandbox_reconcile.yml")
    assert result.rc == 0, result.explain()
    containers = {c.name: c for c in sbx.sandbox_containers(docker_client)}
    assert containers[sbx.CONTAINER_PREFIX + stopped].status == "exited"
    assert sbx.CONTAINER_PREFIX + terminated not in containers
    assert sum(c.status == "running" for c in containers.values()) == 4

    again = sbx.playbook("sandbox_reconcile.yml")
    assert again.rc == 0 and again.recap["localhost"]["changed"] == 0, again.explain()

    ec2.start_instances(InstanceIds=[stopped])
    result = sbx.playbook("sandbox_reconcile.yml")
    assert result.rc == 0, result.explain()
    assert docker_client.containers.get(sbx.CONTAINER_PREFIX + stopped).status == "running"

    # up replaces the terminated node: same slot, same private IP, new instance.
    result = sbx.playbook("sandbox_up.yml")
    assert result.rc == 0, result.explain()
    by_ip_after = {i["PrivateIpAddress"]: i["InstanceId"] for i in sbx.cluster_instances(states=("running",))}
    assert set(by_ip_after) == EXPECTED_IPS
    assert by_ip_after["10.77.3.12"] != terminated
    _assert_sandbox_up(docker_client)


def test_down_removes_containers_network_and_moto(docker_client):
    result = sbx.playbook("sandbox_down.yml")
    TIMINGS["down"] = result.seconds
    assert result.rc == 0, result.explain()
    assert result.recap["localhost"]["changed"] > 0
    assert sbx.sandbox_containers(docker_client) == []
    assert docker_client.networks.list(names=[sbx.NETWORK]) == []
    assert not sbx.moto_answers()
    assert not sbx.PID_FILE.exists() and not sbx.STATE_FILE.exists()


def test_down_twice_is_fine():
    result = sbx.playbook("sandbox_down.yml")
    TIMINGS["down_again"] = result.seconds
    assert result.rc == 0, result.explain()
    assert result.recap["localhost"]["changed"] == 0, result.explain()
    assert result.recap["localhost"]["failed"] == 0


def test_up_again_after_down(docker_client):
    result = sbx.playbook("sandbox_up.yml")
    TIMINGS["up_after_down"] = result.seconds
    assert result.rc == 0, result.explain()
    _assert_sandbox_up(docker_client)
