"""Rolling restart order and the failover candidate."""

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import restart_policy as rp
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.redis_info import parse_info

MASTER_INFO = """# Replication\r
role:master\r
connected_slaves:2\r
slave0:ip=10.0.1.6,port=6379,state=online,offset=100,lag=0\r
slave1:ip=10.0.1.7,port=6379,state=online,offset=90,lag=1\r
master_repl_offset:100\r
"""


def test_failover_candidate_is_the_most_caught_up_online_replica():
    info = parse_info(MASTER_INFO)
    assert rp.failover_candidate(info) == {"ip": "10.0.1.6", "port": "6379"}
    info["slave0"]["state"] = "wait_bgsave"
    assert rp.failover_candidate(info) == {}
    assert rp.failover_candidate(info, max_lag_bytes=10) == {"ip": "10.0.1.7", "port": "6379"}
    assert rp.failover_candidate({"role": "master", "master_repl_offset": "5"}) == {}


def test_failover_candidate_breaks_ties_by_address():
    info = parse_info(MASTER_INFO.replace("offset=90", "offset=100").replace("10.0.1.6", "10.0.1.8"))
    assert rp.failover_candidate(info) == {"ip": "10.0.1.7", "port": "6379"}


@settings(derandomize=True)
@given(st.lists(st.tuples(st.sampled_from(["online", "wait_bgsave", "send_bulk"]), st.integers(0, 200)), max_size=5),
       st.integers(0, 50))
def test_failover_candidate_is_online_within_the_lag_and_best(replicas, max_lag):
    lines = ["role:master", "master_repl_offset:200"] + [
        "slave%d:ip=10.0.0.%d,port=6379,state=%s,offset=%d,lag=0" % (i, i + 1, state, offset)
        for i, (state, offset) in enumerate(replicas)]
    chosen = rp.failover_candidate(parse_info("\n".join(lines)), max_lag)
    eligible = [(offset, i) for i, (state, offset) in enumerate(replicas) if state == "online" and 200 - offset <= max_lag]
    if not eligible:
        assert chosen == {}
    else:
        best = max(offset for offset, _ in eligible)
        index = min(i for offset, i in eligible if offset == best)
        assert chosen == {"ip": "10.0.0.%d" % (index + 1), "port": "6379"}


@settings(derandomize=True)
@given(
    st.lists(
        st.fixed_dictionaries(
            {"name": st.text(min_size=1, max_size=5), "restart": st.booleans(),
             "role": st.sampled_from(["master", "slave", "replica"])}
        ),
        max_size=12,
        unique_by=lambda n: n["name"],
    )
)
def test_restart_order_is_replicas_first_and_only_marked_nodes(nodes):
    order = rp.restart_order(nodes)
    by_name = {n["name"]: n for n in nodes}
    assert sorted(order) == sorted(n["name"] for n in nodes if n["restart"])
    roles = [by_name[name]["role"] for name in order]
    assert roles == sorted(roles, key=lambda r: r == "master")
    # inventory order kept within each group
    marked = [n["name"] for n in nodes if n["restart"]]
    replicas = [name for name in order if by_name[name]["role"] != "master"]
    assert replicas == [name for name in marked if by_name[name]["role"] != "master"]


def test_restart_order_example():
    nodes = [{"name": "a", "restart": True, "role": "master"}, {"name": "b", "restart": False, "role": "slave"},
             {"name": "c", "restart": True, "role": "slave"}, {"name": "d", "restart": True}]
    assert rp.restart_order(nodes) == ["c", "a", "d"]
