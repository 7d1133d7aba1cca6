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
import json
import os
import re
from pathlib import Path

import pytest

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import s3_stdlib
from moto_server import REGION, client, moto_server

ROOT = Path(__file__).resolve().parents[2]
MOTO_PORT = 5201
BUCKET = "redisops-s3-stdlib-test"
PREFIX, CLUSTER = "backups", "lite"
MIB = 1 << 20


def node_policy():
    template = (ROOT / "iam/node.json.tpl").read_text()
    rendered = template.replace("${backup_bucket}", BUCKET).replace("${backup_prefix}", PREFIX)
    rendered = rendered.replace("${cluster_name}", CLUSTER)
    rendered = rendered.replace("${region}", REGION).replace("${account_id}", "123456789012")
    rendered = rendered.replace("${backup_kms_key_arn}", "*")  # moto checks no KMS rights of S3 calls
    return json.loads(re.sub(r"\$\{[a-z_]+\}", "x", rendered))  # the metrics namespace


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    """moto with IAM enforced after the six calls that create an admin and the node principal."""
    logs = tmp_path_factory.mktemp("moto")
    with moto_server(MOTO_PORT, logs, env={"INITIAL_NO_AUTH_ACTION_COUNT": "6"}) as endpoint:
        iam = client("iam", endpoint)
        iam.create_user(UserName="admin")
        iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        admin = iam.create_access_key(UserName="admin")["AccessKey"]
        iam = client("iam", endpoint, access_key=admin["AccessKeyId"], secret_key=admin["SecretAccessKey"])
        iam.create_user(UserName="node")
        iam.put_user_policy(UserName="node", PolicyName="node", PolicyDocument=json.dumps(node_policy()))
        node = iam.create_access_key(UserName="node")["AccessKey"]
        keys = {"access_key": admin["AccessKeyId"], "secret_key": admin["SecretAccessKey"]}
        s3 = client("s3", endpoint, **keys)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        kms_key = client("kms", endpoint, **keys).create_key()["KeyMetadata"]["Arn"]
        credentials = logs / "node-credentials"
        credentials.write_text("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                               % (node["AccessKeyId"], node["SecretAccessKey"]))
        yield {"endpoint": endpoint, "s3": s3, "credentials": str(credentials), "kms_key": kms_key,
               "node_key": node["AccessKeyId"]}


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
