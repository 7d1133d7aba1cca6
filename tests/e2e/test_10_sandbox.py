"""The sandbox itself: up from clean, up again changes nothing, a non-local
endpoint is refused, the inventory lists the instances by private IP grouped
by AZ, every host answers over SSH through the bastion with the production
connection settings, containers reach each other at their private IPs."""

import ipaddress
import json
import os
import re
import shlex
import subprocess

from sandbox_checks import (CACHE, bastion_container, builders, check_sandbox_up, containers, expected_ips,
                            node_image_cache, ssh_dir, ssh_key_file)


def test_up_from_clean(sandbox, docker_client, timings):
    """Up after a down of this sandbox (the session's own, or the bake tests'
    at the end of theirs): everything comes back, and the node AMI is the
    cached image when the cache had it, with no bake; baked here otherwise."""
    up = sandbox.up_run
    assert up.recap()["localhost"]["failed"] == 0
    assert up.recap()["localhost"]["changed"] > 0
    _, params = check_sandbox_up(sandbox, docker_client)
    for param in params:  # secrets never reach the output
        assert param["Value"] not in up.output
    [entry] = [tag for tag in node_image_cache() if tag.startswith(CACHE + ":redis-")]
    timings["up_cold_baked"] = len(builders(sandbox))
    if entry in sandbox.cache_before:
        assert "Reusing ami-" in up.output
        assert builders(sandbox) == []  # no bake: the cached image was registered
    else:
        assert builders(sandbox), "no cached image and no bake"


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

    # how each host is reached: production's settings (the same group_vars),
    # SSH as admin to its private IP through the bastion on 127.0.0.1
    reach = sandbox.run(["ansible", "redis_cluster", "-m", "ansible.builtin.debug", "-o", "-a",
                         '{"msg": "{{ [ansible_connection, ansible_host, ansible_user, ansible_ssh_private_key_file,'
                         ' ansible_ssh_common_args] | join(\'|\') }}"}'])
    assert reach.rc == 0, reach.explain()
    seen = {line.split()[0]: json.loads(line.split(" => ", 1)[1])["msg"]
            for line in reach.stdout.splitlines() if " | SUCCESS => " in line}
    assert set(seen) == ips, reach.stdout
    known_hosts = os.path.join(ssh_dir(sandbox), "known_hosts")
    for ip, line in seen.items():
        connection, host, user, key, common = line.split("|")
        assert (connection, host, user, key) == ("ansible.builtin.ssh", ip, "admin", ssh_key_file(sandbox))
        argv = shlex.split(common)
        assert "HostKeyAlias=" + instances[ip]["InstanceId"] in argv
        assert "UserKnownHostsFile=" + known_hosts in argv and "StrictHostKeyChecking=accept-new" in argv
        (proxy,) = [shlex.split(a.split("=", 1)[1]) for a in argv if a.startswith("ProxyCommand=")]
        assert proxy[:3] == ["ssh", "-W", "%h:%p"]
        assert proxy[-3:] == ["-p", str(sandbox.identity["bastion_port"]), "admin@127.0.0.1"]

    graph = sandbox.run(["ansible-inventory", "--graph"])
    assert graph.rc == 0, graph.explain()
    for subnet in sandbox.identity["private_subnets"]:
        assert "@az_" + subnet["az"].replace("-", "_") in graph.stdout


def test_every_host_answers_ping_over_ssh_through_the_bastion(sandbox, instances):
    result = sandbox.run(["ansible", "all", "-m", "ansible.builtin.ping", "-o"], timeout=300)
    assert result.rc == 0, result.explain()
    answered = {line.split()[0] for line in result.stdout.splitlines() if "SUCCESS" in line and '"ping": "pong"' in line}
    assert answered == expected_ips(sandbox.identity)

    # The host keys learnt: one entry per instance id (HostKeyAlias), and the
    # bastion's at its loopback port, in the sandbox's own file.
    known_hosts = os.path.join(ssh_dir(sandbox), "known_hosts")
    names = ["[127.0.0.1]:%d" % sandbox.identity["bastion_port"]] + [i["id"] for i in instances.values()]
    for name in names:
        found = subprocess.run(["ssh-keygen", "-F", name, "-f", known_hosts], capture_output=True, text=True,
                               timeout=30, check=False)
        assert "found: line" in found.stdout, (name, found.stdout, found.stderr)
    with open(known_hosts) as handle:
        entries = [line for line in handle if line.strip() and not line.startswith("#")]
    assert len(entries) == len(names), entries  # no entry by private IP, none of other instances

    # The sessions went through the bastion: its sshd let admin in with the
    # key pair, and each node saw admin come from the bastion's address.
    bastion = subprocess.run(["docker", "exec", bastion_container(sandbox), "journalctl", "-u", "ssh", "--no-pager"],
                             capture_output=True, text=True, timeout=60, check=False)
    assert re.search(r"Accepted publickey for admin from \S+ port \d+ ssh2: ED25519", bastion.stdout), bastion.stdout[-2000:]
    for ip in instances:
        journal = sandbox.exec(ip, "journalctl", "-u", "ssh", "--no-pager")
        assert "Accepted publickey for admin from %s " % sandbox.identity["bastion_address"] in journal.stdout, \
            (ip, journal.stdout[-2000:])
        keys = sandbox.exec(ip, "cat", "/home/admin/.ssh/authorized_keys").stdout.split()
        with open(ssh_key_file(sandbox) + ".pub") as handle:
            assert keys[:2] == handle.read().split()[:2]  # the key pair's, put there as cloud-init does


def test_containers_answer_at_their_ip_on_the_sandbox_network(sandbox, docker_client):
    by_ip = {c.attrs["NetworkSettings"]["Networks"][sandbox.network]["IPAddress"]: c
             for c in containers(sandbox, docker_client, all_states=False)}
    ips = expected_ips(sandbox.identity)
    assert set(by_ip) == ips  # checked to exist before sending anything
    source = min(ips, key=ipaddress.ip_address)
    for ip in sorted(ips - {source}):
        code, output = by_ip[source].exec_run(["ping", "-c", "1", "-W", "2", ip])
        assert code == 0, output.decode(errors="replace")
