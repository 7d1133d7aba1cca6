# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Amazon CloudWatch agent configuration of a Redis node, built and
checked as data (docs/metrics.md "The CloudWatch agent").

build_config() returns the agent's JSON document; check_config() lists the
rules it breaks among those the project relies on: the host metric sections,
procstat by the Redis pid file, every log file going to one of the
cluster's log groups (which the controller creates with their retention),
and no listener (StatsD, EMF, collectd, OTLP) on anything but 127.0.0.1.
The agent validates the full schema itself when it loads the file.
"""

from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Sequence

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import cloudwatch_monitoring as cw

REQUIRED_METRIC_SECTIONS = ("cpu", "mem", "swap", "disk", "diskio", "net", "netstat", "procstat")
LOOPBACK = "127.0.0.1"
# Where each listener's address lives in the configuration.
_LISTENERS = (
    (("metrics", "metrics_collected", "statsd"), "service_address"),
    (("metrics", "metrics_collected", "collectd"), "service_address"),
    (("logs", "metrics_collected", "emf"), "service_address"),
)


class AgentConfigError(ValueError):
    """The settings cannot make a configuration the project relies on."""


def data_volume_device(mounts: Sequence[Mapping[str, str]], data_dir: str) -> str:
    """Kernel name of the device holding data_dir ('nvme1n1'), from
    ansible_facts.mounts; '*' (every device) when it is not a block device
    (containers, overlay file systems)."""
    best = None
    for mount in mounts or []:
        point = str(mount.get("mount", ""))
        if data_dir == point or data_dir.startswith(point.rstrip("/") + "/"):
            if best is None or len(point) > len(str(best.get("mount", ""))):
                best = mount
    device = str((best or {}).get("device", ""))
    if not device.startswith("/dev/") or device.startswith("/dev/mapper/"):
        return "*"
    return device.rsplit("/", 1)[-1]


def _listener_ok(address: str) -> bool:
    """'127.0.0.1:8125', 'udp://127.0.0.1:25826', 'tcp:127.0.0.1:25888'..."""
    host_port = str(address).split("://", 1)[-1]
    if host_port.startswith(("udp:", "tcp:")):
        host_port = host_port[4:]
    return host_port.rsplit(":", 1)[0] == LOOPBACK


def build_config(cluster: str, region: str, namespace: str, data_dir: str, pid_file: str,
                 log_files: Mapping[str, str], log_groups: Sequence[Mapping[str, object]],
                 data_device: str = "*", interface: str = "*", interval_seconds: int = 60,
                 statsd_port: int = 0, emf_port: int = 0, run_as_user: str = "cwagent",
                 journal_priority: str = "info", mounts: Optional[Sequence[Mapping[str, str]]] = None) -> dict:
    """The agent configuration.

    log_files maps a log stream kind of cloudwatch_monitoring.LOG_STREAMS
    ('redis', 'backup', 'metrics') to its file; the 'system' kind is the
    systemd journal (Debian 12 keeps no /var/log/syslog without rsyslog).
    statsd_port / emf_port: 0 keeps that listener off, else it listens on
    127.0.0.1 only. mounts (ansible_facts.mounts), when given, decide
    data_device.
    """
    if mounts is not None:
        data_device = data_volume_device(mounts, data_dir)
    dims = {"ClusterName": cluster}
    groups = {str(g["name"]) for g in log_groups}
    files = []
    for kind in sorted(log_files):
        files.append({"file_path": log_files[kind], "log_group_name": cw.log_group_name(cluster, kind),
                      "log_stream_name": "{instance_id}", "timezone": "UTC"})
    collected = {
        "cpu": {"measurement": ["usage_active", "usage_user", "usage_system", "usage_iowait", "usage_steal"],
                "totalcpu": True, "append_dimensions": dims},
        "mem": {"measurement": ["mem_used_percent", "mem_available_percent"], "append_dimensions": dims},
        "swap": {"measurement": ["swap_used_percent"], "append_dimensions": dims},
        "disk": {"measurement": ["used_percent", "inodes_used"], "resources": [data_dir], "drop_device": True,
                 "append_dimensions": dims},
        "diskio": {"measurement": ["reads", "writes", "read_bytes", "write_bytes", "io_time"],
                   "resources": [data_device], "append_dimensions": dims},
        "net": {"measurement": ["bytes_sent", "bytes_recv", "drop_in", "drop_out", "err_in", "err_out"],
                "resources": [interface], "append_dimensions": dims},
        "netstat": {"measurement": ["tcp_established", "tcp_time_wait", "tcp_close_wait"], "append_dimensions": dims},
        "procstat": [{"pid_file": pid_file, "measurement": ["cpu_usage", "memory_rss", "num_fds", "pid_count"],
                      "append_dimensions": dims}],
    }
    if statsd_port:
        collected["statsd"] = {"service_address": "%s:%d" % (LOOPBACK, int(statsd_port))}
    config = {
        "agent": {"metrics_collection_interval": int(interval_seconds), "region": region, "omit_hostname": True,
                  "run_as_user": run_as_user, "logfile": "/opt/aws/amazon-cloudwatch-agent/logs/amazon-cloudwatch-agent.log"},
        "metrics": {"namespace": namespace, "append_dimensions": {"InstanceId": "${aws:InstanceId}"},
                    "metrics_collected": collected},
        "logs": {"logs_collected": {
            "files": {"collect_list": files},
            "journald": {"collect_list": [{"log_group_name": cw.log_group_name(cluster, "system"),
                                           "log_stream_name": "{instance_id}", "priority": journal_priority}]},
        }, "force_flush_interval": 15},
    }
    if emf_port:
        config["logs"]["metrics_collected"] = {"emf": {"service_address": "udp:%s:%d" % (LOOPBACK, int(emf_port))}}
    errors = check_config(config, groups)
    if errors:
        raise AgentConfigError("CloudWatch agent configuration: " + "; ".join(errors))
    return config


def _section(config, path):
    node = config
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def check_config(config: Mapping[str, object], log_groups: Optional[Sequence[str]] = None) -> List[str]:
    """The rules this project relies on that the configuration breaks."""
    errors = []
    collected = _section(config, ("metrics", "metrics_collected")) or {}
    for name in REQUIRED_METRIC_SECTIONS:
        section = collected.get(name)
        if not section:
            errors.append("metrics section %s is missing" % name)
            continue
        for item in section if isinstance(section, list) else [section]:
            if not item.get("measurement"):
                errors.append("metrics section %s measures nothing" % name)
    procstat = collected.get("procstat") or []
    if procstat and not all(item.get("pid_file") for item in procstat):
        errors.append("procstat must follow the Redis process by its pid file")
    if not (_section(config, ("metrics", "append_dimensions")) or {}).get("InstanceId"):
        errors.append("metrics need the InstanceId dimension (append_dimensions)")
    files = _section(config, ("logs", "logs_collected", "files", "collect_list")) or []
    journal = _section(config, ("logs", "logs_collected", "journald", "collect_list")) or []
    if not files:
        errors.append("no log files are collected")
    for entry in list(files) + list(journal):
        group = entry.get("log_group_name")
        what = entry.get("file_path", "the journal")
        if not group:
            errors.append("%s has no log group" % what)
        elif log_groups is not None and group not in log_groups:
            errors.append("%s goes to %s, which is not one of the cluster's log groups (%s)"
                          % (what, group, ", ".join(sorted(log_groups))))
        if "retention_in_days" in entry:
            errors.append("%s sets retention_in_days: retention belongs to the log group, set by the controller" % what)
    for path, key in _LISTENERS:
        section = _section(config, path)
        if section is None:
            continue
        address = section.get(key) if isinstance(section, dict) else None
        if not address or not _listener_ok(address):
            errors.append("%s listens on %s: only %s is allowed (the agent's default is every interface)"
                          % (".".join(path), address or "its default address", LOOPBACK))
    otlp = _section(config, ("metrics", "metrics_collected", "otlp")) or _section(config, ("logs", "metrics_collected", "otlp"))
    if otlp:
        for key in ("grpc_endpoint", "http_endpoint"):
            if not _listener_ok(otlp.get(key, "0.0.0.0:0")):
                errors.append("otlp %s must listen on %s" % (key, LOOPBACK))
    if _section(config, ("traces",)) is not None:
        errors.append("traces open listeners (X-Ray, OTLP); this configuration has none")
    return errors


def default_log_files(redis_log: str, program_log_dir: str) -> Dict[str, str]:
    return {"redis": redis_log, "backup": program_log_dir.rstrip("/") + "/backup.log",
            "metrics": program_log_dir.rstrip("/") + "/metrics.log"}
