"""roles/ami_bake's AWS calls against a private moto (127.0.0.1:5195, run
under `flock /tmp/redisops-local.lock`): the AMI id is published in SSM and
reused from there, pruning keeps whatever a launch template, an instance or
a parameter names (and those AMIs' snapshots), a builder is terminated even
when its id was never learnt, and the builder's root device is the base
AMI's. No builder is ever configured: nothing connects to moto's private IPs.
"""

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from moto_server import SAFE_ENV, client, moto_server, reset

ROOT = Path(__file__).resolve().parents[2]
PORT = 5195
CLUSTER = "itest"
REDIS_VERSION = "7.0.15"

STEPS_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/amazon.aws.aws: &aws
      {{region: us-west-2, endpoint_url: "{endpoint}", access_key: testing, secret_key: testing}}
    community.aws.ssm_parameter: *aws
    redisops.ec2_cluster.node_ami_info: *aws
    redisops.ec2_cluster.node_ami_prune: *aws
  tasks:
    - name: Prepare the bake
      ansible.builtin.include_role:
        name: ami_bake

    - name: Run the steps
      ansible.builtin.include_role:
        name: ami_bake
        tasks_from: "{{{{ item }}}}"
      loop: "{{{{ steps }}}}"

    - name: Show the outcome
      ansible.builtin.debug:
        msg: "OUTCOME={{{{ {{'needed': ami_bake_needed, 'image_id': ami_bake_image_id,
               'parameter': ami_bake_image_parameter | default('')}} | to_json }}}}"
"""

# The instance platform hook of the failure test: records each event, and
# fails the bake right after the builder was launched.
FAILING_PLATFORM = """
- name: Record the event
  ansible.builtin.lineinfile:
    path: "{events}"
    line: "{{{{ redisops_instance_event | to_json }}}}"
    create: true
    mode: "0644"

- name: Fail once the builder runs
  ansible.builtin.fail:
    msg: the platform could not start the builder
  when: redisops_instance_event.event == 'launched'
