"""Pytest plugin: a run with skipped or xfailed tests fails.

The project's rule is that a skipped step never counts as passing, so every
pytest run (unit tests and Molecule's testinfra verifier) loads this plugin
through PYTEST_ADDOPTS=-p no_skips.
"""

import pytest

_NOT_RUN = []


def pytest_runtest_logreport(report):
    if report.skipped:
        _NOT_RUN.append(report.nodeid)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if _NOT_RUN and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    if _NOT_RUN:
        terminalreporter.write_line(
            f"no_skips: {len(_NOT_RUN)} test(s) skipped, which fails the run: "
            + ", ".join(_NOT_RUN),
            red=True,
        )
