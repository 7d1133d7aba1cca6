"""Down, last: down removes this sandbox's containers, network, moto, state
and AMI image tags (the node image cache stays); down twice is fine. Up after
a down is the session's first up (test_10_sandbox.test_up_from_clean): it
follows the bake tests' down of this sandbox, or this session's own."""

import os
import subprocess

from sandbox_checks import CACHE, bastion_container, containers, node_image_cache, ssh_dir, ssh_key_file


def image_exists(ref):
    return subprocess.run(["docker", "image", "inspect", ref], capture_output=True, check=False).returncode == 0


def test_down_removes_containers_network_moto_and_image_tags(sandbox, docker_client, timings):
    amis = [image["ImageId"] for image in sandbox.aws("ec2").describe_images(Owners=["self"])["Images"]]
    assert amis and all(image_exists("redisops/ami:" + ami) for ami in amis)
    cached = node_image_cache()
    assert any(tag.startswith(CACHE + ":redis-") for tag in cached)

    result = sandbox.playbook("playbooks/sandbox_down.yml")
    timings["down"] = result.seconds
    assert result.rc == 0, result.explain()
    assert result.recap()["localhost"]["changed"] > 0
    assert containers(sandbox, docker_client) == []
    assert docker_client.networks.list(names=[sandbox.network]) == []
    assert docker_client.containers.list(all=True, filters={"name": bastion_container(sandbox)}) == []
    # the next bastion and instances have host keys of their own; the key pair stays
    assert not os.path.exists(os.path.join(ssh_dir(sandbox), "known_hosts"))
    assert os.path.exists(ssh_key_file(sandbox))
    assert not sandbox.moto_answers()
    assert not os.path.exists(sandbox.pid_file) and not os.path.exists(sandbox.state_file)
    assert [ami for ami in amis if image_exists("redisops/ami:" + ami)] == []
    assert node_image_cache() == cached  # the cache stays


def test_down_twice_is_fine(sandbox, timings):
    result = sandbox.playbook("playbooks/sandbox_down.yml")
    timings["down_again"] = result.seconds
    assert result.rc == 0, result.explain()
    assert result.recap()["localhost"]["changed"] == 0, result.explain()
    assert result.recap()["localhost"]["failed"] == 0
    sandbox.left_down = True  # the session need not take it down again

