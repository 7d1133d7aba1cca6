# -*- coding: utf-8 -*-
"""The rotation policy (restic's forget --keep-daily/weekly/monthly on set
ids) and the cluster-level plan around it: calendar boundaries, the
oldest-set rule, bad input, properties, the safety refusals and the table."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_rotation as rot

UTC = dt.timezone.utc


def sid(text):
    """'2024-02-29 02:00' or '2024-02-29' -> '20240229T020000Z'."""
    moment = dt.datetime.fromisoformat(text if " " in text else text + " 02:00")
    return moment.strftime("%Y%m%dT%H%M%SZ")


def daily(first, last, hour=2):
    day, end, out = dt.date.fromisoformat(first), dt.date.fromisoformat(last), []
    while day <= end:
        out.append(day.strftime("%Y%m%d") + "T%02d0000Z" % hour)
        day += dt.timedelta(days=1)
    return out


def kept_with(plan):
    return {set_id: reasons for set_id, reasons in plan.items() if reasons}


# ---------------------------------------------------------------- an independent reference


def reference(set_ids, keep_daily, keep_weekly, keep_monthly):
    """The documented semantics, written as a per-rule bucket scan (not the
    one-pass walk of the module): each rule keeps the newest set of each of
    its N most recent buckets; with fewer than N buckets it also keeps the
    oldest set, named 'oldest' unless that set already won its bucket."""
    moments = {s: dt.datetime.strptime(s, "%Y%m%dT%H%M%SZ") for s in set_ids}
    keys = {"daily": lambda m: m.date(), "weekly": lambda m: m.isocalendar()[:2],
            "monthly": lambda m: (m.year, m.month)}
    reasons = {s: set() for s in set_ids}
    if not set_ids:
        return {}
    for rule, count in (("daily", keep_daily), ("weekly", keep_weekly), ("monthly", keep_monthly)):
        if count == 0:
            continue
        buckets = {}
        for set_id, moment in moments.items():
            buckets.setdefault(keys[rule](moment), []).append(set_id)
        for bucket in sorted(buckets, reverse=True)[:count]:
            reasons[max(buckets[bucket])].add(rule)
        oldest = min(set_ids)
        if len(buckets) < count and rule not in reasons[oldest]:
            reasons[oldest].add("oldest")
    reasons[max(set_ids)].add("newest")
    return {s: [r for r in ("newest", "daily", "weekly", "monthly", "oldest") if r in reasons[s]] for s in set_ids}


# ---------------------------------------------------------------- worked examples (docs/rotation.md)


def test_default_policy_on_a_plain_daily_history():
    ids = daily("2025-12-01", "2026-03-15")  # 2026-03-15 is a Sunday
    plan = rot.plan_rotation(ids, 7, 4, 3)
    assert kept_with(plan) == {
        sid("2026-03-15"): ["newest", "daily", "weekly", "monthly"],
        sid("2026-03-14"): ["daily"],
        sid("2026-03-13"): ["daily"],
        sid("2026-03-12"): ["daily"],
        sid("2026-03-11"): ["daily"],
        sid("2026-03-10"): ["daily"],
        sid("2026-03-09"): ["daily"],
        sid("2026-03-08"): ["weekly"],       # Sunday closing ISO week 10
        sid("2026-03-01"): ["weekly"],       # week 9 (Mon 02-23 .. Sun 03-01)
        sid("2026-02-22"): ["weekly"],       # week 8
        sid("2026-02-28"): ["monthly"],      # newest of February
        sid("2026-01-31"): ["monthly"],      # newest of January
    }
    assert len(rot.deleted(plan)) == len(ids) - 12


def test_two_sets_on_one_day_keep_the_later_one():
    ids = [sid("2026-03-15 02:00"), sid("2026-03-15 14:00"), sid("2026-03-14 02:00")]
    plan = rot.plan_rotation(ids, 2, 0, 0)
    assert plan == {sid("2026-03-15 14:00"): ["newest", "daily"], sid("2026-03-15 02:00"): [],
                    sid("2026-03-14 02:00"): ["daily"]}


def test_empty_days_do_not_count():
    ids = [sid("2026-03-15"), sid("2026-03-01"), sid("2026-02-01"), sid("2026-01-01")]
    assert rot.kept(rot.plan_rotation(ids, 3, 0, 0)) == [sid("2026-03-15"), sid("2026-03-01"), sid("2026-02-01")]


# ---------------------------------------------------------------- calendar boundaries


def test_day_boundary_is_utc_midnight():
    ids = [sid("2026-03-15 00:00"), sid("2026-03-14 23:59"), sid("2026-03-14 00:00")]
    plan = rot.plan_rotation(ids, 2, 0, 0)
    assert plan[sid("2026-03-15 00:00")] == ["newest", "daily"]
    assert plan[sid("2026-03-14 23:59")] == ["daily"]
    assert plan[sid("2026-03-14 00:00")] == []


def test_iso_week_runs_monday_to_sunday():
    # Mon 2024-03-11 opens week 11; Sun 2024-03-10 closes week 10.
    ids = [sid("2024-03-11"), sid("2024-03-10"), sid("2024-03-04"), sid("2024-03-03")]
    plan = rot.plan_rotation(ids, 0, 2, 0)
    assert plan == {sid("2024-03-11"): ["newest", "weekly"], sid("2024-03-10"): ["weekly"],
                    sid("2024-03-04"): [], sid("2024-03-03"): []}


def test_iso_week_across_a_year_boundary():
    # 2020-12-31 (Thu) .. 2021-01-03 (Sun) are all in ISO week 2020-W53;
    # Mon 2021-01-04 opens 2021-W01. Mon 2019-12-30 is already 2020-W01.
    ids = [sid("2021-01-04"), sid("2021-01-03"), sid("2020-12-31"), sid("2020-12-28"),
           sid("2020-01-05"), sid("2020-01-01"), sid("2019-12-30"), sid("2019-12-29")]
    plan = rot.plan_rotation(ids, 0, 3, 0)
    assert kept_with(plan) == {sid("2021-01-04"): ["newest", "weekly"], sid("2021-01-03"): ["weekly"],
                               sid("2020-01-05"): ["weekly"]}
    assert plan[sid("2020-12-31")] == [] and plan[sid("2020-12-28")] == []  # same week as 2021-01-03
    plan = rot.plan_rotation(ids, 0, 4, 0)
    assert plan[sid("2019-12-29")] == ["weekly"]  # 2019-W52, the fourth week
    assert plan[sid("2019-12-30")] == [] and plan[sid("2020-01-01")] == []


def test_month_and_year_boundaries():
    ids = [sid("2021-01-01 00:00"), sid("2020-12-31 23:59"), sid("2020-12-01"), sid("2020-11-30")]
    plan = rot.plan_rotation(ids, 0, 0, 3)
    assert plan == {sid("2021-01-01 00:00"): ["newest", "monthly"], sid("2020-12-31 23:59"): ["monthly"],
                    sid("2020-12-01"): [], sid("2020-11-30"): ["monthly"]}


def test_leap_day_is_a_day_of_february():
    ids = [sid("2024-03-01"), sid("2024-02-29"), sid("2024-02-28")]
    assert rot.plan_rotation(ids, 3, 0, 0) == {s: r for s, r in zip(ids, (["newest", "daily"], ["daily"], ["daily"]))}
    plan = rot.plan_rotation(ids, 0, 0, 2)
    assert plan == {sid("2024-03-01"): ["newest", "monthly"], sid("2024-02-29"): ["monthly"], sid("2024-02-28"): []}
    # 2024-02-29 is a Thursday: same ISO week (2024-W09) as 02-28 and 03-01.
    assert rot.plan_rotation(ids, 0, 1, 0)[sid("2024-02-29")] == []


# ---------------------------------------------------------------- the oldest-set rule and "newest"


def test_a_rule_with_counts_left_keeps_the_oldest_set_too():
    ids = [sid("2026-03-15"), sid("2026-03-14"), sid("2026-03-13")]  # all in ISO week 11
    plan = rot.plan_rotation(ids, 0, 4, 0)
    assert plan == {sid("2026-03-15"): ["newest", "weekly"], sid("2026-03-14"): [], sid("2026-03-13"): ["oldest"]}


def test_oldest_set_that_opens_a_bucket_carries_the_rule_name():
    ids = [sid("2026-03-15"), sid("2026-03-08")]
    assert rot.plan_rotation(ids, 0, 4, 0) == {sid("2026-03-15"): ["newest", "weekly"], sid("2026-03-08"): ["weekly"]}


def test_no_oldest_keep_once_the_counts_are_spent():
    ids = [sid("2026-03-15"), sid("2026-03-14"), sid("2026-03-08")]
    assert rot.plan_rotation(ids, 0, 1, 0)[sid("2026-03-08")] == []
    # Exactly N buckets: the count is spent on the last bucket's newest set.
    assert rot.plan_rotation(ids, 0, 2, 0) == {sid("2026-03-15"): ["newest", "weekly"], sid("2026-03-14"): [],
                                               sid("2026-03-08"): ["weekly"]}


def test_oldest_counts_per_rule_and_is_named_once():
    ids = [sid("2026-03-15"), sid("2026-03-14")]
    plan = rot.plan_rotation(ids, 1, 5, 5)
    assert plan == {sid("2026-03-15"): ["newest", "daily", "weekly", "monthly"], sid("2026-03-14"): ["oldest"]}


def test_all_counts_zero_keep_the_newest_set_alone():
    ids = daily("2026-03-01", "2026-03-15")
    plan = rot.plan_rotation(ids, 0, 0, 0)
    assert kept_with(plan) == {sid("2026-03-15"): ["newest"]}


def test_one_set_and_no_sets():
    assert rot.plan_rotation([sid("2026-03-15")], 7, 4, 3) == {sid("2026-03-15"): ["newest", "daily", "weekly",
                                                                                     "monthly"]}
    assert rot.plan_rotation([], 7, 4, 3) == {}


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("counts", [(-1, 4, 3), (7, -2, 3), (7, 4, 2.5), (7, "4", 3), (True, 4, 3), (7, 4, None)])
def test_bad_counts_are_clear_errors(counts):
    with pytest.raises(rot.RotationError, match="keep_"):
        rot.plan_rotation([sid("2026-03-15")], *counts)


@pytest.mark.parametrize("ids,match", [
    (["20260315T020000Z", "20260315T020000Z"], "more than once"),
    (["2026-03-15"], "not a set id"),
    (["20260230T020000Z"], "not a set id"),       # no February 30th
    (["20260315T020000"], "not a set id"),
    ("20260315T020000Z", "list of ids"),
])
def test_bad_set_ids_are_clear_errors(ids, match):
    with pytest.raises(rot.RotationError, match=match):
        rot.plan_rotation(ids, 7, 4, 3)


# ---------------------------------------------------------------- properties

START = dt.datetime(2019, 12, 1)  # spans 2020's leap day and the ISO weeks 2020-W01 and 2020-W53
SPAN_MINUTES = 500 * 24 * 60


def ids_from_minutes(minutes):
    return [(START + dt.timedelta(minutes=m)).strftime("%Y%m%dT%H%M%SZ") for m in minutes]


set_lists = st.lists(st.integers(0, SPAN_MINUTES), unique=True, max_size=80).map(ids_from_minutes)
small_sets = st.lists(st.sampled_from(range(0, 40 * 24 * 60, 360)), unique=True, max_size=30).map(ids_from_minutes)
counts = st.integers(0, 12)
BOUNDARY_IDS = [sid("2021-01-04"), sid("2021-01-03"), sid("2020-12-31 23:59"), sid("2020-03-01 00:00"),
                sid("2020-02-29 23:59"), sid("2020-02-29 00:00"), sid("2020-01-01"), sid("2019-12-30"),
                sid("2019-12-29 23:59")]
PROPERTY = settings(derandomize=True, max_examples=300, deadline=None)


@PROPERTY
@given(st.one_of(set_lists, small_sets), counts, counts, counts)
@example(BOUNDARY_IDS, 2, 2, 2)
@example(BOUNDARY_IDS, 9, 9, 9)
@example(BOUNDARY_IDS, 0, 0, 0)
@example([], 7, 4, 3)
@example([sid("2020-02-29")], 0, 1, 0)
def test_matches_the_reference_and_keeps_the_newest(ids, keep_d, keep_w, keep_m):
    plan = rot.plan_rotation(ids, keep_d, keep_w, keep_m)
    assert plan == reference(ids, keep_d, keep_w, keep_m)
    assert set(plan) == set(ids)
    if ids:
        assert "newest" in plan[max(ids)]
    assert len(rot.kept(plan)) <= keep_d + keep_w + keep_m + 1


@PROPERTY
@given(st.one_of(set_lists, small_sets), counts, counts, counts, st.randoms(use_true_random=False))
@example(BOUNDARY_IDS, 3, 3, 3, random.Random(1))
def test_independent_of_input_order(ids, keep_d, keep_w, keep_m, rng):
    shuffled = list(ids)
    rng.shuffle(shuffled)
    assert rot.plan_rotation(shuffled, keep_d, keep_w, keep_m) == rot.plan_rotation(sorted(ids), keep_d, keep_w, keep_m)


@PROPERTY
@given(st.one_of(set_lists, small_sets), counts, counts, counts)
@example(BOUNDARY_IDS, 1, 1, 1)
@example(BOUNDARY_IDS, 0, 5, 0)
def test_a_second_application_deletes_nothing(ids, keep_d, keep_w, keep_m):
    survivors = rot.kept(rot.plan_rotation(ids, keep_d, keep_w, keep_m))
    assert rot.deleted(rot.plan_rotation(survivors, keep_d, keep_w, keep_m)) == []


@PROPERTY
@given(st.one_of(set_lists, small_sets).filter(bool), counts, counts, counts, st.integers(1, 400 * 24 * 60))
@example(BOUNDARY_IDS, 0, 4, 0, 1)            # previous oldest kept only as 'oldest' loses it
@example(BOUNDARY_IDS, 9, 9, 9, 60 * 24 * 7)
@example([sid("2020-02-29")], 1, 1, 1, 1)      # previous oldest was also the newest
def test_an_older_set_only_takes_oldest_from_the_previous_oldest(ids, keep_d, keep_w, keep_m, earlier_by):
    """Adding a set older than all others changes nothing for the others,
    except that the previous oldest set loses the reason 'oldest' (and is
    deleted when that was its only reason)."""
    before = rot.plan_rotation(ids, keep_d, keep_w, keep_m)
    previous_oldest = min(ids)
    older = (dt.datetime.strptime(previous_oldest, "%Y%m%dT%H%M%SZ")
             - dt.timedelta(minutes=earlier_by)).strftime("%Y%m%dT%H%M%SZ")
    after = rot.plan_rotation(ids + [older], keep_d, keep_w, keep_m)
    for set_id in ids:
        if set_id == previous_oldest:
            assert after[set_id] == [r for r in before[set_id] if r != "oldest"]
        else:
            assert after[set_id] == before[set_id]


def test_the_older_set_rule_does_take_oldest_away():
    ids = [sid("2026-03-15"), sid("2026-03-14")]
    assert rot.plan_rotation(ids, 0, 4, 0)[sid("2026-03-14")] == ["oldest"]
    assert rot.plan_rotation(ids + [sid("2026-03-13")], 0, 4, 0)[sid("2026-03-14")] == []


# ---------------------------------------------------------------- a cluster: incomplete sets and refusals

NOW = dt.datetime(2026, 3, 15, 4, 30, tzinfo=UTC)


def cluster(ids, incomplete=()):
    return {s: {"complete": s not in incomplete, "objects": 6, "versions": 7} for s in ids}


def test_plan_cluster_applies_the_policy_to_complete_sets_and_the_grace_to_the_rest():
    ids = daily("2026-02-20", "2026-03-15")
    broken = {sid("2026-03-15"), sid("2026-03-13"), sid("2026-03-10"), sid("2026-02-25")}
    plan = rot.plan_cluster(cluster(ids, broken), NOW)
    rows = {row["set_id"]: row for row in plan["rows"]}
    assert [row["set_id"] for row in plan["rows"]] == sorted(ids, reverse=True)
    assert plan["refusal"] is None and plan["newest_complete"] == sid("2026-03-14")
    # 2.5 h and 2 days 2.5 h old: the first is within the 2-day grace, the second is not.
    assert rows[sid("2026-03-15")]["action"] == "keep" and rows[sid("2026-03-15")]["reasons"] == ["grace"]
    assert rows[sid("2026-03-13")]["action"] == "delete"
    assert rows[sid("2026-03-13")]["why"] == "incomplete for more than 2 days"
    # Incomplete sets do not take part in the policy: the daily rule reaches further back.
    assert rows[sid("2026-03-14")]["reasons"] == ["newest", "daily", "weekly", "monthly"]
    assert rows[sid("2026-03-06")]["reasons"] == ["daily"]
    assert rows[sid("2026-03-05")]["action"] == "delete" and rows[sid("2026-03-05")]["why"] == "no rule keeps it"
    # Only two months hold complete sets: the monthly rule keeps the oldest set too.
    assert rows[sid("2026-02-20")]["reasons"] == ["oldest"]
    assert rot.to_delete(plan) == [r["set_id"] for r in plan["rows"] if r["action"] == "delete"]
    assert rot.summary(plan) == {"sets": 24, "kept": 12, "deleted": 12, "deleted_objects": 72,
                                 "deleted_versions": 84}


def test_grace_period_boundary():
    plan = rot.plan_cluster(cluster([sid("2026-03-14"), sid("2026-03-13 04:30"), sid("2026-03-13 04:29")],
                                    {sid("2026-03-13 04:30"), sid("2026-03-13 04:29")}), NOW)
    actions = {row["set_id"]: row["action"] for row in plan["rows"]}
    assert actions == {sid("2026-03-14"): "keep", sid("2026-03-13 04:30"): "keep", sid("2026-03-13 04:29"): "delete"}


def test_refuses_without_a_complete_set():
    ids = daily("2026-03-01", "2026-03-10")
    plan = rot.plan_cluster(cluster(ids, set(ids)), NOW)
    assert "no complete backup set" in plan["refusal"]
    assert rot.to_delete(plan) == []
    assert any(row["action"] == "delete" for row in plan["rows"])  # what the policy alone would do
    assert rot.plan_cluster({}, NOW)["refusal"].startswith("no complete backup set")


def test_refuses_when_the_newest_complete_set_is_stale():
    ids = daily("2026-01-01", "2026-03-13")  # newest 2026-03-13 02:00 is 50.5 h old
    plan = rot.plan_cluster(cluster(ids, {sid("2026-03-13")}), NOW, max_newest_age_hours=48)
    assert "20260312T020000Z is 74.5 h old" in plan["refusal"] and rot.to_delete(plan) == []
    plan = rot.plan_cluster(cluster(ids), NOW, max_newest_age_hours=48)
    assert "20260313T020000Z is 50.5 h old" in plan["refusal"]
    assert rot.plan_cluster(cluster(ids), NOW, max_newest_age_hours=51)["refusal"] is None


def test_never_deletes_the_newest_complete_set_with_all_counts_zero():
    ids = daily("2026-03-01", "2026-03-14")
    plan = rot.plan_cluster(cluster(ids), NOW, keep_daily=0, keep_weekly=0, keep_monthly=0)
    assert [row["set_id"] for row in plan["rows"] if row["action"] == "keep"] == [sid("2026-03-14")]
    assert sid("2026-03-14") not in rot.to_delete(plan)


@pytest.mark.parametrize("grace,age,match", [(0, 48, "incomplete_grace_days"), (1.5, 48, "incomplete_grace_days"),
                                             (2, 0, "max_newest_age_hours"), (2, -1, "max_newest_age_hours"),
                                             (2, "48", "max_newest_age_hours")])
def test_bad_limits_are_clear_errors(grace, age, match):
    with pytest.raises(rot.RotationError, match=match):
        rot.plan_cluster(cluster([sid("2026-03-14")]), NOW, incomplete_grace_days=grace, max_newest_age_hours=age)


def test_naive_now_is_refused():
    with pytest.raises(rot.RotationError, match="aware"):
        rot.plan_cluster({}, dt.datetime(2026, 3, 15))


def test_table_is_aligned_and_says_why():
    plan = rot.plan_cluster(cluster(daily("2026-03-12", "2026-03-14"), {sid("2026-03-12")}), NOW,
                            keep_daily=1, keep_weekly=0, keep_monthly=0)
    assert rot.format_table(plan["rows"]) == [
        "set id            state       objects  versions  action  why",
        "20260314T020000Z  complete          6         7  keep    newest, daily",
        "20260313T020000Z  complete          6         7  delete  no rule keeps it",
        "20260312T020000Z  incomplete        6         7  delete  incomplete for more than 2 days",
    ]
