"""Unit tests of the redis_node decisions (filter plugin redis_config)."""

import hashlib

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.redisops.ec2_cluster.plugins.filter import redis_config as rc

PASSWORD = "x" * 20


def users(**overrides):
    base = [
        {"name": "admin", "role": "admin", "password": "admin-" + PASSWORD},
        {"name": "replicator", "role": "replication", "password": "repl-" + PASSWORD},
        {"name": "app", "role": "application", "password": "app-" + PASSWORD, "keys": ["app:*"]},
    ]
    for user in base:
        user.update(overrides.get(user["name"], {}))
    return base


def spec(**overrides):
    base = {
        "engine": "redis",
        "memtotal_mb": 4096,
        "maxmemory_bytes": 3 * 1024**3,
        "maxmemory_policy": "noeviction",
        "appendfsync": "everysec",
        "announce_ip": "10.0.1.5",
        "host_addresses": ["10.0.1.5", "172.17.0.2"],
        "port": 6379,
        "tls_enabled": False,
        "tls_port": 6380,
        "bus_port": 16379,
        "tls_generate": False,
        "tls_ca_dir": "",
        "tls_files": {"ca_cert": "", "cert": "", "key": ""},
        "acl_users": users(),
        "min_password_length": 16,
        "maxclients": 10000,
        "nofile_limit": 10064,
    }
    base.update(overrides)
    return base


# --- memory -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text,expected",
    [("64mb", 64 * 1024**2), ("1gb", 1024**3), ("1g", 1000**3), ("10k", 10000), ("2KB", 2048), ("123", 123), (5, 5)],
)
def test_memory_bytes_units(text, expected):
    assert rc.redis_memory_bytes(text) == expected


@pytest.mark.parametrize("text", ["", "lots", "1tb", "-5", True, -1])
def test_memory_bytes_rejects_garbage(text):
    with pytest.raises(AnsibleFilterError):
        rc.redis_memory_bytes(text)


