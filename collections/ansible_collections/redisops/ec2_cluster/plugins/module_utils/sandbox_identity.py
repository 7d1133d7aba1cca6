# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which local sandbox a run talks to (docs/targets.md, "Sandbox identity").

Everything that tells one sandbox from another on the same Docker host is a
field of its identity: the moto port, the Docker network and its address
range (the VPC CIDR, with one /24 per AZ inside it), the state directory, the
prefix of instance container names and the cluster name. The bastion's SSH
port on 127.0.0.1 (the moto port + 1) and its address on the network are
derived from them. DEFAULTS is the
user's sandbox (``make deploy``); setting ``REDISOPS_SANDBOX_<FIELD>`` for
every field selects another one, which is how the tests run a sandbox of
their own without touching the user's.

Used by the ``redisops.ec2_cluster.sandbox_identity`` lookup (inventory and
group_vars of inventories/sandbox) and by the test harness, so both sides
compute the same values.
"""

from __future__ import annotations

import ipaddress
import itertools
import os
import re
import urllib.parse

ENV_PREFIX = "REDISOPS_SANDBOX_"
FIELDS = ("port", "network", "vpc_cidr", "dir", "container_prefix", "cluster_name")
DEFAULTS = {
    "port": "5000",
    "network": "redisops-sandbox",
    "vpc_cidr": "10.77.0.0/16",
    "dir": ".sandbox",
    "container_prefix": "redisops-sbx-",
    "cluster_name": "sandbox",
}
REGION = "us-west-2"
AZ_LETTERS = ("a", "b", "c")

_DOCKER_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
_CONTAINER_PREFIX = re.compile(r"^[a-z0-9][a-z0-9_.-]*-$")
# Becomes part of the bucket name redisops-<cluster>-backups (63 characters at most).
_CLUSTER_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")


class SandboxIdentityError(ValueError):
    """An identity field that cannot work, named with the variable that set it."""


def moto_endpoint_problem(url):
    """Why url is not a sandbox's moto (http://127.0.0.1:<port> or http://localhost:<port>), or None.

    The sandbox modules check this before any API call, so a sandbox run can
    never reach anything but the loopback.
    """
    endpoint = urllib.parse.urlsplit(url or "")
    try:
        port = endpoint.port
    except ValueError:
        port = None
    if endpoint.scheme != "http" or endpoint.hostname not in ("127.0.0.1", "localhost") or not port:
        return "endpoint_url must be the sandbox's moto, http://127.0.0.1:<port> (got %s)" % url
    return None


def env_name(field):
    """The environment variable that overrides one field."""
    return ENV_PREFIX + field.upper()


def from_environ(environ, project_dir):
    """The identity selected by ``environ`` (unset or empty fields take DEFAULTS)."""
    raw = {field: environ.get(env_name(field)) or DEFAULTS[field] for field in FIELDS}
    return build(raw, project_dir)


def build(raw, project_dir):
    """Check every field of ``raw`` and derive the rest; raises SandboxIdentityError."""
    missing = [field for field in FIELDS if not str(raw.get(field) or "")]
    if missing:
        raise SandboxIdentityError("sandbox identity without " + ", ".join(env_name(f) for f in missing))
    port = _port(raw["port"])
    network = _matching(raw, "network", _DOCKER_NAME, "a Docker network name")
    prefix = _matching(raw, "container_prefix", _CONTAINER_PREFIX, "lowercase, ending in '-'")
    cluster = _matching(raw, "cluster_name", _CLUSTER_NAME, "lowercase letters, digits and '-', at most 40")
    vpc = _vpc(raw["vpc_cidr"])
    subnets = itertools.islice(vpc.subnets(new_prefix=24), 1, len(AZ_LETTERS) + 1)
    # Docker gives a bridge network's first address to the host (the gateway);
    # the sandbox's AWS forwarder listens there for the instances.
    hosts = vpc.hosts()
    gateway = next(hosts)
    # The bastion stands in the VPC's first /24 (the public side; the private
    # subnets are the next ones), its sshd published on the loopback only.
    bastion = next(hosts)
    return {
        "port": port,
        "endpoint_url": "http://127.0.0.1:%d" % port,
        "bastion_port": port + 1,
        "bastion_address": str(bastion),
        "gateway": str(gateway),
        "node_endpoint_url": "http://%s:%d" % (gateway, port),
        "network": network,
        "vpc_cidr": str(vpc),
        "private_subnets": [{"az": REGION + letter, "cidr": str(net)} for letter, net in zip(AZ_LETTERS, subnets)],
        "dir": os.path.normpath(os.path.join(project_dir, os.path.expanduser(str(raw["dir"])))),
        "container_prefix": prefix,
        "cluster_name": cluster,
        "region": REGION,
    }


def conflicts(one, other):
    """Fields in which two identities would share or clash on a Docker host.

    Empty when the two sandboxes can run side by side without one ever
    touching the other's moto, network, containers, files or cluster.
    """
    found = []
    if {one["port"], one["port"] + 1} & {other["port"], other["port"] + 1}:
        found.append("port")
    if one["network"] == other["network"]:
        found.append("network")
    if ipaddress.ip_network(one["vpc_cidr"]).overlaps(ipaddress.ip_network(other["vpc_cidr"])):
        found.append("vpc_cidr")
    if _nested(one["dir"], other["dir"]):
        found.append("dir")
    if one["container_prefix"].startswith(other["container_prefix"]) or \
            other["container_prefix"].startswith(one["container_prefix"]):
        found.append("container_prefix")
    if one["cluster_name"] == other["cluster_name"]:
        found.append("cluster_name")
    return found


def _nested(one, other):
    one, other = os.path.normpath(one), os.path.normpath(other)
    return one == other or one.startswith(other + os.sep) or other.startswith(one + os.sep)


def _port(value):
    try:
        port = int(str(value))
    except ValueError:
        port = 0
    # The next port is the bastion's.
    if not 1024 <= port <= 65534:
        raise SandboxIdentityError("%s must be a TCP port from 1024 to 65534 (the next one is the bastion's), not %r"
                                   % (env_name("port"), value))
    return port


def _matching(raw, field, pattern, what):
    value = str(raw[field])
    if not pattern.match(value):
        raise SandboxIdentityError("%s must be %s, not %r" % (env_name(field), what, value))
    return value


def _vpc(value):
    try:
        vpc = ipaddress.ip_network(str(value), strict=True)
    except ValueError as exc:
        raise SandboxIdentityError("%s is not a network address: %s" % (env_name("vpc_cidr"), exc))
    if vpc.version != 4 or not vpc.is_private or not 8 <= vpc.prefixlen <= 22:
        raise SandboxIdentityError(
            "%s must be a private IPv4 network from /8 to /22 (room for one /24 per AZ after the first), not %s"
            % (env_name("vpc_cidr"), value))
    return vpc
