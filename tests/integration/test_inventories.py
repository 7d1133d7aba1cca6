"""inventories/production and inventories/staging, exercised against a
private moto: the instances are the sandbox's (launched by
roles/node_instances with the sandbox inventory's settings, from the base
resources and Terraform state roles/sandbox_aws creates), named like the
environment's cluster.

- Each inventory lists the same groups and hosts as the sandbox inventory
  of that cluster, with the private IPs as ansible_host, and leaves out
  what is not the cluster's (another cluster, a builder, a stopped node).
- The cluster name is written once per inventory: the tag filter of
  aws_ec2.yml (the sandbox's filter derives it from the sandbox identity).
- playbooks/cluster_facts.yml runs on each inventory as on AWS: no endpoint
  or keys in it, credentials and endpoint (botocore's AWS_ENDPOINT_URL) from
  the environment, the Terraform state in S3; it refuses a state that names
  another cluster than the inventory's instances.

- The connection settings each host gets, as a play templates them
  (render_hostvars.py: Ansible's inventory, variable manager and templar,
  nothing connects): SSH through the bastion of the Terraform outputs, host
  keys in the cluster's own known_hosts file under the instance id,
  accept-new and never "no"; with -e redisops_connection=ssm, Session
  Manager to the instance id with the transfer bucket; missing outputs named.

Nothing reaches real AWS: every run's environment is checked to point
botocore at the loopback moto, with dummy keys, no AWS files and no instance
metadata; SSH is replaced by a program that only records being called.
"""

import hashlib
import json
import os
import re
import shlex
from pathlib import Path

import pytest
import yaml

from moto_server import client, moto_server
from sandbox_plays import BASE_RESOURCE_TASKS, localhost_play
from redisops_testlib import ROOT, ansible_env, run, run_playbook
from redisops_testlib.sandbox import identity_environ, identity_rules

# A private port of your own: REDISOPS_TEST_INVENTORY_PORT.
PORT = int(os.environ.get("REDISOPS_TEST_INVENTORY_PORT", "5180"))
ENVIRONMENTS = ("production", "staging")
STATE_BUCKET = "redisops-inventory-test-state"
OTHER_CLUSTER = "another-cluster"
# What the inventories must leave out: not part of the cluster.
OUTSIDERS = {
    "another cluster's node": {"Role": "redis-cluster", "RedisCluster": OTHER_CLUSTER},
    "the AMI builder": {"Role": "redis-ami-builder", "RedisCluster": None},
}

LAUNCH = localhost_play("The sandbox's base resources, state and instances, without containers", BASE_RESOURCE_TASKS + """
    - name: Cluster instances, launched as site.yml launches them (no containers)
      ansible.builtin.include_role:
        name: node_instances
      vars:
        node_instances_outputs: "{{{{ lookup('redisops.ec2_cluster.terraform_output', state=redisops_terraform_state) }}}}"
        node_instances_image_id: {image_id}
""")

FACTS = """
- name: The playbook under test
  ansible.builtin.import_playbook: {playbook}

- name: What the cluster hosts received
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Write it down (password digests only)
      ansible.builtin.copy:
        dest: {facts}
        mode: "0600"
        content: >-
          {{{{ {{'cluster': cluster_facts_outputs.cluster_name,
                     'admin_on_hosts': groups['redis_cluster'] | map('extract', hostvars)
                                       | map(attribute='cluster_facts_admin_user.name') | list,
                     'users': cluster_facts_acl_users | map(attribute='name') | list,
                     'digests': cluster_facts_acl_users | map(attribute='password') | map('hash', 'sha256') | list}}
                   | to_json }}}}
"""


def inventory_config(name):
    return yaml.safe_load((ROOT / "inventories" / name / "aws_ec2.yml").read_text())


def cluster_name_of(environment):
    return inventory_config(environment)["filters"]["tag:RedisCluster"]


def aws_env(endpoint, extra=None):
    """Ansible's environment on AWS, with botocore pointed at moto."""
    env = ansible_env(dict(extra or {}, AWS_ENDPOINT_URL=endpoint))
    for name in [n for n in env if n.startswith("AWS_ENDPOINT_URL_") or n.startswith("REDISOPS_SANDBOX_")]:
        del env[name]
    env.pop("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", None)
    assert re.fullmatch(r"http://127\.0\.0\.1:%d" % PORT, env["AWS_ENDPOINT_URL"]), env["AWS_ENDPOINT_URL"]
    assert env["AWS_EC2_METADATA_DISABLED"] == "true"
    assert env["AWS_SHARED_CREDENTIALS_FILE"] == env["AWS_CONFIG_FILE"] == os.devnull
    assert env["AWS_ACCESS_KEY_ID"] == env["AWS_SECRET_ACCESS_KEY"] == "testing"
    assert "AWS_PROFILE" not in env and "AWS_SESSION_TOKEN" not in env
    return env


