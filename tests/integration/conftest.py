"""Integration tests: collection code against real servers (redis-server,
moto) started on 127.0.0.1 by the tests themselves."""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
for path in (ROOT / "collections", Path(__file__).resolve().parent):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from ansible.module_utils import _internal as module_internal  # noqa: E402
from ansible.module_utils.common import warnings as module_warnings  # noqa: E402
from ansible.module_utils.testing import patch_module_args  # noqa: E402

from redis_servers import Servers  # noqa: E402


@pytest.fixture
def servers(tmp_path):
    started = Servers(str(tmp_path))
    try:
        yield started
    finally:
        started.stop_all()


@pytest.fixture
def run_module(capsys, monkeypatch):
    """Run a module's main() with the given arguments; returns its result.

    ``expect_failure`` says whether the module must fail: a result that
    disagrees fails the test with the module's message.
    """
    def run(module, expect_failure=False, check=False, diff=False, **args):
        args = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
        # Warnings are process-wide; each run starts without the last one's.
        module_warnings._global_warnings.clear()
        module_warnings._global_deprecations.clear()
        # A module runs as on a target: once any test imported controller
        # code (a lookup plugin), ansible-core would send the module's
        # warnings to the controller's display instead of its result.
        monkeypatch.setattr(module_internal, "is_controller", False)
        with patch_module_args(args):
            with pytest.raises(SystemExit):
                module.main()
        result = json.loads(capsys.readouterr().out)
        assert bool(result.get("failed")) is expect_failure, result.get("msg")
        return result
    return run
