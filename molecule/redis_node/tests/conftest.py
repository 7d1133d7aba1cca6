"""Helpers shared by the redis_node scenario's tests.

Side effects (runtime change, static change, check mode, -vvv) are real
ansible-playbook runs of this scenario's converge.yml against Molecule's
inventory; node state is read through docker exec.
"""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import redisops_testlib
import testinfra
import yaml

SCENARIO_DIR = Path(__file__).resolve().parents[1]
CONVERGE = SCENARIO_DIR / "converge.yml"
NODES = {
    "rn-redis-1": {"ip": "10.82.1.11", "engine": "redis"},
    "rn-redis-2": {"ip": "10.82.1.12", "engine": "redis"},
    "rn-valkey-1": {"ip": "10.82.1.13", "engine": "valkey"},
}
PLAYBOOK_TIMEOUT_S = 600


def acl_users():
    play = yaml.safe_load(CONVERGE.read_text())[0]
    return {u["name"]: u for u in play["vars"]["redis_node_acl_users"]}


def passwords():
    return [u["password"] for u in acl_users().values()]


def node(name):
    # Only the scenario's own containers, by name.
    return testinfra.get_host(f"docker://{name}")


def cli(name, *args, check=True):
    """Run redis-node-cli (admin user, password via REDISCLI_AUTH) on a node."""
    cmd = node(name).run("redis-node-cli " + " ".join(f"'{a}'" for a in args))
    if check:
        assert cmd.rc == 0, f"{name}: {args}: {cmd.stdout} {cmd.stderr}"
    return cmd.stdout.strip()


def info(name, *sections):
    result = {}
    for section in sections or ("replication",):
        for line in cli(name, "INFO", section).splitlines():
            if ":" in line and not line.startswith("#"):
                key, value = line.split(":", 1)
                result[key] = value.strip()
    return result


def cluster_info(name):
    return dict(line.split(":", 1) for line in cli(name, "CLUSTER", "INFO").splitlines() if ":" in line)


def engine_cli(name, user, password, *args):
    """The engine's own CLI as an ACL user (not the admin wrapper), password in REDISCLI_AUTH."""
    cli_bin = image_facts(name)["cli_bin"]
    quoted = " ".join(f"'{a}'" for a in args)
    return node(name).run(f"REDISCLI_AUTH='{password}' {cli_bin} --user {user} -h 127.0.0.1 -p 6379 {quoted}")


def server_pid(name):
    out = node(name).run("systemctl show -p MainPID --value redis-node").stdout.strip()
    assert out and out != "0", f"{name}: redis-node has no main PID"
    return int(out)


def image_facts(name):
    return json.loads(node(name).file("/etc/ansible/facts.d/redis_image.fact").content_string)


def wait_for(predicate, what, timeout_s=60, interval_s=1):
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what} (last: {last!r})")


def run_playbook(*args, playbook=CONVERGE, watch=None):
    """Run ansible-playbook against Molecule's inventory.

    ``watch``: container names whose process list is sampled (every 0.3 s)
    while the playbook runs; the samples are returned in ``.process_lists``.
    """
    def sample():
        return [subprocess.run(["docker", "exec", name, "ps", "-eo", "args"], capture_output=True,
                               text=True, check=False, timeout=30).stdout for name in watch]

    return redisops_testlib.run_playbook(playbook, *args, inventory=Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent,
                                         timeout=PLAYBOOK_TIMEOUT_S, poll=sample if watch else None)


@pytest.fixture(scope="session")
def clusters():
    """rn-redis-1 (all slots) + rn-redis-2 (its replica); rn-valkey-1 alone with all slots.

    Forming the cluster is the topology role's job; here it is done by hand,
    once, so that the rolling restart has a master to fail over.
    """
    for name in ("rn-redis-1", "rn-valkey-1"):
        if cluster_info(name)["cluster_slots_assigned"] == "0":
            cli(name, "CLUSTER", "ADDSLOTSRANGE", "0", "16383")
    if info("rn-redis-2")["role"] != "slave" and info("rn-redis-1")["role"] != "slave":
        cli("rn-redis-2", "CLUSTER", "MEET", NODES["rn-redis-1"]["ip"], "6379")
        master_id = cli("rn-redis-1", "CLUSTER", "MYID")
        wait_for(lambda: master_id in cli("rn-redis-2", "CLUSTER", "NODES"), "rn-redis-2 to learn rn-redis-1", 30)
        cli("rn-redis-2", "CLUSTER", "REPLICATE", master_id)
    for name in NODES:
        wait_for(lambda n=name: cluster_info(n)["cluster_state"] == "ok", f"cluster_state ok on {name}", 60)
    replica = next(n for n in ("rn-redis-1", "rn-redis-2") if info(n)["role"] == "slave")
    wait_for(lambda: info(replica).get("master_link_status") == "up", "the replica's link to come up", 60)
    return True


def master_and_replica():
    roles = {n: info(n)["role"] for n in ("rn-redis-1", "rn-redis-2")}
    master = next(n for n, r in roles.items() if r == "master")
    replica = next(n for n, r in roles.items() if r == "slave")
    return master, replica
