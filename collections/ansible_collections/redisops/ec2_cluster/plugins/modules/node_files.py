#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: node_files
short_description: Keep a set of directories and small text files on a node in one call
version_added: "0.4.0"
description:
  - Makes the listed O(directories), writes the listed O(files) whose content differs, removes the O(absent)
    paths, and sets owner, group and mode wherever they differ, all in one module run on the node.
  - What M(ansible.builtin.file), M(ansible.builtin.copy) and M(ansible.builtin.template) do one path at a time
    (two module runs for an unchanged template); a role's files that change together go in one task, so a run
    that changes nothing costs one module run per role instead of one or two per file.
  - The whole request is checked before anything changes (absolute paths named once, octal modes, no file
    under an absent path, every file's directory present or in O(directories)); a bad one fails with the
    reason and leaves the node as it was.
  - A file is written to a temporary file in its directory with its final owner, group and mode, then renamed
    over the old one, so a reader sees the old or the new file, never a partial one, and a secret never exists
    with a wider mode.
  - Put files with secrets in a task of their own with C(no_log), which hides their diff too.
author:
  - redisops maintainers
options:
  directories:
    description: Directories to make (with missing parents) and whose owner, group and mode to keep.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path.
        type: path
        required: true
      owner:
        description: Owner name.
        type: str
        default: root
      group:
        description: Group name.
        type: str
        default: root
      mode:
        description: Octal mode as a string, for example V('0755').
        type: str
        required: true
  files:
    description: Text files to keep.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path.
        type: path
        required: true
      content:
        description:
          - The whole content. Use C(lookup('ansible.builtin.template', ...)) for a template and
            C(lookup('ansible.builtin.file', ..., rstrip=false)) for a role file.
        type: str
        required: true
      owner:
        description: Owner name.
        type: str
        default: root
      group:
        description: Group name.
        type: str
        default: root
      mode:
        description: Octal mode as a string, for example V('0644').
        type: str
        required: true
      create_only:
        description: Write the file only when it does not exist; an existing one is left as it is, attributes too.
        type: bool
        default: false
  absent:
    description: Files or directories (with what they hold) to remove.
    type: list
    elements: path
    default: []
attributes:
  check_mode:
    description: Reports what would change and changes nothing.
    support: full
  diff_mode:
    description: A diff per changed path; file contents are shown unless the task has C(no_log).
    support: full
  platform:
    description: POSIX hosts.
    platforms: posix
    support: full
"""

EXAMPLES = r"""
- name: Install the publisher, its directories and its log rotation
  redisops.ec2_cluster.node_files:
    directories:
      - {path: /usr/local/lib/redisops, mode: "0755"}
      - {path: /var/lib/redisops/metrics, mode: "0700"}
    files:
      - path: /usr/local/lib/redisops/redisops-metrics
        content: "{{ lookup('ansible.builtin.file', 'redisops-metrics', rstrip=false) }}"
        mode: "0755"
      - path: /etc/logrotate.d/redisops-metrics
        content: "{{ lookup('ansible.builtin.template', 'etc/logrotate.d/redisops-metrics.j2') }}"
        mode: "0644"
    absent:
      - /usr/local/lib/redisops/old-publisher

- name: Write the credentials
  redisops.ec2_cluster.node_files:
    files:
      - path: /etc/redisops/redis-agent.json
        content: "{{ agent | to_json }}\n"
        mode: "0600"
  no_log: true
"""

RETURN = r"""
changed_paths:
  description: The paths made, written, removed or given other attributes (in check mode, those that would be).
  returned: always
  type: list
  elements: str
  sample: [/etc/logrotate.d/redisops-metrics]
"""

import grp
import os
import pwd
import shutil

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import atomic_file, node_files

# A diff larger than this is summarised (as ansible.builtin.copy does).
MAX_DIFF_BYTES = 104448


def read_current(path):
    """The file's bytes, None when it does not exist; ValueError when it is not a regular file."""
    if os.path.isdir(path) and not os.path.islink(path):
        raise ValueError("%s is a directory, not a file" % path)
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def shown(data):
    if data is None:
        return ""
    if len(data) > MAX_DIFF_BYTES or b"\0" in data:
        return "(%d bytes, not shown)\n" % len(data)
    return to_text(data, errors="surrogate_or_replace")


def attribute_args(entry):
    return dict(path=entry["path"], owner=entry["owner"], group=entry["group"], mode=entry["mode"],
                seuser=None, serole=None, setype=None, selevel=None, secontext=None, attributes=None)


class Keeper:
    def __init__(self, module):
        self.module = module
        self.changed_paths = []
        self.diffs = []

    def note(self, path, before, after):
        if path not in self.changed_paths:
            self.changed_paths.append(path)
        self.diffs.append(dict(before_header=path, after_header=path, before=before, after=after))

    def keep_attributes(self, entry):
        diff = dict(before={}, after={})
        if self.module.set_fs_attributes_if_different(attribute_args(entry), False, diff=diff):
            self.note(entry["path"], diff["before"], diff["after"])

    def directory(self, entry):
        path = entry["path"]
        if not os.path.isdir(path):
            self.note(path, dict(state="absent"), dict(state="directory", owner=entry["owner"],
                                                           group=entry["group"], mode=entry["mode"]))
            if self.module.check_mode:
                return
            os.makedirs(path)
        self.keep_attributes(entry)

    def file(self, entry, current):
        path, desired = entry["path"], to_bytes(entry["content"], errors="surrogate_or_strict")
        if not node_files.needs_content(current, desired, entry["create_only"]):
            if not entry["create_only"]:
                self.keep_attributes(entry)
            return
        self.note(path, shown(current), shown(desired))
        if self.module.check_mode:
            return
        atomic_file.replace(path, desired, prepare=lambda temporary: self.module.set_fs_attributes_if_different(
            attribute_args(dict(entry, path=temporary)), False))

    def absent(self, path):
        if not os.path.lexists(path):
            return
        self.note(path, dict(state="directory" if os.path.isdir(path) else "file"), dict(state="absent"))
        if self.module.check_mode:
            return
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)


