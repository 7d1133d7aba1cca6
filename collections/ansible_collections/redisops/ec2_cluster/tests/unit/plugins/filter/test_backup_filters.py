"""The backup filters: cron fields of the schedule, the restore report."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.ec2_cluster.plugins.filter import backup


def test_cron_fields():
    assert backup.backup_cron_fields(24) == {"minute": "0", "hour": "2"}
    assert backup.backup_cron_fields("6", "01:30") == {"minute": "30", "hour": "1,7,13,19"}


@pytest.mark.parametrize("interval, start", [(5, "02:00"), ("x", "02:00"), (24, "2pm")])
def test_bad_schedules_are_clear_errors(interval, start):
    with pytest.raises(AnsibleFilterError, match="backup_cron_fields"):
        backup.backup_cron_fields(interval, start)


def test_restore_report_refuses_what_is_not_a_plan():
    with pytest.raises(AnsibleFilterError, match="restore_report"):
        backup.restore_report({"shards": [{}]}, {}, {})
    assert backup.FilterModule().filters()["restore_report"] is backup.restore_report
