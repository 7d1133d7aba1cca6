# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every part of the collection reads from a Redis or Valkey node, in
one place: the INFO / CLUSTER INFO parser and the cluster's constants.

Pure and dependency-free (no Ansible, no redis-py): modules, filters and the
programs installed on the nodes (backup, metrics) all import it, the latter
under the node's own Python 3.11.
"""

from __future__ import annotations

import re

# Hash slots of a Redis Cluster (CRC16(key) mod 16384).
SLOT_COUNT = 16384
# INFO replication says "slave"; newer servers also accept "replica".
REPLICA_ROLES = ("slave", "replica")

# Fields whose value is a comma-separated list of key=value pairs.
_NESTED_FIELD = re.compile(r"^(slave\d+|db\d+)$")


def parse_info(text):
    """INFO / CLUSTER INFO text -> {field: value}.

    Values stay strings, except ``slaveN`` (``ip=..,port=..,state=..``) and
    ``dbN`` (``keys=..,expires=..``) lines, which become dicts of strings.
    Section headers (``# Replication``) and blank lines are dropped; so is
    anything that is not ``field:value``.
    """
    result = {}
    for raw in str(text or "").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        key, value = line.split(":", 1)
        value = value.strip()
        if _NESTED_FIELD.match(key) and "=" in value:
            result[key] = dict(item.split("=", 1) for item in value.split(",") if "=" in item)
        else:
            result[key] = value
    return result


def is_replica(info):
    """True when parsed INFO replication says the node is a replica."""
    return info.get("role") in REPLICA_ROLES


def replicas_of(info):
    """The ``slaveN`` entries of a master's parsed INFO replication, in order."""
    entries = [(int(key[5:]), value) for key, value in info.items()
               if key.startswith("slave") and key[5:].isdigit() and isinstance(value, dict)]
    return [value for _index, value in sorted(entries, key=lambda item: item[0])]
