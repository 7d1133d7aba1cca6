"""The backup program's standard-library S3 client (module_utils/s3_stdlib.py)
against moto with IAM enforced: the node principal's own policy
(iam/node.json.tpl, as the sandbox renders it) lets every call of the
backup's data path through, a wrong secret is refused as a bad signature,
a key outside the cluster's prefix is refused, and the objects read back
with boto3 byte for byte, SSE-KMS and version included.

Binds 127.0.0.1:5201 (moto): run under `flock /tmp/redisops-local.lock`.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import s3_stdlib
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import iam_policies
from moto_server import REGION, client, moto_with_node_principal

ROOT = Path(__file__).resolve().parents[2]
MOTO_PORT = 5201
BUCKET = "redisops-s3-stdlib-test"
PREFIX, CLUSTER = "backups", "lite"
MIB = 1 << 20


def node_policy():
    """The node's policy as the sandbox enforces it: iam/node.json.tpl rendered
    and copied for moto by the project's own iam_policies."""
    values = {"backup_bucket": BUCKET, "backup_prefix": PREFIX, "cluster_name": CLUSTER, "region": REGION,
              "account_id": "123456789012",
              "backup_kms_key_arn": "arn:aws:kms:%s:123456789012:key/any" % REGION, "metrics_namespace": "RedisCluster"}
    template = (ROOT / "iam" / ("node" + iam_policies.TEMPLATE_SUFFIX)).read_text()
    document = iam_policies.render(template, values, "node")
    return iam_policies.sandbox_copy(document, "node")[0]


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    """moto with IAM enforced, a node principal holding the node policy."""
    logs = tmp_path_factory.mktemp("moto")
    with moto_with_node_principal(MOTO_PORT, logs, node_policy()) as (endpoint, keys, node, credentials):
        s3 = client("s3", endpoint, **keys)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        kms_key = client("kms", endpoint, **keys).create_key()["KeyMetadata"]["Arn"]
        yield {"endpoint": endpoint, "s3": s3, "credentials": credentials, "kms_key": kms_key,
               "node_key": node["access_key"]}


def node_client(aws, credentials_file=None, **options):
    """The client as the backup program builds it: the node's credentials file only."""
    env = {"AWS_SHARED_CREDENTIALS_FILE": credentials_file or aws["credentials"], "AWS_CONFIG_FILE": os.devnull,
           "AWS_EC2_METADATA_DISABLED": "true"}
    return s3_stdlib.S3Client(REGION, aws["endpoint"], s3_stdlib.CredentialSource(env), **options)


def test_the_backup_data_path_under_the_node_policy(aws):
    s3 = node_client(aws)
    key = "%s/%s/20261130T020000Z/shard-0-16383.rdb.zst" % (PREFIX, CLUSTER)
    upload_id = s3.create_multipart_upload(BUCKET, key, content_type="application/zstd",
                                           sse_kms_key_id=aws["kms_key"], metadata={"redisops-program": "t/1"})
    first = bytearray(os.urandom(5 * MIB))
    last = b"the last, short part"
    etags = [(1, s3.upload_part(BUCKET, key, upload_id, 1, memoryview(first))),
             (2, s3.upload_part(BUCKET, key, upload_id, 2, last))]
    done = s3.complete_multipart_upload(BUCKET, key, upload_id, etags)
    assert done["etag"].strip('"').endswith("-2") and done["version_id"]

    head = s3.head_object(BUCKET, key, done["version_id"])
    assert (head["content_length"], head["etag"], head["sse"], head["sse_kms_key_id"], head["version_id"]) == (
        len(first) + len(last), done["etag"], "aws:kms", aws["kms_key"], done["version_id"])
    got = aws["s3"].get_object(Bucket=BUCKET, Key=key, VersionId=done["version_id"])
    assert hashlib.sha256(got["Body"].read()).digest() == hashlib.sha256(bytes(first) + last).digest()
    assert got["ContentType"] == "application/zstd" and got["Metadata"] == {"redisops-program": "t/1"}

    manifest_key = key.replace(".rdb.zst", ".manifest.json")
    put = s3.put_object(BUCKET, manifest_key, b'{"format": 1}', content_type="application/json",
                        sse_kms_key_id=aws["kms_key"])
    assert put["version_id"]
    got = aws["s3"].get_object(Bucket=BUCKET, Key=manifest_key)
    assert got["Body"].read() == b'{"format": 1}' and got["ServerSideEncryption"] == "aws:kms"

    aborted = s3.create_multipart_upload(BUCKET, key + ".aborted")
    s3.upload_part(BUCKET, key + ".aborted", aborted, 1, b"x")
    s3.abort_multipart_upload(BUCKET, key + ".aborted", aborted)
    assert aborted not in [u["UploadId"] for u in aws["s3"].list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])]


def test_a_wrong_secret_is_refused_as_a_bad_signature_without_retries(aws, tmp_path):
    wrong = tmp_path / "wrong"
    wrong.write_text("[default]\naws_access_key_id = %s\naws_secret_access_key = not-the-secret\n" % aws["node_key"])
    sleeps = []
    with pytest.raises(s3_stdlib.S3Error) as error:
        node_client(aws, str(wrong), sleep=sleeps.append).put_object(
            BUCKET, "%s/%s/x" % (PREFIX, CLUSTER), b"x")
    assert (error.value.code, error.value.status, sleeps) == ("SignatureDoesNotMatch", 403, [])


def test_outside_the_clusters_prefix_access_is_denied(aws):
    s3 = node_client(aws)
    with pytest.raises(s3_stdlib.S3Error) as error:
        s3.create_multipart_upload(BUCKET, "%s/another-cluster/x.rdb.zst" % PREFIX)
    assert (error.value.code, error.value.status) == ("AccessDenied", 403)
    with pytest.raises(s3_stdlib.S3Error) as error:
        s3.put_object(BUCKET, "elsewhere.json", b"{}")
    assert error.value.code == "AccessDenied"


def test_a_missing_object_and_a_missing_upload_are_clear_errors(aws):
    s3 = node_client(aws)
    with pytest.raises(s3_stdlib.S3Error) as error:
        s3.head_object(BUCKET, "%s/%s/none" % (PREFIX, CLUSTER))
    assert (error.value.code, error.value.status) == ("NotFound", 404)
    with pytest.raises(s3_stdlib.S3Error) as error:
        s3.abort_multipart_upload(BUCKET, "%s/%s/none" % (PREFIX, CLUSTER), "no-such-upload")
    assert (error.value.code, error.value.status) == ("NoSuchUpload", 404)
