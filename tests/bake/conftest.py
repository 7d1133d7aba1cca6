"""Fixtures of the bake tests: the tests' sandbox (identity_of_tests(), never
the user's) with the base resources and no cluster instances. Its up bakes
for real (the image cache is not used), and the bake fills the cache that
the end-to-end session then reuses."""

import subprocess

import pytest

from redisops_testlib import Sandbox, identity_of_tests

CACHE = "redisops/ami-cache"


class BakeSandbox(Sandbox):
    def bake(self, *extra_vars):
        """playbooks/bake_ami.yml with -e for each of extra_vars."""
        return self.playbook("playbooks/bake_ami.yml", *[arg for var in extra_vars for arg in ("-e", var)])

    def amis(self, **tags):
        filters = [{"Name": "tag:%s" % k, "Values": [v]} for k, v in tags.items()]
        return self.aws("ec2").describe_images(Owners=["self"], Filters=filters)["Images"]

    def builders(self):
        return self.instances(role="redis-ami-builder", states=(
            "pending", "running", "stopping", "stopped", "shutting-down", "terminated"))


def docker(*args, check=True):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=120)


def builder_containers(sandbox):
    ids = [i["InstanceId"] for i in sandbox.builders()]
    names = docker("ps", "-a", "--format", "{{.Names}}").stdout.split()
    return [n for n in names if any(n == sandbox.container(i) for i in ids)]


def cache_tags():
    return set(docker("image", "ls", CACHE, "--format", "{{.Repository}}:{{.Tag}}").stdout.split())


@pytest.fixture(scope="session")
def sandbox():
    env = BakeSandbox(identity_of_tests())
    with env.exclusive():
        leftovers = env.playbook("playbooks/sandbox_down.yml")  # of a run that was killed
        assert leftovers.rc == 0, leftovers.explain()
        try:
            up = env.playbook("playbooks/sandbox_up.yml", "-e",
                              '{"node_instances_count": 0, "sandbox_images_from_cache": false}')
            assert up.rc == 0, up.explain()
            yield env
            amis = [image["ImageId"] for image in env.aws("ec2").describe_images(Owners=["self"])["Images"]]
        finally:
            # down even when up failed half-way, so nothing of this sandbox is left
            down = env.playbook("playbooks/sandbox_down.yml")
        assert down.rc == 0, down.explain()
    # the image tags that stood in for this sandbox's AMIs went with it ...
    left = [ami for ami in amis if docker("image", "inspect", "redisops/ami:" + ami, check=False).returncode == 0]
    assert left == [], left
    # ... and the node images stay cached, one per engine, for the next sandbox
    assert {tag.split(":")[1].split("-")[0] for tag in cache_tags()} >= {"redis", "valkey"}
