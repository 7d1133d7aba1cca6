"""The harness itself: the tests' sandbox can never be the user's, and the
runner reads recaps and bounds runs. Fast: no Docker, no sandbox."""

import pytest

from redisops_testlib import identity_of_tests, run, run_playbook, user_identity
from redisops_testlib.runner import RUN_LOG_DIR, ansible_env
from redisops_testlib.sandbox import TEST_DEFAULTS, Sandbox, iam_rules, identity_environ, identity_rules


def test_test_identity_differs_from_the_default_in_every_field():
    default = identity_rules.from_environ({}, "/p")
    tests = identity_of_tests({})
    for field in identity_rules.FIELDS:
        assert tests[field] != default[field], field
    assert identity_rules.conflicts(default, tests) == []


def test_test_identity_differs_from_this_clones_user_sandbox():
    assert identity_rules.conflicts(user_identity(), identity_of_tests()) == []


def test_the_inventory_sees_the_identity_the_tests_set():
    tests = identity_of_tests({})
    assert identity_rules.from_environ(identity_environ(tests), "/elsewhere") == tests


def test_overrides_for_a_private_port_and_dir():
    moved = identity_of_tests({"REDISOPS_TEST_SANDBOX_PORT": "5131", "REDISOPS_TEST_SANDBOX_DIR": "/tmp/x"})
    assert moved["endpoint_url"] == "http://127.0.0.1:5131" and moved["dir"] == "/tmp/x"
    assert moved["network"] == TEST_DEFAULTS["network"]


def test_the_harness_uses_the_keys_the_sandbox_issued(tmp_path):
    sandbox = Sandbox(identity_of_tests({"REDISOPS_TEST_SANDBOX_DIR": str(tmp_path)}))
    # No keys file yet: moto does not enforce IAM, the dummy key.
    assert sandbox.key("controller") == {"access_key": "testing", "secret_key": "testing", "user_name": ""}
    entry = {"user_name": "redisops-sandbox-test-operator", "access_key_id": "AKIA0000111122223333",
             "secret_access_key": "s"}
    (tmp_path / iam_rules.KEYS_FILE_NAME).write_text(iam_rules.render_keys({"operator": entry}, sandbox.endpoint))
    assert sandbox.key("operator") == {"access_key": "AKIA0000111122223333", "secret_key": "s",
                                       "user_name": "redisops-sandbox-test-operator"}
    with pytest.raises(iam_rules.SandboxIamError, match="no key for principal controller"):
        sandbox.key()


def test_runner_parses_the_recap_of_a_real_run(tmp_path):
    book = tmp_path / "book.yml"
    book.write_text(
        "- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.command: 'true'\n      changed_when: true\n"
        "    - ansible.builtin.debug: {msg: hello}\n")
    result = run_playbook(book, "-i", "localhost,", timeout=120)
    assert result.rc == 0, result.explain()
    assert result.recap()["localhost"]["ok"] == 2
    assert result.changed() == 1 and result.failed() == 0


def test_a_logged_run_keeps_its_output_and_task_times(tmp_path, monkeypatch):
    book = tmp_path / "book.yml"
    book.write_text("- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n"
                    "    - ansible.builtin.debug: {msg: logged-hello}\n")
    logs = tmp_path / "logs"
    monkeypatch.setenv(RUN_LOG_DIR, str(logs))
    result = run_playbook(book, "-i", "localhost,", env=ansible_env(), timeout=120)
    assert result.rc == 0, result.explain()
    [log] = list(logs.iterdir())
    assert log.name.endswith("test_a_logged_run_keeps_its_output_and_task_times-book.log"), log.name
    text = log.read_text()
    assert "rc=0 after" in text and "logged-hello" in text
    assert "0:00:0" in text  # profile_tasks' timing of the task


def test_an_unlogged_run_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv(RUN_LOG_DIR, raising=False)
    monkeypatch.delenv("ANSIBLE_CALLBACKS_ENABLED", raising=False)
    monkeypatch.chdir(tmp_path)
    assert "ANSIBLE_CALLBACKS_ENABLED" not in ansible_env()
    run(["true"], timeout=30)
    assert list(tmp_path.iterdir()) == []


def test_runner_stops_a_run_that_overstays():
    with pytest.raises(AssertionError, match="did not finish within 1s"):
        run(["sleep", "30"], timeout=1)


def test_runner_samples_while_it_runs():
    result = run(["sleep", "1"], timeout=30, poll=lambda: "x", poll_interval_s=0.2)
    assert result.rc == 0 and 2 <= len(result.process_lists) <= 10
