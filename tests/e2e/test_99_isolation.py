"""The user's sandbox survives the whole session: recorded (or a stand-in
of it created) before the first test, compared after every up, site run,
reconcile and down/up of the tests' own sandbox. The final tear-down is
checked again by the user_sandbox_guard fixture."""


def test_user_sandbox_is_untouched(sandbox, user_sandbox_guard):
    before = user_sandbox_guard.before
    assert user_sandbox_guard.is_up(before), "nothing of the user's sandbox to compare"
    assert user_sandbox_guard.changes() == {}
    if not user_sandbox_guard.is_standin:
        # a real user sandbox still answers
        assert not before["moto_answers"] or user_sandbox_guard.record()["moto_answers"]
        running = [c for c in before["containers"].values() if c["status"] == "running"]
        assert all(c["units"].get("redis-node.service") in ("active", "inactive") for c in running)
