# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup rotation against S3: list a cluster's sets, plan with
backup_rotation.plan_cluster(), delete whole sets (every version and delete
marker) with batched DeleteObjects. Used by the backup_rotation module and
the rotation benchmark; the caller passes a boto3 S3 client and the time.

Nothing is deleted when the listing failed or was cut short, when no
complete set exists or when the newest complete set is too old: those raise
RotationRefused before any deletion.
"""

from __future__ import annotations

import time

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_catalog as catalog
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_layout as layout
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_rotation as rotation

MAX_BATCH = 1000  # DeleteObjects takes at most 1000 keys


class RotationRefused(RuntimeError):
    """A safety rule forbids pruning; nothing was deleted. .result holds what is known."""

    def __init__(self, message, result):
        super().__init__(message)
        self.result = result


class PruneError(RuntimeError):
    """Deleting failed part-way; .result says what was and was not deleted."""

    def __init__(self, message, result):
        super().__init__(message)
        self.result = result


def check_params(prefix, cluster, keep_daily, keep_weekly, keep_monthly, incomplete_grace_days,
                 max_newest_age_hours, max_objects, batch_size):
    """Every input checked before anything is listed or deleted."""
    try:
        layout.cluster_prefix(prefix, cluster)
    except layout.LayoutError as exc:
        raise rotation.RotationError(str(exc))
    for name, value in (("keep_daily", keep_daily), ("keep_weekly", keep_weekly), ("keep_monthly", keep_monthly)):
        rotation.check_count(name, value)
    rotation.check_limits(incomplete_grace_days, max_newest_age_hours)
    if isinstance(max_objects, bool) or not isinstance(max_objects, int) or max_objects < 1:
        raise rotation.RotationError("max_objects must be a whole number >= 1, not %r" % (max_objects,))
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= MAX_BATCH:
        raise rotation.RotationError("delete batch size must be 1 to %d, not %r" % (MAX_BATCH, batch_size))


def deletion_order(versions):
    """The order that keeps an interrupted deletion safe.

    First noncurrent versions (the set still looks as before), then the
    current manifests (from here on the set is incomplete, so no restore
    picks it and a later run removes it after the grace period), then the
    other current objects, delete markers last (so no older version ever
    becomes current again).
    """
    def phase(version):
        if not version["is_latest"]:
            return 0
        if version["delete_marker"]:
            return 3
        return 1 if version["key"].endswith(layout.MANIFEST_SUFFIX) else 2
    return sorted(versions, key=lambda v: (phase(v), v["key"], v["version_id"]))


def delete_versions(s3, bucket, versions, batch_size=MAX_BATCH):
    """Delete the given versions in DeleteObjects batches, in the given order.

    Stops after the first batch with a failed key. Returns {"deleted": [(key,
    version_id)], "errors": [{key, version_id, code, message}], "requests": n}.
    """
    deleted, errors, requests = [], [], 0
    for start in range(0, len(versions), batch_size):
        batch = versions[start:start + batch_size]
        requests += 1
        try:
            answer = s3.delete_objects(Bucket=bucket, Delete={
                "Objects": [{"Key": v["key"], "VersionId": v["version_id"]} for v in batch], "Quiet": True})
        except Exception as exc:  # the whole request failed: nothing of this batch is known deleted
            errors.extend({"key": v["key"], "version_id": v["version_id"], "code": type(exc).__name__,
                           "message": str(exc)} for v in batch)
            break
        failed = {(e.get("Key"), e.get("VersionId")): e for e in answer.get("Errors", [])}
        for v in batch:
            # An error without a version id (some S3 implementations) counts against every version of its key.
            error = failed.get((v["key"], v["version_id"])) or failed.get((v["key"], None))
            if error is None:
                deleted.append((v["key"], v["version_id"]))
            else:
                errors.append({"key": v["key"], "version_id": v["version_id"], "code": error.get("Code", ""),
                               "message": error.get("Message", "")})
        if errors:
            break
    return {"deleted": deleted, "errors": errors, "requests": requests}


def rotate(s3, bucket, prefix, cluster, now, keep_daily=7, keep_weekly=4, keep_monthly=3,
           incomplete_grace_days=rotation.DEFAULT_INCOMPLETE_GRACE_DAYS,
           max_newest_age_hours=rotation.DEFAULT_MAX_NEWEST_AGE_HOURS, max_objects=100000,
           check_mode=False, batch_size=MAX_BATCH):
    """List, plan and (unless check_mode) prune one cluster's backup sets.

    Returns the result the module reports. Raises RotationError on bad
    input, catalog.CatalogError when listing fails (nothing deleted),
    RotationRefused on a safety refusal (nothing deleted) and PruneError
    when a deletion failed (result says what was deleted).
    """
    check_params(prefix, cluster, keep_daily, keep_weekly, keep_monthly, incomplete_grace_days,
                 max_newest_age_hours, max_objects, batch_size)
    started = time.monotonic()
    listing, versions = catalog.list_sets_and_versions(s3, bucket, prefix, cluster, max_keys=max_objects)
    complete = {set_id: catalog.is_complete(s3, bucket, prefix, cluster, backup_set)
                for set_id, backup_set in listing.sets.items()}
    listed = time.monotonic()

    # Sets with only noncurrent versions or delete markers left count as incomplete.
    sets = {set_id: {"complete": complete.get(set_id, False),
                     "objects": len(listing.sets[set_id].objects) if set_id in listing.sets else 0,
                     "versions": len(versions.sets.get(set_id, []))}
            for set_id in set(listing.sets) | set(versions.sets)}
    plan = rotation.plan_cluster(sets, now, keep_daily, keep_weekly, keep_monthly, incomplete_grace_days,
                                 max_newest_age_hours)
    doomed = rotation.to_delete(plan)
    order = deletion_order([v for set_id in doomed for v in versions.sets.get(set_id, [])])
    planned = time.monotonic()

    result = {
        "changed": False,
        "location": "s3://%s/%s" % (bucket, layout.cluster_prefix(prefix, cluster)),
        "sets": plan["rows"],
        "table": rotation.format_table(plan["rows"]),
        "summary": rotation.summary(plan),
        "newest_complete": plan["newest_complete"],
        "kept": [row["set_id"] for row in plan["rows"] if row["action"] == "keep"],
        "deleted": [],
        "stray_keys": sorted(set(listing.stray_keys) | set(versions.stray_keys)),
        "listed_objects": sum(len(s.objects) for s in listing.sets.values()),
        "listed_versions": versions.count,
        "delete_requests": 0,
        "durations": {"list": round(listed - started, 3), "plan": round(planned - listed, 3), "prune": 0.0},
    }
    if plan["refusal"]:
        result["kept"] = [row["set_id"] for row in plan["rows"]]
        raise RotationRefused("%s; nothing was deleted under %s" % (plan["refusal"], result["location"]), result)
    result["deleted"] = doomed
    result["changed"] = bool(doomed)
    if check_mode or not doomed:
        return result

    outcome = delete_versions(s3, bucket, order, batch_size)
    result["delete_requests"] = outcome["requests"]
    result["durations"]["prune"] = round(time.monotonic() - planned, 3)
    if outcome["errors"]:
        gone = {}
        for key, _version in outcome["deleted"]:
            set_id = layout.parse_key(key, prefix, cluster)["set_id"]
            gone[set_id] = gone.get(set_id, 0) + 1
        result["deleted"] = [s for s in doomed if gone.get(s, 0) == len(versions.sets.get(s, []))]
        result["partly_deleted"] = [s for s in doomed if 0 < gone.get(s, 0) < len(versions.sets.get(s, []))]
        result["not_deleted"] = [s for s in doomed if not gone.get(s) and versions.sets.get(s)]
        result["deleted_versions"] = len(outcome["deleted"])
        result["errors"] = outcome["errors"][:100]
        result["changed"] = bool(outcome["deleted"])
        first = outcome["errors"][0]
        raise PruneError("deleting %s version %s failed (%s: %s) and %d more errors; stopped after deleting "
                         "%d of %d versions: sets deleted %d, partly deleted %s, untouched %d"
                         % (first["key"], first["version_id"], first["code"], first["message"],
                            len(outcome["errors"]) - 1, len(outcome["deleted"]), len(order),
                            len(result["deleted"]), ", ".join(result["partly_deleted"]) or "none",
                            len(result["not_deleted"])), result)
    result["deleted_versions"] = len(outcome["deleted"])
    return result
