"""The ACL file's user lines and the rules of each role."""

import hashlib

import pytest

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import acl_rules

from acl_users import PASSWORD, users  # this directory, on sys.path under pytest


def line_of(lines, name):
    return next(line for line in lines if line.startswith("user %s " % name))


def test_valid_users_have_no_errors():
    assert acl_rules.acl_user_errors(users()) == []
    assert acl_rules.acl_user_errors([u for u in users() if u["role"] != "agent"]) == []


@pytest.mark.parametrize(
    "overrides,fragment",
    [
        ({"app": {"password": ""}}, "ACL user 'app' has an empty password"),
        ({"app": {"password": "short-pass"}}, "ACL user 'app' has a weak password"),
        ({"admin": {"password": "   "}}, "ACL user 'admin' has an empty password"),
        ({"app": {"password": "has a space in it!!"}}, "whitespace"),
        ({"app": {"role": "admin"}}, "exactly one ACL user must have role 'admin', found 2"),
        ({"replicator": {"role": "application"}}, "role 'replication', found 0"),
        ({"app": {"role": "agent", "keys": None}}, "at most one ACL user may have role 'agent', found 2"),
        ({"app": {"name": "admin"}}, "duplicate ACL user names: admin"),
        ({"app": {"name": "default"}}, "'default' user"),
        ({"app": {"name": "bad name"}}, "names may use"),
        ({"app": {"role": "root"}}, "role 'root' is not one of"),
        ({"agent": {"keys": ["*"]}}, "ACL user 'agent': keys apply to application users only"),
        ({"admin": {"commands": ["-@all"], "channels": []}}, "channels/commands apply to application users only"),
        ({"app": {"name": ""}}, "ACL user #3 has no name"),
    ],
)
def test_bad_users_are_reported(overrides, fragment):
    errors = acl_rules.acl_user_errors(users(**overrides))
    assert any(fragment in error for error in errors), errors


@pytest.mark.parametrize("value", [[], None, "admin", {}])
def test_no_user_list_is_an_error(value):
    assert acl_rules.acl_user_errors(value) == ["redis_node_acl_users must list at least an admin and a replication user"]


def test_a_user_that_is_not_a_dict_is_named_by_position():
    assert "ACL user #1 has no name" in acl_rules.acl_user_errors(users()[:1] + ["oops"] + users()[1:])


def test_min_password_length_is_configurable():
    assert acl_rules.acl_user_errors(users(app={"password": "a" * 12}), min_password_length=12) == []
    assert acl_rules.acl_user_errors(users(app={"password": "a" * 12}), min_password_length=13)


def test_lines_hash_passwords_and_deny_dangerous_commands():
    lines = acl_rules.acl_user_lines(users(), ["flushall", "@dangerous"], ["cluster|slots"])
    assert lines[0] == "user default off resetpass resetkeys resetchannels -@all"
    assert [line.split()[1] for line in lines] == ["default", "admin", "agent", "app", "replicator"]
    text = "\n".join(lines)
    for user in users():
        assert user["password"] not in text
        assert "#" + hashlib.sha256(user["password"].encode()).hexdigest() in text
    app = line_of(lines, "app")
    assert app.index("+@all") < app.index("-flushall") < app.index("-@dangerous") < app.index("+cluster|slots")
    assert "~app:*" in app and "&*" in app
    assert line_of(lines, "replicator").endswith(" +psync +replconf +ping")
    assert line_of(lines, "admin").endswith(" ~* &* +@all")


def test_agent_reads_state_and_saves_in_the_background_only():
    line = line_of(acl_rules.acl_user_lines(users(), ["flushall"], ["cluster|slots"]), "agent")
    digest = hashlib.sha256(("agent-" + PASSWORD).encode()).hexdigest()
    assert line == (
        "user agent reset on #" + digest + " resetkeys resetchannels -@all +ping +info +dbsize +lastsave +bgsave "
        "+cluster|info +cluster|nodes +cluster|myid +cluster|shards +cluster|slots +config|get"
    )
    # No key or channel pattern, and none of the application denials/allowances.
    assert not any(rule.startswith(("~", "&")) for rule in line.split())
    assert "-flushall" not in line and "+cluster|slots" in line


def test_default_user_can_stay_on_and_users_can_be_off():
    lines = acl_rules.acl_user_lines(users(app={"enabled": False}), [], [], default_enabled=True)
    assert lines[0] == "user default on nopass ~* &* +@all"
    assert " reset off #" in line_of(lines, "app")
    assert " reset on #" in line_of(lines, "admin")


def test_application_defaults_are_everything_then_the_denials():
    rules = acl_rules.role_rules({"name": "x", "password": PASSWORD}, ["keys"], ["info"])
    assert rules == ["~*", "&*", "+@all", "-keys", "+info"]
