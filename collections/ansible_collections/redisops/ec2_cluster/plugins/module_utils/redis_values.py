# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How Redis writes values: memory sizes and CONFIG GET's text form. Shared by
the redis_config filters (rendering) and the redis_config module (comparing)."""

from __future__ import annotations

import re

# redis.conf units: k/m/g are powers of 1000, kb/mb/gb powers of 1024.
UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}
_SIZE_RE = re.compile(r"^\s*(\d+)\s*([a-z]*)\s*$")


def size_in_bytes(text):
    """Bytes of a size such as ``64mb``, ``1gb`` or ``1048576``
    (case-insensitive); None when ``text`` is not a size."""
    match = _SIZE_RE.match(str(text).lower())
    if not match or match.group(2) not in UNITS:
        return None
    return int(match.group(1)) * UNITS[match.group(2)]


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
