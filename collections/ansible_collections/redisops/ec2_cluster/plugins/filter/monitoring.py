# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the monitoring roles: inventory nodes, alarms,
the dashboard, log groups and the CloudWatch agent configuration. Each is a
thin wrapper over a pure module_utils function; one documentation file per
filter sits next to this file."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import cloudwatch_agent_config as agent
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import cloudwatch_monitoring as cw


def _wrap(function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except (cw.MonitoringError, agent.AgentConfigError) as exc:
        raise AnsibleFilterError(str(exc))


def monitoring_nodes(hostvars, hosts):
    """Inventory hosts -> [{instance_id, availability_zone, address}]."""
    nodes = []
    for host in hosts:
        variables = hostvars[host]
        nodes.append({"instance_id": variables.get("instance_id", ""),
                      "availability_zone": (variables.get("placement") or {}).get("availability_zone", ""),
                      "address": variables.get("private_ip_address", host)})
    return _wrap(cw.check_nodes, nodes)


def monitoring_alarms(nodes, cluster, namespace, topic_arn, interval_seconds=60, settings=None):
    return _wrap(cw.desired_alarms, cluster, namespace, nodes, topic_arn, int(interval_seconds), settings or {})


def monitoring_dashboard(nodes, cluster, namespace, region, interval_seconds=60):
    return _wrap(cw.dashboard_body, cluster, namespace, region, nodes, int(interval_seconds))


def monitoring_log_groups(cluster, retention_days):
    return _wrap(cw.log_groups, cluster, int(retention_days))


def cloudwatch_agent_config(settings):
    return _wrap(agent.build_config, **settings)


class FilterModule:
    def filters(self):
        return {
            "monitoring_nodes": monitoring_nodes,
            "monitoring_alarms": monitoring_alarms,
            "monitoring_dashboard": monitoring_dashboard,
            "monitoring_log_groups": monitoring_log_groups,
            "cloudwatch_agent_config": cloudwatch_agent_config,
        }
