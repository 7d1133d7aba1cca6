# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What backup sets a cluster has in S3: one listing, shared by restore,
rotation and the BackupAgeSeconds metric.

The caller passes a boto3 S3 client; nothing here creates clients or reads
credentials. A failed or cut-short listing raises CatalogError: callers that
delete must treat an incomplete view as "do nothing".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import backup_layout as layout
from ansible_collections.redisops.ec2_cluster.plugins.module_utils.redis_info import SLOT_COUNT

# Manifests are small; anything bigger is not one of ours.
MANIFEST_MAX_BYTES = 1 << 20


class CatalogError(RuntimeError):
    """The listing or a manifest could not be read completely."""


@dataclass
class BackupSet:
    set_id: str
    objects: Dict[str, dict] = field(default_factory=dict)  # name -> {key, size, etag, last_modified}

    @property
    def manifest_names(self) -> List[str]:
        return sorted(n for n in self.objects if n.endswith(layout.MANIFEST_SUFFIX))

    @property
    def size(self) -> int:
        return sum(obj["size"] for obj in self.objects.values())


@dataclass
class Listing:
    sets: Dict[str, BackupSet]
    stray_keys: List[str]  # under the cluster prefix but not inside a set

    def newest_first(self) -> List[BackupSet]:
        return [self.sets[s] for s in sorted(self.sets, reverse=True)]


def list_sets(s3, bucket, prefix, cluster, max_keys: Optional[int] = None) -> Listing:
    """Every object under <prefix>/<cluster>/, grouped by set id.

    Raises CatalogError when listing fails or more than max_keys objects
    exist (a bound on memory and time, never a silent truncation).
    """
    root = layout.cluster_prefix(prefix, cluster)
    sets: Dict[str, BackupSet] = {}
    stray: List[str] = []
    seen = 0
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=root):
            for item in page.get("Contents", []):
                seen += 1
                if max_keys is not None and seen > max_keys:
                    raise CatalogError("more than %d objects under s3://%s/%s: listing stopped" % (max_keys, bucket, root))
                parsed = layout.parse_key(item["Key"], prefix, cluster)
                if parsed is None:
                    stray.append(item["Key"])
                    continue
                entry = sets.setdefault(parsed["set_id"], BackupSet(parsed["set_id"]))
                entry.objects[parsed["name"]] = {"key": item["Key"], "size": int(item.get("Size", 0)),
                                                 "etag": item.get("ETag", "").strip('"'),
                                                 "last_modified": item.get("LastModified")}
            if page.get("IsTruncated") and not page.get("NextContinuationToken"):
                raise CatalogError("listing of s3://%s/%s was cut short" % (bucket, root))
    except CatalogError:
        raise
    except Exception as exc:  # botocore's ClientError, EndpointConnectionError, ...
        raise CatalogError("listing s3://%s/%s failed: %s" % (bucket, root, exc)) from exc
    return Listing(sets=sets, stray_keys=stray)


@dataclass
class VersionListing:
    # set id -> every version and delete marker under the set's prefix:
    # {key, version_id, is_latest, delete_marker, size}
    sets: Dict[str, List[dict]]
    stray_keys: List[str]

    @property
    def count(self) -> int:
        return sum(len(versions) for versions in self.sets.values())


def list_versions(s3, bucket, prefix, cluster, max_keys: Optional[int] = None) -> VersionListing:
    """Every object version and delete marker under <prefix>/<cluster>/, by set id.

    Also finds sets whose objects are all deleted (only noncurrent versions
    or delete markers left), which list_sets cannot see. An unversioned
    bucket answers with one version per object (version id "null").
    Raises CatalogError like list_sets: failed, cut short or over max_keys.
    """
    return list_sets_and_versions(s3, bucket, prefix, cluster, max_keys)[1]


