# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which settings a node takes at runtime and how Redis writes their values.

Pure (no Ansible, no redis-py). Decides:

- which settings are applied with CONFIG SET (no restart) and which are
  static (static.conf, a change restarts the node);
- how a value is written so that it compares equal to what CONFIG GET
  returns (yes/no, joined lists, memory units in bytes);
- maxmemory from the instance's memory.

Used by the redis_node filters (rendering) and the redis_config module
(comparing).
"""

from __future__ import annotations

import re

# redis.conf units: k/m/g are powers of 1000, kb/mb/gb powers of 1024.
UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}
_SIZE_RE = re.compile(r"^\s*(\d+)\s*([a-z]*)\s*$")

# Settings Redis 7.0 and Valkey 8.0 accept with CONFIG SET and that are safe
# to change on a live node. Anything not listed here is static: it goes to
# static.conf and a change restarts the node. Static on purpose although
# Redis could change them live: bind/port/protected-mode (changing what the
# node listens on under a running cluster is a restart-shaped event),
# cluster-announce-ip (the node's identity), dir (data location) and TLS
# material (loaded at start; a restart is the tested path).
RUNTIME_SETTINGS = frozenset(
    {
        "appendfsync",
        "appendonly",
        "aof-use-rdb-preamble",
        "auto-aof-rewrite-min-size",
        "auto-aof-rewrite-percentage",
        "cluster-allow-reads-when-down",
        "cluster-node-timeout",
        "cluster-replica-validity-factor",
        "cluster-require-full-coverage",
        "latency-monitor-threshold",
        "masterauth",
        "masteruser",
        "maxclients",
        "maxmemory",
        "maxmemory-policy",
        "save",
        "slowlog-log-slower-than",
        "slowlog-max-len",
    }
)

# Runtime settings whose value is a secret: never shown in a diff or a log.
SECRET_SETTINGS = frozenset({"masterauth"})


class SettingError(ValueError):
    """A value cannot be what the setting needs; the message says why."""


def size_in_bytes(text):
    """Bytes of a size such as ``64mb``, ``1gb`` or ``1048576``
    (case-insensitive); None when ``text`` is not a size."""
    match = _SIZE_RE.match(str(text).lower())
    if not match or match.group(2) not in UNITS:
        return None
    return int(match.group(1)) * UNITS[match.group(2)]


def memory_bytes(value):
    """Bytes of a memory size given as an int or as redis.conf text.

    Raises SettingError for anything else (negative, a bool, an unknown unit).
    """
    if isinstance(value, bool):
        raise SettingError("not a memory size: %r" % (value,))
    if isinstance(value, int):
        if value < 0:
            raise SettingError("memory size must not be negative: %d" % value)
        return value
    size = size_in_bytes(value)
    if size is None:
        raise SettingError("not a memory size: %r (use bytes or a number with k, kb, m, mb, g or gb)" % (value,))
    return size


def maxmemory_bytes(memtotal_mb, percent=75, explicit=None):
    """maxmemory in bytes: ``explicit`` when given, else ``percent`` of RAM.

    The default 75 % leaves room for the copy-on-write pages a fork (BGSAVE,
    AOF rewrite, full sync) dirties while the parent keeps writing.
    """
    if explicit not in (None, "", 0, "0"):
        return memory_bytes(explicit)
    percent = int(percent)
    if not 1 <= percent <= 100:
        raise SettingError("maxmemory percent must be 1..100, not %d" % percent)
    return int(memtotal_mb) * 1024 * 1024 * percent // 100


def config_text(value):
    """A value the way CONFIG GET shows it: yes/no, lists joined by spaces,
    runs of white space folded."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return " ".join(config_text(item) for item in value)
    if value is None:
        return ""
    return " ".join(str(value).split())


def split_settings(settings):
    """Split settings into ``runtime`` (CONFIG SET) and ``static`` (restart).

    Returns ``{'runtime': {...}, 'static': {...}, 'secret': [...]}`` with values
    rendered as CONFIG GET shows them. Unknown names are static: a restart
    always picks a setting up, CONFIG SET of an unknown name would fail.
    """
    if not isinstance(settings, dict):
        raise SettingError("expected a dict of settings, got %s" % type(settings).__name__)
    runtime, static = {}, {}
    for name in sorted(settings):
        key = str(name).strip().lower()
        target = runtime if key in RUNTIME_SETTINGS else static
        target[key] = config_text(settings[name])
    secret = sorted(key for key in runtime if key in SECRET_SETTINGS)
    return {"runtime": runtime, "static": static, "secret": secret}


def comparable_value(value):
    """The form CONFIG GET reports a value in, for comparison (booleans as
    yes/no, memory sizes in bytes)."""
    text = config_text(value)
    lowered = text.lower()
    if lowered in ("true", "false"):
        return "yes" if lowered == "true" else "no"
    size = size_in_bytes(lowered)
    if size is not None:
        return str(size)
    return text


def config_changes(current, desired):
    """Settings in ``desired`` whose value differs from ``current`` (CONFIG GET).

    Returns ``{name: (before, after)}`` with lower-case names; a name Redis
    does not know (absent from ``current``) counts as a change so that
    CONFIG SET reports it.
    """
    changes = {}
    for name in sorted(desired):
        key = name.lower()
        after = comparable_value(desired[name])
        before = current.get(key)
        if before is None or comparable_value(before) != after:
            changes[key] = (before, after)
    return changes
