"""One sandbox for every end-to-end check (tests/e2e/README.md).

The session brings the tests' sandbox (identity_of_tests(): its own port,
network, addresses, directory, container prefix and cluster name) up once,
with the node AMI from the image cache when tests/bake filled it, and takes
it down at the end. Modules run in file order (test_10_*, test_20_*, ...);
the ones that break the cluster or cycle the sandbox come last. Before
anything starts the user's sandbox is recorded (or a stand-in of it made),
and after the end it must be untouched.
"""

import os

import docker
import pytest

from redisops_testlib import Sandbox, identity_of_tests, user_identity
from redisops_testlib.guard import UserSandboxGuard
from redisops_testlib.sandbox import identity_rules
from sandbox_checks import node_image_cache

TIMINGS = {}


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.write_line("e2e timings (s): " + ", ".join("%s=%.0f" % kv for kv in TIMINGS.items()))


@pytest.fixture(scope="session")
def timings():
    """Record a figure: timings["site_first"] = run.seconds (printed at the end)."""
    return TIMINGS


@pytest.fixture(scope="session")
def user_sandbox_guard():
    """The user's sandbox as it was before the session; compared after it."""
    user, tests = user_identity(), identity_of_tests()
    clash = identity_rules.conflicts(user, tests)
    assert not clash, "the tests' sandbox would share %s with the user's sandbox" % clash
    guard = UserSandboxGuard(user, os.environ.get("REDISOPS_BASE_IMAGE", "redisops/debian12-base:latest"))
    guard.start()
    try:
        yield guard
        changes = guard.changes()
    finally:
        guard.finish()
    assert changes == {}, "the user's sandbox changed during the tests: %s" % changes


@pytest.fixture(scope="session")
def sandbox(user_sandbox_guard):
    """The tests' sandbox, up (6 instances over 3 AZs); down after the session.

    Attributes: identity, env, endpoint, cluster, network, prefix, dir,
    state_file, pid_file, up_run (the first sandbox_up.yml run),
    cache_before (the node image cache's tags before it), left_down (set
    when a test has taken it down and checked that); methods:
    playbook(path, *args), run(argv), aws(service), instances(),
    container_at(ip), exec(ip, *argv, env=...), acl_passwords().
    """
    sbx = Sandbox(identity_of_tests())
    with sbx.exclusive():
        leftovers = sbx.playbook("playbooks/sandbox_down.yml")  # of a run that was killed
        assert leftovers.rc == 0, leftovers.explain()
        sbx.left_down = False
        try:
            sbx.cache_before = node_image_cache()
            sbx.up_run = sbx.playbook("playbooks/sandbox_up.yml")
            TIMINGS["up_cold"] = sbx.up_run.seconds
            assert sbx.up_run.rc == 0, sbx.up_run.explain()
            yield sbx
        finally:
            # test_90 leaves the sandbox down, and has checked it: a third down
            # would only repeat its "down twice is fine".
            down = None if sbx.left_down else sbx.playbook("playbooks/sandbox_down.yml")
        assert down is None or down.rc == 0, down.explain()


@pytest.fixture(scope="session")
def aws(sandbox):
    """aws("ec2"[, principal]) -> a boto3 client of the sandbox's moto with a principal's key (controller by default)."""
    return sandbox.aws


@pytest.fixture(scope="session")
def playbook(sandbox):
    """playbook("site.yml", "-e", ...) -> PlaybookRun (rc, output, recap(), changed(), explain())."""
    return sandbox.playbook


@pytest.fixture(scope="session")
def instance_exec(sandbox):
    """instance_exec(ip, *argv, env={...}, check=True) runs argv in that instance's container."""
    return sandbox.exec


@pytest.fixture(scope="session")
def acl_passwords(sandbox):
    """{user: password} of the cluster's ACL users, from SSM."""
    return sandbox.acl_passwords()


@pytest.fixture(scope="session")
def deployed(sandbox):
    """The cluster deployed by site.yml, run twice: (first run, second run).

    Before them, a check run on the new nodes must not fail.
    """
    check = sandbox.playbook("site.yml", "--check")
    TIMINGS["site_check"] = check.seconds
    assert check.rc == 0, check.explain(8000)
    first = sandbox.playbook("site.yml")
    TIMINGS["site_first"] = first.seconds
    assert first.rc == 0, first.explain(8000)
    second = sandbox.playbook("site.yml")
    TIMINGS["site_second"] = second.seconds
    assert second.rc == 0, second.explain(8000)
    return first, second


@pytest.fixture
def instances(sandbox):
    """{private ip: {id, az}} of the running cluster instances."""
    return {i["PrivateIpAddress"]: {"id": i["InstanceId"], "az": i["Placement"]["AvailabilityZone"]}
            for i in sandbox.instances(states=("running",))}


@pytest.fixture
def redis_cli(sandbox):
    """redis_cli(ip, password, *args, user="admin", check=True) -> stdout of redis-cli in that node.

    The password travels in REDISCLI_AUTH, never on a command line.
    """
    def cli(ip, password, *args, user="admin", check=True):
        proc = sandbox.exec(ip, "redis-cli", "--user", user, "-h", "127.0.0.1", *args,
                            env={"REDISCLI_AUTH": password}, check=False)
        if check:
            assert proc.returncode == 0, proc.stderr
        return proc.stdout
    return cli


@pytest.fixture(scope="session")
def docker_client():
    client = docker.from_env()
    yield client
    client.close()

