# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the redis_node role computes its decisions with.

Everything here is pure (no I/O) so it is unit tested on its own:

- which settings are applied at runtime (CONFIG SET, no restart) and which
  are static (static.conf, restart needed);
- how values are written so that they compare equal to CONFIG GET;
- maxmemory from the instance's memory;
- input validation (the role fails with these messages before any change);
- the ACL file's user lines (SHA-256 hashed passwords);
- parsing INFO / CLUSTER INFO output, the rolling-restart order and the
  health gate a restarted node must pass.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.redis_values import config_text, size_in_bytes

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

ENGINES = ("redis", "valkey")
MAXMEMORY_POLICIES = (
    "noeviction",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
)
APPENDFSYNC_MODES = ("always", "everysec", "no")
ACL_ROLES = ("admin", "replication", "application")
# Redis reserves this many descriptors beyond maxclients for itself.
REDIS_RESERVED_FDS = 32
CLUSTER_SLOTS = 16384
# INFO replication says "slave"; accept the newer word too.
REPLICA_ROLES = ("slave", "replica")

def redis_memory_bytes(value):
    """Parse a Redis memory size (``64mb``, ``1gb``, ``1048576``) into bytes.

    Units follow redis.conf: ``k``/``m``/``g`` are powers of 1000, ``kb``/
    ``mb``/``gb`` powers of 1024, case-insensitive.
    """
    if isinstance(value, bool):
        raise AnsibleFilterError(f"not a memory size: {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise AnsibleFilterError(f"memory size must not be negative: {value}")
        return value
    size = size_in_bytes(value)
    if size is None:
        raise AnsibleFilterError(
            f"not a memory size: {value!r} (use bytes or a number with k, kb, m, mb, g or gb)"
        )
    return size


def redis_maxmemory(memtotal_mb, percent=75, explicit=None):
    """maxmemory in bytes: ``explicit`` when given, else ``percent`` of RAM.

    The default 75 % leaves room for the copy-on-write pages a fork (BGSAVE,
    AOF rewrite, full sync) dirties while the parent keeps writing.
    """
    if explicit not in (None, "", 0, "0"):
        return redis_memory_bytes(explicit)
    percent = int(percent)
    if not 1 <= percent <= 100:
        raise AnsibleFilterError(f"maxmemory percent must be 1..100, not {percent}")
    return int(memtotal_mb) * 1024 * 1024 * percent // 100


def redis_config_value(value):
    """Write a value the way CONFIG GET returns it (yes/no, joined lists)."""
    return config_text(value)


def redis_config_split(settings):
    """Split settings into ``runtime`` (CONFIG SET) and ``static`` (restart).

    Returns ``{'runtime': {...}, 'static': {...}, 'secret': [...]}`` with values
    rendered as CONFIG GET shows them. Unknown names are static: a restart
    always picks a setting up, CONFIG SET of an unknown name would fail.
    """
    if not isinstance(settings, dict):
        raise AnsibleFilterError("redis_config_split expects a dict of settings")
    runtime, static = {}, {}
    for name in sorted(settings):
        key = str(name).strip().lower()
        target = runtime if key in RUNTIME_SETTINGS else static
        target[key] = redis_config_value(settings[name])
    secret = sorted(key for key in runtime if key in SECRET_SETTINGS)
    return {"runtime": runtime, "static": static, "secret": secret}


def _ip(text):
    try:
        return ipaddress.ip_address(str(text))
    except ValueError:
        return None


def redis_node_validate(spec):
    """Return a list of errors for the role's input; empty means valid.

    ``spec`` keys: engine, memtotal_mb, maxmemory_bytes, announce_ip,
    host_addresses, port, tls_enabled, tls_port, bus_port, tls_files (dict of
    name -> path or ''), tls_generate, acl_users, min_password_length,
    maxclients, nofile_limit, maxmemory_policy, appendfsync.
    """
    errors = []
    engine = spec.get("engine")
    if engine not in ENGINES:
        errors.append(
            f"unknown engine {engine!r} (from ansible_local.redis_image.engine): expected one of "
            f"{', '.join(ENGINES)}. Was the node built from a redis_image image?"
        )

    memtotal_bytes = int(spec.get("memtotal_mb") or 0) * 1024 * 1024
    maxmemory = spec.get("maxmemory_bytes")
    if maxmemory is not None:
        maxmemory = int(maxmemory)
        if maxmemory <= 0:
            errors.append("maxmemory must be positive: an unbounded Redis gets OOM-killed")
        elif memtotal_bytes and maxmemory >= memtotal_bytes:
            errors.append(
                f"maxmemory {maxmemory} bytes is not smaller than the instance's RAM "
                f"({memtotal_bytes} bytes): leave headroom for forks and the OS"
            )

    if spec.get("maxmemory_policy") not in MAXMEMORY_POLICIES:
        errors.append(
            f"maxmemory policy {spec.get('maxmemory_policy')!r} is not one of {', '.join(MAXMEMORY_POLICIES)}"
        )
    if spec.get("appendfsync") not in APPENDFSYNC_MODES:
        errors.append(f"appendfsync {spec.get('appendfsync')!r} is not one of {', '.join(APPENDFSYNC_MODES)}")

    announce = _ip(spec.get("announce_ip"))
    host_addresses = {str(a) for a in spec.get("host_addresses") or []}
    if announce is None:
        errors.append(f"announce IP {spec.get('announce_ip')!r} (private_ip_address) is not an IP address")
    elif str(announce) not in host_addresses:
        errors.append(
            f"announce IP {announce} (private_ip_address) is not an address of this host "
            f"(host has: {', '.join(sorted(host_addresses)) or 'none'})"
        )

    errors.extend(_validate_ports(spec))
    errors.extend(_validate_tls(spec))
    errors.extend(_validate_acl_users(spec.get("acl_users"), int(spec.get("min_password_length") or 16)))

    maxclients = spec.get("maxclients")
    nofile = spec.get("nofile_limit")
    if maxclients is not None and nofile is not None:
        if int(maxclients) < 1:
            errors.append("maxclients must be at least 1")
        elif int(maxclients) + REDIS_RESERVED_FDS > int(nofile):
            errors.append(
                f"maxclients {maxclients} needs {int(maxclients) + REDIS_RESERVED_FDS} file descriptors but the "
                f"unit's LimitNOFILE is {nofile} (ansible_local.redis_image.nofile_limit)"
            )
    return errors


def _validate_ports(spec):
    errors = []
    # With TLS on the plaintext port is closed (0), so only the TLS port counts.
    if spec.get("tls_enabled"):
        ports = {"TLS port": int(spec.get("tls_port") or 0)}
    else:
        ports = {"client port": int(spec.get("port") or 0)}
    ports["cluster bus port"] = int(spec.get("bus_port") or 0)
    for name, port in ports.items():
        if not 1 <= port <= 65535:
            errors.append(f"{name} {port} is not in 1..65535")
    seen = {}
    for name, port in ports.items():
        if port in seen:
            errors.append(f"port clash: {name} and {seen[port]} are both {port}")
        seen.setdefault(port, name)
    return errors


def _validate_tls(spec):
    if not spec.get("tls_enabled"):
        return []
    if spec.get("tls_generate"):
        return [] if spec.get("tls_ca_dir") else ["TLS certificate generation needs a CA directory on the controller"]
    files = spec.get("tls_files") or {}
    missing = sorted(name for name in ("ca_cert", "cert", "key") if not files.get(name))
    if missing:
        return [
            "TLS is on but no certificates were given: set "
            + ", ".join(f"redis_node_tls_{name}" for name in missing)
            + " (controller paths), or redis_node_tls_generate=true for a role-made CA (sandbox/tests)"
        ]
    return []


_ACL_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


def _validate_acl_users(users, min_length):
    errors = []
    if not isinstance(users, list) or not users:
        return ["redis_node_acl_users must list at least an admin and a replication user"]
    names = []
    for index, user in enumerate(users):
        name = str(user.get("name") or "") if isinstance(user, dict) else ""
        label = f"ACL user {name!r}" if name else f"ACL user #{index}"
        if not isinstance(user, dict) or not name:
            errors.append(f"{label} has no name")
            continue
        names.append(name)
        if not _ACL_NAME_RE.match(name):
            errors.append(f"{label}: names may use letters, digits, '_', '.', '-' only")
        if name == "default":
            errors.append("the 'default' user is managed by redis_node_acl_default_user_enabled, not listed")
        role = user.get("role", "application")
        if role not in ACL_ROLES:
            errors.append(f"{label}: role {role!r} is not one of {', '.join(ACL_ROLES)}")
        password = user.get("password")
        if not password or not str(password).strip():
            errors.append(f"{label} has an empty password")
        elif len(str(password)) < min_length:
            errors.append(f"{label} has a weak password: shorter than {min_length} characters")
        elif any(c.isspace() for c in str(password)):
            errors.append(f"{label}: the password must not contain whitespace")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        errors.append(f"duplicate ACL user names: {', '.join(duplicates)}")
    for role in ("admin", "replication"):
        count = sum(1 for u in users if isinstance(u, dict) and u.get("role") == role)
        if count != 1:
            errors.append(f"exactly one ACL user must have role {role!r}, found {count}")
    return errors


def redis_acl_user_lines(users, app_denied=(), app_allowed=(), default_enabled=False):
    """The ACL file's lines, one ``user`` line per user, hashed passwords.

    Application users get their own key/channel/command rules followed by the
    denied commands and then the few allowed subcommands (cluster clients
    need CLUSTER SLOTS/SHARDS/NODES), so a user's ``commands`` cannot re-allow
    a dangerous command.
    """
    lines = []
    if default_enabled:
        lines.append("user default on nopass ~* &* +@all")
    else:
        lines.append("user default off resetpass resetkeys resetchannels -@all")
    for user in sorted(users, key=lambda u: u["name"]):
        digest = hashlib.sha256(str(user["password"]).encode("utf-8")).hexdigest()
        role = user.get("role", "application")
        state = "on" if user.get("enabled", True) else "off"
        parts = ["user", user["name"], "reset", state, "#" + digest]
        if role == "admin":
            parts += ["~*", "&*", "+@all"]
        elif role == "replication":
            # What a replica's link needs, nothing else.
            parts += ["+psync", "+replconf", "+ping"]
        else:
            parts += ["~" + k for k in user.get("keys", ["*"])]
            parts += ["&" + c for c in user.get("channels", ["*"])]
            parts += [str(c) for c in user.get("commands", ["+@all"])]
            parts += ["-" + str(c).lower() for c in app_denied]
            parts += ["+" + str(c).lower() for c in app_allowed]
        lines.append(" ".join(parts))
    return lines


def redis_info(text):
    """Parse INFO / CLUSTER INFO output into a dict of strings.

    ``slaveN`` lines (``ip=..,port=..,state=..,offset=..,lag=..``) become
    dicts; section headers and blank lines are dropped.
    """
    result = {}
    for raw in str(text or "").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        key, value = line.split(":", 1)
        if re.match(r"^slave\d+$", key) and "=" in value:
            result[key] = dict(item.split("=", 1) for item in value.split(",") if "=" in item)
        else:
            result[key] = value.strip()
    return result


def redis_restart_order(nodes):
    """Order the nodes to restart: replicas first, then masters.

    ``nodes`` is a list of ``{'name', 'restart', 'role'}``; nodes without
    ``restart`` are dropped. Replicas first so that a master's replica is
    already restarted (and caught up) when the master fails over to it;
    masters last, each failed over before it goes down. Ties keep the
    inventory order, which makes the order reproducible.
    """
    pending = [n for n in nodes if n.get("restart")]
    replicas = [n["name"] for n in pending if n.get("role") in REPLICA_ROLES]
    others = [n["name"] for n in pending if n.get("role") not in REPLICA_ROLES]
    return replicas + others


def redis_failover_candidate(replication, max_lag_bytes=0):
    """Pick the replica of a master to fail over to.

    ``replication`` is the parsed ``INFO replication`` of the master. A
    candidate is online and at most ``max_lag_bytes`` behind; the one with
    the highest offset wins (lowest IP on a tie, for determinism). Returns
    ``{'ip': ..., 'port': ...}``, or ``{}`` when no replica qualifies.
    """
    master_offset = int(replication.get("master_repl_offset", 0) or 0)
    best = None
    for key, value in replication.items():
        if not (key.startswith("slave") and isinstance(value, dict)):
            continue
        if value.get("state") != "online":
            continue
        offset = int(value.get("offset", 0) or 0)
        if master_offset - offset > int(max_lag_bytes):
            continue
        candidate = (-offset, str(value.get("ip", "")), str(value.get("port", "")))
        if best is None or candidate < best:
            best = candidate
    return {"ip": best[1], "port": best[2]} if best else {}


def redis_restart_gate(info, in_cluster=True):
    """Problems that keep a restarted node from passing its gate.

    ``info`` is the parsed output of CLUSTER INFO, INFO replication and INFO
    persistence of the node itself. Returns human-readable problems; empty
    means healthy.
    """
    problems = []
    if not info:
        return ["the node did not answer"]
    if str(info.get("loading", "0")) not in ("0", ""):
        problems.append("still loading its data set")
    if in_cluster:
        if info.get("cluster_state") != "ok":
            problems.append(f"cluster_state is {info.get('cluster_state', 'unknown')}, not ok")
        for field in ("cluster_slots_assigned", "cluster_slots_ok"):
            value = int(info.get(field, 0) or 0)
            if value != CLUSTER_SLOTS:
                problems.append(f"{field} is {value}, not {CLUSTER_SLOTS}")
    if info.get("role") in REPLICA_ROLES:
        if info.get("master_link_status") != "up":
            problems.append(f"replication link to the master is {info.get('master_link_status', 'unknown')}")
        if str(info.get("master_sync_in_progress", "0")) != "0":
            problems.append("a full sync from the master is in progress")
    return problems


def redis_replica_caught_up(master_replication, replica_ip, max_lag_bytes=0):
    """Problems with one replica as its master sees it (offset, link state)."""
    master_offset = int(master_replication.get("master_repl_offset", 0) or 0)
    for key, value in master_replication.items():
        if key.startswith("slave") and isinstance(value, dict) and value.get("ip") == str(replica_ip):
            problems = []
            if value.get("state") != "online":
                problems.append(f"the master sees replica {replica_ip} in state {value.get('state')}")
            lag = master_offset - int(value.get("offset", 0) or 0)
            if lag > int(max_lag_bytes):
                problems.append(f"replica {replica_ip} is {lag} bytes behind its master (allowed {max_lag_bytes})")
            return problems
    return [f"the master does not list replica {replica_ip}"]


class FilterModule:
    """redis_node decisions."""

    def filters(self):
        return {
            "redis_acl_user_lines": redis_acl_user_lines,
            "redis_config_split": redis_config_split,
            "redis_config_value": redis_config_value,
            "redis_failover_candidate": redis_failover_candidate,
            "redis_info": redis_info,
            "redis_maxmemory": redis_maxmemory,
            "redis_memory_bytes": redis_memory_bytes,
            "redis_node_validate": redis_node_validate,
            "redis_replica_caught_up": redis_replica_caught_up,
            "redis_restart_gate": redis_restart_gate,
            "redis_restart_order": redis_restart_order,
        }
