"""The AMI bake against the sandbox: real moto API calls, real builder
containers, real images, the same ami_bake tasks as on AWS."""

import base64
import json
import os
import time

from conftest import builder_containers, cache_tags, docker


BASE_IMAGE = os.environ.get("REDISOPS_BASE_IMAGE", "redisops/debian12-base:latest")


def newest(images):
    return sorted(images, key=lambda i: i["CreationDate"])[-1]


def tags(image):
    return {t["Key"]: t["Value"] for t in image.get("Tags", [])}


def test_cold_bake_registers_a_tagged_ami_with_a_local_image(sandbox):
    images = sandbox.amis(Role="redis-node-ami", Engine="redis")
    assert len(images) == 1
    image = images[0]
    assert image["State"] == "available"
    assert image["Name"].startswith("redis-node-redis-7.0.15-")
    image_tags = tags(image)
    assert image_tags["EngineVersion"] == "7.0.15"
    assert image_tags["SourceAmi"].startswith("ami-")
    assert image_tags["BuildId"] in image["Name"]
    assert docker("image", "inspect", f"redisops/ami:{image['ImageId']}", check=False).returncode == 0
    # tagged after creation, the same way on every target: the snapshots too
    snapshots = [m["Ebs"]["SnapshotId"] for m in image["BlockDeviceMappings"] if "SnapshotId" in m.get("Ebs", {})]
    assert snapshots
    for snapshot in sandbox.aws("ec2").describe_snapshots(SnapshotIds=snapshots)["Snapshots"]:
        assert tags(snapshot) == image_tags


def test_the_new_image_is_cached_with_the_amis_identity(sandbox):
    image = newest(sandbox.amis(Role="redis-node-ami", Engine="redis"))
    [entry] = [t for t in cache_tags() if t.startswith("redisops/ami-cache:redis-7.0.15-")]
    same = docker("image", "inspect", "--format", "{{.Id}}", entry, f"redisops/ami:{image['ImageId']}").stdout.split()
    assert len(same) == 2 and same[0] == same[1]
    label = docker("image", "inspect", "--format", '{{index .Config.Labels "io.redisops.ami"}}', entry).stdout.strip()
    recorded = json.loads(base64.b64decode(label))
    assert recorded["name"] == image["Name"] and recorded["tags"] == tags(image)


def test_builders_are_terminated_and_their_containers_gone(sandbox):
    builders = sandbox.builders()
    assert builders, "the bake launched no builder"
    assert {b["State"]["Name"] for b in builders} == {"terminated"}
    assert builder_containers(sandbox) == []
    launched = builders[0]
    assert launched["MetadataOptions"]["HttpTokens"] == "required"


def test_rerun_reuses_the_ami_and_changes_nothing(sandbox):
    before = len(sandbox.builders())
    run = sandbox.bake()
    assert run.rc == 0, run.output[-3000:]
    assert "Reusing ami-" in run.output
    assert run.changed() == 0
    assert len(sandbox.builders()) == before


def test_image_boots_into_an_unconfigured_node_with_fresh_identity(sandbox):
    image_id = newest(sandbox.amis(Role="redis-node-ami", Engine="redis"))["ImageId"]
    name = "redisops-bake-boot-test"
    docker("rm", "-f", name, check=False)
    docker("run", "-d", "--name", name, "--network", "none", "--cap-add", "SYS_ADMIN",
           "--security-opt", "seccomp=unconfined", "--cgroupns=host",
           "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run", "--tmpfs", "/run/lock",
           f"redisops/ami:{image_id}")
    try:
        # Right after the start PID 1 may not have its bus yet ("Failed to
        # connect to bus"): ask again, a bounded number of times.
        for _ in range(15):
            state = docker("exec", name, "timeout", "60", "systemctl", "is-system-running", "--wait", check=False)
            if state.stdout.strip() in ("running", "degraded"):
                break
            time.sleep(2)
        assert state.stdout.strip() in ("running", "degraded"), state.stdout + state.stderr
        machine_id = docker("exec", name, "cat", "/etc/machine-id").stdout.strip()
        assert len(machine_id) == 32
        assert docker("exec", name, "ls", "/etc/ssh/ssh_host_ed25519_key", check=False).returncode == 0
        # the builder's login key is not baked in: a node gets its own key pair's
        keys = docker("exec", name, "find", "/root", "/home", "-name", "authorized_keys*", check=False)
        assert keys.returncode == 0 and keys.stdout == "", keys.stdout + keys.stderr
        active = docker("exec", name, "systemctl", "is-active", "redis-node.service", check=False).stdout.strip()
        assert active == "inactive"
        assert docker("exec", name, "ls", "-A", "/var/lib/redis-node").stdout == ""
        facts = json.loads(docker("exec", name, "cat", "/etc/ansible/facts.d/redis_image.fact").stdout)
        assert facts["engine"] == "redis" and facts["version"] == "7.0.15"
    finally:
        docker("rm", "-f", name, check=False)


