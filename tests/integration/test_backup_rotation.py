"""playbooks/backup_rotation.yml end to end against a private moto S3 with a
versioned bucket: a 400-day history, check mode, a real run, a second run,
and every safety refusal. Also the schedule playbook: a cron entry in a
temporary cron file whose command runs the rotation under a lock into a log.

Run with: flock /tmp/redisops-local.lock python -m pytest tests/integration/test_backup_rotation.py
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from moto_server import SAFE_ENV, client, moto_server
from rotation_history import (UTC, build_history, latest_slot, put_set, reference_keep, set_id,
                              versions_by_set)

ROOT = Path(__file__).resolve().parents[2]
PORT = 5150            # this file's moto; 5151 is never listened on (the failed-listing case)
DEAD_PORT = 5151
BUCKET = "redisops-rotation-it"
VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    work = tmp_path_factory.mktemp("rotation")
    with moto_server(PORT, work) as endpoint:
        s3 = client("s3", endpoint)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        state = work / "terraform.tfstate"
        state.write_text(json.dumps({"version": 4, "terraform_version": "1.9.0", "serial": 1, "lineage": "it",
                                     "outputs": {"region": {"value": "us-west-2", "type": "string"},
                                                 "cluster_name": {"value": "main", "type": "string"},
                                                 "backup_bucket": {"value": BUCKET, "type": "string"}},
                                     "resources": []}))
        yield {"s3": s3, "endpoint": endpoint, "state": state, "work": work}


def playbook_env(extra=None):
    env = dict(os.environ, **SAFE_ENV)
    env.update({"REDISOPS_SANDBOX_PORT": str(PORT), "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
                "PATH": "%s:%s" % (VENV_BIN, env.get("PATH", "")), "ANSIBLE_FORCE_COLOR": "0",
                "ANSIBLE_NOCOLOR": "1"})
    env.update(extra or {})
    return env


def run_playbook(sandbox, playbook, *args, check=False, as_json=True):
    """ansible-playbook against the sandbox inventory pointed at this file's moto."""
    command = [str(VENV_BIN / "ansible-playbook"), playbook, "-e", "redisops_terraform_state=%s" % sandbox["state"]]
    command += list(args) + (["--check"] if check else [])
    env = playbook_env({"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"} if as_json else None)
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if not as_json:
        return done.returncode, done.stdout + done.stderr
    try:
        report = json.loads(done.stdout[done.stdout.index("{"):])
    except ValueError:
        raise AssertionError("no JSON report from ansible-playbook (rc %d): %s %s"
                             % (done.returncode, done.stdout[-3000:], done.stderr[-3000:]))
    return done.returncode, report


def task_result(report, name):
    for play in report["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"].split(" : ")[-1] == name:
                return task["hosts"]["localhost"]
    raise AssertionError("task %r did not run" % name)


ROTATE = "Rotate the backup sets"
SHOW = "Show each set, kept or deleted, and why"


def rotation_run(sandbox, *args, check=False):
    rc, report = run_playbook(sandbox, "playbooks/backup_rotation.yml", *args, check=check)
    return rc, report, task_result(report, ROTATE)


# ---------------------------------------------------------------- the 400-day history