def list_inventory(name, env):
    result = run(["ansible-inventory", "-i", ROOT / "inventories" / name, "--list"], env=env, timeout=300)
    assert result.rc == 0, result.explain()
    return json.loads(result.stdout)


def plain(value):
    """A host variable as ansible-inventory prints it, without its unsafe marking."""
    return value["__ansible_unsafe"] if isinstance(value, dict) and "__ansible_unsafe" in value else value


def memberships(listing):
    """{group: sorted hosts} of every group that has hosts."""
    return {group: sorted(body["hosts"]) for group, body in listing.items()
            if group not in ("_meta", "all", "ungrouped") and body.get("hosts")}


def safe(name):
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


class Cluster:
    """A moto holding one environment's cluster as the sandbox builds it."""

    def __init__(self, environment, endpoint, identity, tmp):
        self.environment = environment
        self.endpoint = endpoint
        self.identity = identity
        self.name = identity["cluster_name"]
        self.tmp = tmp
        self.ec2 = client("ec2", endpoint)

    def instances(self, **tags):
        filters = [{"Name": "tag:%s" % k, "Values": [v]} for k, v in tags.items()]
        reservations = self.ec2.describe_instances(Filters=filters)["Reservations"]
        return [i for r in reservations for i in r["Instances"]]

    def sandbox_env(self):
        env = ansible_env(identity_environ(self.identity))
        assert env["AWS_EC2_METADATA_DISABLED"] == "true"
        return env


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def cluster(request, tmp_path_factory):
    environment = request.param
    tmp = tmp_path_factory.mktemp(environment)
    identity = identity_rules.build({
        "port": str(PORT), "network": "redisops-inventory-test", "vpc_cidr": "10.79.0.0/16",
        "dir": str(tmp / "sandbox"), "container_prefix": "redisops-inventory-test-",
        "cluster_name": cluster_name_of(environment)}, str(ROOT))
    os.makedirs(identity["dir"])
    with moto_server(PORT, tmp) as endpoint:
        assert endpoint == identity["endpoint_url"]
        found = Cluster(environment, endpoint, identity, tmp)
        image_id = found.ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        playbook = tmp / "launch.yml"
        playbook.write_text(LAUNCH.format(image_id=image_id))
        launched = run_playbook(playbook, inventory=ROOT / "inventories" / "sandbox", env=found.sandbox_env(),
                                timeout=600)
        assert launched.rc == 0, launched.explain()
        _add_what_is_not_the_cluster(found, image_id)
        yield found


