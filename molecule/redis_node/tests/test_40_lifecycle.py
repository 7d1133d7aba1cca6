"""Changes to a running node: runtime vs static, data across restarts, rolling restart order.

The tests run in file order and build on each other: check mode first (on
the converged nodes), then the cluster is formed, then the changes.
"""

import json
import re

import pytest

from conftest import (
    NODES,
    acl_users,
    cli,
    cluster_info,
    engine_cli,
    info,
    master_and_replica,
    node,
    passwords,
    run_playbook,
    server_pid,
    wait_for,
)

DATA_KEYS = 200
REPORTING_PASSWORD = "molecule-report-Secret-55aa11"


def unit_times(name):
    out = node(name).check_output("systemctl show -p InactiveEnterTimestampMonotonic -p ActiveEnterTimestampMonotonic redis-node")
    values = dict(line.split("=", 1) for line in out.splitlines())
    return {"down": int(values["InactiveEnterTimestampMonotonic"]), "up": int(values["ActiveEnterTimestampMonotonic"])}


def pids():
    return {name: server_pid(name) for name in NODES}


def assert_no_password_in(text):
    for password in passwords():
        assert password not in text


def test_check_mode_on_converged_nodes_reports_no_change():
    before = pids()
    result = run_playbook("--check", "--diff")
    assert result.rc == 0, result.output[-3000:]
    for name in NODES:
        assert result.recap()[name]["changed"] == 0, result.output[-3000:]
    assert pids() == before


def test_data_survives_a_restart(clusters):
    master, replica = master_and_replica()
    writers = [master, "rn-valkey-1"]
    for name in writers:
        cli(name, "FLUSHALL")
        # One hash tag: every key in one slot, all served by this master.
        node(name).check_output(f"seq 0 {DATA_KEYS - 1} | sed 's/.*/SET app:{{k}}& value-&/' | redis-node-cli > /dev/null")
        assert cli(name, "DBSIZE") == str(DATA_KEYS)
        # Make sure the RDB exists too, not only the AOF.
        cli(name, "SAVE")
    for name in writers:
        node(name).check_output("systemctl restart redis-node")
    for name in writers + [replica]:
        wait_for(lambda n=name: cli(n, "PING", check=False) == "PONG", f"{name} to answer", 60)
        wait_for(lambda n=name: info(n, "persistence").get("loading") == "0", f"{name} to load", 60)
    wait_for(lambda: info(replica).get("master_link_status") == "up", "the replica link", 60)
    for name in writers:
        assert cli(name, "DBSIZE") == str(DATA_KEYS)
        assert cli(name, "GET", "app:{k}7") == "value-7"
        files = node(name).check_output("ls /var/lib/redis-node /var/lib/redis-node/appendonlydir").split()
        assert "dump.rdb" in files
        assert "appendonly.aof.manifest" in files
        assert any(re.match(r"appendonly\.aof\.\d+\.incr\.aof$", f) for f in files)
        assert any(re.match(r"appendonly\.aof\.\d+\.base\.rdb$", f) for f in files)
    wait_for(lambda: cli(replica, "DBSIZE") == str(DATA_KEYS), "the replica to hold the data", 30)


@pytest.fixture(scope="module")
def runtime_run(clusters):
    """One -vvv --diff run with a runtime-only setting and an extra ACL user."""
    before = pids()
    users = list(acl_users().values()) + [
        {"name": "reporting", "role": "application", "password": REPORTING_PASSWORD, "keys": ["report:*"], "commands": ["+@read"]}
    ]
    extra = {"redis_node_maxmemory_policy": "allkeys-lru", "redis_node_acl_users": users}
    result = run_playbook("-vvv", "--diff", "-e", json.dumps(extra), watch=["rn-redis-1", "rn-valkey-1"])
    assert result.rc == 0, result.output[-3000:]
    return {"result": result, "pids_before": before}


def test_verbose_output_never_shows_a_password(runtime_run):
    output = runtime_run["result"].output
    assert "ESTABLISH" in output  # it really is -vvv output
    assert "redisops.ec2_cluster.redis_config" in output or "redis_config" in output
    for password in passwords() + [REPORTING_PASSWORD]:
        assert password not in output