def test_a_400_day_history_check_then_real_then_again(sandbox):
    s3 = sandbox["s3"]
    now = dt.datetime.now(UTC)
    history = build_history(s3, BUCKET, "main", now)
    root = "backups/main/"
    before = versions_by_set(s3, BUCKET, root)
    assert len(before) == 400 + 5
    assert sum(len(v) for v in before.values()) > 2400

    # What must remain, from the reference: the policy's sets, and incomplete sets within the 2-day grace.
    expected = reference_keep(history["complete"])
    expected |= {sid for sid in history["incomplete"] if now - dt.datetime.strptime(sid, "%Y%m%dT%H%M%SZ")
                 .replace(tzinfo=UTC) <= dt.timedelta(days=2)}
    notes = history["notes"]

    # Spot checks by hand, from the calendar alone.
    newest_complete = max(history["complete"])
    assert newest_complete in expected and notes["running"] in expected and notes["abandoned"] not in expected
    assert notes["second_same_day"] in expected and notes["first_same_day"] not in expected
    assert notes["hidden"] not in expected and notes["manifest_deleted"] not in expected
    assert notes["oldest"] not in expected and notes["split_recent"] in expected
    month_start = dt.datetime.strptime(newest_complete[:6] + "01", "%Y%m%d").strftime("%Y%m%dT000000Z")
    assert max(s for s in history["complete"] if s < month_start) in expected     # last of the previous month
    newest = dt.datetime.strptime(newest_complete, "%Y%m%dT%H%M%SZ")
    monday = (newest - dt.timedelta(days=newest.weekday())).strftime("%Y%m%dT000000Z")
    assert max(s for s in history["complete"] if s < monday) in expected          # last of the previous ISO week
    days = sorted({s[:8] for s in history["complete"]}, reverse=True)[:7]
    for day in days:                                                              # the 7 most recent days
        assert max(s for s in history["complete"] if s.startswith(day)) in expected
    assert 8 <= len(expected & set(history["complete"])) <= 14

    # Check mode: the plan, nothing deleted.
    rc, report, dry = rotation_run(sandbox, check=True)
    assert rc == 0, dry
    assert dry["changed"] and versions_by_set(s3, BUCKET, root) == before
    assert set(dry["kept"]) == expected
    assert set(dry["deleted"]) == set(before) - expected
    dry_table = task_result(report, SHOW)["msg"].splitlines()

    # The real run deletes exactly what check mode printed.
    rc, report, real = rotation_run(sandbox)
    assert rc == 0, real
    assert real["changed"] and real["table"] == dry["table"] and real["sets"] == dry["sets"]
    real_table = task_result(report, SHOW)["msg"].splitlines()
    assert real_table[1:] == dry_table[1:] == real["table"] and len(real_table) == 1 + 1 + 405
    assert dry_table[0].startswith("s3://%s/backups/main/: would keep" % BUCKET)
    assert real_table[0].startswith("s3://%s/backups/main/: kept" % BUCKET)
    after = versions_by_set(s3, BUCKET, root)
    assert set(after) == expected
    for sid in expected:
        assert sorted(after[sid]) == sorted(before[sid])   # kept sets keep every version
    assert real["deleted_versions"] == sum(len(before[s]) for s in set(before) - expected)
    assert real["summary"]["deleted_versions"] == real["deleted_versions"]
    assert real["delete_requests"] == -(-real["deleted_versions"] // 1000)

    # A second run deletes nothing and reports no change, in check mode and for real.
    for check in (True, False):
        rc, report, again = rotation_run(sandbox, check=check)
        assert rc == 0 and not again["changed"] and again["deleted"] == [] and set(again["kept"]) == expected
    assert report["stats"]["localhost"]["changed"] == 0
    assert versions_by_set(s3, BUCKET, root) == after

    # People read a table: each set, kept or deleted, and why.
    rc, text = run_playbook(sandbox, "playbooks/backup_rotation.yml", as_json=False)
    assert rc == 0
    assert re.search(r"%s\s+complete\s+\d+\s+\d+\s+keep\s+newest, daily" % newest_complete, text)
    assert re.search(r"\n\s*%s  incomplete +\d+ +\d+  keep    incomplete, within the 2-day grace period\n"
                     % notes["running"], text), text[:3000]


# ---------------------------------------------------------------- safety refusals: each deletes nothing


def history_of(s3, cluster, offsets, incomplete=()):
    latest = latest_slot(dt.datetime.now(UTC))
    for offset in offsets:
        put_set(s3, BUCKET, cluster, set_id(latest - dt.timedelta(days=offset)),
                with_manifests={0} if offset in incomplete else None)
    return versions_by_set(s3, BUCKET, "backups/%s/" % cluster)


def assert_refused(sandbox, cluster, before, message, *args):
    rc, report, result = rotation_run(sandbox, "-e", "backup_rotation_cluster_name=%s" % cluster, *args)
    assert rc != 0 and result.get("failed"), result
    assert message in result["msg"] and "nothing was deleted" in result["msg"], result["msg"]
    assert versions_by_set(sandbox["s3"], BUCKET, "backups/%s/" % cluster) == before
    return result


def test_refuses_when_the_listing_fails(sandbox):
    before = history_of(sandbox["s3"], "unreachable", range(30))
    assert_refused(sandbox, "unreachable", before, "failed",
                   "-e", "backup_rotation_aws_endpoint_url=http://127.0.0.1:%d" % DEAD_PORT,
                   "-e", "backup_rotation_bucket=%s" % BUCKET)


def test_refuses_when_the_listing_is_cut_short_by_the_bound(sandbox):
    before = history_of(sandbox["s3"], "bounded", range(30))     # 180 objects
    assert_refused(sandbox, "bounded", before, "more than 150 object versions", "-e", "backup_rotation_max_objects=150")


def test_refuses_without_a_complete_set(sandbox):
    before = history_of(sandbox["s3"], "broken", range(3, 20), incomplete=range(3, 20))
    result = assert_refused(sandbox, "broken", before, "no complete backup set exists")
    assert any("incomplete for more than 2 days" in line for line in result["table"])


def test_refuses_when_the_newest_complete_set_is_stale(sandbox):
    before = history_of(sandbox["s3"], "stale", range(3, 60), incomplete=(3,))
    assert_refused(sandbox, "stale", before, "h old, more than max_newest_age_hours=48")


def test_bad_counts_fail_before_anything_changes(sandbox):
    before = history_of(sandbox["s3"], "badcounts", range(20))
    rc, _report, result = rotation_run(sandbox, "-e", "backup_rotation_cluster_name=badcounts",
                                       "-e", "backup_rotation_keep_daily=-1")
    assert rc != 0 and "keep_daily must be >= 0" in result["msg"]
    assert versions_by_set(sandbox["s3"], BUCKET, "backups/badcounts/") == before


# ---------------------------------------------------------------- the schedule


def test_schedule_installs_a_cron_entry_that_runs_once_at_a_time_with_logs(sandbox, tmp_path):
    s3 = sandbox["s3"]
    ids = sorted(history_of(s3, "scheduled", range(40)))
    first_keep = reference_keep(ids)
    cron_file = tmp_path / "cron.d" / "redisops-backup-rotation"
    cron_file.parent.mkdir()
    home = tmp_path / "schedule"
    user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    settings = tmp_path / "schedule.json"
    settings.write_text(json.dumps({
        "backup_rotation_schedule_cron_file": str(cron_file),
        "backup_rotation_schedule_user": user,
        "backup_rotation_schedule_dir": str(home),
        "backup_rotation_schedule_logs_kept": 2,
        "backup_rotation_schedule_timeout_seconds": 300,
        "backup_rotation_schedule_playbook_args": ["-e", "redisops_terraform_state=%s" % sandbox["state"],
                                                   "-e", "backup_rotation_cluster_name=scheduled"],
        "backup_rotation_schedule_environment": dict(SAFE_ENV, REDISOPS_SANDBOX_PORT=str(PORT)),
    }))
    schedule = ("playbooks/backup_rotation_schedule.yml", "-e", "@%s" % settings)

    rc, report = run_playbook(sandbox, *schedule, check=True)
    assert rc == 0 and report["stats"]["localhost"]["changed"] > 0
    assert not cron_file.exists() and not home.exists()
    rc, report = run_playbook(sandbox, *schedule)
    assert rc == 0 and report["stats"]["localhost"]["changed"] > 0
    rc, report = run_playbook(sandbox, *schedule)
    assert rc == 0 and report["stats"]["localhost"]["changed"] == 0, report["stats"]

    entries = [line for line in cron_file.read_text().splitlines() if line and not line.startswith("#")]
    assert len(entries) == 1
    fields = entries[0].split(None, 6)
    assert fields[:6] == ["30", "4", "*", "*", "*", user]
    job = fields[6]
    wrapper = home / "backup-rotation.sh"
    assert shlex.split(job) == [str(wrapper)]

    def run_job():
        """As cron runs it: /bin/sh -c with cron's bare environment."""
        return subprocess.run(["/bin/sh", "-c", job], env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                                                           "SHELL": "/bin/sh", "LOGNAME": user},
                              capture_output=True, text=True, timeout=600)

    # One run: the rotation happens and its log says so.
    done = run_job()
    assert done.returncode == 0, (done.stdout, done.stderr)
    logs = sorted((home / "logs").glob("backup-rotation-*.log"))
    assert len(logs) == 1
    text = logs[0].read_text()
    assert "backup rotation starts" in text and "PLAY RECAP" in text and "ends with exit code 0" in text
    assert "s3://%s/backups/scheduled/: kept %d sets, deleted %d" % (BUCKET, len(first_keep), 40 - len(first_keep)) in text
    assert set(versions_by_set(s3, BUCKET, "backups/scheduled/")) == first_keep

    # A run while another holds the lock exits at once without running, and says so in a log.
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, sys, time; lock = open(sys.argv[1], 'a'); "
                               "fcntl.flock(lock, fcntl.LOCK_EX); time.sleep(120)", str(home / "rotation.lock")])
    try:
        for _ in range(50):
            if subprocess.run(["flock", "-n", str(home / "rotation.lock"), "true"]).returncode != 0:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the lock holder did not take the lock within 5 s")
        older = set_id(latest_slot(dt.datetime.now(UTC)) - dt.timedelta(days=50))
        put_set(s3, BUCKET, "scheduled", older)
        started = time.monotonic()
        skipped = run_job()
        assert skipped.returncode == 75 and time.monotonic() - started < 5
    finally:
        holder.terminate()
        holder.wait(timeout=10)
    skipped_logs = list((home / "logs").glob("*-skipped.log"))
    assert len(skipped_logs) == 1 and "this run is skipped" in skipped_logs[0].read_text()
    assert set(versions_by_set(s3, BUCKET, "backups/scheduled/")) == first_keep | {older}  # nothing deleted

    # Logs rotate: the newest 2 are kept.
    assert run_job().returncode == 0
    assert set(versions_by_set(s3, BUCKET, "backups/scheduled/")) == reference_keep(sorted(first_keep | {older}))
    assert run_job().returncode == 0
    logs = sorted((home / "logs").glob("backup-rotation-*.log"))
    assert len(logs) == 2 and all(not log.name.endswith("-skipped.log") for log in logs)
    assert "deleted 0 (0 objects, 0 versions)" in logs[-1].read_text()

    # Removed again.
    rc, report = run_playbook(sandbox, *schedule, "-e", "backup_rotation_schedule_state=absent")
    assert rc == 0 and not cron_file.exists() and not wrapper.exists()   # the cron module drops an emptied file
