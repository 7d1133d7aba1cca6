"""Every property test of the collection runs the same examples on every run
and on every machine: derandomized, no example database, and no deadline,
since a time limit per example fails by load, not by a defect (a loaded CI
machine took 311 ms for an example the default 200 ms deadline refused)."""

from hypothesis import settings

settings.register_profile("redisops", derandomize=True, database=None, deadline=None)
settings.load_profile("redisops")
