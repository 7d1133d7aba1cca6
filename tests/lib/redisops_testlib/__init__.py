"""Test harness shared by every pytest suite of the project (tests/bake,
tests/e2e, Molecule's testinfra tests): one way to run Ansible and read its
recap, and the sandbox the tests use (never the user's)."""

from redisops_testlib.runner import ROOT, PlaybookRun, ansible_env, run, run_playbook
from redisops_testlib.sandbox import Sandbox, identity_of_tests, user_identity

__all__ = ["ROOT", "PlaybookRun", "Sandbox", "ansible_env", "run", "run_playbook", "identity_of_tests", "user_identity"]
