# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Node AMIs: where the baked AMI id is published, which AMI a bake reuses,
and which AMIs pruning may delete.

The published AMI of an engine and version is an SSM parameter
(``parameter_name``); whatever launches nodes reads it there. Pruning keeps
the newest AMIs of an engine and never touches an AMI that something still
names: a launch template version, an instance that is not terminated, a
published parameter. An AMI's snapshots go only with the AMI, and never a
snapshot that an AMI which is kept also uses.
"""

from __future__ import annotations

import re
from typing import Dict, Iterable, List, Mapping, Sequence

# Each level of the parameter name: what SSM allows in a name, without '/'.
_NAME_PART = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_IMAGE_ID = re.compile(r"^ami-[0-9a-f]{8,17}$")

# Why an AMI is kept, in the order they are reported.
REASONS = ("newest", "launch_template", "instance", "published")


class NodeAmiError(ValueError):
    """The request is not valid; nothing was read or changed."""


def parameter_path(cluster_name: str, engine: str) -> str:
    """The SSM path under which every version of an engine is published."""
    for label, value in (("cluster name", cluster_name), ("engine", engine)):
        if not isinstance(value, str) or not _NAME_PART.match(value):
            raise NodeAmiError("%s %r: use letters, digits, '.', '_' and '-' only" % (label, value))
    return "/redisops/%s/ami/%s" % (cluster_name, engine)


def parameter_name(cluster_name: str, engine: str, version: str) -> str:
    """/redisops/<cluster>/ami/<engine>/<version>: the published AMI of that engine and version."""
    if not isinstance(version, str) or not _NAME_PART.match(version):
        raise NodeAmiError("engine version %r: use letters, digits, '.', '_' and '-' only" % (version,))
    return "%s/%s" % (parameter_path(cluster_name, engine), version)


def _newest_first(images: Sequence[Mapping]) -> List[Mapping]:
    # The id breaks ties, so the order never depends on the API's.
    return sorted(images, key=lambda image: (image.get("creation_date") or "", image["image_id"]), reverse=True)


def _check_images(images: Sequence[Mapping]) -> None:
    seen = set()
    for image in images:
        image_id = image.get("image_id") if isinstance(image, Mapping) else None
        if not isinstance(image_id, str) or not image_id:
            raise NodeAmiError("every image needs an image_id, got %r" % (image,))
        if image_id in seen:
            raise NodeAmiError("image %s is listed twice" % image_id)
        seen.add(image_id)


def reusable_image(images: Sequence[Mapping], published_id: str = "") -> str:
    """The AMI a bake reuses: the published one when it is among the
    available AMIs of the engine and version, else the newest of them; ''
    when there is none."""
    _check_images(images)
    ids = {image["image_id"] for image in images}
    if published_id and published_id in ids:
        return published_id
    ordered = _newest_first(images)
    return ordered[0]["image_id"] if ordered else ""


def image_references(values: Iterable[str]) -> List[str]:
    """The AMI ids among values (launch template ImageIds, parameter values):
    anything else, e.g. an unresolved ``resolve:ssm:`` alias, names no AMI."""
    return sorted({value for value in values if isinstance(value, str) and _IMAGE_ID.match(value)})


def plan_prune(images: Sequence[Mapping], keep: int, launch_template_images: Iterable[str] = (),
               instance_images: Iterable[str] = (), published_images: Iterable[str] = ()) -> dict:
    """Which AMIs to deregister and which of their snapshots to delete.

    images: the engine's AMIs, each {'image_id', 'creation_date', 'snapshot_ids'}.
    keep: the newest ``keep`` are kept; 0 keeps every AMI.
    Returns {'deregister': [{'image_id', 'snapshot_ids'}] oldest first,
    'kept': {image_id: [reasons]}} with reasons from REASONS.
    """
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 0:
        raise NodeAmiError("keep must be a whole number >= 0 (0 keeps all), not %r" % (keep,))
    _check_images(images)
    protected = {
        "launch_template": set(launch_template_images),
        "instance": set(instance_images),
        "published": set(published_images),
    }
    ordered = _newest_first(images)
    newest = {image["image_id"] for image in ordered[:keep]} if keep else {image["image_id"] for image in ordered}
    kept: Dict[str, List[str]] = {}
    doomed: List[Mapping] = []
    for image in ordered:
        image_id = image["image_id"]
        reasons = [reason for reason in REASONS
                   if (image_id in newest if reason == "newest" else image_id in protected[reason])]
        if reasons:
            kept[image_id] = reasons
        else:
            doomed.append(image)
    shared = {snapshot for image in ordered if image["image_id"] in kept
              for snapshot in image.get("snapshot_ids") or ()}
    deregister = []
    # Newest first: a snapshot two deregistered AMIs share goes with the one
    # deregistered last (EC2 refuses to delete a snapshot an AMI still uses).
    for image in doomed:
        snapshots = set(image.get("snapshot_ids") or ()) - shared
        deregister.insert(0, {"image_id": image["image_id"], "snapshot_ids": sorted(snapshots)})
        shared |= snapshots
    return {"deregister": deregister, "kept": kept}
