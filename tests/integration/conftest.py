"""Integration tests: collection code against real servers (redis-server,
moto) started on 127.0.0.1 by the tests themselves."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for path in (ROOT / "collections", Path(__file__).resolve().parent):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
