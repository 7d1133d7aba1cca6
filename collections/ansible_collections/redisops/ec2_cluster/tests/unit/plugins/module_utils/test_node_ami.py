# -*- coding: utf-8 -*-
"""Node AMIs: the published parameter's name, the AMI a bake reuses, and
pruning that never deletes the newest or anything still named elsewhere."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings, strategies as st

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.node_ami import (
    NodeAmiError,
    image_references,
    parameter_name,
    parameter_path,
    plan_prune,
    reusable_image,
)


def image(n, snapshots=None):
    return {"image_id": "ami-%08x" % n, "creation_date": "2026-01-%02dT00:00:00.000Z" % (n % 28 + 1),
            "snapshot_ids": ["snap-%08x" % n] if snapshots is None else snapshots}


def ids(images):
    return [i["image_id"] for i in images]


def test_parameter_name_per_cluster_engine_and_version():
    assert parameter_name("prod", "redis", "7.0.15") == "/redisops/prod/ami/redis/7.0.15"
    assert parameter_path("prod", "valkey") == "/redisops/prod/ami/valkey"


@pytest.mark.parametrize("cluster,engine,version", [
    ("", "redis", "7.0.15"), ("prod", "re/dis", "7.0.15"), ("prod", "redis", "7.0 15"),
    ("prod", "redis", ""), ("prod", None, "7.0.15"), ("a" * 129, "redis", "7.0.15")])
def test_bad_parameter_parts_are_refused(cluster, engine, version):
    with pytest.raises(NodeAmiError):
        parameter_name(cluster, engine, version)


def test_the_published_ami_is_reused_even_when_a_newer_one_exists():
    images = [image(1), image(2), image(3)]
    assert reusable_image(images, "ami-00000001") == "ami-00000001"
    assert reusable_image(images, "") == "ami-00000003"
    # published but gone (deregistered by hand): the newest available one
    assert reusable_image(images, "ami-0000ffff") == "ami-00000003"
    assert reusable_image([], "ami-00000001") == ""


def test_image_references_ignore_aliases_and_garbage():
    assert image_references(["ami-0123abcd", "resolve:ssm:/x", "", None, "ami-0123abcd", "ami-XYZ"]) == ["ami-0123abcd"]


def test_launch_template_instance_and_published_amis_are_kept_with_their_snapshots():
    images = [image(n) for n in range(1, 7)]
    plan = plan_prune(images, 1, launch_template_images=["ami-00000001"], instance_images=["ami-00000002"],
                      published_images=["ami-00000003"])
    assert [d["image_id"] for d in plan["deregister"]] == ["ami-00000004", "ami-00000005"]
    assert plan["deregister"][0]["snapshot_ids"] == ["snap-00000004"]
    assert plan["kept"] == {"ami-00000006": ["newest"], "ami-00000001": ["launch_template"],
                            "ami-00000002": ["instance"], "ami-00000003": ["published"]}


def test_a_snapshot_a_kept_ami_shares_stays_and_one_two_deleted_amis_share_goes_with_the_last():
    images = [image(1, ["snap-a", "snap-b"]), image(2, ["snap-a", "snap-c"]), image(3, ["snap-b"]),
              image(4, ["snap-d"])]
    plan = plan_prune(images, 1, launch_template_images=["ami-00000003"])
    assert plan["deregister"] == [{"image_id": "ami-00000001", "snapshot_ids": []},
                                  {"image_id": "ami-00000002", "snapshot_ids": ["snap-a", "snap-c"]}]


def test_keep_zero_keeps_everything():
    assert plan_prune([image(1), image(2)], 0)["deregister"] == []


@pytest.mark.parametrize("keep", [-1, 1.5, True, "3", None])
def test_bad_keep_is_refused(keep):
    with pytest.raises(NodeAmiError):
        plan_prune([image(1)], keep)


def test_bad_images_are_refused():
    with pytest.raises(NodeAmiError):
        plan_prune([image(1), image(1)], 1)
    with pytest.raises(NodeAmiError):
        plan_prune([{"creation_date": "2026-01-01"}], 1)
    with pytest.raises(NodeAmiError):
        reusable_image([{"image_id": ""}])


IMAGE_NUMBERS = st.lists(st.integers(0, 40), unique=True, max_size=12)


@st.composite
def prune_cases(draw):
    numbers = draw(IMAGE_NUMBERS)
    snapshot_pool = ["snap-%d" % n for n in range(8)]
    images = [dict(image(n), snapshot_ids=draw(st.lists(st.sampled_from(snapshot_pool), max_size=3, unique=True)))
              for n in numbers]
    named = st.lists(st.sampled_from(ids(images) + ["ami-0000beef"]), max_size=4) if images else st.just([])
    return images, draw(st.integers(0, 6)), draw(named), draw(named), draw(named)


@given(prune_cases())
@example(([image(1), image(2)], 1, ["ami-00000001"], [], []))
@example(([image(1, ["snap-x"]), image(2, ["snap-x"])], 1, [], [], []))
@settings(max_examples=400, derandomize=True)
def test_pruning_never_deletes_what_is_kept_or_named(case):
    images, keep, templates, instances, published = case
    plan = plan_prune(images, keep, templates, instances, published)
    doomed = [d["image_id"] for d in plan["deregister"]]
    newest = ids(sorted(images, key=lambda i: (i["creation_date"], i["image_id"]), reverse=True))
    # every AMI is either deregistered or kept, never both
    assert sorted(doomed + list(plan["kept"])) == sorted(ids(images))
    assert not set(doomed) & set(plan["kept"])
    # never the newest N (or any when keep is 0), never one something names
    assert not set(doomed) & set(newest[:keep] if keep else newest)
    assert not set(doomed) & (set(templates) | set(instances) | set(published))
    # a snapshot goes only with a deregistered AMI that has it, once, never one a kept AMI uses
    snapshots = {i["image_id"]: set(i["snapshot_ids"]) for i in images}
    kept_snapshots = set().union(*[snapshots[i] for i in plan["kept"]]) if plan["kept"] else set()
    deleted = [s for d in plan["deregister"] for s in d["snapshot_ids"]]
    assert len(deleted) == len(set(deleted))
    for entry in plan["deregister"]:
        assert set(entry["snapshot_ids"]) <= snapshots[entry["image_id"]]
        assert not set(entry["snapshot_ids"]) & kept_snapshots
    # ... and no snapshot is deleted while an AMI deregistered after it still uses it
    for position, entry in enumerate(plan["deregister"]):
        later = set().union(*[snapshots[d["image_id"]] for d in plan["deregister"][position + 1:]] or [set()])
        assert not set(entry["snapshot_ids"]) & later
    # every snapshot only deregistered AMIs use is deleted
    assert set(deleted) == set().union(*[snapshots[i] for i in doomed] or [set()]) - kept_snapshots
    # the plan does not depend on the order the API listed the AMIs in
    assert plan_prune(list(reversed(images)), keep, templates, instances, published) == plan


@given(IMAGE_NUMBERS, st.integers(0, 45))
@settings(max_examples=200, derandomize=True)
def test_the_reused_ami_is_the_published_one_or_the_newest(numbers, published):
    images = [image(n) for n in numbers]
    chosen = reusable_image(images, "ami-%08x" % published)
    if not images:
        assert chosen == ""
    elif published in numbers:
        assert chosen == "ami-%08x" % published
    else:
        assert chosen == max(images, key=lambda i: (i["creation_date"], i["image_id"]))["image_id"]
