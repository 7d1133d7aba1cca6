"""Helpers for the sandbox tests: run the real playbooks, talk to moto and Docker.

Every AWS call goes to the local moto endpoint with dummy credentials, and
Docker calls only inspect the sandbox's own containers and network.
"""

import json
import os
import re
import subprocess
import time
from pathlib import Path

import boto3

REPO = Path(__file__).resolve().parents[2]
PORT = int(os.environ.get("REDISOPS_SANDBOX_PORT") or 5000)
ENDPOINT = "http://127.0.0.1:%d" % PORT
REGION = "us-west-2"
CLUSTER = "sandbox"
NETWORK = "redisops-sandbox"
CONTAINER_PREFIX = "redisops-sbx-"
SANDBOX_DIR = REPO / ".sandbox"
STATE_FILE = SANDBOX_DIR / "terraform.tfstate"
PID_FILE = SANDBOX_DIR / ("moto-%d.pid" % PORT)
ID_LABEL = "io.redisops.sandbox.instance-id"
ENDPOINT_LABEL = "io.redisops.sandbox.endpoint"
# Bounds for every playbook run (a cold up bakes the AMI).
PLAYBOOK_TIMEOUT_S = 1800

RECAP = re.compile(
    r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)",
    re.MULTILINE,
)


def _env():
    env = dict(os.environ)
    venv_bin = str(REPO / ".venv" / "bin")
    env.update(
        {
            "PATH": venv_bin + os.pathsep + env.get("PATH", ""),
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_NOCOLOR": "1",
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "REDISOPS_SANDBOX_PORT": str(PORT),
        }
    )
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)
    return env


class Run:
    def __init__(self, proc, seconds):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.seconds = seconds
        self.recap = {m["host"]: {k: int(v) for k, v in m.groupdict().items() if k != "host"} for m in RECAP.finditer(proc.stdout)}

    def explain(self):
        return "rc=%s after %.0fs\n--- stdout (tail) ---\n%s\n--- stderr (tail) ---\n%s" % (
            self.rc, self.seconds, self.stdout[-6000:], self.stderr[-3000:])


def run(argv, timeout=PLAYBOOK_TIMEOUT_S):
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=REPO, env=_env(), capture_output=True, text=True, timeout=timeout, check=False)
    return Run(proc, time.monotonic() - started)


def playbook(name, *extra):
    return run(["ansible-playbook", "playbooks/%s" % name, *extra])


def aws(service):
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def cluster_instances(states=("pending", "running", "stopping", "stopped")):
    pages = aws("ec2").get_paginator("describe_instances").paginate(
        Filters=[
            {"Name": "tag:Role", "Values": ["redis-cluster"]},
            {"Name": "tag:RedisCluster", "Values": [CLUSTER]},
            {"Name": "instance-state-name", "Values": list(states)},
        ]
    )
    return [i for page in pages for r in page["Reservations"] for i in r["Instances"]]


def tags(resource):
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def moto_answers():
    import urllib.request

    try:
        with urllib.request.urlopen(ENDPOINT + "/moto-api/", timeout=3) as resp:
            return resp.status == 200
    except OSError:
        return False


def sandbox_containers(client, all_states=True):
    labels = [ID_LABEL, "%s=%s" % (ENDPOINT_LABEL, ENDPOINT)]
    return client.containers.list(all=all_states, filters={"label": labels})


def read_state():
    return json.loads(STATE_FILE.read_text())
