# -*- coding: utf-8 -*-
"""The sandbox's base resources: wanted resources checked before any call, and
the plan that makes moto hold them - carried out on a model of moto, a second
plan is empty (the module's second run changes nothing)."""

from __future__ import annotations

import copy

import pytest
from hypothesis import example, given, settings, strategies as st

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import sandbox_base_resources as base

TAGS = {"Project": "redisops", "Environment": "sandbox", "RedisCluster": "sbx"}
SUBNETS = [{"az": "us-west-2a", "cidr": "10.77.1.0/24"}, {"az": "us-west-2b", "cidr": "10.77.2.0/24"},
           {"az": "us-west-2c", "cidr": "10.77.3.0/24"}]
PORTS = [6379, 16379, 6380, 16380]
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}
KEY_ARN = "arn:aws:kms:us-west-2:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


def wanted(**changes):
    args = dict(name="redisops-sbx", cluster_name="sbx", vpc_cidr="10.77.0.0/16", private_subnets=SUBNETS,
                redis_ports=PORTS, key_pair_name="redisops-sbx", backup_bucket="redisops-sbx-backups",
                ssm_path="/redisops/sbx", acl_users=["admin", "replication", "agent", "app"], password_length=32,
                tags=TAGS)
    args.update(changes)
    return base.spec(**args)


def policy(key_arn):
    return {"Version": "2012-10-17", "Statement": [{"Sid": "Key", "Effect": "Allow", "Action": "kms:Decrypt",
                                                    "Resource": key_arn}]}


def apply(observed, steps, key_arn=KEY_ARN):
    """What moto holds after the steps (a model of the module's calls)."""
    observed = copy.deepcopy(observed)
    subnets = observed.setdefault("subnets", {})
    parameters = observed.setdefault("parameters", {})
    for resource, name, action, detail in steps:
        if resource == "subnet":
            target = next((s for s in subnets.values() if s["az"] == name), None)
        elif resource == "parameter":
            target = parameters.get(name)
        else:
            target = observed.get(resource)
        if action == "create":
            if resource == "vpc":
                observed["vpc"] = {"id": "vpc-1", "cidr": detail["cidr"], "dns_support": True,
                                   "dns_hostnames": False, "tags": dict(detail["tags"])}
            elif resource == "subnet":
                subnets[detail["cidr"]] = {"id": "subnet-" + name, "az": detail["az"], "map_public": False,
                                           "tags": dict(detail["tags"])}
            elif resource == "security_group":
                observed["security_group"] = {"id": "sg-1", "ingress": {}, "tags": dict(detail["tags"])}
            elif resource == "kms_key":
                observed["kms_key"] = {"arn": key_arn, "description": detail["description"], "enabled": True,
                                       "tags": dict(detail["tags"])}
            elif resource == "bucket":
                observed["bucket"] = {"versioning": None, "encryption": None, "public_access_block": None,
                                      "tags": dict(detail["tags"])}
            elif resource == "topic":
                observed["topic"] = {"display_name": detail["display_name"], "tags": dict(detail["tags"])}
            elif resource == "role":
                observed["role"] = {"trust": detail["trust"], "description": detail["description"], "policy": None,
                                    "tags": dict(detail["tags"])}
            elif resource == "instance_profile":
                observed["instance_profile"] = {"roles": [], "tags": dict(detail["tags"])}
            elif resource == "parameter":
                parameters[name] = {"tags": dict(detail["tags"])}
            else:
                observed[resource] = {"tags": dict(detail["tags"])}
        elif action == "tag":
            target["tags"].update(detail)
        elif action == "untag":
            for key in detail:
                del target["tags"][key]
        elif action == "set":
            if resource == "bucket":
                target.update({k: base.bucket_settings_wanted(observed["kms_key"]["arn"])[k] for k in detail})
            elif resource == "subnet":
                target["map_public"] = detail["map_public"]
            elif resource == "role":
                target.update(detail)
            elif resource == "kms_key":
                target.update(detail)
            elif resource == "topic":
                target.update(detail)
            else:
                target.update(detail)
        elif action == "authorize":
            target["ingress"].update(dict(detail))
        elif action == "revoke":
            for rule in detail:
                del target["ingress"][rule]
        elif action == "describe":
            target["ingress"].update(dict(detail))
        elif action == "put_policy":
            target["policy"] = policy(observed["kms_key"]["arn"])
        elif action == "add_role":
            target["roles"].append(detail)
    return observed


