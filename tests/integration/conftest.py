"""Integration tests of the collection's modules against real servers.

Puts collections/ on sys.path (ansible_collections.redisops...) and the
directory of the module's real-server helpers (test_cluster_topology.py,
here or still under the collection's tests/unit) on sys.path, so test files
import them as `test_cluster_topology`.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / "collections"
HELPERS = [Path(__file__).resolve().parent,
           COLLECTIONS / "ansible_collections/redisops/ec2_cluster/tests/unit/plugins/modules"]

for path in [COLLECTIONS] + [p for p in HELPERS if (p / "test_cluster_topology.py").is_file()][:1]:
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
