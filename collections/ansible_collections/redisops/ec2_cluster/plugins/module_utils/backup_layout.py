# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup contract in S3, as pure functions (docs/backups.md).

A backup *set* is one scheduled run across the whole cluster, named by its
schedule slot in UTC (``20261127T020000Z``). Each shard's backup node writes

    <prefix>/<cluster>/<set_id>/shard-<first>-<last>.rdb.zst        data
    <prefix>/<cluster>/<set_id>/shard-<first>-<last>.manifest.json  written last

A set is complete when its manifests' slot ranges cover every slot exactly
once: completeness needs no outside knowledge of how many shards there were.

Used by the backup program on the nodes (Python 3.11, no Ansible), by the
restore and rotation modules on the controller and by the metrics publisher.
"""

from __future__ import annotations

import datetime as _dt
import re

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.redis_info import SLOT_COUNT

MANIFEST_FORMAT = 1
DATA_SUFFIX = ".rdb.zst"
MANIFEST_SUFFIX = ".manifest.json"
SET_ID_FORMAT = "%Y%m%dT%H%M%SZ"
_SET_ID_RE = re.compile(r"^\d{8}T\d{6}Z$")
_SHARD_RE = re.compile(r"^shard-(\d{1,5})-(\d{1,5})(\.rdb\.zst|\.manifest\.json)$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

# Highest RDB format each engine line reads (RDB 11 arrived with Redis 7.2;
# Valkey 7.2 and 8.0 write 11). Unknown lines read nothing newer than 10.
RDB_READ_MAX = {
    ("redis", "7.0"): 10,
    ("redis", "7.2"): 11,
    ("valkey", "7.2"): 11,
    ("valkey", "8.0"): 11,
    ("valkey", "8.1"): 11,
}
_RDB_MAGIC = re.compile(rb"^(REDIS|VALKEY)(\d{4})")


class LayoutError(ValueError):
    """A name, key, schedule or manifest does not follow the contract."""


# ---------------------------------------------------------------- set ids and the schedule


def format_set_id(moment):
    """UTC timestamp -> set id; naive datetimes are taken as UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=0).strftime(SET_ID_FORMAT)


def parse_set_id(set_id):
    """Set id -> aware UTC datetime; LayoutError for anything else."""
    if not isinstance(set_id, str) or not _SET_ID_RE.match(set_id):
        raise LayoutError("not a set id (YYYYMMDDTHHMMSSZ): %r" % (set_id,))
    try:
        return _dt.datetime.strptime(set_id, SET_ID_FORMAT).replace(tzinfo=_dt.timezone.utc)
    except ValueError as exc:
        raise LayoutError("not a set id: %r (%s)" % (set_id, exc))


def is_set_id(text):
    try:
        parse_set_id(text)
    except LayoutError:
        return False
    return True


def check_schedule(interval_hours, start):
    """Validate a schedule: runs every interval_hours (a divisor of 24) from
    start ("HH:MM", UTC) on. Returns (interval_hours, start_minute_of_day)."""
    if isinstance(interval_hours, bool) or not isinstance(interval_hours, int) or interval_hours <= 0 \
            or 24 % interval_hours:
        raise LayoutError("backup interval must be a whole number of hours dividing 24 (1, 2, 3, 4, 6, 8, 12, 24), "
                          "not %r" % (interval_hours,))
    match = re.match(r"^([01]\d|2[0-3]):([0-5]\d)$", str(start))
    if not match:
        raise LayoutError("backup start must be HH:MM in UTC, not %r" % (start,))
    minute = int(match.group(1)) * 60 + int(match.group(2))
    return interval_hours, minute % (interval_hours * 60)