def check_node(directories, files):
    """ValueError for what the node itself refuses: unknown owners or groups, a directory that is a file."""
    for entry in list(directories) + list(files):
        try:
            pwd.getpwnam(entry["owner"])
            grp.getgrnam(entry["group"])
        except KeyError:
            raise ValueError("%s: no user %r or group %r on this host" % (entry["path"], entry["owner"], entry["group"]))
    for entry in directories:
        if os.path.lexists(entry["path"]) and not os.path.isdir(entry["path"]):
            raise ValueError("%s exists and is not a directory" % entry["path"])


def keep(module, directories, files, absent):
    parents = {os.path.dirname(f["path"]) for f in files}
    # A check run reports what an earlier task of the same run would have made as missing.
    existing = parents if module.check_mode else {p for p in parents if os.path.isdir(p)}
    node_files.check_request(directories, files, absent, existing)
    check_node(directories, files)
    # Every file is read before anything changes, so a path that is a directory fails the whole request.
    current = [read_current(f["path"]) for f in files]
    keeper = Keeper(module)
    for entry in directories:
        keeper.directory(entry)
    for entry, before in zip(files, current):
        keeper.file(entry, before)
    for path in absent:
        keeper.absent(path)
    return keeper


def main():
    owned = dict(path=dict(type="path", required=True), owner=dict(type="str", default="root"),
                 group=dict(type="str", default="root"), mode=dict(type="str", required=True))
    module = AnsibleModule(
        argument_spec=dict(
            directories=dict(type="list", elements="dict", default=[], options=dict(owned)),
            files=dict(type="list", elements="dict", default=[],
                       options=dict(owned, content=dict(type="str", required=True),
                                    create_only=dict(type="bool", default=False))),
            absent=dict(type="list", elements="path", default=[]),
        ),
        supports_check_mode=True,
    )
    try:
        keeper = keep(module, module.params["directories"], module.params["files"], module.params["absent"])
    except (ValueError, OSError) as exc:
        module.fail_json(msg=str(exc), changed_paths=[])
    result = dict(changed=bool(keeper.changed_paths), changed_paths=keeper.changed_paths)
    if module._diff:
        result["diff"] = keeper.diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