def _add_what_is_not_the_cluster(cluster, image_id):
    """One node leaving (still an instance of the cluster), one stopped node,
    another cluster's node and a builder in the same subnets."""
    ec2 = cluster.ec2
    members = sorted(cluster.instances(RedisCluster=cluster.name, Role="redis-cluster"),
                     key=lambda i: i["PrivateIpAddress"])
    ec2.create_tags(Resources=[members[-1]["InstanceId"]], Tags=[{"Key": "RedisClusterMember", "Value": "leaving"}])
    subnet = members[0]["SubnetId"]
    outsiders = dict(OUTSIDERS, **{"a stopped node": {"Role": "redis-cluster", "RedisCluster": cluster.name}})
    for number, (what, tags) in enumerate(sorted(outsiders.items())):
        tags = {k: v or cluster.name for k, v in tags.items()}
        tags["Name"] = what
        launched = ec2.run_instances(
            ImageId=image_id, MinCount=1, MaxCount=1, SubnetId=subnet,
            PrivateIpAddress=members[0]["PrivateIpAddress"].rsplit(".", 1)[0] + ".%d" % (50 + number),
            TagSpecifications=[{"ResourceType": "instance",
                                "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}])
        if what == "a stopped node":
            ec2.stop_instances(InstanceIds=[launched["Instances"][0]["InstanceId"]])


def expected_groups(cluster):
    """The groups the aws_ec2 configuration promises, computed from the API."""
    running = [i for i in cluster.instances(RedisCluster=cluster.name, Role="redis-cluster")
               if i["State"]["Name"] == "running"]
    groups = {}
    for instance in running:
        tags = {t["Key"]: t["Value"] for t in instance["Tags"]}
        ip = instance["PrivateIpAddress"]
        member = tags.get("RedisClusterMember", "member")
        # aws_ec2: the plugin's own group of every host it lists.
        names = ["aws_ec2", "redis_instances", "az_" + safe(instance["Placement"]["AvailabilityZone"]),
                 "redis_member_" + member, "cluster_" + safe(cluster.name)]
        if member != "leaving":
            names.append("redis_cluster")
        for name in names:
            groups.setdefault(name, []).append(ip)
    return {name: sorted(hosts) for name, hosts in groups.items()}


def test_the_sandbox_shape_is_in_moto(cluster):
    """What the comparison stands on: six nodes over three AZs at the sandbox's IPs, and the outsiders."""
    nodes = [i for i in cluster.instances(RedisCluster=cluster.name, Role="redis-cluster")
             if i["State"]["Name"] == "running"]
    by_az = {}
    for node in nodes:
        by_az.setdefault(node["Placement"]["AvailabilityZone"], []).append(node["PrivateIpAddress"])
    subnets = {s["az"]: s["cidr"].rsplit(".", 1)[0] for s in cluster.identity["private_subnets"]}
    assert {az: sorted(ips) for az, ips in by_az.items()} == {
        az: ["%s.11" % prefix, "%s.12" % prefix] for az, prefix in subnets.items()}
    assert len(cluster.instances(RedisCluster=OTHER_CLUSTER)) == 1
    assert len(cluster.instances(Role="redis-ami-builder")) == 1


def test_environment_inventory_lists_the_sandbox_groups(cluster):
    env = aws_env(cluster.endpoint)
    listed = list_inventory(cluster.environment, env)
    sandbox = list_inventory("sandbox", cluster.sandbox_env())
    groups = memberships(listed)
    assert groups == expected_groups(cluster)
    assert len(groups["redis_instances"]) == 6 and len(groups["redis_cluster"]) == 5
    assert [len(groups["az_us_west_2" + zone]) for zone in "abc"] == [2, 2, 2]
    assert groups == memberships(sandbox)
    hostvars = listed["_meta"]["hostvars"]
    assert sorted(hostvars) == groups["redis_instances"]
    for host, hv in hostvars.items():
        assert plain(hv["ansible_host"]) == plain(hv["private_ip_address"]) == host
        assert plain(hv["redis_cluster_name"]) == cluster.name
        # Session Manager's target: the instance id, from the compose.
        assert plain(hv["ansible_aws_ssm_instance_id"]) == plain(hv["instance_id"])


def test_cluster_name_is_written_once_per_inventory(cluster):
    """The environment's inventory names its cluster in its tag filter and nowhere
    else; the sandbox's filter derives it from the sandbox identity."""
    directory = ROOT / "inventories" / cluster.environment
    mentions = [str(path.relative_to(directory)) for path in sorted(directory.rglob("*.yml"))
                for line in path.read_text().splitlines()
                if re.search(r"\b%s\b" % re.escape(cluster.name), line.split("#", 1)[0])]
    assert mentions == ["aws_ec2.yml"]
    sandbox_filter = inventory_config("sandbox")["filters"]["tag:RedisCluster"]
    assert sandbox_filter == "{{ lookup('redisops.ec2_cluster.sandbox_identity').cluster_name }}"
    assert {k: v for k, v in inventory_config("sandbox")["filters"].items() if k != "tag:RedisCluster"} == {
        k: v for k, v in inventory_config(cluster.environment)["filters"].items() if k != "tag:RedisCluster"}


def _upload_state(cluster, key, cluster_name=None, outputs=None):
    state = json.loads((Path(cluster.identity["dir"]) / "terraform.tfstate").read_text())
    if cluster_name:
        state["outputs"]["cluster_name"]["value"] = cluster_name
    for name, value in (outputs or {}).items():
        if value is None:  # an output this state lacks
            state["outputs"].pop(name, None)
        else:
            state["outputs"][name] = {"value": value, "type": "string"}
    s3 = client("s3", cluster.endpoint)
    if STATE_BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=STATE_BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    s3.put_object(Bucket=STATE_BUCKET, Key=key, Body=json.dumps(state).encode())
    return "s3://%s/%s" % (STATE_BUCKET, key)


def _run_cluster_facts(cluster, state_url):
    ssh_calls = cluster.tmp / "ssh-calls"
    fake_ssh = cluster.tmp / "no-ssh"
    fake_ssh.write_text("#!/bin/sh\necho \"$@\" >> %s\nexit 255\n" % ssh_calls)
    fake_ssh.chmod(0o755)
    playbook = cluster.tmp / "facts.yml"
    facts = cluster.tmp / "facts.json"
    if facts.exists():
        facts.unlink()
    playbook.write_text(FACTS.format(playbook=ROOT / "playbooks" / "cluster_facts.yml", facts=facts))
    env = aws_env(cluster.endpoint, {"ANSIBLE_SSH_EXECUTABLE": str(fake_ssh)})
    # The key pair's private key where the inventory looks for it (only its presence is checked).
    key = cluster.tmp / "controller-ssh" / cluster.name / ACCESS_OUTPUTS["key_pair_name"]
    key.parent.mkdir(parents=True, exist_ok=True)
    key.write_text("a stand-in: nothing connects\n")
    key.chmod(0o600)
    result = run_playbook(playbook, "-e", "redisops_terraform_state=%s" % state_url,
                          "-e", "redisops_ssh_known_hosts_dir=%s" % (cluster.tmp / "controller-ssh"),
                          inventory=ROOT / "inventories" / cluster.environment, env=env, timeout=600)
    assert not ssh_calls.exists(), ssh_calls.read_text()
    return result, json.loads(facts.read_text()) if facts.exists() else None


def test_cluster_facts_reads_state_and_passwords_with_credentials_from_the_environment(cluster):
    group_vars = yaml.safe_load((ROOT / "inventories" / cluster.environment / "group_vars/all/aws.yml").read_text())
    assert group_vars["redisops_aws_endpoint_url"] == ""
    assert not {"redisops_aws_access_key", "redisops_aws_secret_key"} & set(group_vars)
    result, facts = _run_cluster_facts(cluster, _upload_state(cluster, "redisops/%s.tfstate" % cluster.environment,
                                                              outputs=ACCESS_OUTPUTS))
    assert result.rc == 0, result.explain()
    # How the nodes will be reached was checked and said, and ssh has a directory to learn keys into.
    assert "over SSH as admin through admin@%s" % ACCESS_OUTPUTS["bastion_public_ip"] in result.output
    known_dir = cluster.tmp / "controller-ssh" / cluster.name
    assert known_dir.is_dir() and (known_dir.stat().st_mode & 0o777) == 0o700
    users = [u["name"] for u in yaml.safe_load(
        (ROOT / "inventories" / cluster.environment / "group_vars/all/redis_cluster.yml").read_text())["redisops_acl_users"]]
    ssm = client("ssm", cluster.endpoint)
    secrets = [ssm.get_parameter(Name="/redisops/%s/acl/%s" % (cluster.name, u), WithDecryption=True)
               ["Parameter"]["Value"] for u in users]
    assert facts == {"cluster": cluster.name, "admin_on_hosts": ["admin"] * 5, "users": users,
                     "digests": [hashlib.sha256(s.encode()).hexdigest() for s in secrets]}
    for secret in secrets:
        assert secret not in result.output


def test_cluster_facts_refuses_a_state_of_another_cluster(cluster):
    """Another cluster of the same account (its passwords exist too): its state
    must not be handed to this inventory's hosts."""
    ssm = client("ssm", cluster.endpoint)
    for user in ("admin", "replication", "agent", "app"):
        ssm.put_parameter(Name="/redisops/%s/acl/%s" % (OTHER_CLUSTER, user), Value=user * 6,
                          Type="SecureString", Overwrite=True)
    state_url = _upload_state(cluster, "redisops/other.tfstate", cluster_name=OTHER_CLUSTER)
    result, facts = _run_cluster_facts(cluster, state_url)
    assert result.rc != 0, result.explain()
    assert facts is None
    message = result.stdout[result.stdout.find("fatal:"):]
    assert OTHER_CLUSTER in message and cluster.name in message, result.explain()


# ----------------------------------------------------------------- reaching the nodes

# What terraform/outputs.tf adds to the sandbox's state for the AWS target.
ACCESS_OUTPUTS = {"bastion_public_ip": "198.51.100.20", "key_pair_name": "redisops-inventory-test",
                  "ssm_transfer_bucket": "redisops-inventory-test-ssm-transfer"}
CONNECTION_VARS = ("ansible_connection", "ansible_host", "ansible_user", "ansible_ssh_private_key_file",
                   "ansible_ssh_common_args", "ansible_host_key_checking", "ansible_become",
                   "ansible_aws_ssm_instance_id", "ansible_aws_ssm_bucket_name", "ansible_aws_ssm_region",
                   "redisops_node_access")


def rendered_hostvars(cluster, host, **extra_vars):
    """The connection variables of host as a play would template them; nothing connects."""
    env = aws_env(cluster.endpoint)
    result = run(["python", Path(__file__).with_name("render_hostvars.py"), ROOT / "inventories" / cluster.environment,
                  host, json.dumps(extra_vars)] + list(CONNECTION_VARS), env=env, timeout=300)
    assert result.rc == 0, result.explain()
    return json.loads(result.stdout.strip().splitlines()[-1])


def ssh_words(common_args):
    """What ssh gets (Ansible splits with shlex) and the ProxyCommand as its shell splits it."""
    words = shlex.split(common_args)
    (proxy,) = [w[len("ProxyCommand="):] for w in words if w.startswith("ProxyCommand=")]
    return words, shlex.split(proxy)


def option_values(words, name):
    return [w.split("=", 1)[1] for w in words if w.startswith(name + "=")]


def _nodes_by_ip(cluster):
    return {i["PrivateIpAddress"]: i["InstanceId"] for i in cluster.instances(RedisCluster=cluster.name, Role="redis-cluster")
            if i["State"]["Name"] == "running"}


def test_nodes_are_reached_through_the_bastion_with_the_cluster_known_hosts(cluster):
    state = _upload_state(cluster, "redisops/%s-access.tfstate" % cluster.environment, outputs=ACCESS_OUTPUTS)
    known_dir = cluster.tmp / "controller-ssh"
    nodes = _nodes_by_ip(cluster)
    for host in sorted(nodes)[:2]:
        hv = rendered_hostvars(cluster, host, redisops_terraform_state=state, redisops_ssh_known_hosts_dir=str(known_dir))
        assert hv["redisops_node_access"]["errors"] == []
        assert hv["ansible_connection"] == "ansible.builtin.ssh"
        assert hv["ansible_host"] == host and hv["ansible_user"] == "admin" and hv["ansible_become"] is True
        assert hv["ansible_host_key_checking"] is True
        known_hosts = str(known_dir / cluster.name / "known_hosts")
        assert hv["ansible_ssh_private_key_file"] == str(known_dir / cluster.name / ACCESS_OUTPUTS["key_pair_name"])
        words, hop = ssh_words(hv["ansible_ssh_common_args"])
        # The node: the cluster's file, new keys learnt, kept under the instance id (a reused IP is a new name).
        assert option_values(words, "UserKnownHostsFile") == [known_hosts]
        assert option_values(words, "StrictHostKeyChecking") == ["accept-new"]
        assert option_values(words, "HostKeyAlias") == [nodes[host]]
        # The bastion hop: same file and policy, the key pair's key, the bastion of the outputs.
        assert hop[:3] == ["ssh", "-W", "%h:%p"]
        assert hop[-1] == "admin@" + ACCESS_OUTPUTS["bastion_public_ip"]
        assert option_values(hop, "UserKnownHostsFile") == [known_hosts]
        assert option_values(hop, "StrictHostKeyChecking") == ["accept-new"]
        assert hop[hop.index("-i") + 1] == hv["ansible_ssh_private_key_file"]
        assert "StrictHostKeyChecking=no" not in hv["ansible_ssh_common_args"]


def test_inventory_variables_override_the_outputs(cluster):
    state = _upload_state(cluster, "redisops/%s-access.tfstate" % cluster.environment, outputs=ACCESS_OUTPUTS)
    host = sorted(_nodes_by_ip(cluster))[0]
    hv = rendered_hostvars(cluster, host, redisops_terraform_state=state, redisops_ssh_bastion_host="bastion.internal",
                           redisops_ssh_bastion_user="jump", redisops_ssh_private_key_file="/keys/ops.pem")
    words, hop = ssh_words(hv["ansible_ssh_common_args"])
    assert hop[-1] == "jump@bastion.internal"
    assert hv["ansible_ssh_private_key_file"] == "/keys/ops.pem" == hop[hop.index("-i") + 1]


def test_session_manager_goes_to_the_instance_id_with_the_transfer_bucket(cluster):
    state = _upload_state(cluster, "redisops/%s-access.tfstate" % cluster.environment, outputs=ACCESS_OUTPUTS)
    for host, instance_id in sorted(_nodes_by_ip(cluster).items())[:2]:
        hv = rendered_hostvars(cluster, host, redisops_terraform_state=state, redisops_connection="ssm")
        assert hv["redisops_node_access"]["errors"] == []
        assert hv["ansible_connection"] == "amazon.aws.aws_ssm"
        # ansible_host stays the private IP; the plugin connects to the instance id.
        assert hv["ansible_aws_ssm_instance_id"] == instance_id and hv["ansible_host"] == host
        assert hv["ansible_aws_ssm_bucket_name"] == ACCESS_OUTPUTS["ssm_transfer_bucket"]
        assert hv["ansible_aws_ssm_region"] == "us-west-2"


def test_missing_outputs_are_named_before_anything_connects(cluster):
    """A state without a bastion, key pair or transfer bucket (the sandbox's has no bucket, and its
    bastion and key pair are left out here): each is named with its variable."""
    state = _upload_state(cluster, "redisops/%s.tfstate" % cluster.environment,
                          outputs={"bastion_public_ip": None, "key_pair_name": None})
    host = sorted(_nodes_by_ip(cluster))[0]
    errors = rendered_hostvars(cluster, host, redisops_terraform_state=state,
                               redisops_connection="ssm")["redisops_node_access"]["errors"]
    assert errors == [
        "no bastion host: set redisops_ssh_bastion_host or the Terraform output bastion_public_ip",
        "no key pair name: set redisops_ssh_key_pair_name or the Terraform output key_pair_name",
        "no SSM transfer bucket: set redisops_ssm_bucket or the Terraform output ssm_transfer_bucket",
    ]


def test_no_placeholder_is_left_in_the_connection_settings(cluster):
    """Bastion and key come from the outputs or variables, never from a CHANGE-ME."""
    directory = ROOT / "inventories" / cluster.environment / "group_vars"
    files = [directory / "all" / "access.yml", directory / "redis_instances" / "connection.yml",
             directory / "redisops_ami_builder" / "connection.yml"]
    for path in files:
        assert "CHANGE-ME" not in path.read_text(), path


# What the sandbox may set otherwise than production to reach its instances:
# the bastion container's loopback port and its own key and known hosts
# directory (never ~/.ssh). Everything else is production's.
SANDBOX_ACCESS_VALUES = {
    "redisops_ssh_bastion_port": "{{ redisops_sandbox.bastion_port }}",
    "redisops_ssh_known_hosts_dir": "{{ redisops_sandbox.dir }}/ssh",
}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_sandbox_reaches_its_instances_with_the_production_settings(environment):
    """CI runs the production connection settings: the connection files and
    the settings derived from access.yml are production's (links, in staging
    too), the sandbox's access.yml differs only in the sandbox's own values,
    and its inventory composes ansible_host alike."""
    production = ROOT / "inventories" / "production" / "group_vars"
    for inventory in ("sandbox", "staging"):
        for shared in ("redis_instances/connection.yml", "redisops_ami_builder/connection.yml", "all/node_access.yml"):
            link = ROOT / "inventories" / inventory / "group_vars" / shared
            assert link.is_symlink(), link
            assert link.resolve() == (production / shared).resolve(), link
    group_vars = ROOT / "inventories" / "sandbox" / "group_vars"
    sandbox = yaml.safe_load((group_vars / "all" / "access.yml").read_text())
    other = yaml.safe_load((ROOT / "inventories" / environment / "group_vars" / "all" / "access.yml").read_text())
    assert {k: v for k, v in sandbox.items() if k in SANDBOX_ACCESS_VALUES} == SANDBOX_ACCESS_VALUES
    assert set(sandbox) == set(other)
    assert {k: v for k, v in sandbox.items() if k not in SANDBOX_ACCESS_VALUES} == {
        k: v for k, v in other.items() if k not in SANDBOX_ACCESS_VALUES}
    # Values only: what is derived from them lives in node_access.yml alone.
    assert not {"redisops_node_access", "redisops_terraform_outputs"} & (set(sandbox) | set(other))
    assert inventory_config("sandbox")["compose"] == {
        k: v for k, v in inventory_config(environment)["compose"].items() if k in inventory_config("sandbox")["compose"]}
    assert inventory_config("sandbox")["compose"]["ansible_host"] == "private_ip_address"
