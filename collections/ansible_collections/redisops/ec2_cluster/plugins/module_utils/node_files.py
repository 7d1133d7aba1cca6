# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the node_files module is asked to do, checked as a whole before it
touches anything: every path absolute and named once, modes in octal, no file
under a path that is removed, and every file's directory either there or made
by the same call. Pure: the caller passes what exists."""

from __future__ import annotations

import posixpath
import re

_MODE = re.compile(r"^[0-7]{3,4}$")


def _parents(path):
    parent = posixpath.dirname(path)
    while parent not in ("/", ""):
        yield parent
        parent = posixpath.dirname(parent)


def check_request(directories, files, absent, existing_directories):
    """Raise ValueError naming the first problem of the request, else return None.

    ``directories`` and ``files`` are lists of dicts with ``path`` and ``mode``;
    ``absent`` a list of paths; ``existing_directories`` the set of the files'
    parent directories that exist now (the caller looks them up).
    """
    seen = {}
    for kind, paths in (("directory", [d["path"] for d in directories]),
                        ("file", [f["path"] for f in files]),
                        ("absent", list(absent))):
        for path in paths:
            if not posixpath.isabs(path) or posixpath.normpath(path) != path or path == "/":
                raise ValueError("%s %r: give an absolute, normalised path other than /" % (kind, path))
            if path in seen:
                raise ValueError("%r is named twice (%s and %s)" % (path, seen[path], kind))
            seen[path] = kind
    for entry in list(directories) + list(files):
        if not _MODE.match(entry["mode"] or ""):
            raise ValueError("%s: mode %r is not an octal mode such as '0644'" % (entry["path"], entry["mode"]))
    removed = set(absent)
    for path, kind in seen.items():
        if kind == "absent":
            continue
        gone = [p for p in _parents(path) if p in removed]
        if gone:
            raise ValueError("%s %r is under %r, which is to be absent" % (kind, path, gone[0]))
        if seen.get(posixpath.dirname(path)) == "file":
            raise ValueError("%s %r is under %r, which is a file" % (kind, path, posixpath.dirname(path)))
    made = {d["path"] for d in directories}
    for entry in files:
        parent = posixpath.dirname(entry["path"])
        if parent not in made and parent not in existing_directories:
            raise ValueError("file %r: its directory %r does not exist and is not in directories"
                             % (entry["path"], parent))


def needs_content(current, desired, create_only):
    """Whether a file's content must be written: ``current`` is its bytes, None when missing."""
    if current is None:
        return True
    return not create_only and current != desired
