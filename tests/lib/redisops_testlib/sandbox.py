"""The sandbox the tests run (never the user's): its identity, environment,
playbooks, AWS clients and instance containers.

The identity's fields and rules are the collection's
(plugins/module_utils/sandbox_identity.py), loaded from its file so both
sides compute the same values. The user's sandbox is whatever `make deploy`
in this clone would use (REDISOPS_SANDBOX_* or the defaults); the tests'
sandbox takes TEST_DEFAULTS, each overridable with REDISOPS_TEST_SANDBOX_*.
"""

import contextlib
import fcntl
import importlib.util
import json
import os
import subprocess
import time
import urllib.request

import boto3

from redisops_testlib.runner import DEFAULT_TIMEOUT_S, ROOT, ansible_env, run, run_playbook

_MODULE_UTILS = ROOT / "collections/ansible_collections/redisops/ec2_cluster/plugins/module_utils"


def load_module_utils(name, filename):
    """A pure module of the collection's module_utils, loaded from its file."""
    spec = importlib.util.spec_from_file_location(name, _MODULE_UTILS / filename)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


identity_rules = load_module_utils("redisops_sandbox_identity", "sandbox_identity.py")
# The sandbox's IAM principals and the file their keys are kept in.
iam_rules = load_module_utils("redisops_sandbox_iam", "sandbox_iam.py")

TEST_ENV_PREFIX = "REDISOPS_TEST_SANDBOX_"
TEST_DEFAULTS = {
    "port": "5100",
    "network": "redisops-test",
    "vpc_cidr": "10.78.0.0/16",
    "dir": "artifacts/sandbox-test",
    "container_prefix": "redisops-test-",
    "cluster_name": "sandbox-test",
}
# Labels the sandbox puts on instance containers (roles/sandbox_instances).
ID_LABEL = "io.redisops.sandbox.instance-id"
IP_LABEL = "io.redisops.sandbox.private-ip"
CLUSTER_LABEL = "io.redisops.sandbox.cluster"
ENDPOINT_LABEL = "io.redisops.sandbox.endpoint"
ACL_USERS = ("admin", "replication", "app")


def user_identity(environ=None):
    """The sandbox `make deploy` in this clone talks to."""
    return identity_rules.from_environ(os.environ if environ is None else environ, str(ROOT))


def identity_of_tests(environ=None):
    """The tests' sandbox: TEST_DEFAULTS unless REDISOPS_TEST_SANDBOX_<FIELD> says otherwise."""
    environ = os.environ if environ is None else environ
    raw = {f: environ.get(TEST_ENV_PREFIX + f.upper()) or TEST_DEFAULTS[f] for f in identity_rules.FIELDS}
    return identity_rules.build(raw, str(ROOT))


def identity_environ(identity):
    """REDISOPS_SANDBOX_* selecting this identity in the sandbox inventory."""
    return {identity_rules.env_name(f): str(identity[f]) for f in identity_rules.FIELDS}


