"""Fixtures for the sandbox bake tests: a private sandbox (own moto port and
state directory) with the base resources and no cluster instances."""

import os
import re
import subprocess
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
PORT = int(os.environ.get("REDISOPS_BAKE_TEST_PORT", "5057"))
ENDPOINT = f"http://127.0.0.1:{PORT}"
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


class Run:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.output = proc.stdout + proc.stderr
        self.recap = {m[0]: {"ok": int(m[1]), "changed": int(m[2]), "unreachable": int(m[3]), "failed": int(m[4])}
                      for m in RECAP.findall(proc.stdout)}

    def changed(self):
        return sum(host["changed"] for host in self.recap.values())


class Sandbox:
    def __init__(self, directory):
        self.dir = directory
        self.env = dict(os.environ, REDISOPS_SANDBOX_PORT=str(PORT), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
                        ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")

    def playbook(self, name, *extra, timeout=900):
        argv = ["ansible-playbook", str(ROOT / "playbooks" / name), "-e", f"redisops_sandbox_dir={self.dir}"]
        for item in extra:
            argv += ["-e", item]
        proc = subprocess.run(argv, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout)
        return Run(proc)

    def ec2(self):
        return boto3.client("ec2", endpoint_url=ENDPOINT, region_name="us-west-2",
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def amis(self, **tags):
        filters = [{"Name": f"tag:{k}", "Values": [v]} for k, v in tags.items()]
        return self.ec2().describe_images(Owners=["self"], Filters=filters)["Images"]

    def builders(self):
        reservations = self.ec2().describe_instances(
            Filters=[{"Name": "tag:Role", "Values": ["redis-ami-builder"]}])["Reservations"]
        return [i for r in reservations for i in r["Instances"]]


def docker(*args, check=True):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=120)


def builder_containers(sandbox):
    ids = [i["InstanceId"] for i in sandbox.builders()]
    names = docker("ps", "-a", "--format", "{{.Names}}").stdout.split()
    return [n for n in names if any(n.endswith(i) for i in ids)]


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """Base resources on a private moto, with no cluster instances; the up
    playbook runs the redis bake on the way."""
    env = Sandbox(tmp_path_factory.mktemp("bake-sandbox"))
    try:
        up = env.playbook("sandbox_up.yml", '{"sandbox_instances_count": 0}')
        assert up.rc == 0, up.output[-4000:]
        yield env
        amis = [image["ImageId"] for image in env.ec2().describe_images(Owners=["self"])["Images"]]
    finally:
        # down even when up failed half-way, so nothing of this sandbox is left
        down = env.playbook("sandbox_down.yml")
    assert down.rc == 0, down.output[-4000:]
    # the images that stood in for this sandbox's AMIs went with it
    left = [ami for ami in amis if docker("image", "inspect", f"redisops/ami:{ami}", check=False).returncode == 0]
    assert left == [], left
