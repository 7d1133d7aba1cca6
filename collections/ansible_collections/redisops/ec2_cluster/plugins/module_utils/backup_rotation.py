# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup-set rotation as pure functions (docs/rotation.md).

plan_rotation() is the retention policy: restic's
``forget --keep-daily/--keep-weekly/--keep-monthly`` (internal/restic/
snapshot_policy.go, ApplyPolicy, restic 0.16 and later) applied to set ids.
plan_cluster() adds what rotating a whole cluster needs around it:
incomplete sets and their grace period, and the safety refusals. The module
``redisops.ec2_cluster.backup_rotation`` lists S3 and deletes; nothing here
touches the network or reads the clock.
"""

from __future__ import annotations

import datetime as _dt

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_layout as layout

RULES = ("daily", "weekly", "monthly")
# Order of the reasons in every result, whatever order they were found in.
REASONS = ("newest", "daily", "weekly", "monthly", "oldest")
GRACE = "grace"  # an incomplete set still within its grace period

DEFAULT_KEEP = {"daily": 7, "weekly": 4, "monthly": 3}
DEFAULT_INCOMPLETE_GRACE_DAYS = 2
# With the default daily backups, the newest complete set is normally less than
# a day old: 48 h lets one failed night pass and refuses after the second.
DEFAULT_MAX_NEWEST_AGE_HOURS = 48


class RotationError(ValueError):
    """Bad input: a count, a set id or a limit that makes no sense."""


def _bucket(rule, moment):
    if rule == "daily":
        return (moment.year, moment.month, moment.day)
    if rule == "weekly":
        iso = moment.isocalendar()
        return (iso[0], iso[1])  # ISO year and week: Monday to Sunday, week 1 holds the first Thursday
    return (moment.year, moment.month)


def check_count(name, value):
    """A rule's count: a whole number >= 0 (0 disables the rule)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise RotationError("%s must be a whole number >= 0, not %r" % (name, value))
    if value < 0:
        raise RotationError("%s must be >= 0, not %d" % (name, value))
    return value


def parse_set_ids(set_ids):
    """Set ids -> {set_id: aware UTC datetime}; RotationError on a malformed or repeated id."""
    if isinstance(set_ids, (str, bytes)):
        raise RotationError("set ids must be a list of ids, not one string")
    parsed = {}
    for set_id in set_ids:
        try:
            moment = layout.parse_set_id(set_id)
        except layout.LayoutError as exc:
            raise RotationError(str(exc))
        if set_id in parsed:
            raise RotationError("set id %s appears more than once" % set_id)
        parsed[set_id] = moment
    return parsed


def plan_rotation(set_ids, keep_daily, keep_weekly, keep_monthly):
    """Which rules keep each set: {set_id: [reasons]}; [] means delete.

    Sets are taken newest first. A rule with count left keeps a set whose
    bucket (UTC day, ISO week, month) differs from the bucket of the set the
    rule kept last, and spends one count; so it keeps the newest set of each
    of its N most recent buckets that hold a set. When a rule still has
    count left on reaching the oldest set, it keeps that set too and spends a
    count: the reason is the rule's name when the oldest set opens a new
    bucket, else ``oldest``. Rules combine with OR. The newest set is always
    kept and always carries ``newest``, whatever the counts (all counts 0
    keep the newest set alone; restic would keep everything).
    """
    counts = {"daily": check_count("keep_daily", keep_daily),
              "weekly": check_count("keep_weekly", keep_weekly),
              "monthly": check_count("keep_monthly", keep_monthly)}
    parsed = parse_set_ids(set_ids)
    newest_first = sorted(parsed, key=parsed.__getitem__, reverse=True)
    left = dict(counts)
    last_bucket = dict.fromkeys(RULES)
    plan = {}
    for position, set_id in enumerate(newest_first):
        is_oldest = position == len(newest_first) - 1
        reasons = {"newest"} if position == 0 else set()
        for rule in RULES:
            if left[rule] <= 0:
                continue
            bucket = _bucket(rule, parsed[set_id])
            if bucket != last_bucket[rule]:
                reasons.add(rule)
            elif is_oldest:
                reasons.add("oldest")
            else:
                continue
            last_bucket[rule] = bucket
            left[rule] -= 1
        plan[set_id] = [reason for reason in REASONS if reason in reasons]
    return plan


def kept(plan):
    return sorted((set_id for set_id, reasons in plan.items() if reasons), reverse=True)


def deleted(plan):
    return sorted((set_id for set_id, reasons in plan.items() if not reasons), reverse=True)


# ---------------------------------------------------------------- a whole cluster


