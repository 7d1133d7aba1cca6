"""The dashboard module's decisions: bodies compared as JSON, put only on a difference."""

import json

import pytest

from ansible_collections.redisops.ec2_cluster.plugins.modules import cloudwatch_dashboard as mod

BODY = {"widgets": [{"type": "text", "x": 0, "y": 0, "width": 24, "height": 1, "properties": {"markdown": "# x"}}]}


def test_bodies_compare_as_json_whatever_their_form():
    as_text = json.dumps(BODY, indent=4, sort_keys=False)
    assert mod.normalise_body(as_text) == mod.normalise_body(BODY) == BODY
    assert mod.plan(json.loads(json.dumps(BODY, sort_keys=True)), mod.normalise_body(as_text), "present") is None


def test_plan():
    changed = {"widgets": []}
    assert mod.plan(None, BODY, "present") == "put"
    assert mod.plan(changed, BODY, "present") == "put"
    assert mod.plan(BODY, None, "absent") == "delete"
    assert mod.plan(None, None, "absent") is None


@pytest.mark.parametrize("body", ["[]", "{}", {"widgets": "x"}, "not json"])
def test_a_body_without_widgets_is_refused(body):
    with pytest.raises(ValueError):
        mod.normalise_body(body)