def plan(spec, observed):
    key = observed.get("kms_key")
    return base.plan(spec, observed, TRUST, policy(key["arn"]) if key else None)


def test_nothing_exists_everything_is_created_in_dependency_order():
    steps = plan(wanted(), {})
    resources = [s[0] for s in steps]
    assert resources == sorted(resources, key=base.RESOURCES.index)
    created = [(r, n) for r, n, a, _ in steps if a == "create"]
    assert created == [("vpc", "redisops-sbx"), ("subnet", "us-west-2a"), ("subnet", "us-west-2b"),
                       ("subnet", "us-west-2c"), ("key_pair", "redisops-sbx"), ("security_group", "redisops-sbx-redis"),
                       ("kms_key", "alias/redisops-sbx-backups"), ("bucket", "redisops-sbx-backups"),
                       ("topic", "redisops-sbx-alarms"), ("role", "redisops-sbx-node"),
                       ("instance_profile", "redisops-sbx-node")] + [
        ("parameter", "/redisops/sbx/acl/" + u) for u in ("admin", "replication", "agent", "app")]
    authorize = [d for r, _, a, d in steps if a == "authorize"][0]
    assert authorize == [(("tcp", p, p, "10.77.0.0/16"), base.RULE_DESCRIPTION) for p in sorted(PORTS)]
    subnet_tags = [d["tags"] for r, n, a, d in steps if r == "subnet" and n == "us-west-2b" and a == "create"][0]
    assert subnet_tags == dict(TAGS, Name="redisops-sbx-private-us-west-2b", Tier="private")
    assert ("role", "redisops-sbx-node", "put_policy", None) in steps  # rendered once the key exists
    assert base.summary(steps)[0] == "vpc redisops-sbx: create, set"


def test_after_the_steps_a_second_plan_is_empty():
    spec = wanted()
    held = apply({}, plan(spec, {}))
    assert plan(spec, held) == []
    assert held["bucket"]["encryption"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY_ARN,
                                            "BucketKeyEnabled": True}


def test_drift_is_put_back_and_nothing_else_is_touched():
    spec = wanted()
    held = apply({}, plan(spec, {}))
    drifted = copy.deepcopy(held)
    drifted["vpc"]["tags"]["Owner"] = "someone"
    drifted["vpc"]["tags"]["aws:cloudformation:stack-name"] = "kept"
    drifted["vpc"]["dns_hostnames"] = False
    drifted["security_group"]["ingress"][("tcp", 22, 22, "0.0.0.0/0")] = None
    drifted["security_group"]["ingress"][("tcp", 6379, 6379, "10.77.0.0/16")] = "old words"
    drifted["bucket"]["versioning"] = "Suspended"
    drifted["role"]["policy"] = policy("arn:aws:kms:us-west-2:123456789012:key/other")
    drifted["parameters"]["/redisops/sbx/acl/app"]["tags"]["RedisCluster"] = "other"
    steps = plan(spec, drifted)
    assert steps == [
        ("vpc", "redisops-sbx", "set", {"dns_hostnames": True}),
        ("vpc", "redisops-sbx", "untag", ["Owner"]),
        ("security_group", "redisops-sbx-redis", "revoke", [("tcp", 22, 22, "0.0.0.0/0")]),
        ("security_group", "redisops-sbx-redis", "describe",
         [(("tcp", 6379, 6379, "10.77.0.0/16"), base.RULE_DESCRIPTION)]),
        ("bucket", "redisops-sbx-backups", "set", ["versioning"]),
        ("role", "redisops-sbx-node", "put_policy", policy(KEY_ARN)),
        ("parameter", "/redisops/sbx/acl/app", "tag", {"RedisCluster": "sbx"}),
    ]
    after = apply(drifted, steps)
    assert plan(spec, after) == []
    assert after["vpc"]["tags"]["aws:cloudformation:stack-name"] == "kept"


