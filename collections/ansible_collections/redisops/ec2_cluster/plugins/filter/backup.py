# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over the backup contract (module_utils/backup_layout.py); each is
documented in its own plugins/filter/<name>.yml."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_layout, restore_plan


def backup_cron_fields(interval_hours, start="02:00"):
    """{'minute': ..., 'hour': ...} of ansible.builtin.cron for the backup schedule."""
    try:
        minute, hour = backup_layout.cron_fields(int(interval_hours), str(start))
    except (backup_layout.LayoutError, TypeError, ValueError) as error:
        raise AnsibleFilterError("backup_cron_fields: %s" % error) from error
    return {"minute": minute, "hour": hour}


def restore_report(plan, loaded_by_host, moved_by_host):
    """Keys expected and found per shard (module_utils/restore_plan.py: report)."""
    try:
        return restore_plan.report(plan, loaded_by_host or {}, moved_by_host or {})
    except (KeyError, TypeError) as error:
        raise AnsibleFilterError("restore_report: not a restore plan and results: %s" % error) from error


class FilterModule:
    def filters(self):
        return {"backup_cron_fields": backup_cron_fields, "restore_report": restore_report}
