#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: node_library
short_description: Pack the collection code the node programs import into one zip file
version_added: "0.3.0"
description:
  - Reads the listed module_utils files from O(src) and writes them, under the package
    C(ansible_collections.redisops.ec2_cluster.plugins.module_utils) with an empty C(__init__.py) per package
    level, into one zip file in O(dest_dir). The node programs put that file on C(sys.path) (zipimport).
  - The bytes depend only on the files' names and contents (sorted entries, fixed timestamps and modes, no
    compression), and the file is named after their SHA-256, so the same code gives the same file and
    concurrent builds of different code never overwrite each other.
  - "Meant to run on the controller (C(delegate_to: localhost), C(run_once)); the file is then copied to the
    nodes with M(ansible.builtin.copy)."
  - Artifacts in O(dest_dir) that no run has used for O(max_age_days) are deleted (a run touches the one it
    uses; the current one always stays), so the directory does not grow with every change of the code.
  - Check mode builds the zip in memory, reports whether the file would be written and which older ones
    would be deleted, and changes nothing.
author:
  - redisops maintainers
options:
  src:
    description: Directory holding the module files.
    type: path
    required: true
  modules:
    description: File names (C(name.py)) of the modules to pack; no directories, no duplicates.
    type: list
    elements: str
    required: true
  dest_dir:
    description: Directory the zip is written to (created when missing).
    type: path
    required: true
  max_age_days:
    description: Days after which an artifact no run has used is deleted from O(dest_dir).
    type: int
    default: 14
"""

EXAMPLES = r"""
- name: Pack the collection code the programs import
  redisops.ec2_cluster.node_library:
    src: "{{ role_path }}/../../collections/ansible_collections/redisops/ec2_cluster/plugins/module_utils"
    modules: [backup_layout.py, redis_info.py]
    dest_dir: ~/.cache/redisops
  delegate_to: localhost
  run_once: true
  register: library
"""

RETURN = r"""
path:
  description: Path of the zip file on the host the module ran on.
  returned: always
  type: str
  sample: /home/ci/.cache/redisops/redisops-node-library-0123456789abcdef.zip
sha256:
  description: SHA-256 of the zip file.
  returned: always
  type: str
size:
  description: Size of the zip file in bytes.
  returned: always
  type: int
removed:
  description: Older artifacts deleted from O(dest_dir) (in check mode, those that would be).
  returned: always
  type: list
  elements: str
"""

import hashlib
import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import atomic_file, node_library


def read_modules(src, names):
    """{name: bytes} of the listed files; ValueError naming the missing ones."""
    names = node_library.check_module_names(names)
    missing = [n for n in names if not os.path.isfile(os.path.join(src, n))]
    if missing:
        raise ValueError("not found in %s: %s" % (src, ", ".join(missing)))
    modules = {}
    for name in names:
        with open(os.path.join(src, name), "rb") as handle:
            modules[name] = handle.read()
    return modules


def current_bytes(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def write_atomically(path, data):
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    atomic_file.replace(path, data, prepare=lambda temporary: os.chmod(temporary, 0o644))


def modification_times(directory):
    try:
        return {entry.name: entry.stat().st_mtime for entry in os.scandir(directory) if entry.is_file()}
    except FileNotFoundError:
        return {}


def build(src, names, dest_dir, check_mode, max_age_days=14):
    """Result dict of packing ``names`` from ``src`` into ``dest_dir``; ValueError/OSError before writing."""
    data = node_library.library_zip(read_modules(src, names))
    name = node_library.artifact_name(data)
    path = os.path.join(dest_dir, name)
    removed = node_library.stale_artifacts(modification_times(dest_dir), name, time.time(), max_age_days * 86400)
    changed = current_bytes(path) != data
    if not check_mode:
        if changed:
            write_atomically(path, data)
        else:
            # Used now: the newest, whatever else gets written meanwhile.
            os.utime(path)
        for stale in removed:
            try:
                os.unlink(os.path.join(dest_dir, stale))
            except FileNotFoundError:
                pass  # a concurrent run removed it first
    return dict(changed=changed or bool(removed), path=path, sha256=hashlib.sha256(data).hexdigest(),
                size=len(data), removed=removed)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type="path", required=True),
            modules=dict(type="list", elements="str", required=True),
            dest_dir=dict(type="path", required=True),
            max_age_days=dict(type="int", default=14),
        ),
        supports_check_mode=True,
    )
    try:
        result = build(module.params["src"], module.params["modules"], module.params["dest_dir"], module.check_mode,
                       module.params["max_age_days"])
    except (ValueError, OSError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
