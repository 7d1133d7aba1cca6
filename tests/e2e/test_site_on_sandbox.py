"""End to end: the main job on the sandbox, as a user runs it.

A private sandbox (own moto port and state directory) is brought up with six
instances over three AZs; site.yml configures the nodes and forms the
cluster; a second run changes nothing; the cluster is then checked from the
instances themselves, with the placement read from the EC2 API."""

import os
import re
import subprocess
from collections import Counter
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
PORT = int(os.environ.get("REDISOPS_E2E_PORT", "5058"))
ENDPOINT = f"http://127.0.0.1:{PORT}"
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def aws(service):
    return boto3.client(service, endpoint_url=ENDPOINT, region_name="us-west-2",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    directory = tmp_path_factory.mktemp("e2e-sandbox")
    env = dict(os.environ, REDISOPS_SANDBOX_PORT=str(PORT), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")

    def playbook(path, *extra, timeout=1200):
        argv = ["ansible-playbook", str(ROOT / path), "-e", f"redisops_sandbox_dir={directory}", *extra]
        proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        return proc.returncode, proc.stdout + proc.stderr

    try:
        rc, out = playbook("playbooks/sandbox_up.yml")
        assert rc == 0, out[-5000:]
        yield playbook
    finally:
        # down even when up failed half-way, so nothing of this sandbox is left
        rc, out = playbook("playbooks/sandbox_down.yml")
    assert rc == 0, out[-5000:]


@pytest.fixture(scope="module")
def deployed(sandbox):
    first = sandbox("site.yml")
    assert first[0] == 0, first[1][-8000:]
    second = sandbox("site.yml")
    assert second[0] == 0, second[1][-8000:]
    return first[1], second[1]


@pytest.fixture(scope="module")
def instances(sandbox):
    reservations = aws("ec2").describe_instances(Filters=[
        {"Name": "tag:Role", "Values": ["redis-cluster"]},
        {"Name": "instance-state-name", "Values": ["running"]}])["Reservations"]
    found = [i for r in reservations for i in r["Instances"]]
    return {i["PrivateIpAddress"]: {"id": i["InstanceId"], "az": i["Placement"]["AvailabilityZone"]} for i in found}


@pytest.fixture(scope="module")
def passwords(sandbox):
    ssm = aws("ssm")
    return {user: ssm.get_parameter(Name=f"/redisops/sandbox/acl/{user}", WithDecryption=True)["Parameter"]["Value"]
            for user in ("admin", "replication", "app")}


def redis_cli(instance_id, password, *args, user="admin", check=True):
    """redis-cli inside the instance's container; the password goes through
    the environment, never the command line."""
    proc = subprocess.run(
        ["docker", "exec", "-e", f"REDISCLI_AUTH={password}", f"redisops-sbx-{instance_id}",
         "redis-cli", "--user", user, "-h", "127.0.0.1", *args],
        capture_output=True, text=True, timeout=60)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_site_is_idempotent(deployed):
    _, second = deployed
    recap = RECAP.findall(second)
    assert recap, second[-3000:]
    assert sum(int(changed) for _, _, changed, _, _ in recap) == 0, second[-6000:]


def test_deploy_prints_the_topology(deployed):
    first, _ = deployed
    assert re.search(r"node\s+AZ\s+role\s+master\s+slots\s+keys", first)


def test_no_password_in_the_output(deployed, passwords):
    for output in deployed:
        for password in passwords.values():
            assert password not in output


def test_six_instances_in_three_azs(instances):
    assert len(instances) == 6
    assert Counter(i["az"] for i in instances.values()) == {"us-west-2a": 2, "us-west-2b": 2, "us-west-2c": 2}


def test_cluster_is_healthy_from_every_node(deployed, instances, passwords):
    for instance in instances.values():
        info = redis_cli(instance["id"], passwords["admin"], "cluster", "info")
        assert "cluster_state:ok" in info
        assert "cluster_slots_assigned:16384" in info
        assert "cluster_known_nodes:6" in info


def test_placement_survives_the_loss_of_any_az(deployed, instances, passwords):
    any_id = next(iter(instances.values()))["id"]
    nodes = {}
    for line in redis_cli(any_id, passwords["admin"], "cluster", "nodes").splitlines():
        node_id, address, flags, master = line.split()[:4]
        ip = address.split(":")[0]
        nodes[node_id] = {"ip": ip, "master": "master" in flags.split(","), "of": master,
                          "az": instances[ip]["az"], "slots": line.split()[8:]}
    masters = {k: v for k, v in nodes.items() if v["master"]}
    replicas = {k: v for k, v in nodes.items() if not v["master"]}
    assert len(masters) == 3 and len(replicas) == 3
    assert len({m["az"] for m in masters.values()}) == 3
    for replica in replicas.values():
        assert replica["az"] != masters[replica["of"]]["az"]
    for az in ("us-west-2a", "us-west-2b", "us-west-2c"):
        for master_id, master in masters.items():
            if master["az"] == az:
                assert any(r["of"] == master_id and r["az"] != az for r in replicas.values())


def test_acl_refuses_what_it_must(deployed, instances, passwords):
    instance_id = next(iter(instances.values()))["id"]
    anonymous = subprocess.run(["docker", "exec", f"redisops-sbx-{instance_id}", "redis-cli", "-h", "127.0.0.1", "ping"],
                               capture_output=True, text=True, timeout=30)
    assert "PONG" not in anonymous.stdout
    app = redis_cli(instance_id, passwords["app"], "flushall", user="app", check=False)
    assert "NOPERM" in app
    assert redis_cli(instance_id, passwords["app"], "-c", "set", "e2e:key", "1", user="app").strip() == "OK"
