# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether the redis_node role's input fits the node, before anything changes.

Pure: ``node_input_errors(spec)`` returns human-readable errors (empty means
valid); the role fails with them before it touches the node. Messages name
users, settings and limits, never a password.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.acl_rules import acl_user_errors

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
# Redis reserves this many descriptors beyond maxclients for itself.
REDIS_RESERVED_FDS = 32


def node_input_errors(spec):
    """Errors in the role's input; empty means valid.

    ``spec`` keys: engine, memtotal_mb, maxmemory_bytes, maxmemory_policy,
    appendfsync, announce_ip, host_addresses, port, tls_enabled, tls_port,
    bus_port, tls_generate, tls_ca_dir, tls_files (dict of name -> path or
    ''), acl_users, min_password_length, maxclients, nofile_limit.
    """
    errors = []
    engine = spec.get("engine")
    if engine not in ENGINES:
        errors.append(
            "unknown engine %r (from ansible_local.redis_image.engine): expected one of %s. "
            "Was the node built from a redis_image image?" % (engine, ", ".join(ENGINES))
        )
    errors.extend(_memory_errors(spec))
    if spec.get("maxmemory_policy") not in MAXMEMORY_POLICIES:
        errors.append("maxmemory policy %r is not one of %s" % (spec.get("maxmemory_policy"), ", ".join(MAXMEMORY_POLICIES)))
    if spec.get("appendfsync") not in APPENDFSYNC_MODES:
        errors.append("appendfsync %r is not one of %s" % (spec.get("appendfsync"), ", ".join(APPENDFSYNC_MODES)))
    errors.extend(_address_errors(spec))
    errors.extend(_port_errors(spec))
    errors.extend(_tls_errors(spec))
    errors.extend(acl_user_errors(spec.get("acl_users"), int(spec.get("min_password_length") or 16)))
    errors.extend(_client_limit_errors(spec))
    return errors


def _memory_errors(spec):
    memtotal_bytes = int(spec.get("memtotal_mb") or 0) * 1024 * 1024
    maxmemory = spec.get("maxmemory_bytes")
    if maxmemory is None:
        return []
    maxmemory = int(maxmemory)
    if maxmemory <= 0:
        return ["maxmemory must be positive: an unbounded Redis gets OOM-killed"]
    if memtotal_bytes and maxmemory >= memtotal_bytes:
        return ["maxmemory %d bytes is not smaller than the instance's RAM (%d bytes): leave headroom for forks "
                "and the OS" % (maxmemory, memtotal_bytes)]
    return []


def _address_errors(spec):
    try:
        announce = ipaddress.ip_address(str(spec.get("announce_ip")))
    except ValueError:
        return ["announce IP %r (private_ip_address) is not an IP address" % (spec.get("announce_ip"),)]
    host_addresses = {str(a) for a in spec.get("host_addresses") or []}
    if str(announce) not in host_addresses:
        return ["announce IP %s (private_ip_address) is not an address of this host (host has: %s)"
                % (announce, ", ".join(sorted(host_addresses)) or "none")]
    return []


def _port_errors(spec):
    errors = []
    # With TLS on the plaintext port is closed (0), so only the TLS port counts.
    if spec.get("tls_enabled"):
        ports = {"TLS port": int(spec.get("tls_port") or 0)}
    else:
        ports = {"client port": int(spec.get("port") or 0)}
    ports["cluster bus port"] = int(spec.get("bus_port") or 0)
    for name, port in ports.items():
        if not 1 <= port <= 65535:
            errors.append("%s %d is not in 1..65535" % (name, port))
    seen = {}
    for name, port in ports.items():
        if port in seen:
            errors.append("port clash: %s and %s are both %d" % (name, seen[port], port))
        seen.setdefault(port, name)
    return errors


def _tls_errors(spec):
    if not spec.get("tls_enabled"):
        return []
    if spec.get("tls_generate"):
        return [] if spec.get("tls_ca_dir") else ["TLS certificate generation needs a CA directory on the controller"]
    files = spec.get("tls_files") or {}
    missing = sorted(name for name in ("ca_cert", "cert", "key") if not files.get(name))
    if missing:
        return [
            "TLS is on but no certificates were given: set "
            + ", ".join("redis_node_tls_%s" % name for name in missing)
            + " (controller paths), or redis_node_tls_generate=true for a role-made CA (sandbox/tests)"
        ]
    return []


def _client_limit_errors(spec):
    maxclients = spec.get("maxclients")
    nofile = spec.get("nofile_limit")
    if maxclients is None or nofile is None:
        return []
    if int(maxclients) < 1:
        return ["maxclients must be at least 1"]
    if int(maxclients) + REDIS_RESERVED_FDS > int(nofile):
        return ["maxclients %s needs %d file descriptors but the unit's LimitNOFILE is %s "
                "(ansible_local.redis_image.nofile_limit)" % (maxclients, int(maxclients) + REDIS_RESERVED_FDS, nofile)]
    return []