"""


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    with moto_server(PORT, tmp_path_factory.mktemp("moto")) as url:
        yield url


@pytest.fixture
def aws(endpoint, tmp_path):
    """A clean moto with the base resources, a base AMI and their Terraform state."""
    reset(endpoint)
    ec2 = client("ec2", endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.79.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.79.1.0/24", AvailabilityZone="us-west-2a")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="redis", Description="redis", VpcId=vpc)["GroupId"]
    iam = client("iam", endpoint)
    iam.create_role(RoleName="redis-node", AssumeRolePolicyDocument="{}")
    iam.create_instance_profile(InstanceProfileName="redis-node")
    iam.add_role_to_instance_profile(InstanceProfileName="redis-node", RoleName="redis-node")
    base = ec2.register_image(Name="debian-12-amd64-itest-base", Description="base")["ImageId"]
    state = tmp_path / "terraform.tfstate"
    outputs = {"cluster_name": CLUSTER, "private_subnet_ids": {"us-west-2a": subnet},
               "redis_security_group_id": group, "redis_instance_profile": "redis-node"}
    state.write_text(json.dumps({"version": 4, "outputs": {k: {"value": v} for k, v in outputs.items()}}))
    return {"endpoint": endpoint, "ec2": ec2, "ssm": client("ssm", endpoint), "base": base, "state": state,
            "tmp": tmp_path}


def ansible(aws, playbook, extra, *args, roles=()):
    env = dict(os.environ, **SAFE_ENV, ANSIBLE_ROLES_PATH=":".join([str(ROOT / "roles"), *map(str, roles)]),
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / "collections"), ANSIBLE_NOCOLOR="1")
    env.pop("ANSIBLE_CONFIG", None)
    extra = dict({"ami_bake_terraform_state": str(aws["state"]), "ami_bake_base_ami_id": aws["base"]}, **extra)
    return subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", str(playbook),
                           "-e", json.dumps(extra), *args],
                          cwd=aws["tmp"], env=env, capture_output=True, text=True, timeout=300)


def run_steps(aws, steps, *args, **extra):
    playbook = aws["tmp"] / "steps.yml"
    playbook.write_text(STEPS_PLAYBOOK.format(endpoint=aws["endpoint"]))
    proc = ansible(aws, playbook, dict(extra, steps=steps), *args)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    outcome = json.loads(re.findall(r'"msg": "OUTCOME=(.*)"', proc.stdout)[-1].replace('\\"', '"'))
    changed = int(re.search(r"localhost\s*:.*changed=(\d+)", proc.stdout).group(1))
    return outcome, changed, proc.stdout


def node_ami(aws, engine="redis", version=REDIS_VERSION):
    """A tagged node AMI (with its snapshot), created strictly after the previous one."""
    ec2 = aws["ec2"]
    before = {i["CreationDate"] for i in ec2.describe_images(Owners=["self"])["Images"]}
    for _ in range(30):  # moto's creation dates have whole seconds
        image_id = ec2.register_image(Name="redis-node-%s-%s-%d" % (engine, version, time.time_ns()))["ImageId"]
        image = ec2.describe_images(ImageIds=[image_id])["Images"][0]
        if image["CreationDate"] > max(before, default=""):
            break
        ec2.deregister_image(ImageId=image_id)
        time.sleep(0.2)
    else:
        raise AssertionError("moto kept handing out the same creation date")
    ec2.create_tags(Resources=[image_id], Tags=[{"Key": "Role", "Value": "redis-node-ami"},
                                                {"Key": "Engine", "Value": engine},
                                                {"Key": "EngineVersion", "Value": version}])
    return image_id


def snapshots_of(aws, image_id):
    [image] = aws["ec2"].describe_images(ImageIds=[image_id])["Images"]
    return [m["Ebs"]["SnapshotId"] for m in image["BlockDeviceMappings"] if m.get("Ebs", {}).get("SnapshotId")]


def existing_snapshots(aws):
    return {s["SnapshotId"] for s in aws["ec2"].describe_snapshots(OwnerIds=["self"])["Snapshots"]}


def builders(aws, build_id):
    reservations = aws["ec2"].describe_instances(Filters=[{"Name": "tag:BuildId", "Values": [build_id]}])
    return [i for r in reservations["Reservations"] for i in r["Instances"]]


def test_the_bake_publishes_its_ami_and_reuses_the_published_one(aws):
    older, newer = node_ami(aws), node_ami(aws)
    name = "/redisops/%s/ami/redis/%s" % (CLUSTER, REDIS_VERSION)
    # Nothing published yet: the newest is reused, and published.
    outcome, _, _ = run_steps(aws, ["publish"])
    assert outcome == {"needed": False, "image_id": newer, "parameter": name}
    assert aws["ssm"].get_parameter(Name=name)["Parameter"]["Value"] == newer
    _, changed, _ = run_steps(aws, ["publish"])
    assert changed == 0
    # Published is what counts, not the creation date.
    aws["ssm"].put_parameter(Name=name, Value=older, Type="String", Overwrite=True)
    outcome, changed, output = run_steps(aws, ["publish"])
    assert outcome["image_id"] == older and changed == 0
    assert "Reusing %s" % older in output
    # A published AMI that is gone is not reused: the newest one is, and replaces it.
    aws["ec2"].deregister_image(ImageId=older)
    outcome, _, _ = run_steps(aws, ["publish"])
    assert outcome["image_id"] == newer
    assert aws["ssm"].get_parameter(Name=name)["Parameter"]["Value"] == newer


def test_pruning_keeps_every_ami_something_still_names(aws):
    ec2, ssm = aws["ec2"], aws["ssm"]
    in_old_template_version, in_template, in_stopped_instance, published, via_alias, unnamed, newest = (
        node_ami(aws) for _ in range(7))
    valkey = node_ami(aws, "valkey", "8.0.1")
    template = ec2.create_launch_template(LaunchTemplateName="redis-nodes",
                                          LaunchTemplateData={"ImageId": in_old_template_version})
    ec2.create_launch_template_version(LaunchTemplateId=template["LaunchTemplate"]["LaunchTemplateId"],
                                       LaunchTemplateData={"ImageId": in_template})
    ssm.put_parameter(Name="/elsewhere/node-ami", Value=via_alias, Type="String")
    ec2.create_launch_template(LaunchTemplateName="by-alias",
                               LaunchTemplateData={"ImageId": "resolve:ssm:/elsewhere/node-ami"})
    [instance] = ec2.run_instances(ImageId=in_stopped_instance, MinCount=1, MaxCount=1)["Instances"]
    ec2.stop_instances(InstanceIds=[instance["InstanceId"]])
    ssm.put_parameter(Name="/redisops/%s/ami/redis/7.0.14" % CLUSTER, Value=published, Type="String")
    everything = [in_old_template_version, in_template, in_stopped_instance, published, via_alias, unnamed, newest]
    snapshots = {image: snapshots_of(aws, image) for image in everything}

    # check mode: the same reads, nothing deleted
    run_steps(aws, ["prune"], "--check", ami_bake_keep=1)
    assert len(ec2.describe_images(Owners=["self"], ImageIds=everything)["Images"]) == len(everything)

    _, changed, _ = run_steps(aws, ["prune"], ami_bake_keep=1)
    assert changed >= 1
    left = {i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"]}
    assert left >= set(everything) - {unnamed} | {valkey}
    assert unnamed not in left
    alive = existing_snapshots(aws)
    assert not set(snapshots[unnamed]) & alive
    for image in set(everything) - {unnamed}:
        assert set(snapshots[image]) <= alive, image
    # a second run finds nothing to prune
    _, changed, _ = run_steps(aws, ["prune"], ami_bake_keep=1)
    assert changed == 0


def test_the_builder_gets_the_base_amis_root_device(aws):
    [base] = aws["ec2"].describe_images(ImageIds=[aws["base"]])["Images"]
    assert base["RootDeviceName"] != "/dev/xvda"  # moto's; what the role used to assume
    run_steps(aws, ["launch"], ami_bake_build_id="itest-root", ami_bake_rebuild=True)
    [builder] = builders(aws, "itest-root")
    assert [m["DeviceName"] for m in builder["BlockDeviceMappings"]] == [base["RootDeviceName"]]
    [volume] = aws["ec2"].describe_volumes(VolumeIds=[builder["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]])["Volumes"]
    assert volume["Encrypted"] and volume["Size"] == 8
    run_steps(aws, ["cleanup"], ami_bake_build_id="itest-root")
    assert {b["State"]["Name"] for b in builders(aws, "itest-root")} == {"terminated"}


def test_cleanup_finds_a_builder_whose_id_was_never_learnt(aws):
    # As if ec2_instance had failed after RunInstances (a wait that timed out):
    # the builder runs, tagged, and this run of the play has no id for it.
    ec2 = aws["ec2"]

    def launch(build_id):
        tags = [{"Key": "Role", "Value": "redis-ami-builder"}, {"Key": "BuildId", "Value": build_id},
                {"Key": "RedisCluster", "Value": CLUSTER}]
        return ec2.run_instances(ImageId=aws["base"], MinCount=1, MaxCount=1,
                                 TagSpecifications=[{"ResourceType": "instance", "Tags": tags}])["Instances"][0]

    lost, other_bake = launch("itest-lost"), launch("itest-other")
    run_steps(aws, ["cleanup"], ami_bake_build_id="itest-lost")
    states = {i["InstanceId"]: i["State"]["Name"] for r in ec2.describe_instances()["Reservations"]
              for i in r["Instances"]}
    assert states[lost["InstanceId"]] == "terminated"
    assert states[other_bake["InstanceId"]] == "running"


def test_a_bake_that_fails_after_the_launch_leaves_no_builder(aws):
    events = aws["tmp"] / "events.jsonl"
    role = aws["tmp"] / "roles" / "failing_platform" / "tasks"
    role.mkdir(parents=True)
    (role / "main.yml").write_text("---" + FAILING_PLATFORM.format(events=events))
    inventory = {"redisops_aws_region": "us-west-2", "redisops_aws_endpoint_url": aws["endpoint"],
                 "redisops_aws_access_key": "testing", "redisops_aws_secret_key": "testing",
                 "redisops_terraform_state": str(aws["state"]), "ami_bake_build_id": "itest-fail",
                 "ami_bake_instance_platform": {"role": "failing_platform"}}
    proc = ansible(aws, ROOT / "playbooks" / "bake_ami.yml", inventory, roles=[aws["tmp"] / "roles"])
    assert proc.returncode != 0
    assert "Launching the builder failed: the platform could not start the builder" in proc.stdout
    [builder] = builders(aws, "itest-fail")
    assert builder["State"]["Name"] == "terminated"
    told = [json.loads(line) for line in events.read_text().splitlines()]
    assert [e["event"] for e in told] == ["launched", "terminated"]
    assert told[1]["instance_ids"] == [builder["InstanceId"]]
    assert aws["ssm"].get_parameters_by_path(Path="/redisops/%s/ami" % CLUSTER, Recursive=True)["Parameters"] == []
