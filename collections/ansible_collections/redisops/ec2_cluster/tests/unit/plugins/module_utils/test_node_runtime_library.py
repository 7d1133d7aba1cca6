# -*- coding: utf-8 -*-
"""The library role node_runtime installs on the nodes (node_runtime_module_utils,
packed into one zip) is exactly what the node programs import, directly or
through each other, and imports from the zip on a bare Python without Ansible."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import yaml

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import node_library

PACKAGE = "ansible_collections.redisops.ec2_cluster.plugins.module_utils"
COLLECTION = pathlib.Path(__file__).resolve().parents[4]
PROJECT = COLLECTION.parents[3]
MODULE_UTILS = COLLECTION / "plugins" / "module_utils"


def node_programs():
    """Every file a role installs on the nodes that imports the collection."""
    programs = [p for p in sorted(PROJECT.glob("roles/*/files/*")) if p.is_file() and PACKAGE in p.read_text()]
    assert programs, "no node program found under roles/*/files"
    return programs


def collection_imports(path):
    """Names of the collection's module_utils that ``path`` imports, at any depth of its code."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == PACKAGE:
                found.update(alias.name for alias in node.names)
            elif node.module.startswith(PACKAGE + "."):
                found.add(node.module[len(PACKAGE) + 1:].split(".")[0])
        elif isinstance(node, ast.Import):
            found.update(alias.name[len(PACKAGE) + 1:].split(".")[0]
                         for alias in node.names if alias.name.startswith(PACKAGE + "."))
    return found


def closure(programs):
    todo, seen = set().union(*(collection_imports(p) for p in programs)), set()
    while todo:
        name = todo.pop()
        assert (MODULE_UTILS / (name + ".py")).is_file(), "imported %s does not exist" % name
        seen.add(name)
        todo |= collection_imports(MODULE_UTILS / (name + ".py")) - seen
    return seen


def copied_list():
    defaults = yaml.safe_load((PROJECT / "roles/node_runtime/defaults/main.yml").read_text())
    return defaults["node_runtime_module_utils"]


def test_the_programs_are_found():
    names = {p.name for p in node_programs()}
    assert {"redisops-backup", "redisops-metrics"} <= names


def test_the_copied_list_is_closed_under_imports():
    copied = copied_list()
    assert len(copied) == len(set(copied)), "duplicates in node_runtime_module_utils"
    assert sorted(copied) == sorted(name + ".py" for name in closure(node_programs()))


def test_the_closure_follows_imports_of_imports(tmp_path):
    program = tmp_path / "program"
    program.write_text("def run():\n    from %s import redis_nodes\n" % PACKAGE)
    assert {"redis_nodes", "redis_connection", "cluster_model", "redis_info"} <= closure([program])


def test_the_packed_library_imports_without_ansible(tmp_path):
    """Only the zip on sys.path, no site-packages: what a node has besides Debian's packages."""
    library = tmp_path / "redisops-ec2_cluster.zip"
    library.write_bytes(node_library.library_zip({name: (MODULE_UTILS / name).read_bytes() for name in copied_list()}))
    code = "import sys; sys.path.insert(0, %r)\n" % str(library) + "".join(
        "import %s.%s\n" % (PACKAGE, name[:-3]) for name in copied_list())
    code += "assert not any(m == 'ansible' or m.startswith('ansible.') for m in sys.modules), sorted(sys.modules)\n"
    code += "assert all(m.__file__.startswith(%r) for n, m in sys.modules.items() if n.startswith('ansible_collections'))\n" % (
        str(library) + "/")
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr


def test_the_programs_default_to_the_installed_zip():
    variables = yaml.safe_load((PROJECT / "roles/node_runtime/vars/main.yml").read_text())
    defaults = yaml.safe_load((PROJECT / "roles/node_runtime/defaults/main.yml").read_text())
    installed = variables["__node_runtime_library_file"].replace("{{ node_runtime_lib_dir }}", defaults["node_runtime_lib_dir"])
    for program in node_programs():
        assert '"REDISOPS_LIB", "%s"' % installed in program.read_text(), program