def test_bad_input_fails_before_any_builder_is_launched(sandbox, tmp_path):
    before = len(sandbox.builders())
    unknown = sandbox.bake("ami_bake_engine=keydb")
    assert unknown.rc != 0
    assert "keydb" in unknown.output
    unsupported = sandbox.bake("ami_bake_engine_version=6.2.0")
    assert unsupported.rc != 0
    assert "6.2.0 is not supported" in unsupported.output
    state = sandbox.read_state()
    del state["outputs"]["private_subnet_ids"]
    broken = tmp_path / "no-subnets.tfstate"
    broken.write_text(json.dumps(state))
    missing = sandbox.bake(f"redisops_terraform_state={broken}", "ami_bake_rebuild=true")
    assert missing.rc != 0
    assert "private_subnet_ids" in missing.output
    assert len(sandbox.builders()) == before


def test_failure_mid_bake_leaves_no_builder_behind(sandbox):
    before = len(sandbox.builders())
    run = sandbox.bake(
        "ami_bake_engine_version=7.0.99",
        '{"redis_image_supported_versions": {"redis": ["7.0.99"], "valkey": ["8.0.1"]}}')
    assert run.rc != 0
    assert "redis-server 7.0.99 is not available" in run.output
    builders = sandbox.builders()
    assert len(builders) == before + 1, "the failure must happen after the builder was launched"
    assert {b["State"]["Name"] for b in builders} == {"terminated"}
    assert builder_containers(sandbox) == []
    assert sandbox.amis(Role="redis-node-ami", EngineVersion="7.0.99") == []


def test_valkey_bake_prunes_an_older_ami_and_its_local_image(sandbox):
    # An older valkey AMI (another version, so the bake cannot reuse it) with
    # its local image, registered the way the sandbox registers a bake's; a
    # second full bake would prove the same at five minutes more.
    ec2 = sandbox.aws("ec2", principal="sandbox")  # stands in for whatever registered it
    source = tags(newest(sandbox.amis(Role="redis-node-ami", Engine="redis")))["SourceAmi"]
    older = ec2.copy_image(SourceImageId=source, SourceRegion=sandbox.region, Name="redis-node-valkey-8.0.0-older")["ImageId"]
    ec2.create_tags(Resources=[older], Tags=[{"Key": "Role", "Value": "redis-node-ami"},
                                             {"Key": "Engine", "Value": "valkey"},
                                             {"Key": "EngineVersion", "Value": "8.0.0"}])
    docker("tag", BASE_IMAGE, f"redisops/ami:{older}")

    run = sandbox.bake("ami_bake_engine=valkey", "ami_bake_keep=1")
    assert run.rc == 0, run.output[-3000:]
    [kept] = sandbox.amis(Role="redis-node-ami", Engine="valkey")
    assert kept["ImageId"] != older
    assert tags(kept)["EngineVersion"] == "8.0.1"
    assert docker("image", "inspect", f"redisops/ami:{older}", check=False).returncode != 0
    assert docker("image", "inspect", f"redisops/ami:{kept['ImageId']}", check=False).returncode == 0
    assert len(sandbox.amis(Role="redis-node-ami", Engine="redis")) == 1
