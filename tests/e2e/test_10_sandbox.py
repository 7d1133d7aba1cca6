"""The sandbox itself: up from clean, up again changes nothing, a non-local
endpoint is refused, the inventory lists the instances by private IP grouped
by AZ, every host answers through its container, containers reach each
other at their private IPs."""

import ipaddress
import json
import re

from sandbox_checks import builders, check_sandbox_up, containers, expected_ips


def test_up_from_clean(sandbox, docker_client, timings):
    up = sandbox.up_run
    assert up.recap()["localhost"]["failed"] == 0
    assert up.recap()["localhost"]["changed"] > 0
    _, params = check_sandbox_up(sandbox, docker_client)
    for param in params:  # secrets never reach the output
        assert param["Value"] not in up.output
    # the node AMI came from the image cache (tests/bake filled it) or was baked here
    timings["up_cold_baked"] = len(builders(sandbox))
    assert "Reusing ami-" in up.output or builders(sandbox)


def test_up_again_changes_nothing(sandbox, docker_client, timings):
    pid_before = open(sandbox.pid_file).read()
    instances_before = sorted(i["InstanceId"] for i in sandbox.instances())
    containers_before = {c.name: c.id for c in containers(sandbox, docker_client)}
    state_before = open(sandbox.state_file).read()
    params_before = sandbox.acl_passwords()

    again = sandbox.playbook("playbooks/sandbox_up.yml")
    timings["up_warm"] = again.seconds
    assert again.rc == 0, again.explain()
    assert again.recap(), again.explain()
    for host, counts in again.recap().items():
        assert counts["changed"] == 0, "%s changed=%d\n%s" % (host, counts["changed"], again.explain())
        assert counts["failed"] == 0

    assert open(sandbox.pid_file).read() == pid_before  # moto was not started twice
    assert sorted(i["InstanceId"] for i in sandbox.instances()) == instances_before
    assert {c.name: c.id for c in containers(sandbox, docker_client)} == containers_before
    assert open(sandbox.state_file).read() == state_before
    assert sandbox.acl_passwords() == params_before


def test_refuses_an_endpoint_that_is_not_local(sandbox):
    pid_before = open(sandbox.pid_file).read()
    vpcs_before = len(sandbox.aws("ec2").describe_vpcs()["Vpcs"])
    result = sandbox.playbook("playbooks/sandbox_up.yml", "-e", "redisops_aws_endpoint_url=http://10.255.255.1:5000")
    assert result.rc != 0
    assert "only talks to a local moto server" in result.stdout
    # Failed at the first check: no API task ran and nothing was started.
    assert "Create the VPC" not in result.stdout and "Start moto" not in result.stdout
    assert open(sandbox.pid_file).read() == pid_before
    assert len(sandbox.aws("ec2").describe_vpcs()["Vpcs"]) == vpcs_before


def _plain(value):
    """Drop the {"__ansible_unsafe": ...} wrappers ansible-inventory --list puts on AWS values."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return _plain(value["__ansible_unsafe"])
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def test_inventory_lists_instances_by_private_ip_grouped_by_az(sandbox):
    listing = sandbox.run(["ansible-inventory", "--list"])
    assert listing.rc == 0, listing.explain()
    inventory = _plain(json.loads(listing.stdout))
    hostvars = inventory["_meta"]["hostvars"]
    ips = expected_ips(sandbox.identity)
    assert set(hostvars) == ips
    assert set(inventory["redis_cluster"]["hosts"]) == ips
    for subnet in sandbox.identity["private_subnets"]:
        group = "az_" + subnet["az"].replace("-", "_")
        assert set(inventory[group]["hosts"]) == expected_ips({"private_subnets": [subnet]})
    instances = {i["PrivateIpAddress"]: i for i in sandbox.instances(states=("running",))}
    for ip, hv in hostvars.items():
        assert hv["private_ip_address"] == ip
        assert hv["placement"]["availability_zone"] == instances[ip]["Placement"]["AvailabilityZone"]
        assert hv["ec2_tags"]["Role"] == "redis-cluster" and hv["ec2_tags"]["RedisCluster"] == sandbox.cluster
        assert ipaddress.ip_address(ip) in ipaddress.ip_network(sandbox.identity["vpc_cidr"])

    # how each host is reached: the docker connection to its instance's container
    reach = sandbox.run(["ansible", "redis_cluster", "-m", "ansible.builtin.debug",
                         "-a", '{"msg": "{{ ansible_connection }} {{ ansible_host }}"}', "-o"])
    assert reach.rc == 0, reach.explain()
    seen = dict(re.findall(r'^(\S+) \| SUCCESS => .*"msg": "([^"]*)"', reach.stdout, re.M))
    assert seen == {ip: "community.docker.docker " + sandbox.container(instances[ip]["InstanceId"]) for ip in ips}

    graph = sandbox.run(["ansible-inventory", "--graph"])
    assert graph.rc == 0, graph.explain()
    for subnet in sandbox.identity["private_subnets"]:
        assert "@az_" + subnet["az"].replace("-", "_") in graph.stdout


def test_every_host_answers_ping_through_its_container(sandbox):
    result = sandbox.run(["ansible", "all", "-m", "ansible.builtin.ping", "-o"], timeout=300)
    assert result.rc == 0, result.explain()
    answered = {line.split()[0] for line in result.stdout.splitlines() if "SUCCESS" in line and '"ping": "pong"' in line}
    assert answered == expected_ips(sandbox.identity)


def test_containers_answer_at_their_ip_on_the_sandbox_network(sandbox, docker_client):
    by_ip = {c.attrs["NetworkSettings"]["Networks"][sandbox.network]["IPAddress"]: c
             for c in containers(sandbox, docker_client, all_states=False)}
    ips = expected_ips(sandbox.identity)
    assert set(by_ip) == ips  # checked to exist before sending anything
    source = min(ips, key=ipaddress.ip_address)
    for ip in sorted(ips - {source}):
        code, output = by_ip[source].exec_run(["ping", "-c", "1", "-W", "2", ip])
        assert code == 0, output.decode(errors="replace")
