"""What a sealed Redis node image must (and must not) contain."""

import json

import pytest

ENGINES = {
    "image-redis": {
        "engine": "redis",
        "version": "7.0.15",
        "package": "redis-server",
        "server_bin": "/usr/bin/redis-server",
        "distro_service": "redis-server.service",
    },
    "image-valkey": {
        "engine": "valkey",
        "version": "8.0.1",
        "package": "valkey-server",
        "server_bin": "/usr/bin/valkey-server",
        "distro_service": "valkey-server.service",
    },
}


@pytest.fixture
def expected(host):
    return ENGINES[host.backend.get_hostname()]


def test_engine_package_installed_at_pinned_version_and_held(host, expected):
    package = host.package(expected["package"])
    assert package.is_installed
    assert expected["version"] in package.version
    selections = host.check_output("dpkg --get-selections %s", expected["package"])
    assert selections.split()[-1] == "hold"


def test_server_binary_reports_the_version(host, expected):
    out = host.check_output("%s --version", expected["server_bin"])
    assert f"v={expected['version']}" in out


def test_distro_service_is_masked(host, expected):
    link = host.file(f"/etc/systemd/system/{expected['distro_service']}")
    assert link.is_symlink and link.linked_to == "/dev/null"
    assert not host.service(expected["distro_service"]).is_running


def test_unit_file(host, expected):
    unit = host.file("/etc/systemd/system/redis-node.service")
    assert unit.user == "root" and unit.mode == 0o644
    content = unit.content_string
    assert "Type=notify" in content
    assert "User=redis" in content
    assert "LimitNOFILE=10064" in content
    assert "Restart=on-failure" in content
    assert "ProtectSystem=strict" in content
    assert (
        f"ExecStart={expected['server_bin']} /etc/redis-node/redis.conf "
        "--include /etc/redis-node/static.conf --supervised systemd --daemonize no"
    ) in content
    assert "ConditionPathExists=/etc/redis-node/static.conf" in content
    verify = host.run("systemd-analyze verify /etc/systemd/system/redis-node.service")
    assert verify.rc == 0, verify.stderr


def test_redis_is_installed_but_not_enabled_or_running(host):
    service = host.service("redis-node.service")
    assert not service.is_enabled
    assert not service.is_running
    assert host.run("pgrep -x redis-server || pgrep -x valkey-server").rc == 1


def test_kernel_tuning_files(host):
    sysctl = host.file("/etc/sysctl.d/60-redis-node.conf").content_string
    for line in (
        "vm.overcommit_memory=1",
        "vm.swappiness=1",
        "net.core.somaxconn=65535",
        "net.ipv4.tcp_max_syn_backlog=65535",
    ):
        assert line in sysctl
    thp = host.file("/etc/systemd/system/disable-transparent-huge-pages.service")
    assert "echo never > /sys/kernel/mm/transparent_hugepage/enabled" in thp.content_string
    assert host.service("disable-transparent-huge-pages.service").is_enabled
    limits = host.file("/etc/security/limits.d/redis-node.conf").content_string
    assert "redis hard nofile 10064" in limits


def test_service_user_and_directories(host):
    user = host.user("redis")
    assert user.exists and user.uid < 1000
    assert user.shell == "/usr/sbin/nologin"
    for path in ("/etc/redis-node", "/var/lib/redis-node"):
        directory = host.file(path)
        assert directory.is_directory
        assert directory.user == "redis" and directory.group == "redis"
        assert directory.mode == 0o750


def test_no_identity_or_data_in_the_image(host):
    assert host.run("ls -A /var/lib/redis-node").stdout == ""
    assert host.run("ls -A /etc/redis-node").stdout == ""
    assert host.run("ls /etc/ssh/ssh_host_*").rc != 0
    assert host.file("/etc/machine-id").content_string == ""
    assert not host.file("/var/lib/dbus/machine-id").exists
    assert host.service("ssh-host-keys.service").is_enabled


def test_no_package_lists_or_downloads_in_the_image_but_apts_directories(host):
    for directory in ("/var/lib/apt/lists", "/var/cache/apt/archives"):
        left = host.run("find %s -type f ! -name lock", directory)
        assert left.rc == 0 and left.stdout.strip() == "", left.stdout
        partial = host.file(directory + "/partial")
        assert partial.is_directory and partial.user == "_apt" and partial.mode == 0o700


def test_fact_file_describes_the_image(host, expected):
    facts = json.loads(host.file("/etc/ansible/facts.d/redis_image.fact").content_string)
    assert facts["engine"] == expected["engine"]
    assert facts["version"] == expected["version"]
    assert facts["server_bin"] == expected["server_bin"]
    assert facts["service"] == "redis-node.service"
    assert facts["data_dir"] == "/var/lib/redis-node"
    assert facts["static_config_file"] == "/etc/redis-node/static.conf"
    assert facts["maxclients"] == 10000 and facts["nofile_limit"] == 10064


def test_node_tooling_installed(host):
    for package in ("cron", "python3-redis", "python3-boto3"):
        assert host.package(package).is_installed