def list_sets_and_versions(s3, bucket, prefix, cluster, max_keys: Optional[int] = None):
    """(Listing, VersionListing) from one pass over the object versions.

    The Listing holds the current objects (latest versions that are not
    delete markers), exactly what list_sets would return, and both come from
    the same snapshot: a rotation never plans on one listing and deletes from
    another. max_keys bounds the versions and delete markers seen.
    """
    root = layout.cluster_prefix(prefix, cluster)
    sets: Dict[str, BackupSet] = {}
    versions: Dict[str, List[dict]] = {}
    stray: List[str] = []
    stray_current: List[str] = []
    seen = 0
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=root):
            entries = [(item, False) for item in page.get("Versions", [])]
            entries += [(item, True) for item in page.get("DeleteMarkers", [])]
            for item, marker in entries:
                seen += 1
                if max_keys is not None and seen > max_keys:
                    raise CatalogError("more than %d object versions under s3://%s/%s: listing stopped"
                                       % (max_keys, bucket, root))
                current = bool(item.get("IsLatest")) and not marker
                parsed = layout.parse_key(item["Key"], prefix, cluster)
                if parsed is None:
                    stray.append(item["Key"])
                    if current:
                        stray_current.append(item["Key"])
                    continue
                versions.setdefault(parsed["set_id"], []).append({
                    "key": item["Key"], "version_id": item.get("VersionId") or "null",
                    "is_latest": bool(item.get("IsLatest")), "delete_marker": marker,
                    "size": int(item.get("Size", 0))})
                if current:
                    entry = sets.setdefault(parsed["set_id"], BackupSet(parsed["set_id"]))
                    entry.objects[parsed["name"]] = {"key": item["Key"], "size": int(item.get("Size", 0)),
                                                     "etag": item.get("ETag", "").strip('"'),
                                                     "last_modified": item.get("LastModified")}
            if page.get("IsTruncated") and not (page.get("NextKeyMarker") or page.get("NextVersionIdMarker")):
                raise CatalogError("version listing of s3://%s/%s was cut short" % (bucket, root))
    except CatalogError:
        raise
    except Exception as exc:  # botocore's ClientError, EndpointConnectionError, ...
        raise CatalogError("listing versions of s3://%s/%s failed: %s" % (bucket, root, exc)) from exc
    return (Listing(sets=sets, stray_keys=sorted(set(stray_current))),
            VersionListing(sets=versions, stray_keys=sorted(set(stray))))


def completeness_from_names(backup_set: BackupSet) -> Optional[bool]:
    """Decide completeness from the manifests' names alone, when that is exact.

    A manifest is named after its shard's lowest and highest slot, and the
    backup program only backs up a cluster whose 16384 slots are all
    assigned. So when the name bounds tile 0-16383 without overlap, every
    shard's ranges are contiguous and the set is complete; when they leave a
    gap it is incomplete. Overlapping bounds (a shard with several ranges)
    cannot be decided from names: None, read the manifests.
    """
    bounds = []
    for name in backup_set.manifest_names:
        shard = name[:-len(layout.MANIFEST_SUFFIX)].split("-")
        bounds.append((int(shard[1]), int(shard[2])))
    if not bounds:
        return False
    bounds.sort()
    for (first_a, last_a), (first_b, _last_b) in zip(bounds, bounds[1:]):
        if first_b <= last_a:
            return None
    position = 0
    for first, last in bounds:
        if first != position:
            return False
        position = last + 1
    return position == SLOT_COUNT


def read_manifests(s3, bucket, prefix, cluster, backup_set: BackupSet) -> List[dict]:
    """Download and check every manifest of a set; CatalogError on any problem."""
    manifests = []
    for name in backup_set.manifest_names:
        key = backup_set.objects[name]["key"]
        if backup_set.objects[name]["size"] > MANIFEST_MAX_BYTES:
            raise CatalogError("manifest %s is larger than %d bytes" % (key, MANIFEST_MAX_BYTES))
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read(MANIFEST_MAX_BYTES + 1)
            manifest = json.loads(body)
        except Exception as exc:
            raise CatalogError("manifest %s could not be read: %s" % (key, exc)) from exc
        errors = layout.manifest_errors(manifest, cluster=cluster, set_id=backup_set.set_id)
        if not errors:
            described = layout.manifest_key(prefix, cluster, backup_set.set_id, manifest["shard"]["slot_ranges"])
            if described != key:
                errors.append("it describes %s" % described)
        if errors:
            raise CatalogError("manifest %s: %s" % (key, "; ".join(errors)))
        manifests.append(manifest)
    return manifests


def is_complete(s3, bucket, prefix, cluster, backup_set: BackupSet) -> bool:
    """Completeness, reading manifests only when the names cannot tell."""
    by_names = completeness_from_names(backup_set)
    if by_names is not None:
        return by_names
    return layout.is_complete(read_manifests(s3, bucket, prefix, cluster, backup_set))


def newest_complete(s3, bucket, prefix, cluster, listing: Listing) -> Optional[BackupSet]:
    for backup_set in listing.newest_first():
        if is_complete(s3, bucket, prefix, cluster, backup_set):
            return backup_set
    return None
