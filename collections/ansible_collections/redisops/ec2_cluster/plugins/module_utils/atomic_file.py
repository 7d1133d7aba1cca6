# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Replace a file whole: the modules that write files on a host do it here."""

from __future__ import annotations

import os
import tempfile


def replace(path, data, prepare=None):
    """Write ``data`` (bytes) to ``path`` through a temporary file in the same directory, then rename it over
    ``path``: a reader sees the old file or the new one, never part of one.

    The temporary file is created with mode 0600; ``prepare(temporary_path)`` runs before the rename, to give it
    its final mode and owner, so the file never exists with wider permissions than asked. Nothing is left
    behind when writing or ``prepare`` fails.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if prepare is not None:
            prepare(temporary)
        os.replace(temporary, path)
    except BaseException:
        if os.path.lexists(temporary):
            os.unlink(temporary)
        raise
