# -*- coding: utf-8 -*-
"""The sandbox's IAM principals: user names, the keys file, and the plan that
makes moto hold each user, its policy and one live key."""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given, settings, strategies as st

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import sandbox_iam as si

POLICY = {"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
OTHER = {"Version": "2012-10-17", "Statement": [{"Sid": "B", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]}


def key(principal, key_id):
    return {"user_name": si.user_name("sbx", principal), "access_key_id": key_id, "secret_access_key": "s" + key_id}


def wanted(*principals):
    return {p: {"user_name": si.user_name("sbx", p), "policy": si.ADMIN_POLICY if p == "sandbox" else POLICY}
            for p in principals}


def test_user_names_and_unknown_principals():
    assert si.user_name("sandbox-test", "controller") == "redisops-sandbox-test-controller"
    with pytest.raises(si.SandboxIamError, match="unknown principal admin"):
        si.user_name("sbx", "admin")
    with pytest.raises(si.SandboxIamError, match="cluster name"):
        si.user_name("Bad Name", "node")


def test_the_keys_file_round_trips_and_bad_files_are_named():
    principals = {"sandbox": key("sandbox", "AKIAAAAAAAAAAAAAAAAA"), "node": key("node", "AKIABBBBBBBBBBBBBBBB")}
    text = si.render_keys(principals, "http://127.0.0.1:5100")
    assert si.parse_keys(text) == principals
    assert si.credentials(principals, ["node"]) == [
        {"access_key": "AKIABBBBBBBBBBBBBBBB", "secret_key": "sAKIABBBBBBBBBBBBBBBB", "user_name": "redisops-sbx-node"}]
    with pytest.raises(si.SandboxIamError, match="no key for principal operator"):
        si.credentials(principals, ["operator"])
    with pytest.raises(si.SandboxIamError, match="not JSON"):
        si.parse_keys("{", "f")
    with pytest.raises(si.SandboxIamError, match="not a version 1"):
        si.parse_keys(json.dumps({"principals": {}}), "f")
    broken = json.loads(text)
    broken["principals"]["node"]["access_key_id"] = ""
    with pytest.raises(si.SandboxIamError, match="principal node has an empty or malformed key"):
        si.parse_keys(json.dumps(broken), "f")
    broken["principals"] = {"root": key("node", "AKIABBBBBBBBBBBBBBBB")}
    with pytest.raises(si.SandboxIamError, match="unknown principal root"):
        si.parse_keys(json.dumps(broken), "f")


def test_a_fresh_moto_gets_every_user_policy_and_key():
    steps = si.plan(wanted("sandbox", "node"), {}, {})
    assert [(a, p) for a, p, _ in steps] == [
        ("create_user", "sandbox"), ("put_policy", "sandbox"), ("create_key", "sandbox"),
        ("create_user", "node"), ("put_policy", "node"), ("create_key", "node")]


def test_nothing_changes_when_moto_holds_what_the_file_says():
    current = {"redisops-sbx-node": {"policy": json.dumps(POLICY), "key_ids": ["AKIABBBBBBBBBBBBBBBB"]}}
    assert si.plan(wanted("node"), current, {"node": key("node", "AKIABBBBBBBBBBBBBBBB")}) == []


def test_a_changed_policy_is_put_and_the_key_kept():
    current = {"redisops-sbx-node": {"policy": OTHER, "key_ids": ["AKIABBBBBBBBBBBBBBBB"]}}
    steps = si.plan(wanted("node"), current, {"node": key("node", "AKIABBBBBBBBBBBBBBBB")})
    assert steps == [("put_policy", "node", POLICY)]


def test_a_key_the_file_does_not_hold_is_replaced():
    # Its secret cannot be read back: the old keys go, a new one is made.
    current = {"redisops-sbx-node": {"policy": POLICY, "key_ids": ["AKIACCCCCCCCCCCCCCCC", "AKIADDDDDDDDDDDDDDDD"]}}
    steps = si.plan(wanted("node"), current, {"node": key("node", "AKIABBBBBBBBBBBBBBBB")})
    assert steps == [("delete_key", "node", "AKIACCCCCCCCCCCCCCCC"), ("delete_key", "node", "AKIADDDDDDDDDDDDDDDD"),
                     ("create_key", "node", "redisops-sbx-node")]


def apply(steps, wanted_users, current, keys, counter):
    """What moto and the file hold after the steps (a model of the module)."""
    current = {u: {"policy": s["policy"], "key_ids": list(s["key_ids"])} for u, s in current.items()}
    keys = dict(keys)
    for action, principal, detail in steps:
        user = wanted_users[principal]["user_name"]
        if action == "create_user":
            current[user] = {"policy": None, "key_ids": []}
        elif action == "put_policy":
            current[user]["policy"] = detail
        elif action == "delete_key":
            current[user]["key_ids"].remove(detail)
        else:
            counter[0] += 1
            key_id = "AKIA%016d" % counter[0]
            current[user]["key_ids"].append(key_id)
            keys[principal] = {"user_name": user, "access_key_id": key_id, "secret_access_key": "x"}
    return current, keys


principal_sets = st.lists(st.sampled_from(si.PRINCIPALS), min_size=1, unique=True)
user_state = st.none() | st.fixed_dictionaries({
    "policy": st.sampled_from([None, POLICY, OTHER, si.ADMIN_POLICY]),
    "key_ids": st.lists(st.sampled_from(["AKIA1111111111111111", "AKIA2222222222222222"]), unique=True, max_size=2)})
file_key = st.none() | st.sampled_from(["AKIA1111111111111111", "AKIA3333333333333333"])


@settings(derandomize=True, max_examples=200)
@given(principal_sets, st.lists(user_state, min_size=4, max_size=4), st.lists(file_key, min_size=4, max_size=4))
@example(["sandbox", "controller", "node", "operator"], [None] * 4, [None] * 4)
def test_after_the_plan_moto_and_the_file_agree_and_a_second_plan_is_empty(principals, states, file_keys):
    want = wanted(*principals)
    current = {si.user_name("sbx", p): s for p, s in zip(si.PRINCIPALS, states) if s is not None}
    keys = {p: key(p, k) for p, k in zip(si.PRINCIPALS, file_keys) if k is not None}
    current, keys = apply(si.plan(want, current, keys), want, current, keys, [0])
    for principal, entry in want.items():
        held = current[entry["user_name"]]
        assert si.normalise_policy(held["policy"]) == si.normalise_policy(entry["policy"])
        assert keys[principal]["access_key_id"] in held["key_ids"]
        assert len(held["key_ids"]) <= 2
    assert si.plan(want, current, keys) == []


def test_only_the_controller_gets_a_sandbox_only_grant():
    controller = si.with_sandbox_only_statements("controller", json.dumps(POLICY))
    assert controller["Statement"][:1] == POLICY["Statement"]
    assert [s["Action"] for s in controller["Statement"][1:]] == [["ec2:ModifyInstanceAttribute"]]
    assert si.with_sandbox_only_statements("node", POLICY) is POLICY
