"""Runtime vs static settings, CONFIG GET's value form, memory sizes, maxmemory."""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import redis_settings as rs

# redis.conf's units, written out independently of the implementation.
REDIS_CONF_UNITS = {"k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}


@pytest.mark.parametrize(
    "text,expected",
    [("64mb", 64 * 1024**2), ("1gb", 1024**3), ("1g", 1000**3), ("10k", 10000), ("2KB", 2048), ("123", 123), (5, 5), (0, 0)],
)
def test_memory_bytes_units(text, expected):
    assert rs.memory_bytes(text) == expected


@pytest.mark.parametrize("text", ["", "lots", "1tb", "-5", True, -1, None])
def test_memory_bytes_rejects_garbage(text):
    with pytest.raises(rs.SettingError):
        rs.memory_bytes(text)


@settings(derandomize=True)
@given(st.integers(min_value=0, max_value=10**6), st.sampled_from(sorted(REDIS_CONF_UNITS)))
def test_memory_bytes_is_number_times_unit(number, unit):
    assert rs.memory_bytes(f"{number}{unit.upper()}") == number * REDIS_CONF_UNITS[unit]
    assert rs.size_in_bytes(f" {number} {unit} ") == number * REDIS_CONF_UNITS[unit]


def test_size_in_bytes_says_none_for_non_sizes():
    assert rs.size_in_bytes("noeviction") is None
    assert rs.size_in_bytes("3600 1") is None


def test_maxmemory_is_a_share_of_ram():
    assert rs.maxmemory_bytes(4096) == 3 * 1024**3
    assert rs.maxmemory_bytes(4096, 50) == 2 * 1024**3


@pytest.mark.parametrize("explicit", ["", None, 0, "0"])
def test_maxmemory_without_explicit_value_uses_the_share(explicit):
    assert rs.maxmemory_bytes(4096, 75, explicit) == 3 * 1024**3


def test_maxmemory_explicit_wins():
    assert rs.maxmemory_bytes(4096, 75, "1gb") == 1024**3
    assert rs.maxmemory_bytes(4096, 75, 1000) == 1000


@settings(derandomize=True)
@given(st.integers(min_value=1, max_value=10**6), st.integers(min_value=1, max_value=100))
def test_maxmemory_never_exceeds_ram(memtotal_mb, percent):
    assert 0 <= rs.maxmemory_bytes(memtotal_mb, percent) <= memtotal_mb * 1024 * 1024


@pytest.mark.parametrize("percent", [0, 101, -3])
def test_maxmemory_percent_bounds(percent):
    with pytest.raises(rs.SettingError, match="1..100"):
        rs.maxmemory_bytes(4096, percent)


def test_split_sends_runtime_settings_to_config_set_and_the_rest_to_static():
    split = rs.split_settings(
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


def test_split_refuses_anything_but_a_dict():
    with pytest.raises(rs.SettingError, match="dict"):
        rs.split_settings(["maxmemory", 1])


@pytest.mark.parametrize(
    "name", ["cluster-enabled", "cluster-config-file", "bind", "port", "tls-port", "dir", "aclfile", "tcp-backlog", "cluster-announce-ip"]
)
def test_identity_and_listener_settings_are_static(name):
    assert name not in rs.RUNTIME_SETTINGS


@settings(derandomize=True)
@given(st.dictionaries(st.sampled_from(sorted(rs.RUNTIME_SETTINGS) + ["port", "bind", "x-y"]), st.integers()))
def test_split_is_a_partition(values):
    split = rs.split_settings(values)
    assert set(split["runtime"]) | set(split["static"]) == set(values)
    assert not set(split["runtime"]) & set(split["static"])
    assert set(split["secret"]) <= set(split["runtime"])


@pytest.mark.parametrize("value,expected", [(True, "yes"), (False, "no"), (None, ""), ([1, "a  b"], "1 a b"), ("  x   y ", "x y")])
def test_config_text(value, expected):
    assert rs.config_text(value) == expected


@pytest.mark.parametrize(
    "value,expected",
    [
        (True, "yes"),
        (False, "no"),
        ("true", "yes"),
        ("FALSE", "no"),
        ("64mb", str(64 * 1024**2)),
        ("1gb", str(1024**3)),
        ("3600 1  300 100", "3600 1 300 100"),
        (["3600 1", "300 100"], "3600 1 300 100"),
        (5000, "5000"),
        (None, ""),
        ("noeviction", "noeviction"),
    ],
)
def test_comparable_value(value, expected):
    assert rs.comparable_value(value) == expected


def test_config_changes_only_lists_differences():
    current = {"maxmemory": "1073741824", "save": "3600 1 300 100", "appendonly": "yes", "maxmemory-policy": "noeviction"}
    desired = {"maxmemory": "1gb", "save": "3600 1 300 100", "appendonly": True, "Maxmemory-Policy": "allkeys-lru"}
    assert rs.config_changes(current, desired) == {"maxmemory-policy": ("noeviction", "allkeys-lru")}


def test_unknown_setting_is_a_change_so_config_set_reports_it():
    assert rs.config_changes({}, {"no-such-thing": "1"}) == {"no-such-thing": (None, "1")}


def test_passwords_are_compared_exactly():
    assert rs.config_changes({"masterauth": "Secret"}, {"masterauth": "secret"}) == {"masterauth": ("Secret", "secret")}


@settings(derandomize=True)
@given(st.dictionaries(st.sampled_from(sorted(rs.RUNTIME_SETTINGS)), st.one_of(st.booleans(), st.integers(0, 10**9))))
@example({"maxmemory": 0})
def test_a_setting_compared_with_its_own_config_get_form_is_no_change(values):
    current = {name: rs.comparable_value(value) for name, value in values.items()}
    assert rs.config_changes(current, values) == {}
