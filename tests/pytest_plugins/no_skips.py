"""Pytest plugin: a run with skipped or xfailed tests fails.

The project's rule is that a skipped step never counts as passing, so every
pytest run (unit and integration tests, Molecule's testinfra verifier) loads
this plugin through PYTEST_ADDOPTS=-p no_skips. Skips at collection time
count too: a test file skipped as a whole (a module-level
``pytest.importorskip`` or ``pytest.skip(allow_module_level=True)``) would
otherwise vanish from the run without a trace.
"""

import pytest

_NOT_RUN = pytest.StashKey()
# Reports do not carry the config; the one of the running session does.
_SESSION_CONFIG = []


def pytest_configure(config):
    config.stash[_NOT_RUN] = []
    _SESSION_CONFIG[:] = [config]


def pytest_collectreport(report):
    if report.skipped:
        _record(report, "%s (skipped while collecting: %s)" % (report.nodeid or report.fspath, _reason(report)))


def pytest_runtest_logreport(report):
    if report.skipped:
        _record(report, report.nodeid)


def _record(_report, what):
    _SESSION_CONFIG[0].stash[_NOT_RUN].append(what)


def _reason(report):
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if session.config.stash[_NOT_RUN] and exitstatus in (0, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    not_run = terminalreporter.config.stash[_NOT_RUN]
    if not_run:
        terminalreporter.write_line(
            "no_skips: %d test(s) or file(s) skipped, which fails the run: %s" % (len(not_run), ", ".join(not_run)),
            red=True,
        )
