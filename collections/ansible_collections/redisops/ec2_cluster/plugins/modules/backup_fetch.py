#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: redisops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: backup_fetch
short_description: Download a backup shard's RDB, verified, into a staging file on the node
version_added: "0.2.0"
description:
  - Streams the shard's object (the exact version the manifest names) from S3 through zstd into O(dest), checking the
    stored size and SHA-256 and the RDB's size and SHA-256 against the manifest on the way. Memory stays flat.
  - The file appears under O(dest) only when every check passed; a mismatch fails the task and leaves nothing.
  - Refuses, before downloading, when the file system of O(dest) has less room than the RDB needs plus
    O(min_free_bytes).
  - A O(dest) that already holds the RDB (same SHA-256) is left alone.
  - Runs on the node with the node's own AWS credentials.
author:
  - redisops maintainers
requirements:
  - zstandard
options:
  bucket:
    description: Backup bucket.
    type: str
    required: true
  object:
    description: The manifest's object entry (key, version_id, size, sha256, uncompressed_size, uncompressed_sha256).
    type: dict
    required: true
  dest:
    description: Staging file to write (on the data volume, so it can be renamed into place).
    type: path
    required: true
  owner:
    description: Owner of O(dest) and its directory.
    type: str
  group:
    description: Group of O(dest) and its directory.
    type: str
  min_free_bytes:
    description: Room to leave free on the file system of O(dest).
    type: int
    default: 268435456
  aws_credentials_file:
    description: Shared credentials file of the node (sandbox); empty for the instance profile.
    type: path
    default: ""
extends_documentation_fragment:
  - redisops.ec2_cluster.backup_s3
attributes:
  check_mode:
    description: Downloads and verifies every checksum without writing anything.
    support: full
  diff_mode:
    description: No diff; the result says whether the file was written.
    support: none
"""

EXAMPLES = r"""
- name: Fetch and verify the shard
  redisops.ec2_cluster.backup_fetch:
    bucket: my-backups
    object: "{{ shard.object }}"
    dest: /var/lib/redis-node/restore/20261127T020000Z/shard-0-5460.rdb
    owner: redis
    group: redis
    aws_region: us-west-2
"""

RETURN = r"""
dest:
  description: The staging file.
  returned: always
  type: str
size:
  description: Bytes of the stored (compressed) object.
  returned: when downloaded
  type: int
uncompressed_size:
  description: Bytes of the RDB.
  returned: always
  type: int
"""

import os
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import restore_node

try:
    import boto3
    from botocore.config import Config
    import zstandard  # noqa: F401 (checked here, used by restore_node)
    HAS_LIBS = True
except ImportError:
    HAS_LIBS = False

OBJECT_FIELDS = ("key", "size", "sha256", "uncompressed_size", "uncompressed_sha256")


def s3_client(params):
    if params["aws_credentials_file"]:
        os.environ["AWS_SHARED_CREDENTIALS_FILE"] = params["aws_credentials_file"]
        os.environ["AWS_CONFIG_FILE"] = os.devnull
        os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    config = Config(region_name=params["aws_region"], signature_version="s3v4", connect_timeout=10, read_timeout=120,
                    retries={"max_attempts": 5, "mode": "standard"},
                    s3={"addressing_style": "path"} if params["aws_endpoint_url"] else None)
    return boto3.session.Session().client("s3", endpoint_url=params["aws_endpoint_url"] or None, config=config)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            bucket=dict(type="str", required=True),
            object=dict(type="dict", required=True),
            dest=dict(type="path", required=True),
            owner=dict(type="str"),
            group=dict(type="str"),
            min_free_bytes=dict(type="int", default=256 * 1024 * 1024),
            aws_region=dict(type="str", required=True),
            aws_endpoint_url=dict(type="str", default=""),
            aws_credentials_file=dict(type="path", default=""),
        ),
        supports_check_mode=True,
    )
    if not HAS_LIBS:
        module.fail_json(msg=missing_required_lib("boto3 and zstandard"))
    params = module.params
    obj = params["object"]
    missing = [f for f in OBJECT_FIELDS if obj.get(f) in (None, "")]
    if missing:
        module.fail_json(msg="object lacks %s" % ", ".join(missing))
    obj = dict(obj, size=int(obj["size"]), uncompressed_size=int(obj["uncompressed_size"]))
    dest = params["dest"]
    result = dict(changed=False, dest=dest, uncompressed_size=obj["uncompressed_size"])

    if os.path.isfile(dest) and os.path.getsize(dest) == obj["uncompressed_size"] \
            and restore_node.sha256_file(dest) == obj["uncompressed_sha256"]:
        module.exit_json(**result)

    directory = os.path.dirname(dest)
    if not module.check_mode:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        restore_node.chown(directory, params["owner"], params["group"])
        free = os.statvfs(directory)
        room = free.f_bavail * free.f_frsize
        if room < obj["uncompressed_size"] + params["min_free_bytes"]:
            module.fail_json(msg="%s has %d bytes free; the RDB needs %d plus %d to spare" % (
                directory, room, obj["uncompressed_size"], params["min_free_bytes"]), **result)
    try:
        facts = restore_node.fetch_verified(s3_client(params), params["bucket"], obj["key"], obj.get("version_id"),
                                            obj, None if module.check_mode else dest)
    except restore_node.FetchError as exc:
        module.fail_json(msg=str(exc), **result)
    except Exception as exc:
        module.fail_json(msg="fetching s3://%s/%s failed: %s" % (params["bucket"], obj["key"], exc),
                         exception=traceback.format_exc(), **result)
    if not module.check_mode:
        os.chmod(dest, 0o600)
        restore_node.chown(dest, params["owner"], params["group"])
    result.update(changed=True, size=facts["size"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