def schedule_slot(now, interval_hours=24, start="02:00"):
    """The latest schedule slot at or before now (aware UTC datetime).

    Every node of a run computes the same slot as long as it starts within
    one interval of the slot: that is what makes the nodes' objects one set.
    """
    interval, offset = check_schedule(interval_hours, start)
    now = now.astimezone(_dt.timezone.utc)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    minutes = int((now - midnight).total_seconds() // 60)
    period = interval * 60
    slot = ((minutes - offset) // period) * period + offset
    return midnight + _dt.timedelta(minutes=slot)


def cron_fields(interval_hours=24, start="02:00"):
    """cron's minute and hour fields for the schedule, e.g. ('0', '2') or ('30', '1,7,13,19')."""
    interval, offset = check_schedule(interval_hours, start)
    hours = sorted({(offset // 60 + k * interval) % 24 for k in range(24 // interval)})
    return str(offset % 60), ",".join(str(h) for h in hours)


def max_jitter_seconds(interval_hours, wanted):
    """Jitter kept to a quarter of the interval, so a run never slips into the next slot."""
    return max(0, min(int(wanted), interval_hours * 3600 // 4))


# ---------------------------------------------------------------- keys


def check_name(what, value):
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise LayoutError("%s must be letters, digits, '.', '_' or '-' (not starting with one of the last "
                          "three), not %r" % (what, value))
    return value


def check_prefix(prefix):
    """A key prefix: one or more names joined by '/', no leading or trailing '/'."""
    if not isinstance(prefix, str) or not prefix:
        raise LayoutError("backup prefix must not be empty")
    for part in prefix.split("/"):
        check_name("each part of the backup prefix", part)
    return prefix


def cluster_prefix(prefix, cluster):
    """'<prefix>/<cluster>/': everything of one cluster (the node policy's scope)."""
    return "%s/%s/" % (check_prefix(prefix), check_name("cluster name", cluster))


def set_prefix(prefix, cluster, set_id):
    parse_set_id(set_id)
    return "%s%s/" % (cluster_prefix(prefix, cluster), set_id)


def shard_name(first_slot, last_slot):
    if not 0 <= first_slot <= last_slot < SLOT_COUNT:
        raise LayoutError("slot range %r-%r is not within 0-%d" % (first_slot, last_slot, SLOT_COUNT - 1))
    return "shard-%d-%d" % (first_slot, last_slot)


def shard_bounds(ranges):
    """(first, last) slot of a shard's ranges [(a, b), ...]: what names its objects."""
    ranges = normalise_ranges(ranges)
    if not ranges:
        raise LayoutError("a shard must serve at least one slot")
    return ranges[0][0], ranges[-1][1]


def data_key(prefix, cluster, set_id, ranges):
    return set_prefix(prefix, cluster, set_id) + shard_name(*shard_bounds(ranges)) + DATA_SUFFIX


def manifest_key(prefix, cluster, set_id, ranges):
    return set_prefix(prefix, cluster, set_id) + shard_name(*shard_bounds(ranges)) + MANIFEST_SUFFIX


def parse_key(key, prefix, cluster):
    """Key -> {'set_id', 'name', 'kind' ('data'|'manifest'|'other')}; None when
    the key is not inside the cluster's prefix or not inside a set."""
    root = cluster_prefix(prefix, cluster)
    if not key.startswith(root):
        return None
    rest = key[len(root):]
    set_id, sep, name = rest.partition("/")
    if not sep or not is_set_id(set_id):
        return None
    match = _SHARD_RE.match(name)
    if not match:
        return {"set_id": set_id, "name": name, "kind": "other"}
    kind = "manifest" if match.group(3) == MANIFEST_SUFFIX else "data"
    return {"set_id": set_id, "name": name, "kind": kind,
            "first_slot": int(match.group(1)), "last_slot": int(match.group(2))}


# ---------------------------------------------------------------- slot ranges and completeness


def normalise_ranges(ranges):
    """[(a, b) or [a, b] or 'a-b', ...] -> sorted, merged [(a, b), ...]; LayoutError on bad ranges."""
    parsed = []
    for item in ranges or []:
        if isinstance(item, str):
            first, _sep, last = item.partition("-")
            item = (first, last or first)
        try:
            first, last = int(item[0]), int(item[1])
        except (TypeError, ValueError, IndexError):
            raise LayoutError("not a slot range: %r" % (item,))
        if not 0 <= first <= last < SLOT_COUNT:
            raise LayoutError("slot range %d-%d is not within 0-%d" % (first, last, SLOT_COUNT - 1))
        parsed.append((first, last))
    merged = []
    for first, last in sorted(parsed):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def slot_count(ranges):
    return sum(last - first + 1 for first, last in normalise_ranges(ranges))


def coverage(manifests):
    """How a set's manifests cover the slots: {'missing': ranges, 'overlapping': ranges}."""
    events = []
    for manifest in manifests:
        for first, last in normalise_ranges(manifest["shard"]["slot_ranges"]):
            events.append((first, 1))
            events.append((last + 1, -1))
    events.sort()
    missing, overlapping = [], []
    depth, position = 0, 0
    for slot, delta in events + [(SLOT_COUNT, 0)]:
        if slot > position:
            if depth == 0:
                missing.append((position, slot - 1))
            elif depth > 1:
                overlapping.append((position, slot - 1))
            position = slot
        depth += delta
    return {"missing": normalise_ranges(missing), "overlapping": normalise_ranges(overlapping)}


def is_complete(manifests):
    """True when the manifests cover every slot exactly once."""
    result = coverage(manifests)
    return bool(manifests) and not result["missing"] and not result["overlapping"]


# ---------------------------------------------------------------- manifests


def rdb_version(header):
    """RDB format version from the first bytes of an RDB ('REDIS0010' -> 10)."""
    match = _RDB_MAGIC.match(bytes(header[:11]))
    if not match:
        raise LayoutError("not an RDB file: it starts with %r" % bytes(header[:9]))
    return int(match.group(2))


def rdb_read_max(engine, version):
    """Highest RDB format the engine at this version reads."""
    major_minor = ".".join(str(version).split(".")[:2])
    return RDB_READ_MAX.get((engine, major_minor), 10)


def rdb_readable(engine, version, rdb_format):
    return int(rdb_format) <= rdb_read_max(engine, version)


def build_manifest(cluster, set_id, slot_ranges, source, engine, objects, keys, started_at, finished_at, program):
    """The manifest document (see docs/backups.md for every field)."""
    ranges = normalise_ranges(slot_ranges)
    first, last = shard_bounds(ranges)
    manifest = {
        "format": MANIFEST_FORMAT,
        "cluster": check_name("cluster name", cluster),
        "set_id": format_set_id(parse_set_id(set_id)),
        "shard": {"first_slot": first, "last_slot": last, "slot_ranges": [list(r) for r in ranges],
                  "slot_count": slot_count(ranges)},
        "source": dict(source),
        "engine": dict(engine),
        "objects": [dict(obj) for obj in objects],
        "keys": int(keys),
        "started_at": started_at,
        "finished_at": finished_at,
        "program": dict(program),
    }
    errors = manifest_errors(manifest)
    if errors:
        raise LayoutError("invalid manifest: %s" % "; ".join(errors))
    return manifest


_SOURCE_FIELDS = ("node_id", "address", "role", "availability_zone")
_ENGINE_FIELDS = ("name", "version", "rdb_version")
_OBJECT_FIELDS = ("key", "kind", "compression", "size", "sha256", "uncompressed_size", "uncompressed_sha256")


def manifest_errors(manifest, cluster=None, set_id=None):
    """Problems with a manifest document; [] when it follows the contract."""
    if not isinstance(manifest, dict):
        return ["manifest is not a JSON object"]
    errors = []
    if manifest.get("format") != MANIFEST_FORMAT:
        errors.append("manifest format %r is not %d" % (manifest.get("format"), MANIFEST_FORMAT))
    if cluster is not None and manifest.get("cluster") != cluster:
        errors.append("manifest is of cluster %r, not %r" % (manifest.get("cluster"), cluster))
    if set_id is not None and manifest.get("set_id") != set_id:
        errors.append("manifest is of set %r, not %r" % (manifest.get("set_id"), set_id))
    if not is_set_id(manifest.get("set_id")):
        errors.append("manifest set_id %r is not a set id" % (manifest.get("set_id"),))
    shard = manifest.get("shard")
    try:
        ranges = normalise_ranges((shard or {}).get("slot_ranges"))
        if not ranges or (shard.get("first_slot"), shard.get("last_slot")) != shard_bounds(ranges):
            errors.append("shard slot bounds do not match its slot ranges")
    except (LayoutError, AttributeError) as exc:
        errors.append("shard slot ranges: %s" % exc)
    for section, fields in (("source", _SOURCE_FIELDS), ("engine", _ENGINE_FIELDS)):
        value = manifest.get(section)
        missing = [f for f in fields if not isinstance(value, dict) or value.get(f) in (None, "")]
        if missing:
            errors.append("%s lacks %s" % (section, ", ".join(missing)))
    objects = manifest.get("objects")
    if not isinstance(objects, list) or not objects:
        errors.append("manifest lists no objects")
    else:
        for obj in objects:
            missing = [f for f in _OBJECT_FIELDS if not isinstance(obj, dict) or obj.get(f) in (None, "")]
            if missing:
                errors.append("object %r lacks %s" % (obj.get("key") if isinstance(obj, dict) else obj,
                                                      ", ".join(missing)))
            elif not re.match(r"^[0-9a-f]{64}$", str(obj["sha256"])):
                errors.append("object %s has no valid sha256" % obj["key"])
    if not isinstance(manifest.get("keys"), int) or manifest.get("keys") < 0:
        errors.append("manifest keys is not a count")
    for field in ("started_at", "finished_at"):
        if not isinstance(manifest.get(field), str) or not manifest.get(field):
            errors.append("manifest lacks %s" % field)
    return errors
