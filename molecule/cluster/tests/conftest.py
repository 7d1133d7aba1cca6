"""Shared helpers of the cluster scenario's tests.

Nodes are reached by their container names (docker exec through testinfra),
only the scenario's own containers; redis-node-cli (installed by the node
role) authenticates as the admin user with REDISCLI_AUTH from a root-only
file, so no password appears on a command line. Refusal tests run the
operation playbooks with ansible-playbook against Molecule's inventory.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest
import redisops_testlib
import testinfra
import yaml

SCENARIO_DIR = Path(__file__).resolve().parents[1]
PLAYBOOKS_DIR = SCENARIO_DIR.parents[1] / "playbooks"
PLAYBOOK_TIMEOUT_S = 600


def scenario():
    return yaml.safe_load((SCENARIO_DIR / "molecule.yml").read_text())


def platforms():
    """{name: {ip, az, groups}} from molecule.yml (the inventory's source)."""
    data = scenario()
    host_vars = data["provisioner"]["inventory"]["host_vars"]
    return {p["name"]: {"ip": p["ipv4_address"], "az": host_vars[p["name"]]["placement"]["availability_zone"],
                        "groups": p["groups"]} for p in data["platforms"]}


def group_vars():
    return scenario()["provisioner"]["inventory"]["group_vars"]["all"]


def running(name):
    """Whether this scenario's container is running (checked before any connection)."""
    assert name in platforms(), name
    out = subprocess.run(["docker", "inspect", "-f", "{{.State.Running}}", name],
                         capture_output=True, text=True, check=False, timeout=30)
    return out.returncode == 0 and out.stdout.strip() == "true"


def node(name):
    return testinfra.get_host(f"docker://{name}")


def cli(name, *args):
    cmd = node(name).run("redis-node-cli " + " ".join(f"'{a}'" for a in args))
    assert cmd.rc == 0, f"{name}: {args}: {cmd.stdout} {cmd.stderr}"
    return cmd.stdout.strip()


def parse_nodes(text):
    """CLUSTER NODES -> {node_id: {ip, role, master_id, slots, flags}}."""
    nodes = {}
    for line in text.splitlines():
        fields = line.split()
        slots = 0
        for item in fields[8:]:
            if not item.startswith("["):
                first, _, last = item.partition("-")
                slots += int(last or first) - int(first) + 1
        flags = set(fields[2].split(","))
        nodes[fields[0]] = {"ip": fields[1].split(":")[0], "flags": flags,
                            "role": "master" if "master" in flags else "replica",
                            "master_id": None if fields[3] == "-" else fields[3], "slots": slots}
    return nodes


@pytest.fixture(scope="session")
def live_members():
    """Running containers that are cluster members, by name (the lost node's container is stopped)."""
    by_ip = {p["ip"]: name for name, p in platforms().items()}
    seed = next(n for n in platforms() if running(n) and "redis_cluster" in platforms()[n]["groups"])
    members = [by_ip[n["ip"]] for n in parse_nodes(cli(seed, "CLUSTER", "NODES")).values()]
    assert all(running(m) for m in members), members
    return sorted(members)


def run_playbook(playbook, *args, extra_inventory=None, tmp_path=None):
    """An operation playbook against Molecule's inventory (plus extra_inventory)."""
    inventory = [Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent]
    if extra_inventory is not None:
        path = tmp_path / "extra_inventory.yml"
        path.write_text(yaml.safe_dump(extra_inventory))
        inventory.append(path)
    return redisops_testlib.run_playbook(PLAYBOOKS_DIR / playbook, *args, inventory=inventory,
                                         timeout=PLAYBOOK_TIMEOUT_S)


def as_json(value):
    return json.dumps(value, sort_keys=True, default=sorted)
