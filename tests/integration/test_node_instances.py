"""roles/node_instances against a private moto: the provisioning step
site.yml runs on both targets, with the sandbox inventory's settings (fixed
addresses from host .11) and a moto that holds the sandbox's base
resources and Terraform state (roles/sandbox_aws) and a published node AMI.

- Check mode reports the six launches and launches nothing.
- A run launches two nodes per AZ in the output subnets, at .11 and .12,
  IMDSv2 required, with the output security group and instance profile, an
  encrypted gp3 root volume and a separate encrypted gp3 data volume (with
  the KMS key given), tagged as the inventory filters; a second run changes
  nothing.
- A terminated node is replaced in its AZ at the address it released; a
  stopped one keeps its place.
- No AMI for the engine and version asked for: a clear error, nothing launched.

No Docker: the containers that stand in for instances are the sandbox's
business (roles/sandbox_instances), not the provisioning's.
"""

import json
import os

import pytest

from moto_server import client, moto_server
from sandbox_plays import BASE_RESOURCE_TASKS, localhost_play
from redisops_testlib import ROOT, ansible_env, run_playbook
from redisops_testlib.sandbox import identity_environ, identity_rules

# A private port of your own: REDISOPS_TEST_PROVISION_PORT.
PORT = int(os.environ.get("REDISOPS_TEST_PROVISION_PORT", "5210"))
CLUSTER = "provision-test"
ENGINE_VERSION = "7.0.15"

BASE = localhost_play("The sandbox's base resources and Terraform state", BASE_RESOURCE_TASKS)

PROVISION = """
- name: The provisioning step, with the outputs cluster_facts would hand it
  hosts: localhost
  connection: local
  gather_facts: false
  roles:
    - role: node_instances
      vars:
        node_instances_outputs: "{{{{ lookup('redisops.ec2_cluster.terraform_output', state=redisops_terraform_state) }}}}"
  post_tasks:
    - name: Write the plan down
      ansible.builtin.copy:
        dest: {plan}
        mode: "0600"
        content: "{{{{ node_instances_plan | to_json }}}}"
      check_mode: false
      changed_when: false  # the test's own note, not part of the recap under test
"""


def tags(resource):
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


class Moto:
    def __init__(self, identity, tmp):
        self.identity = identity
        self.tmp = tmp
        self.ec2 = client("ec2", identity["endpoint_url"])
        self.env = ansible_env(identity_environ(identity))
        assert self.env["AWS_EC2_METADATA_DISABLED"] == "true"

    def playbook(self, text, *args):
        path = self.tmp / "play.yml"
        path.write_text(text)
        return run_playbook(path, *args, inventory=ROOT / "inventories" / "sandbox", env=self.env, timeout=600)

    def provision(self, *args):
        plan = self.tmp / "plan.json"
        if plan.exists():
            plan.unlink()
        result = self.playbook(PROVISION.format(plan=plan), "-e", "node_instances_kms_key_id=%s" % self.kms_key,
                               *args)
        return result, json.loads(plan.read_text()) if plan.exists() else None

    def instances(self, states=("pending", "running", "stopping", "stopped")):
        filters = [{"Name": "tag:Role", "Values": ["redis-cluster"]},
                   {"Name": "tag:RedisCluster", "Values": [CLUSTER]},
                   {"Name": "instance-state-name", "Values": list(states)}]
        return [i for r in self.ec2.describe_instances(Filters=filters)["Reservations"] for i in r["Instances"]]

    def outputs(self):
        state = json.loads((self.tmp / "sandbox" / "terraform.tfstate").read_text())
        return {name: output["value"] for name, output in state["outputs"].items()}


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("provision")
    identity = identity_rules.build({
        "port": str(PORT), "network": "redisops-provision-test", "vpc_cidr": "10.81.0.0/16",
        "dir": str(tmp / "sandbox"), "container_prefix": "redisops-provision-test-",
        "cluster_name": CLUSTER}, str(ROOT))
    os.makedirs(identity["dir"])
    with moto_server(PORT, tmp) as endpoint:
        assert endpoint == identity["endpoint_url"] == "http://127.0.0.1:%d" % PORT
        found = Moto(identity, tmp)
        base = found.playbook(BASE)
        assert base.rc == 0, base.explain()
        found.image_id = _publish_node_ami(found)
        found.kms_key = client("kms", endpoint).create_key(Description="provision-test EBS")["KeyMetadata"]["Arn"]
        yield found