def check_limits(incomplete_grace_days, max_newest_age_hours):
    if isinstance(incomplete_grace_days, bool) or not isinstance(incomplete_grace_days, int) \
            or incomplete_grace_days < 1:
        raise RotationError("incomplete_grace_days must be a whole number of days >= 1 (a backup in progress "
                            "must never look abandoned), not %r" % (incomplete_grace_days,))
    if isinstance(max_newest_age_hours, bool) or not isinstance(max_newest_age_hours, (int, float)) \
            or not max_newest_age_hours > 0:
        raise RotationError("max_newest_age_hours must be a number of hours > 0, not %r" % (max_newest_age_hours,))


def _hours(delta):
    return delta.total_seconds() / 3600.0


def plan_cluster(sets, now, keep_daily=7, keep_weekly=4, keep_monthly=3,
                 incomplete_grace_days=DEFAULT_INCOMPLETE_GRACE_DAYS,
                 max_newest_age_hours=DEFAULT_MAX_NEWEST_AGE_HOURS):
    """The rotation of one cluster's sets.

    sets: {set_id: {"complete": bool, "objects": int, "versions": int}}
    (objects: current objects; versions: every version and delete marker).
    now: aware datetime. Returns {"rows": [...] newest first, "refusal":
    None or why nothing may be deleted, "newest_complete": set id or None}.

    Each row: set_id, complete, objects, versions, action ("keep" or
    "delete"), reasons (the policy's rules; ``grace`` for an incomplete set
    within its grace period) and why (the same, in words). Complete sets
    follow plan_rotation(); incomplete ones are deleted once their set id is
    more than incomplete_grace_days old. The rows show the policy's verdict
    even when there is a refusal: the caller then deletes nothing.
    """
    if now.tzinfo is None:
        raise RotationError("now must be an aware datetime")
    check_limits(incomplete_grace_days, max_newest_age_hours)
    moments = parse_set_ids(list(sets))
    complete = [set_id for set_id in moments if sets[set_id]["complete"]]
    policy = plan_rotation(complete, keep_daily, keep_weekly, keep_monthly)
    grace = _dt.timedelta(days=incomplete_grace_days)
    rows = []
    for set_id in sorted(moments, reverse=True):
        info = sets[set_id]
        row = {"set_id": set_id, "complete": bool(info["complete"]), "objects": int(info.get("objects", 0)),
               "versions": int(info.get("versions", 0))}
        if row["complete"]:
            reasons = policy[set_id]
            why = ", ".join(reasons) if reasons else "no rule keeps it"
        elif now - moments[set_id] > grace:
            reasons = []
            why = "incomplete for more than %d days" % incomplete_grace_days
        else:
            reasons = [GRACE]
            why = "incomplete, within the %d-day grace period" % incomplete_grace_days
        row.update(action="keep" if reasons else "delete", reasons=reasons, why=why)
        rows.append(row)
    newest_complete = max(complete, key=moments.__getitem__) if complete else None
    refusal = None
    if newest_complete is None:
        refusal = ("no complete backup set exists: backups may be failing, so nothing is pruned "
                   "(%d incomplete sets listed)" % len(moments))
    else:
        age = _hours(now - moments[newest_complete])
        if age > max_newest_age_hours:
            refusal = ("the newest complete backup set %s is %.1f h old, more than max_newest_age_hours=%s: "
                       "backups may be failing, so nothing is pruned" % (newest_complete, age, max_newest_age_hours))
    if newest_complete is not None and "newest" not in policy[newest_complete]:  # pragma: no cover - invariant
        raise AssertionError("the policy would delete the newest complete set %s" % newest_complete)
    return {"rows": rows, "refusal": refusal, "newest_complete": newest_complete}


def to_delete(cluster_plan):
    """Set ids a real run deletes: none at all when the plan carries a refusal."""
    if cluster_plan["refusal"]:
        return []
    doomed = [row["set_id"] for row in cluster_plan["rows"] if row["action"] == "delete"]
    if cluster_plan["newest_complete"] in doomed:  # pragma: no cover - invariant
        raise AssertionError("refusing to delete the newest complete set %s" % cluster_plan["newest_complete"])
    return doomed


def summary(cluster_plan):
    rows = cluster_plan["rows"]
    doomed = [row for row in rows if row["action"] == "delete"]
    return {"sets": len(rows), "kept": len(rows) - len(doomed), "deleted": len(doomed),
            "deleted_objects": sum(row["objects"] for row in doomed),
            "deleted_versions": sum(row["versions"] for row in doomed)}


def format_table(rows):
    """The plan for people: one line per set, newest first, aligned columns."""
    header = ("set id", "state", "objects", "versions", "action", "why")
    lines = [header]
    for row in rows:
        lines.append((row["set_id"], "complete" if row["complete"] else "incomplete", str(row["objects"]),
                      str(row["versions"]), row["action"], row["why"]))
    widths = [max(len(line[column]) for line in lines) for column in range(len(header) - 1)]
    numeric = {2, 3}
    out = []
    for line in lines:
        cells = [line[c].rjust(widths[c]) if c in numeric else line[c].ljust(widths[c]) for c in range(len(widths))]
        out.append("  ".join(cells + [line[-1]]).rstrip())
    return out