def test_process_lists_during_the_run_never_show_a_password(runtime_run):
    samples = runtime_run["result"].process_lists
    assert len(samples) > 10
    # The samples did catch Ansible at work on the nodes.
    assert any("python3" in sample for sample in samples)
    for sample in samples:
        for password in passwords() + [REPORTING_PASSWORD]:
            assert password not in sample


def test_runtime_change_applies_without_restart(runtime_run):
    result = runtime_run["result"]
    assert "+maxmemory-policy allkeys-lru" in result.output  # the diff is shown
    assert pids() == runtime_run["pids_before"]
    for name in NODES:
        assert cli(name, "CONFIG", "GET", "maxmemory-policy").splitlines()[1] == "allkeys-lru"
        # Persisted by CONFIG REWRITE in Redis' own file, not in static.conf.
        assert "maxmemory-policy allkeys-lru" in node(name).file("/etc/redis-node/redis.conf").content_string
        assert "maxmemory-policy" not in node(name).file("/etc/redis-node/static.conf").content_string
        # The runtime settings, the ACL file and its reload: nothing else.
        assert result.recap()[name]["changed"] == 3, result.output[-3000:]


def test_acl_change_applies_without_restart(runtime_run):
    assert pids() == runtime_run["pids_before"]
    for name in NODES:
        out = engine_cli(name, "reporting", REPORTING_PASSWORD, "GET", "report:x")
        assert out.rc == 0 and "NOPERM" not in out.stdout + out.stderr, out.stdout + out.stderr
        out = engine_cli(name, "reporting", REPORTING_PASSWORD, "SET", "report:x", "1")
        assert "NOPERM" in out.stdout + out.stderr


def test_static_change_restarts_one_node_at_a_time_replica_first_with_failover(clusters):
    master, replica = master_and_replica()
    before = pids()
    # The first run without the extra user also drops it again (ACL LOAD).
    result = run_playbook("-e", "redis_node_tcp_backlog=1024")
    assert result.rc == 0, result.output[-5000:]
    assert_no_password_in(result.output)
    after = pids()
    assert all(after[n] != before[n] for n in NODES), (before, after)

    # When each node went down and came back (systemd, monotonic clock shared
    # by the containers): one at a time, the replica first.
    times = {name: unit_times(name) for name in NODES}
    order = sorted(NODES, key=lambda n: times[n]["up"])
    assert order.index(replica) < order.index(master), (order, times)
    for previous, following in zip(order, order[1:]):
        assert times[previous]["up"] < times[following]["down"], f"{following} went down before {previous} was back: {times}"
    assert "Fail the master over to its replica with CLUSTER FAILOVER" in result.output

    # The old master was failed over before its restart: roles swapped.
    assert info(master)["role"] == "slave" and info(replica)["role"] == "master"
    for name in NODES:
        assert cluster_info(name)["cluster_state"] == "ok"
        assert cli(name, "CONFIG", "GET", "tcp-backlog").splitlines()[1] == "1024"
    assert cli(replica, "DBSIZE") == str(DATA_KEYS)
    assert cli("rn-valkey-1", "DBSIZE") == str(DATA_KEYS)
    out = engine_cli(master, "reporting", REPORTING_PASSWORD, "PING")
    assert "WRONGPASS" in out.stdout + out.stderr


def test_back_to_defaults_restarts_again_then_is_idempotent(clusters):
    before = pids()
    result = run_playbook()
    assert result.rc == 0, result.output[-5000:]
    after = pids()
    assert all(after[n] != before[n] for n in NODES)
    for name in NODES:
        assert cli(name, "CONFIG", "GET", "tcp-backlog").splitlines()[1] == "511"
        assert cli(name, "CONFIG", "GET", "maxmemory-policy").splitlines()[1] == "noeviction"
    again = run_playbook()
    assert again.rc == 0
    assert all(again.recap()[n]["changed"] == 0 for n in NODES), again.output[-3000:]
    # Idempotent with the cluster formed and redis.conf rewritten by Redis.
    assert pids() == after
