# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each ACL user of a node may do: the ACL file's user lines.

Pure. Every user has a role:

- ``admin``: everything (Ansible's own user, exactly one);
- ``replication``: what a replica's link needs (exactly one);
- ``agent``: the programs the collection installs on the nodes (backup,
  metrics) read state and start a background save, nothing else; no key or
  channel access (at most one, see docs/node-programs.md);
- ``application``: its own key/channel/command rules, followed by the
  denied commands and then the few allowed subcommands, so a user's
  ``commands`` cannot re-allow a dangerous command.

Passwords are written as SHA-256 hashes; no function here puts a password
into a message.
"""

from __future__ import annotations

import hashlib
import re

ACL_ROLES = ("admin", "replication", "agent", "application")
# Roles that must exist exactly once, and at most once.
REQUIRED_ONCE = ("admin", "replication")
AT_MOST_ONCE = ("agent",)
REPLICATION_COMMANDS = ("+psync", "+replconf", "+ping")
AGENT_COMMANDS = (
    "+ping",
    "+info",
    "+dbsize",
    "+lastsave",
    "+bgsave",
    "+cluster|info",
    "+cluster|nodes",
    "+cluster|myid",
    "+cluster|shards",
    "+cluster|slots",
    "+config|get",
)
APPLICATION_ONLY = ("keys", "channels", "commands")

_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


def acl_user_errors(users, min_password_length=16):
    """Errors in the list of ACL users; empty means valid."""
    if not isinstance(users, list) or not users:
        return ["redis_node_acl_users must list at least an admin and a replication user"]
    errors = []
    names = []
    for index, user in enumerate(users):
        name = str(user.get("name") or "") if isinstance(user, dict) else ""
        label = "ACL user %r" % name if name else "ACL user #%d" % index
        if not isinstance(user, dict) or not name:
            errors.append("%s has no name" % label)
            continue
        names.append(name)
        errors.extend(_user_errors(user, name, label, min_password_length))
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        errors.append("duplicate ACL user names: %s" % ", ".join(duplicates))
    for role in REQUIRED_ONCE + AT_MOST_ONCE:
        count = sum(1 for u in users if isinstance(u, dict) and u.get("role") == role)
        if role in REQUIRED_ONCE and count != 1:
            errors.append("exactly one ACL user must have role %r, found %d" % (role, count))
        elif role in AT_MOST_ONCE and count > 1:
            errors.append("at most one ACL user may have role %r, found %d" % (role, count))
    return errors


def _user_errors(user, name, label, min_length):
    errors = []
    if not _NAME_RE.match(name):
        errors.append("%s: names may use letters, digits, '_', '.', '-' only" % label)
    if name == "default":
        errors.append("the 'default' user is managed by redis_node_acl_default_user_enabled, not listed")
    role = user.get("role", "application")
    if role not in ACL_ROLES:
        errors.append("%s: role %r is not one of %s" % (label, role, ", ".join(ACL_ROLES)))
    elif role != "application":
        given = [field for field in APPLICATION_ONLY if field in user]
        if given:
            errors.append("%s: %s apply to application users only, not to role %r"
                          % (label, "/".join(given), role))
    password = user.get("password")
    if not password or not str(password).strip():
        errors.append("%s has an empty password" % label)
    elif len(str(password)) < min_length:
        errors.append("%s has a weak password: shorter than %d characters" % (label, min_length))
    elif any(c.isspace() for c in str(password)):
        errors.append("%s: the password must not contain whitespace" % label)
    return errors


def role_rules(user, app_denied=(), app_allowed=()):
    """The ACL rules (after ``reset on #hash``) that the user's role grants."""
    role = user.get("role", "application")
    if role == "admin":
        return ["~*", "&*", "+@all"]
    if role == "replication":
        return list(REPLICATION_COMMANDS)
    if role == "agent":
        return ["resetkeys", "resetchannels", "-@all"] + list(AGENT_COMMANDS)
    rules = ["~" + k for k in user.get("keys", ["*"])]
    rules += ["&" + c for c in user.get("channels", ["*"])]
    rules += [str(c) for c in user.get("commands", ["+@all"])]
    rules += ["-" + str(c).lower() for c in app_denied]
    rules += ["+" + str(c).lower() for c in app_allowed]
    return rules


def acl_user_lines(users, app_denied=(), app_allowed=(), default_enabled=False):
    """The ACL file's lines: the default user, then one ``user`` line per
    user (sorted by name) with its password hashed."""
    if default_enabled:
        lines = ["user default on nopass ~* &* +@all"]
    else:
        lines = ["user default off resetpass resetkeys resetchannels -@all"]
    for user in sorted(users, key=lambda u: u["name"]):
        digest = hashlib.sha256(str(user["password"]).encode("utf-8")).hexdigest()
        state = "on" if user.get("enabled", True) else "off"
        parts = ["user", user["name"], "reset", state, "#" + digest]
        parts += role_rules(user, app_denied, app_allowed)
        lines.append(" ".join(parts))
    return lines
