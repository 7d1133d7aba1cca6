"""Run ansible-playbook (or ansible, ansible-inventory) the way every test
does: isolated from the user's AWS files and credentials, no colour, bounded
in time, with the PLAY RECAP parsed."""

import os
import re
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_TIMEOUT_S = 1800
RUN_LOG_DIR = "REDISOPS_RUN_LOG_DIR"

_RECAP = re.compile(r"^(?P<host>\S+)\s+:\s+(?P<counts>ok=\d+.*)$", re.MULTILINE)


class PlaybookRun:
    """One finished run: rc, stdout, stderr, output (both), seconds, and the
    samples a ``poll`` callback returned while it ran (process_lists)."""

    def __init__(self, argv, rc, stdout, stderr, seconds, samples=()):
        self.argv = argv
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.output = stdout + stderr
        self.seconds = seconds
        self.process_lists = list(samples)

    def recap(self):
        """{host: {ok, changed, unreachable, failed, skipped, rescued, ignored}} from the PLAY RECAP."""
        return {m["host"]: {k: int(v) for k, v in (p.split("=") for p in m["counts"].split())}
                for m in _RECAP.finditer(self.stdout)}

    def changed(self):
        return sum(host["changed"] for host in self.recap().values())

    def failed(self):
        return sum(host["failed"] + host["unreachable"] for host in self.recap().values())

    def explain(self, tail=6000):
        return "%s\nrc=%s after %.0fs\n--- stdout (tail) ---\n%s\n--- stderr (tail) ---\n%s" % (
            " ".join(self.argv), self.rc, self.seconds, self.stdout[-tail:], self.stderr[-tail // 2:])


def ansible_env(extra=None):
    """The environment of every Ansible run in the tests.

    The project's venv first on PATH, the project's ansible.cfg, no colour,
    and botocore kept away from the user's AWS files, credentials and any
    instance metadata service: the dummy keys below are all an AWS client
    finds in the environment. The sandbox's moto enforces IAM and refuses
    them; every sandbox call passes the key moto issued to its principal
    (docs/targets.md, "IAM in the sandbox"), so a call that does not is
    refused instead of running with somebody else's rights.
    """
    env = dict(os.environ)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_DEFAULT_PROFILE"):
        env.pop(name, None)
    env.update({
        "PATH": str(ROOT / ".venv" / "bin") + os.pathsep + env.get("PATH", ""),
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_NOCOLOR": "1",
        "PY_COLORS": "0",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-west-2",
    })
    if env.get(RUN_LOG_DIR):
        # a run that is logged is also timed, task by task, for the log
        env.setdefault("ANSIBLE_CALLBACKS_ENABLED", "ansible.posix.profile_tasks")
    env.update(extra or {})
    return env


def _log_run(result, env):
    """Keep the whole output of a run in $REDISOPS_RUN_LOG_DIR (set by make's
    test steps), named after the test that made it: a CI log then shows where
    the time of a step went, and what a passing run printed."""
    directory = (env or os.environ).get(RUN_LOG_DIR)
    if not directory:
        return
    test = os.environ.get("PYTEST_CURRENT_TEST", "no-test").split(" ")[0].split("::")[-1]
    command = Path(result.argv[-1] if len(result.argv) > 1 else result.argv[0]).name
    for arg in result.argv[1:]:
        if arg.endswith(".yml"):
            command = Path(arg).stem
            break
    name = "%s-%s-%s.log" % (time.strftime("%H%M%S"), re.sub(r"[^\w.-]+", "_", test)[:80], command)
    path = Path(directory) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("%s\nrc=%s after %.1fs\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
        " ".join(result.argv), result.rc, result.seconds, result.stdout, result.stderr))


def run(argv, env=None, timeout=DEFAULT_TIMEOUT_S, cwd=ROOT, poll=None, poll_interval_s=0.3):
    """Run argv to completion within ``timeout`` seconds (killed and failed after).

    ``poll``: called every ``poll_interval_s`` while the command runs; what
    it returns (one sample, or a list of them) is kept in ``.process_lists``.
    """
    argv = [str(a) for a in argv]
    started = time.monotonic()
    with subprocess.Popen(argv, cwd=cwd, env=env or ansible_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True) as proc:
        out = {}
        reader = threading.Thread(target=lambda: out.update(zip(("stdout", "stderr"), proc.communicate())),
                                  daemon=True)
        reader.start()
        samples = []
        deadline = started + timeout
        while reader.is_alive() and time.monotonic() < deadline:
            if poll is not None:
                sample = poll()
                samples.extend(sample if isinstance(sample, list) else [sample])
            reader.join(poll_interval_s if poll is not None else min(5.0, max(0.0, deadline - time.monotonic())))
        if reader.is_alive():
            proc.kill()
            reader.join(30)
            raise AssertionError("%s did not finish within %ss" % (" ".join(argv), timeout))
    result = PlaybookRun(argv, proc.returncode, out.get("stdout", ""), out.get("stderr", ""),
                         time.monotonic() - started, samples)
    _log_run(result, env)
    return result


def run_playbook(playbook, *args, inventory=None, env=None, timeout=DEFAULT_TIMEOUT_S, poll=None):
    """ansible-playbook <playbook> [-i inventory ...] args; playbook relative to the project or absolute."""
    argv = ["ansible-playbook"]
    for source in ([inventory] if isinstance(inventory, (str, Path)) else inventory or []):
        argv += ["-i", str(source)]
    argv += [str(ROOT / playbook), *args]
    return run(argv, env=env, timeout=timeout, poll=poll)
