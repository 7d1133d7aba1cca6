"""Containers follow their instances after EC2 calls made behind the
playbooks' back: stop, start, terminate; up replaces a terminated node at
the same private IP. Breaks the cluster (a node is replaced), so it runs
after every module that needs the deployed cluster."""

from sandbox_checks import check_sandbox_up, containers, expected_ips


def test_reconcile_follows_stop_start_and_terminate(sandbox, docker_client, aws):
    ec2 = aws("ec2")
    by_ip = {i["PrivateIpAddress"]: i["InstanceId"] for i in sandbox.instances(states=("running",))}
    second_b, second_c = sorted(ip for ip in by_ip if ip.endswith(".12"))[1:3]
    stopped, terminated = by_ip[second_b], by_ip[second_c]

    ec2.stop_instances(InstanceIds=[stopped])
    ec2.terminate_instances(InstanceIds=[terminated])
    result = sandbox.playbook("playbooks/sandbox_reconcile.yml")
    assert result.rc == 0, result.explain()
    found = {c.name: c for c in containers(sandbox, docker_client)}
    assert found[sandbox.container(stopped)].status == "exited"
    assert sandbox.container(terminated) not in found
    assert sum(c.status == "running" for c in found.values()) == 4

    again = sandbox.playbook("playbooks/sandbox_reconcile.yml")
    assert again.rc == 0 and again.recap()["localhost"]["changed"] == 0, again.explain()

    ec2.start_instances(InstanceIds=[stopped])
    result = sandbox.playbook("playbooks/sandbox_reconcile.yml")
    assert result.rc == 0, result.explain()
    assert docker_client.containers.get(sandbox.container(stopped)).status == "running"

    # up replaces the terminated node: same slot, same private IP, new instance.
    result = sandbox.playbook("playbooks/sandbox_up.yml")
    assert result.rc == 0, result.explain()
    after = {i["PrivateIpAddress"]: i["InstanceId"] for i in sandbox.instances(states=("running",))}
    assert set(after) == expected_ips(sandbox.identity)
    assert after[second_c] != terminated
    check_sandbox_up(sandbox, docker_client)