class Sandbox:
    """A sandbox of one identity, driven through the project's playbooks."""

    def __init__(self, identity):
        self.identity = identity
        self.env = ansible_env(identity_environ(identity))
        self.endpoint = identity["endpoint_url"]
        self.region = identity["region"]
        self.cluster = identity["cluster_name"]
        self.network = identity["network"]
        self.prefix = identity["container_prefix"]
        self.dir = identity["dir"]
        self.state_file = os.path.join(self.dir, "terraform.tfstate")
        self.pid_file = os.path.join(self.dir, "moto-%d.pid" % identity["port"])
        self.keys_file = os.path.join(self.dir, iam_rules.KEYS_FILE_NAME)

    # --- Ansible -------------------------------------------------------
    def playbook(self, path, *args, timeout=DEFAULT_TIMEOUT_S, poll=None):
        """ansible-playbook on this sandbox; path relative to the project (site.yml, playbooks/x.yml)."""
        return run_playbook(path, *args, env=self.env, timeout=timeout, poll=poll)

    def run(self, argv, timeout=600):
        """Any Ansible command (ansible, ansible-inventory) on this sandbox's inventory."""
        return run(argv, env=self.env, timeout=timeout)

    # --- AWS -------------------------------------------------------------
    def key(self, principal="controller"):
        """{access_key, secret_key, user_name} of a sandbox principal: the key its moto issued
        (roles/sandbox_aws), or the dummy key before the sandbox made any."""
        if not os.path.exists(self.keys_file):
            return dict(iam_rules.DUMMY_KEY, user_name="")
        with open(self.keys_file) as handle:
            return iam_rules.credentials(iam_rules.parse_keys(handle.read(), self.keys_file), [principal])[0]

    def aws(self, service, principal="controller", key=None):
        """A boto3 client of the sandbox's moto with a principal's key (moto enforces IAM):
        ``controller`` as the playbooks, ``sandbox`` for the base resources, or ``key``."""
        key = key or self.key(principal)
        return boto3.client(service, endpoint_url=self.endpoint, region_name=self.region,
                            aws_access_key_id=key["access_key"], aws_secret_access_key=key["secret_key"])

    def moto_answers(self):
        try:
            with urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=3) as resp:
                return resp.status == 200
        except OSError:
            return False

    def instances(self, role="redis-cluster", states=("pending", "running", "stopping", "stopped")):
        filters = [{"Name": "instance-state-name", "Values": list(states)}]
        if role:
            filters.append({"Name": "tag:Role", "Values": [role]})
        pages = self.aws("ec2").get_paginator("describe_instances").paginate(Filters=filters)
        return [i for page in pages for r in page["Reservations"] for i in r["Instances"]]

    def acl_passwords(self):
        ssm = self.aws("ssm")
        return {user: ssm.get_parameter(Name="/redisops/%s/acl/%s" % (self.cluster, user),
                                        WithDecryption=True)["Parameter"]["Value"] for user in ACL_USERS}

    def read_state(self):
        with open(self.state_file) as handle:
            return json.load(handle)

    # --- Instances -------------------------------------------------------
    def container(self, instance_id):
        return self.prefix + instance_id

    def container_at(self, ip):
        """The container of the running instance with this private IP."""
        found = [i for i in self.instances(role=None, states=("running",)) if i.get("PrivateIpAddress") == ip]
        assert len(found) == 1, "no single running instance at %s: %s" % (ip, [i["InstanceId"] for i in found])
        return self.container(found[0]["InstanceId"])

    def exec(self, ip, *argv, env=None, check=True, timeout=120):
        """Run argv in the container of the instance at private IP ``ip``.

        Secrets go in ``env`` (docker exec -e NAME, value from this process's
        environment), never on a command line.
        """
        names = []
        child_env = dict(os.environ)
        for name, value in (env or {}).items():
            names += ["-e", name]
            child_env[name] = value
        proc = subprocess.run(["docker", "exec", *names, self.container_at(ip), *argv],
                              capture_output=True, text=True, timeout=timeout, env=child_env, check=False)
        if check:
            assert proc.returncode == 0, "%s on %s: rc=%s\n%s%s" % (argv, ip, proc.returncode, proc.stdout, proc.stderr)
        return proc

    # --- One test session at a time per identity ------------------------
    @contextlib.contextmanager
    def exclusive(self, wait_s=3600, poll_s=5):
        """Hold this sandbox for one test session; another waits, bounded."""
        os.makedirs(os.path.dirname(self.dir) or ".", exist_ok=True)
        with open(self.dir.rstrip("/") + ".lock", "w") as handle:
            deadline = time.monotonic() + wait_s
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise AssertionError("the test sandbox %s stayed busy for %ss" % (self.dir, wait_s))
                    time.sleep(poll_s)
            try:
                yield self
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
