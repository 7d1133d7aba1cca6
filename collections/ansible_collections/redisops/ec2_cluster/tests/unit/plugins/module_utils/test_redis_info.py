"""The one INFO / CLUSTER INFO parser of the collection."""

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import redis_info as ri

MASTER_INFO = """# Replication\r
role:master\r
connected_slaves:2\r
slave1:ip=10.0.1.7,port=6379,state=online,offset=90,lag=1\r
slave0:ip=10.0.1.6,port=6379,state=online,offset=100,lag=0\r
master_repl_offset:100\r
\r
# Keyspace\r
db0:keys=3,expires=0,avg_ttl=0\r
"""


def test_parses_sections_and_nested_lines():
    info = ri.parse_info(MASTER_INFO + "# Cluster\ncluster_state:ok\ngarbage line\n")
    assert info["role"] == "master"
    assert info["slave0"] == {"ip": "10.0.1.6", "port": "6379", "state": "online", "offset": "100", "lag": "0"}
    assert info["db0"] == {"keys": "3", "expires": "0", "avg_ttl": "0"}
    assert info["cluster_state"] == "ok"
    assert "garbage line" not in info and "# Cluster" not in info
    assert ri.parse_info("") == {} and ri.parse_info(None) == {}


def test_values_keep_colons_and_lose_surrounding_blanks():
    assert ri.parse_info("executable:/usr/bin/redis-server \nos:Linux 6.1:x\n") == {
        "executable": "/usr/bin/redis-server", "os": "Linux 6.1:x"}


def test_replicas_of_in_slave_order_and_replica_role():
    info = ri.parse_info(MASTER_INFO)
    assert [r["ip"] for r in ri.replicas_of(info)] == ["10.0.1.6", "10.0.1.7"]
    assert not ri.is_replica(info)
    assert ri.is_replica({"role": "slave"}) and ri.is_replica({"role": "replica"})
    assert ri.replicas_of({"role": "slave", "slave_read_only": "1"}) == []


@settings(derandomize=True)
@given(st.dictionaries(st.from_regex(r"[a-z_]{1,12}", fullmatch=True).filter(lambda k: not k.startswith(("slave", "db"))),
                       st.from_regex(r"[a-z0-9 .,=]{0,12}", fullmatch=True).map(str.strip), max_size=8))
def test_round_trip_of_plain_fields(fields):
    text = "# Section\r\n" + "".join("%s:%s\r\n" % item for item in fields.items())
    assert ri.parse_info(text) == fields


def test_slot_count():
    assert ri.SLOT_COUNT == 16384