def test_what_cannot_be_changed_in_place_is_refused():
    spec = wanted()
    held = apply({}, plan(spec, {}))
    moved = copy.deepcopy(held)
    moved["subnets"]["10.77.1.0/24"]["az"] = "us-west-2c"
    with pytest.raises(base.BaseResourcesError, match="is in us-west-2c, not us-west-2a"):
        plan(spec, moved)
    other_role = copy.deepcopy(held)
    other_role["instance_profile"]["roles"] = ["someone-else"]
    with pytest.raises(base.BaseResourcesError, match="holds role someone-else"):
        plan(spec, other_role)


@pytest.mark.parametrize("change, message", [
    ({"vpc_cidr": "10.77.0.1/16"}, "VPC CIDR"),
    ({"vpc_cidr": "10.0.0.0/8"}, "from /16 to /28"),
    ({"private_subnets": [{"az": "us-west-2a", "cidr": "10.78.1.0/24"}]}, "not inside the VPC CIDR"),
    ({"private_subnets": SUBNETS + [{"az": "us-west-2a", "cidr": "10.77.9.0/24"}]}, "two private subnets in us-west-2a"),
    ({"private_subnets": [{"az": "us-west-2a", "cidr": "10.77.0.0/20"}, {"az": "us-west-2b", "cidr": "10.77.1.0/24"}]},
     "overlap"),
    ({"private_subnets": [{"az": "west", "cidr": "10.77.1.0/24"}]}, "not an availability zone"),
    ({"redis_ports": [6379, 6379]}, "distinct TCP ports"),
    ({"redis_ports": [0]}, "distinct TCP ports"),
    ({"backup_bucket": "Not_A_Bucket"}, "not an S3 bucket name"),
    ({"ssm_path": "/redisops/sbx/"}, "SSM path"),
    ({"acl_users": ["admin", "a b"]}, "ACL users"),
    ({"password_length": 8}, "password length"),
    ({"tags": {"aws:x": "y"}}, "reserved"),
    ({"tags": {"Project": 1}}, "tags must be"),
    ({"name": "Redisops"}, "name"),
])
def test_bad_input_is_named_before_anything_changes(change, message):
    with pytest.raises(base.BaseResourcesError, match=message):
        wanted(**change)


TAG_KEYS = st.sampled_from(["Project", "Environment", "RedisCluster", "Name", "Owner", "aws:created-by"])
TAG_MAPS = st.dictionaries(TAG_KEYS, st.sampled_from(["a", "b", ""]), max_size=6)


@settings(derandomize=True, max_examples=200)
@given(current=TAG_MAPS, wanted_tags=TAG_MAPS.map(lambda t: {k: v for k, v in t.items() if not k.startswith("aws:")}))
@example(current={}, wanted_tags={"Project": "a"})
@example(current={"aws:created-by": "a", "Owner": "b"}, wanted_tags={})
def test_tag_changes_make_exactly_the_wanted_tags_and_keep_aws_ones(current, wanted_tags):
    to_set, to_remove = base.tag_changes(current, wanted_tags)
    after = {k: v for k, v in current.items() if k not in to_remove}
    after.update(to_set)
    assert {k: v for k, v in after.items() if not k.startswith("aws:")} == wanted_tags
    assert {k: v for k, v in after.items() if k.startswith("aws:")} == {
        k: v for k, v in current.items() if k.startswith("aws:")}
    assert base.tag_changes(after, wanted_tags) == ({}, [])
    assert (not to_set and not to_remove) == ({k: v for k, v in current.items() if not k.startswith("aws:")}
                                              == wanted_tags)


RULES = st.dictionaries(
    st.tuples(st.just("tcp"), st.sampled_from([22, 6379, 16379]), st.none(),
              st.sampled_from(["10.77.0.0/16", "0.0.0.0/0", "sg-0123"])).map(lambda r: (r[0], r[1], r[1], r[3])),
    st.sampled_from([None, "a", base.RULE_DESCRIPTION]), max_size=6)


