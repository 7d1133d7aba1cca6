# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the controller reaches the instances of an AWS target (docs/targets.md,
"Reaching the nodes"): SSH through the bastion, or SSM Session Manager.

Pure: the caller hands in the inventory's settings and the Terraform
outputs; every value left empty in the settings is taken from the outputs.
Problems are returned, all at once, as sentences naming the variable to
set, so a run stops before anything connects.
"""

from __future__ import annotations

import re
import shlex
from typing import Any, Mapping

CONNECTIONS = ("ssh", "ssm")
SSH_CONNECTION = "ansible.builtin.ssh"
SSM_CONNECTION = "amazon.aws.aws_ssm"
# The outputs read here (terraform/outputs.tf).
BASTION_OUTPUT = "bastion_public_ip"
KEY_PAIR_OUTPUT = "key_pair_name"
SSM_BUCKET_OUTPUT = "ssm_transfer_bucket"

_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.:-]*[A-Za-z0-9])?$")
_USER = re.compile(r"^[a-z_][a-z0-9_.-]*$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class NodeAccessError(ValueError):
    """Settings that are not the expected types."""


def _text(settings: Mapping[str, Any], name: str) -> str:
    value = settings.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise NodeAccessError("%s must be a string, got %r" % (name, value))
    return value.strip()


def known_hosts_file(directory: str, cluster_name: str) -> str:
    """The cluster's own known_hosts file: <directory>/<cluster>/known_hosts."""
    return "%s/%s/known_hosts" % (directory.rstrip("/"), cluster_name)


def host_key_options(known_hosts: str) -> list:
    """New addresses are learnt, a changed key stops the connection."""
    return ["-o", "UserKnownHostsFile=%s" % known_hosts, "-o", "StrictHostKeyChecking=accept-new"]


def ssh_common_args(bastion_user: str, bastion_host: str, private_key_file: str, known_hosts: str,
                    bastion_port: int = 22) -> str:
    """ansible_ssh_common_args for a node behind the bastion.

    The jump is a ProxyCommand rather than -o ProxyJump: OpenSSH does not pass
    command-line options (-i, -o) to a ProxyJump hop, and the bastion's key
    must be checked against the same per-cluster file with the same key.
    Ansible splits the value with shlex, the ProxyCommand goes through a shell:
    both levels are quoted. The bastion's port is given only when it is not
    ssh's own (22), so the known host entry of a bastion on 22 stays its
    plain address.
    """
    port = ["-p", str(bastion_port)] if bastion_port != 22 else []
    hop = ["ssh", "-W", "%h:%p", "-i", private_key_file] + host_key_options(known_hosts) + [
        "-o", "BatchMode=yes"] + port + ["%s@%s" % (bastion_user, bastion_host)]
    proxy = " ".join(shlex.quote(part) for part in hop)
    return " ".join(shlex.quote(part) for part in host_key_options(known_hosts) + ["-o", "ProxyCommand=" + proxy])


def _port(settings: Mapping[str, Any], errors: list) -> int:
    """bastion_port: empty or absent is ssh's 22; a number or a numeric string otherwise."""
    value = settings.get("bastion_port")
    if value is None or (isinstance(value, str) and not value.strip()):
        return 22
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise NodeAccessError("bastion_port must be a number, got %r" % (value,))
    text = str(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        errors.append("redisops_ssh_bastion_port %r is not a TCP port (1 to 65535)" % (value,))
        return 22
    return int(text)


def node_access(settings: Mapping[str, Any], outputs: Mapping[str, Any]) -> dict:
    """The connection settings of the target's instances.

    settings: connection (ssh | ssm), bastion_host, bastion_port (22 when
    empty), bastion_user, user,
    private_key_file, key_pair_name, known_hosts_dir (absolute), ssm_bucket;
    empty values come from the outputs (bastion_public_ip, key_pair_name,
    ssm_transfer_bucket; cluster_name names the known_hosts file). Returns
    the settings with "errors": [] when complete; the AMI builder is always
    reached over SSH (the base AMI has no SSM agent), so SSH must be complete
    for both connections.
    """
    if not isinstance(settings, Mapping) or not isinstance(outputs, Mapping):
        raise NodeAccessError("settings and outputs must be mappings")
    errors = []
    connection = _text(settings, "connection") or "ssh"
    if connection not in CONNECTIONS:
        errors.append("redisops_connection is %r: use ssh (through the bastion) or ssm (Session Manager)" % connection)
    cluster = outputs.get("cluster_name") or ""
    if not isinstance(cluster, str) or not _NAME.match(cluster):
        errors.append("the Terraform outputs name no valid cluster_name (%r)" % (cluster,))
        cluster = ""

    def pick(name, output, variable):
        value = _text(settings, name) or outputs.get(output) or ""
        if not isinstance(value, str):
            raise NodeAccessError("output %s must be a string, got %r" % (output, value))
        if not value:
            errors.append("no %s: set %s or the Terraform output %s" % (name.replace("_", " "), variable, output))
        return value

    bastion_host = pick("bastion_host", BASTION_OUTPUT, "redisops_ssh_bastion_host")
    if bastion_host and not _HOST.match(bastion_host):
        errors.append("redisops_ssh_bastion_host %r is not a host name or address" % bastion_host)
    bastion_port = _port(settings, errors)
    key_pair = pick("key_pair_name", KEY_PAIR_OUTPUT, "redisops_ssh_key_pair_name")
    for name, variable in (("bastion_user", "redisops_ssh_bastion_user"), ("user", "redisops_ssh_user")):
        if not _USER.match(_text(settings, name)):
            errors.append("%s %r is not a login name" % (variable, _text(settings, name)))
    directory = _text(settings, "known_hosts_dir")
    if not directory.startswith("/"):
        errors.append("redisops_ssh_known_hosts_dir %r must be an absolute path" % directory)
    private_key = _text(settings, "private_key_file")
    if not private_key and directory and cluster and key_pair:
        private_key = "%s/%s/%s" % (directory.rstrip("/"), cluster, key_pair)
    if private_key and not private_key.startswith("/"):
        errors.append("redisops_ssh_private_key_file %r must be an absolute path" % private_key)
    for path in (directory, private_key):
        if re.search(r"\s", path):
            errors.append("%r: paths with white space are not supported" % path)
    bucket = _text(settings, "ssm_bucket") or outputs.get(SSM_BUCKET_OUTPUT) or ""
    if connection == "ssm" and not bucket:
        errors.append("no SSM transfer bucket: set redisops_ssm_bucket or the Terraform output %s" % SSM_BUCKET_OUTPUT)

    known_hosts = known_hosts_file(directory, cluster) if directory and cluster else ""
    complete = not errors
    return {
        "errors": errors,
        "connection": connection,
        "cluster_name": cluster,
        "ansible_connection": SSM_CONNECTION if connection == "ssm" else SSH_CONNECTION,
        "user": _text(settings, "user"),
        "bastion": "%s@%s" % (_text(settings, "bastion_user"), bastion_host) if complete else "",
        "bastion_port": bastion_port,
        "key_pair_name": key_pair,
        "private_key_file": private_key,
        "known_hosts_file": known_hosts,
        "ssh_common_args": ssh_common_args(_text(settings, "bastion_user"), bastion_host, private_key,
                                           known_hosts, bastion_port) if complete else "",
        "ssm_bucket": bucket,
    }