# redis.conf's units, written out independently of the implementation.
REDIS_CONF_UNITS = {"k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}


@given(st.integers(min_value=0, max_value=10**6), st.sampled_from(sorted(REDIS_CONF_UNITS)))
def test_memory_bytes_is_number_times_unit(number, unit):
    assert rc.redis_memory_bytes(f"{number}{unit.upper()}") == number * REDIS_CONF_UNITS[unit]


def test_maxmemory_is_a_share_of_ram():
    assert rc.redis_maxmemory(4096) == 3 * 1024**3
    assert rc.redis_maxmemory(4096, 50) == 2 * 1024**3


def test_maxmemory_explicit_wins():
    assert rc.redis_maxmemory(4096, 75, "1gb") == 1024**3
    assert rc.redis_maxmemory(4096, 75, "") == 3 * 1024**3


@given(st.integers(min_value=1, max_value=10**6), st.integers(min_value=1, max_value=100))
def test_maxmemory_never_exceeds_ram(memtotal_mb, percent):
    assert 0 <= rc.redis_maxmemory(memtotal_mb, percent) <= memtotal_mb * 1024 * 1024


@pytest.mark.parametrize("percent", [0, 101, -3])
def test_maxmemory_percent_bounds(percent):
    with pytest.raises(AnsibleFilterError):
        rc.redis_maxmemory(4096, percent)


# --- runtime / static split -----------------------------------------------------


def test_split_sends_runtime_settings_to_config_set_and_the_rest_to_static():
    split = rc.redis_config_split(
        {
            "maxmemory": 100,
            "maxmemory-policy": "noeviction",
            "save": ["3600 1", "300 100"],
            "appendonly": True,
            "cluster-enabled": True,
            "port": 6379,
            "tcp-backlog": 511,
            "masterauth": "secret",
            "Some-Unknown-Setting": "x",
        }
    )
    assert split["runtime"] == {
        "appendonly": "yes",
        "masterauth": "secret",
        "maxmemory": "100",
        "maxmemory-policy": "noeviction",
        "save": "3600 1 300 100",
    }
    assert split["static"] == {"cluster-enabled": "yes", "port": "6379", "tcp-backlog": "511", "some-unknown-setting": "x"}
    assert split["secret"] == ["masterauth"]


@pytest.mark.parametrize(
    "name", ["cluster-enabled", "cluster-config-file", "bind", "port", "tls-port", "dir", "aclfile", "tcp-backlog", "cluster-announce-ip"]
)
def test_identity_and_listener_settings_are_static(name):
    assert name not in rc.RUNTIME_SETTINGS


@given(st.dictionaries(st.sampled_from(sorted(rc.RUNTIME_SETTINGS) + ["port", "bind", "x-y"]), st.integers()))
def test_split_is_a_partition(settings):
    split = rc.redis_config_split(settings)
    assert set(split["runtime"]) | set(split["static"]) == set(settings)
    assert not set(split["runtime"]) & set(split["static"])


@pytest.mark.parametrize("value,expected", [(True, "yes"), (False, "no"), (None, ""), ([1, "a  b"], "1 a b"), ("  x   y ", "x y")])
def test_config_value(value, expected):
    assert rc.redis_config_value(value) == expected


# --- validation -----------------------------------------------------------------


def test_valid_input_has_no_errors():
    assert rc.redis_node_validate(spec()) == []


@pytest.mark.parametrize(
    "overrides,fragment",
    [
        ({"engine": "memcached"}, "unknown engine"),
        ({"engine": ""}, "unknown engine"),
        ({"maxmemory_bytes": 4096 * 1024 * 1024}, "not smaller than the instance's RAM"),
        ({"maxmemory_bytes": 64 * 1024**3}, "not smaller than the instance's RAM"),
        ({"maxmemory_bytes": 0}, "maxmemory must be positive"),
        ({"maxmemory_policy": "evict-everything"}, "maxmemory policy"),
        ({"appendfsync": "sometimes"}, "appendfsync"),
        ({"announce_ip": "10.9.9.9"}, "not an address of this host"),
        ({"announce_ip": "not-an-ip"}, "is not an IP address"),
        ({"bus_port": 6379}, "port clash: cluster bus port and client port"),
        ({"tls_enabled": True, "tls_generate": True, "tls_ca_dir": "/ca", "tls_port": 16379}, "port clash: cluster bus port and TLS port"),
        ({"port": 70000}, "not in 1..65535"),
        ({"tls_enabled": True}, "TLS is on but no certificates were given"),
        ({"tls_enabled": True, "tls_files": {"ca_cert": "/ca", "cert": "/c", "key": ""}}, "redis_node_tls_key"),
        ({"tls_enabled": True, "tls_generate": True}, "CA directory"),
        ({"maxclients": 10050}, "LimitNOFILE is 10064"),
        ({"acl_users": users(app={"password": ""})}, "ACL user 'app' has an empty password"),
        ({"acl_users": users(app={"password": "short-pass"})}, "ACL user 'app' has a weak password"),
        ({"acl_users": users(admin={"password": "   "})}, "ACL user 'admin' has an empty password"),
        ({"acl_users": users(app={"password": "has a space in it!!"})}, "whitespace"),
        ({"acl_users": users(app={"role": "admin"})}, "exactly one ACL user must have role 'admin', found 2"),
        ({"acl_users": users(replicator={"role": "application"})}, "role 'replication', found 0"),
        ({"acl_users": users(app={"name": "admin"})}, "duplicate ACL user names: admin"),
        ({"acl_users": users(app={"name": "default"})}, "'default' user"),
        ({"acl_users": users(app={"name": "bad name"})}, "names may use"),
        ({"acl_users": users(app={"role": "root"})}, "role 'root' is not one of"),
        ({"acl_users": []}, "at least an admin and a replication user"),
    ],
)
def test_bad_input_is_reported(overrides, fragment):
    errors = rc.redis_node_validate(spec(**overrides))
    assert any(fragment in error for error in errors), errors


def test_tls_port_may_reuse_the_closed_plaintext_port():
    assert rc.redis_node_validate(spec(tls_enabled=True, tls_generate=True, tls_ca_dir="/ca", tls_port=6379)) == []


def test_tls_with_given_files_is_valid():
    files = {"ca_cert": "/ca.crt", "cert": "/n.crt", "key": "/n.key"}
    assert rc.redis_node_validate(spec(tls_enabled=True, tls_files=files)) == []


def test_errors_never_contain_passwords():
    bad = users(app={"password": "tooshort"}, admin={"password": "also-short"})
    text = " ".join(rc.redis_node_validate(spec(acl_users=bad)))
    assert "tooshort" not in text and "also-short" not in text


# --- ACL ------------------------------------------------------------------------


def test_acl_lines_hash_passwords_and_deny_dangerous_commands():
    lines = rc.redis_acl_user_lines(users(), ["flushall", "@dangerous"], ["cluster|slots"])
    assert lines[0].startswith("user default off")
    text = "\n".join(lines)
    for user in users():
        assert user["password"] not in text
        assert "#" + hashlib.sha256(user["password"].encode()).hexdigest() in text
    app = next(line for line in lines if line.startswith("user app "))
    assert app.index("+@all") < app.index("-flushall") < app.index("+cluster|slots")
    assert "~app:*" in app
    repl = next(line for line in lines if line.startswith("user replicator "))
    assert repl.endswith("+psync +replconf +ping")
    admin = next(line for line in lines if line.startswith("user admin "))
    assert "~* &* +@all" in admin


def test_acl_default_user_can_stay_on_and_users_can_be_off():
    lines = rc.redis_acl_user_lines(users(app={"enabled": False}), [], [], default_enabled=True)
    assert lines[0] == "user default on nopass ~* &* +@all"
    assert " reset off #" in next(line for line in lines if line.startswith("user app "))


# --- INFO parsing, order, gates -------------------------------------------------

MASTER_INFO = """# Replication\r
role:master\r
connected_slaves:2\r
slave0:ip=10.0.1.6,port=6379,state=online,offset=100,lag=0\r
slave1:ip=10.0.1.7,port=6379,state=online,offset=90,lag=1\r
master_repl_offset:100\r
"""


def test_info_parses_sections_and_replica_lines():
    info = rc.redis_info(MASTER_INFO + "# Cluster\ncluster_state:ok\n")
    assert info["role"] == "master"
    assert info["slave0"] == {"ip": "10.0.1.6", "port": "6379", "state": "online", "offset": "100", "lag": "0"}
    assert info["cluster_state"] == "ok"
    assert rc.redis_info("") == {}


def test_failover_candidate_is_the_most_caught_up_online_replica():
    info = rc.redis_info(MASTER_INFO)
    assert rc.redis_failover_candidate(info) == {"ip": "10.0.1.6", "port": "6379"}
    info["slave0"]["state"] = "wait_bgsave"
    assert rc.redis_failover_candidate(info) == {}
    assert rc.redis_failover_candidate(info, max_lag_bytes=10) == {"ip": "10.0.1.7", "port": "6379"}
    assert rc.redis_failover_candidate({"role": "master", "master_repl_offset": "5"}) == {}


@given(
    st.lists(
        st.fixed_dictionaries(
            {"name": st.text(min_size=1, max_size=5), "restart": st.booleans(), "role": st.sampled_from(["master", "slave"])}
        ),
        max_size=12,
        unique_by=lambda n: n["name"],
    )
)
def test_restart_order_is_replicas_first_and_only_marked_nodes(nodes):
    order = rc.redis_restart_order(nodes)
    by_name = {n["name"]: n for n in nodes}
    assert sorted(order) == sorted(n["name"] for n in nodes if n["restart"])
    roles = [by_name[name]["role"] for name in order]
    assert roles == sorted(roles, key=lambda r: r != "slave")


HEALTHY = {
    "cluster_state": "ok",
    "cluster_slots_assigned": "16384",
    "cluster_slots_ok": "16384",
    "role": "slave",
    "master_link_status": "up",
    "master_sync_in_progress": "0",
    "loading": "0",
}


def test_gate_passes_a_healthy_node():
    assert rc.redis_restart_gate(HEALTHY) == []


@pytest.mark.parametrize(
    "change,fragment",
    [
        ({"cluster_state": "fail"}, "cluster_state is fail"),
        ({"cluster_slots_ok": "16000"}, "cluster_slots_ok is 16000"),
        ({"cluster_slots_assigned": "5461"}, "cluster_slots_assigned is 5461"),
        ({"master_link_status": "down"}, "replication link to the master is down"),
        ({"master_sync_in_progress": "1"}, "full sync"),
        ({"loading": "1"}, "loading"),
    ],
)
def test_gate_names_what_is_unhealthy(change, fragment):
    problems = rc.redis_restart_gate({**HEALTHY, **change})
    assert any(fragment in p for p in problems), problems


def test_gate_outside_a_cluster_only_needs_an_answer_and_loaded_data():
    assert rc.redis_restart_gate({"role": "master", "loading": "0", "cluster_state": "fail"}, in_cluster=False) == []
    assert rc.redis_restart_gate({}, in_cluster=False) == ["the node did not answer"]


def test_replica_caught_up_compares_offsets_as_the_master_sees_them():
    info = rc.redis_info(MASTER_INFO)
    assert rc.redis_replica_caught_up(info, "10.0.1.6") == []
    assert "10 bytes behind" in rc.redis_replica_caught_up(info, "10.0.1.7")[0]
    assert rc.redis_replica_caught_up(info, "10.0.1.7", max_lag_bytes=10) == []
    assert "does not list replica" in rc.redis_replica_caught_up(info, "10.0.1.9")[0]


def test_filter_module_exposes_the_filters():
    filters = rc.FilterModule().filters()
    assert filters["redis_config_split"] is rc.redis_config_split
    assert {"redis_node_validate", "redis_restart_gate", "redis_restart_order", "redis_info"} <= set(filters)
