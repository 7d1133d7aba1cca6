"""The CloudWatch agent configuration: what it collects, where logs go, and
the rules check_config enforces (the project's own checks; the agent
validates its full schema when it loads the file)."""

import copy

import pytest

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import cloudwatch_agent_config as agent
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import cloudwatch_monitoring as cw

GROUPS = cw.log_groups("prod", 30)
GROUP_NAMES = [g["name"] for g in GROUPS]


def build(**kwargs):
    settings = dict(cluster="prod", region="us-west-2", namespace="RedisCluster", data_dir="/var/lib/redis-node",
                    pid_file="/run/redis-node/redis.pid",
                    log_files=agent.default_log_files("/var/log/redis-node/redis.log", "/var/log/redisops"),
                    log_groups=GROUPS)
    settings.update(kwargs)
    return agent.build_config(**settings)


def test_every_metric_section_the_issue_asks_for():
    collected = build()["metrics"]["metrics_collected"]
    assert set(agent.REQUIRED_METRIC_SECTIONS) <= set(collected)
    assert collected["procstat"] == [{"pid_file": "/run/redis-node/redis.pid",
                                      "measurement": ["cpu_usage", "memory_rss", "num_fds", "pid_count"],
                                      "append_dimensions": {"ClusterName": "prod"}}]
    assert collected["disk"]["resources"] == ["/var/lib/redis-node"]
    assert build()["metrics"]["append_dimensions"] == {"InstanceId": "${aws:InstanceId}"}


def test_logs_go_to_the_clusters_groups_without_setting_retention():
    logs = build()["logs"]["logs_collected"]
    files = {f["file_path"]: f["log_group_name"] for f in logs["files"]["collect_list"]}
    assert files == {"/var/log/redis-node/redis.log": "/redisops/prod/redis",
                     "/var/log/redisops/backup.log": "/redisops/prod/backup",
                     "/var/log/redisops/metrics.log": "/redisops/prod/metrics"}
    assert logs["journald"]["collect_list"][0]["log_group_name"] == "/redisops/prod/system"
    assert not any("retention_in_days" in f for f in logs["files"]["collect_list"])


def test_no_listener_by_default_and_loopback_only_when_asked():
    config = build()
    assert "statsd" not in config["metrics"]["metrics_collected"]
    assert "metrics_collected" not in config["logs"]
    config = build(statsd_port=8125, emf_port=25888)
    assert config["metrics"]["metrics_collected"]["statsd"]["service_address"] == "127.0.0.1:8125"
    assert config["logs"]["metrics_collected"]["emf"]["service_address"] == "udp:127.0.0.1:25888"


@pytest.mark.parametrize("mutate,message", [
    (lambda c: c["metrics"]["metrics_collected"].pop("diskio"), "diskio is missing"),
    (lambda c: c["metrics"]["metrics_collected"]["mem"].update(measurement=[]), "mem measures nothing"),
    (lambda c: c["metrics"]["metrics_collected"].update(procstat=[{"exe": "redis", "measurement": ["pid_count"]}]),
     "pid file"),
    (lambda c: c["metrics"]["metrics_collected"].update(statsd={}), "listens on its default address"),
    (lambda c: c["metrics"]["metrics_collected"].update(statsd={"service_address": ":8125"}), "only 127.0.0.1"),
    (lambda c: c["logs"].update(metrics_collected={"emf": {"service_address": "udp:0.0.0.0:25888"}}),
     "only 127.0.0.1"),
    (lambda c: c["logs"]["logs_collected"]["files"]["collect_list"][0].update(log_group_name="/elsewhere"),
     "not one of the cluster's log groups"),
    (lambda c: c["logs"]["logs_collected"]["files"]["collect_list"][0].update(retention_in_days=7),
     "retention belongs to the log group"),
    (lambda c: c["logs"]["logs_collected"]["files"].update(collect_list=[]), "no log files"),
    (lambda c: c.update(traces={}), "traces"),
    (lambda c: c["metrics"].update(append_dimensions={}), "InstanceId"),
])
def test_check_config_names_each_broken_rule(mutate, message):
    config = copy.deepcopy(build())
    mutate(config)
    errors = agent.check_config(config, GROUP_NAMES)
    assert any(message in e for e in errors), errors


def test_the_built_configuration_passes_its_own_check():
    assert agent.check_config(build(statsd_port=8125, emf_port=25888), GROUP_NAMES) == []


def test_build_refuses_log_files_outside_the_groups():
    with pytest.raises(agent.AgentConfigError, match="not one of the cluster's log groups"):
        build(log_groups=GROUPS[:1])


@pytest.mark.parametrize("mounts,device", [
    ([{"mount": "/", "device": "/dev/nvme0n1p1"}, {"mount": "/var/lib/redis-node", "device": "/dev/nvme1n1"}],
     "nvme1n1"),
    ([{"mount": "/", "device": "/dev/xvda1"}], "xvda1"),
    ([{"mount": "/", "device": "overlay"}], "*"),
    ([{"mount": "/var/lib", "device": "/dev/mapper/vg-data"}], "*"),
    ([], "*"),
    ([{"mount": "/var/lib/redis-node-other", "device": "/dev/sdb"}, {"mount": "/", "device": "/dev/sda1"}], "sda1"),
])
def test_the_data_volume_device_from_the_mounts(mounts, device):
    assert agent.data_volume_device(mounts, "/var/lib/redis-node") == device
    assert build(mounts=mounts)["metrics"]["metrics_collected"]["diskio"]["resources"] == [device]