@settings(derandomize=True, max_examples=200)
@given(current=RULES, ports=st.lists(st.sampled_from([6379, 16379, 6380, 16380]), min_size=1, unique=True))
@example(current={("tcp", 6379, 6379, "10.77.0.0/16"): None}, ports=[6379])
def test_rule_changes_make_exactly_the_wanted_rules(current, ports):
    wanted_rules = base.wanted_ingress(ports, "10.77.0.0/16")
    authorize, revoke, describe = base.rule_changes(current, wanted_rules)
    after = {r: d for r, d in current.items() if r not in revoke}
    after.update({r: wanted_rules[r] for r in authorize + describe})
    assert after == wanted_rules
    assert base.rule_changes(after, wanted_rules) == ([], [], [])
    assert not set(authorize) & set(current) and set(revoke) <= set(current)


def test_ingress_rules_flatten_every_kind_of_source_and_round_trip():
    permissions = [
        {"IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6379,
         "IpRanges": [{"CidrIp": "10.77.0.0/16", "Description": "d"}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
         "PrefixListIds": [{"PrefixListId": "pl-1"}], "UserIdGroupPairs": [{"GroupId": "sg-2"}]},
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
    ]
    rules = base.ingress_rules(permissions)
    assert rules == {("tcp", 6379, 6379, "10.77.0.0/16"): "d", ("tcp", 6379, 6379, "::/0"): None,
                     ("tcp", 6379, 6379, "pl-1"): None, ("tcp", 6379, 6379, "sg-2"): None,
                     ("-1", None, None, "0.0.0.0/0"): None}
    rebuilt = base.ingress_rules([base.ip_permission(r, d) for r, d in rules.items()])
    assert rebuilt == rules


@settings(derandomize=True, max_examples=60, deadline=None)
@given(missing=st.sets(st.sampled_from(["vpc", "subnets", "key_pair", "security_group", "kms_key", "bucket", "topic",
                                        "role", "instance_profile", "parameters"])))
@example(missing={"kms_key"})
@example(missing={"vpc", "subnets", "security_group"})
def test_whatever_is_missing_is_made_and_then_nothing_is_planned(missing):
    spec = wanted()
    held = apply({}, plan(spec, {}))
    for resource in missing:
        held[resource] = {} if resource in ("subnets", "parameters") else None
    if "vpc" in missing:  # what lives in a VPC goes with it
        held["subnets"], held["security_group"] = {}, None
    if "kms_key" in missing:  # a new key: the bucket's encryption and the policy name the old one
        steps = base.plan(spec, held, TRUST, None)
        after = apply(held, steps, key_arn=KEY_ARN.replace("0f1e", "aaaa"))
    else:
        steps = plan(spec, held)
        after = apply(held, steps)
    assert bool(steps) == bool(missing)
    assert plan(spec, after) == []


KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP4cbEnplbKwHQfmzyQoNn12lsGgYQaeCQq7j5RcrKbg"
KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAb8Hq0sN3Nq9Y4X2b1oP0vW7n9kC2r3QhM1s5dXe6fZ"


def test_key_material_is_the_type_and_key_without_the_comment():
    assert base.key_material(KEY_A + " root@vm\n") == KEY_A
    assert base.key_material(KEY_A) == KEY_A
    for bad in ("", None, "ssh-ed25519", "not a key", "ssh-ed25519 not*base64", "-----BEGIN OPENSSH PRIVATE KEY-----"):
        assert base.key_material(bad) is None, bad


def test_a_key_pair_holding_another_key_is_replaced_with_its_tags():
    spec = wanted()
    spec["key_pair"]["material"] = KEY_A
    held = apply({}, plan(spec, {}))
    held["key_pair"]["material"] = KEY_A
    assert plan(spec, held) == []  # same key, other comment or none: nothing to do
    held["key_pair"]["material"] = KEY_B
    assert plan(spec, held) == [("key_pair", "redisops-sbx", "replace", {"tags": TAGS})]
