#!/usr/bin/env python3
"""Check the collection's plugin documentation the way ansible-test's
validate-modules and ansible-doc sanity tests would, offline.

Those two tests need a virtual environment that ansible-test bootstraps with
a download (see `make lint`); this does the checks this collection relies on
with the project's own ansible-core:

- every module, filter and lookup renders with ansible-doc, none is
  UNDOCUMENTED, and every filter shows its own doc (plugins/filter/<name>.yml);
- DOCUMENTATION has short_description, description, author and
  version_added; EXAMPLES and RETURN are not empty;
- every option and every return value has a description and a type; every
  attribute has a description and a support level;
- a module's argument spec and its documented options agree (names, types,
  defaults, choices, required, elements).

Exit 0 when all is well, 1 with one line per problem otherwise.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLLECTION = ROOT / "collections" / "ansible_collections" / "redisops" / "ec2_cluster"
FQCN = "redisops.ec2_cluster"
ANSIBLE_DOC = str(Path(sys.executable).with_name("ansible-doc"))


def ansible_doc(*args):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / "collections"), ANSIBLE_NOCOLOR="1")
    out = subprocess.run([ANSIBLE_DOC, "--json", *args], capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        return None, out.stderr.strip()
    return json.loads(out.stdout), out.stderr.strip()


def check_options(where, options, problems):
    for name, option in (options or {}).items():
        if not option.get("description"):
            problems.append("%s: option %s has no description" % (where, name))
        if "type" not in option and name != "_terms":
            problems.append("%s: option %s has no type" % (where, name))
        check_options("%s.%s" % (where, name), option.get("suboptions"), problems)


def check_returns(where, returns, problems, top=True):
    for name, value in (returns or {}).items():
        for field in ("description", "type") + (("returned",) if top and not name.startswith("_") else ()):
            if not value.get(field):
                problems.append("%s: return value %s has no %s" % (where, name, field))
        check_returns("%s.%s" % (where, name), value.get("contains"), problems, top=False)


def check_doc(kind, name, entry, problems):
    where = "%s %s" % (kind, name)
    doc = entry.get("doc") or {}
    for field in ("short_description", "description", "author", "version_added"):
        if not doc.get(field):
            problems.append("%s: DOCUMENTATION has no %s" % (where, field))
    if not (entry.get("examples") or "").strip():
        problems.append("%s: EXAMPLES is empty" % where)
    if not entry.get("return"):
        problems.append("%s: RETURN is empty" % where)
    check_options(where, doc.get("options"), problems)
    check_returns(where, entry.get("return"), problems)
    for attribute, value in (doc.get("attributes") or {}).items():
        for field in ("description", "support"):
            if not value.get(field):
                problems.append("%s: attribute %s has no %s" % (where, attribute, field))
    return doc


class _Captured(Exception):
    pass


def argument_spec_of(module_name):
    """(argument_spec, kwargs) the module hands to AnsibleModule."""
    sys.path.insert(0, str(ROOT / "collections"))
    from ansible.module_utils import basic

    captured = {}

    def capture(self, argument_spec, **kwargs):
        captured.update(spec=argument_spec, kwargs=kwargs)
        raise _Captured()

    original = basic.AnsibleModule.__init__
    basic.AnsibleModule.__init__ = capture
    try:
        module = importlib.import_module("ansible_collections.%s.plugins.modules.%s" % (FQCN, module_name))
        try:
            module.main()
        except _Captured:
            pass
    finally:
        basic.AnsibleModule.__init__ = original
    return captured["spec"]


def compare_spec(where, spec, options, problems):
    for name in sorted(set(spec) - set(options)):
        problems.append("%s: argument %s is not documented" % (where, name))
    for name in sorted(set(options) - set(spec)):
        problems.append("%s: documented option %s is not in the argument spec" % (where, name))
    for name in sorted(set(spec) & set(options)):
        arg, doc = spec[name], options[name]
        for field, fallback in (("type", "str"), ("default", None), ("choices", None), ("required", False),
                                ("elements", None)):
            if arg.get(field, fallback) != doc.get(field, fallback):
                problems.append("%s: option %s: %s is %r in the argument spec but %r in the documentation"
                                % (where, name, field, arg.get(field, fallback), doc.get(field, fallback)))
        if arg.get("options") or doc.get("suboptions"):
            compare_spec("%s.%s" % (where, name), arg.get("options") or {}, doc.get("suboptions") or {}, problems)


def main():
    problems = []
    modules = sorted(p.stem for p in (COLLECTION / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
    docs, err = ansible_doc("-t", "module", *["%s.%s" % (FQCN, m) for m in modules])
    if docs is None:
        problems.append("ansible-doc failed on the modules: %s" % err)
    else:
        for module in modules:
            entry = docs.get("%s.%s" % (FQCN, module))
            if not entry:
                problems.append("module %s: ansible-doc shows no documentation" % module)
                continue
            doc = check_doc("module", module, entry, problems)
            compare_spec("module %s" % module, argument_spec_of(module), doc.get("options") or {}, problems)

    listing, err = ansible_doc("-t", "filter", "-l", FQCN)
    if listing is None:
        problems.append("ansible-doc -l failed on the filters: %s" % err)
        listing = {}
    for name, summary in sorted(listing.items()):
        if summary == "UNDOCUMENTED" or not summary:
            problems.append("filter %s is UNDOCUMENTED" % name)
    if listing:
        docs, err = ansible_doc("-t", "filter", *sorted(listing))
        if docs is None:
            problems.append("ansible-doc failed on the filters: %s" % err)
        for name in sorted(listing):
            entry = (docs or {}).get(name) or {}
            short = name.rsplit(".", 1)[1]
            doc = check_doc("filter", short, entry, problems)
            if doc.get("name") != short:
                problems.append("filter %s shows the documentation of %s, not its own" % (short, doc.get("name")))

    lookups = sorted(p.stem for p in (COLLECTION / "plugins" / "lookup").glob("*.py") if p.stem != "__init__")
    docs, err = ansible_doc("-t", "lookup", *["%s.%s" % (FQCN, name) for name in lookups])
    for name in lookups:
        entry = (docs or {}).get("%s.%s" % (FQCN, name))
        if not entry:
            problems.append("lookup %s: ansible-doc shows no documentation %s" % (name, err))
        else:
            check_doc("lookup", name, entry, problems)

    for problem in problems:
        print(problem)
    print("check-plugin-docs: %d module(s), %d filter(s), %d lookup(s): %s"
          % (len(modules), len(listing), len(lookups), "%d problem(s)" % len(problems) if problems else "ok"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