def _publish_node_ami(moto):
    """A node AMI as the bake leaves it: tagged, and its id in the SSM parameter."""
    ec2 = moto.ec2
    source = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    builder = ec2.run_instances(ImageId=source, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    image = ec2.create_image(InstanceId=builder, Name="redis-node-test")["ImageId"]
    ec2.terminate_instances(InstanceIds=[builder])
    ec2.create_tags(Resources=[image], Tags=[{"Key": "Role", "Value": "redis-node-ami"},
                                             {"Key": "Engine", "Value": "redis"},
                                             {"Key": "EngineVersion", "Value": ENGINE_VERSION}])
    client("ssm", moto.identity["endpoint_url"]).put_parameter(
        Name="/redisops/%s/ami/redis/%s" % (CLUSTER, ENGINE_VERSION), Value=image, Type="String")
    return image


def _expected_layout(moto):
    return {s["az"]: ["%s.%d" % (s["cidr"].rsplit(".", 1)[0], host) for host in (11, 12)]
            for s in moto.identity["private_subnets"]}


def _layout(instances):
    by_az = {}
    for instance in instances:
        by_az.setdefault(instance["Placement"]["AvailabilityZone"], []).append(instance["PrivateIpAddress"])
    return {az: sorted(ips) for az, ips in by_az.items()}


def test_check_mode_reports_the_launches_and_launches_nothing(moto):
    result, plan = moto.provision("--check")
    assert result.rc == 0, result.explain()
    assert moto.instances(states=("pending", "running", "stopping", "stopped", "terminated")) == []
    assert [(i["name"], i["private_ip_address"]) for i in plan["launch"]] == [
        ("%s-%d" % (CLUSTER, n), ip) for n, ip in enumerate(
            [ip for az in sorted(_expected_layout(moto)) for ip in _expected_layout(moto)[az]], start=1)]
    assert result.recap()["localhost"]["changed"] == 1, result.explain()  # the launch task, would-launch
    assert "launching %s-1, %s-2, %s-3" % (CLUSTER, CLUSTER, CLUSTER) in result.stdout, result.explain()


def test_launches_six_nodes_over_three_azs_as_the_inventory_expects(moto):
    result, plan = moto.provision()
    assert result.rc == 0, result.explain()
    assert result.recap()["localhost"]["changed"] == 1, result.explain()
    assert len(plan["launch"]) == 6
    outputs = moto.outputs()
    instances = moto.instances()
    assert len(instances) == 6 and {i["State"]["Name"] for i in instances} == {"running"}
    assert _layout(instances) == _expected_layout(moto)
    assert sorted(tags(i)["Name"] for i in instances) == ["%s-%d" % (CLUSTER, n) for n in range(1, 7)]
    volume_ids = []
    for instance in instances:
        assert instance["ImageId"] == moto.image_id
        assert instance["SubnetId"] == outputs["private_subnet_ids"][instance["Placement"]["AvailabilityZone"]]
        assert [g["GroupId"] for g in instance["SecurityGroups"]] == [outputs["redis_security_group_id"]]
        assert instance["IamInstanceProfile"]["Arn"].endswith("/" + outputs["redis_instance_profile"])
        assert instance["MetadataOptions"]["HttpTokens"] == "required"
        assert instance["MetadataOptions"]["HttpEndpoint"] == "enabled"
        assert {k: v for k, v in tags(instance).items() if k != "Name"} == {
            "Role": "redis-cluster", "RedisCluster": CLUSTER, "Project": "redisops", "Environment": "sandbox"}
        mappings = {m["DeviceName"]: m["Ebs"]["VolumeId"] for m in instance["BlockDeviceMappings"]}
        assert set(mappings) == {instance["RootDeviceName"], "/dev/sdf"}, mappings
        volume_ids += [mappings[instance["RootDeviceName"]], mappings["/dev/sdf"]]
        volumes = {v["VolumeId"]: v for v in moto.ec2.describe_volumes(VolumeIds=list(mappings.values()))["Volumes"]}
        root, data = volumes[mappings[instance["RootDeviceName"]]], volumes[mappings["/dev/sdf"]]
        assert root["Encrypted"] and data["Encrypted"]
        assert root["VolumeType"] == data["VolumeType"] == "gp3"
        assert (root["Size"], data["Size"]) == (16, 50)
        assert root["KmsKeyId"] == data["KmsKeyId"] == moto.kms_key
    assert len(set(volume_ids)) == 12


def test_a_second_run_changes_nothing(moto):
    before = sorted(i["InstanceId"] for i in moto.instances())
    result, plan = moto.provision()
    assert result.rc == 0, result.explain()
    assert result.recap()["localhost"]["changed"] == 0, result.explain()
    assert plan["launch"] == [] and plan["present"] == plan["wanted"]
    assert sorted(i["InstanceId"] for i in moto.instances()) == before


def test_a_terminated_node_is_replaced_at_its_address_and_a_stopped_one_keeps_its_place(moto):
    by_ip = {i["PrivateIpAddress"]: i for i in moto.instances()}
    layout = _expected_layout(moto)
    zones = sorted(layout)
    gone, resting = by_ip[layout[zones[2]][1]], by_ip[layout[zones[1]][0]]
    moto.ec2.terminate_instances(InstanceIds=[gone["InstanceId"]])
    moto.ec2.stop_instances(InstanceIds=[resting["InstanceId"]])

    checked, plan = moto.provision("--check")
    assert checked.rc == 0, checked.explain()
    assert [(i["name"], i["availability_zone"], i["private_ip_address"]) for i in plan["launch"]] == [
        (tags(gone)["Name"], zones[2], layout[zones[2]][1])]
    assert len(moto.instances(states=("pending", "running"))) == 4

    result, _ = moto.provision()
    assert result.rc == 0, result.explain()
    assert result.recap()["localhost"]["changed"] == 1, result.explain()
    now = moto.instances()
    assert _layout(now) == layout
    replacement = {i["PrivateIpAddress"]: i for i in now}[layout[zones[2]][1]]
    assert replacement["InstanceId"] != gone["InstanceId"] and tags(replacement)["Name"] == tags(gone)["Name"]
    assert {i["PrivateIpAddress"]: i["State"]["Name"] for i in now}[layout[zones[1]][0]] == "stopped"

    again, _ = moto.provision()
    assert again.rc == 0 and again.recap()["localhost"]["changed"] == 0, again.explain()


def test_no_ami_for_the_version_is_a_clear_error_before_any_launch(moto):
    ids = moto.ec2.describe_instances()["Reservations"]
    result, _ = moto.provision("-e", "node_instances_count=9", "-e", "ami_bake_engine=valkey")
    assert result.rc != 0
    assert "No available node AMI for valkey 8.0.1" in result.stdout, result.explain()
    assert moto.ec2.describe_instances()["Reservations"] == ids


SITE_START = """
- name: site.yml's first plays
  ansible.builtin.import_playbook: {root}/playbooks/cluster_facts.yml

- name: The provisioning step and the inventory refresh
  ansible.builtin.import_playbook: {root}/playbooks/provision_nodes.yml

- name: What the hosts of the refreshed inventory received
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Write it down
      ansible.builtin.copy:
        dest: {out}
        mode: "0600"
        content: >-
          {{{{ groups['redis_cluster'] | zip(groups['redis_cluster'] | map('extract', hostvars)
               | map(attribute='cluster_facts_admin_user.name', default='')) | to_json }}}}
      changed_when: false  # the test's own note
"""


def test_site_provisions_then_lists_and_hands_facts_to_the_new_nodes(moto):
    """site.yml's start (cluster_facts, provision_nodes) with three more nodes:
    the refreshed inventory lists all nine and each got the cluster facts.
    The sandbox's container play is left out (redisops_target=aws): no Docker here."""
    out = moto.tmp / "hosts.json"
    text = SITE_START.format(root=ROOT, out=out)
    result = moto.playbook(text, "-e", "redisops_target=aws", "-e", "node_instances_count=9")
    assert result.rc == 0, result.explain()
    assert "Sandbox - a container for every running instance" in result.stdout
    hosts = dict(json.loads(out.read_text()))
    running = [i["PrivateIpAddress"] for i in moto.instances(states=("running",))]
    assert len(running) == 8  # nine nodes, one of them stopped (the test above)
    assert sorted(hosts) == sorted(running)
    assert set(hosts.values()) == {"admin"}
    again = moto.playbook(text, "-e", "redisops_target=aws", "-e", "node_instances_count=9")
    assert again.rc == 0 and again.changed() == 0, again.explain()
