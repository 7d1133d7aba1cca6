# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection code the node programs import, packed into one zip file.

The node programs put the zip on ``sys.path`` (zipimport), so one file per
node replaces a copy per module. The same modules give the same bytes
(entries sorted, fixed timestamps and modes, stored uncompressed), so the
copy to the nodes changes nothing when the code did not change, and any
changed module changes the artifact. zipimport knows no namespace
packages: every package level gets an empty ``__init__.py``.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile

PACKAGE = "ansible_collections.redisops.ec2_cluster.plugins.module_utils"
# The earliest time a zip entry can carry; any fixed value would do.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644
_MODULE_FILE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.py$")


def check_module_names(names):
    """The module file names (``x.py``), sorted; ValueError for anything else."""
    names = list(names)
    if not names:
        raise ValueError("the library needs at least one module")
    bad = sorted(str(n) for n in names if not isinstance(n, str) or not _MODULE_FILE.match(n) or n == "__init__.py")
    if bad:
        raise ValueError("not a module file name (name.py, no directories): %s" % ", ".join(bad))
    if len(set(names)) != len(names):
        raise ValueError("a module is listed twice: %s" % ", ".join(sorted({n for n in names if names.count(n) > 1})))
    return sorted(names)


def entries(modules, package=PACKAGE):
    """The zip's entries in order: ``[(path, bytes)]``, package ``__init__.py`` files first."""
    names = check_module_names(modules)
    parts = package.split(".")
    inits = [("/".join(parts[:i]) + "/__init__.py", b"") for i in range(1, len(parts) + 1)]
    base = "/".join(parts)
    return inits + [("%s/%s" % (base, name), bytes(modules[name])) for name in names]


def library_zip(modules, package=PACKAGE):
    """Zip bytes of ``modules`` ({file name: content bytes}) under ``package``; identical for identical input."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as archive:
        for path, data in entries(modules, package):
            info = zipfile.ZipInfo(path, date_time=FIXED_TIME)
            info.external_attr = FILE_MODE << 16
            info.create_system = 3  # Unix, whatever the controller
            archive.writestr(info, data)
    return buf.getvalue()


ARTIFACT_PREFIX = "redisops-node-library-"
_ARTIFACT = re.compile(r"^%s[0-9a-f]{16}\.zip$" % re.escape(ARTIFACT_PREFIX))


def artifact_name(data):
    """File name of the artifact on the controller: the content's hash makes concurrent builds never clash."""
    return "%s%s.zip" % (ARTIFACT_PREFIX, hashlib.sha256(data).hexdigest()[:16])


def stale_artifacts(files, current, now, max_age):
    """Names of the artifacts to delete from the controller's build directory.

    ``files`` maps each file name in the directory to its modification time
    (the module touches an artifact whenever a run uses it). Artifacts
    unused for more than ``max_age`` seconds go; the current one and files
    that are not artifacts never do. By age, not by count: a concurrent run
    of other code has just written or touched its own.
    """
    if max_age <= 0:
        raise ValueError("the maximum age must be positive, not %r" % (max_age,))
    return sorted(name for name, mtime in files.items()
                  if _ARTIFACT.match(name) and name != current and now - mtime > max_age)
