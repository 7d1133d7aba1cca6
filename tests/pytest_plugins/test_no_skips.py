"""The no_skips plugin itself, on throwaway test files (pytester, each run
in its own process)."""

import os

import pytest

PLUGIN_DIR = os.path.dirname(os.path.abspath(__file__))
PASSING = "def test_ok():\n    assert 1 + 1 == 2\n"


@pytest.fixture
def run(pytester, monkeypatch):
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [PLUGIN_DIR, os.environ.get("PYTHONPATH")])))

    def run_files(plugin=True, **files):
        pytester.makepyfile(**files)
        args = ["-p", "no_skips"] if plugin else []
        return pytester.runpytest_subprocess(*args, "-p", "no:cacheprovider")
    return run_files


def test_a_clean_run_passes(run):
    result = run(test_a=PASSING)
    assert result.ret == 0
    result.assert_outcomes(passed=1)
    assert "no_skips" not in result.stdout.str()


def test_a_skipped_test_fails_the_run(run):
    result = run(test_a=PASSING + "import pytest\ndef test_skip():\n    pytest.skip('later')\n")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["no_skips: 1 test(s) or file(s) skipped, which fails the run: test_a.py::test_skip"])


def test_an_xfailed_test_fails_the_run(run):
    result = run(test_a="import pytest\n@pytest.mark.xfail\ndef test_x():\n    assert False\n")
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_file_skipped_by_a_module_level_importorskip_fails_the_run(run):
    result = run(test_a=PASSING, test_b="import pytest\npytest.importorskip('no_such_module_here')\n" + PASSING)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["no_skips: 1 test(s) or file(s) skipped*test_b.py (skipped while collecting:*"
                                 "no_such_module_here*"])


def test_a_file_skipped_with_allow_module_level_fails_the_run(run):
    result = run(test_b="import pytest\npytest.skip('not here', allow_module_level=True)\n" + PASSING)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*test_b.py (skipped while collecting: *not here*"])


def test_a_failure_stays_a_failure(run):
    result = run(test_a="def test_bad():\n    assert False\n")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(failed=1)


def test_without_the_plugin_the_same_skips_would_pass(run):
    result = run(plugin=False, test_a=PASSING, test_b="import pytest\npytest.importorskip('no_such_module_here')\n")
    assert result.ret == 0
