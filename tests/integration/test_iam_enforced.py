"""The sandbox copy of the node and operator policies, enforced by a real moto.

A moto server on 127.0.0.1 gets a bucket, a key and one IAM user per policy
(the sandbox copy made by plugins/module_utils/iam_policies.py from iam/);
then IAM enforcement is switched on and every call below is made with that
user's own keys. The port is fixed (REDISOPS_IAM_TEST_PORT, default 5170):
run under `flock /tmp/redisops-local.lock` (make iac-check does).
"""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "collections"))

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import iam_policies  # noqa: E402

PORT = int(os.environ.get("REDISOPS_IAM_TEST_PORT", "5170"))
ENDPOINT = "http://127.0.0.1:%d" % PORT
REGION = "us-west-2"
BUCKET = "redisops-itest-backups"
PREFIX = "backups"
CLUSTER = "itest"
OTHER_CLUSTER = "other"
NAMESPACE = "RedisCluster"
LOG_GROUP = "/redisops/%s/redis" % CLUSTER
START_TIMEOUT_S = 30
CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 1})


def _moto_answers():
    try:
        with urllib.request.urlopen(ENDPOINT + "/moto-api/", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    """A moto server of our own, with botocore kept away from any real AWS setting."""
    if _moto_answers():
        pytest.fail("something already listens on %s; set REDISOPS_IAM_TEST_PORT to a free port" % ENDPOINT)
    home = tmp_path_factory.mktemp("aws")
    (home / "config").write_text("[default]\nregion = %s\n" % REGION)
    (home / "credentials").write_text("[default]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    saved = dict(os.environ)
    os.environ.update({
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    })
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    log = open(home / "moto.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(PORT)],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _moto_answers():
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("moto did not start on %s (log: %s)" % (ENDPOINT, home / "moto.log"))
            time.sleep(0.2)
        yield
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()
        os.environ.clear()
        os.environ.update(saved)


def client(service, keys=None):
    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    if keys:
        credentials = {"aws_access_key_id": keys["AccessKeyId"], "aws_secret_access_key": keys["SecretAccessKey"]}
    return boto3.client(service, endpoint_url=ENDPOINT, region_name=REGION, config=CLIENT_CONFIG, **credentials)


def user_with_policy(iam, name, template, values):
    """An IAM user holding the sandbox copy of one policy; returns its keys and what the copy relaxed."""
    with open(os.path.join(REPO, "iam", template + iam_policies.TEMPLATE_SUFFIX)) as handle:
        document = iam_policies.render(handle.read(), values, template)
    sandbox, relaxed = iam_policies.sandbox_copy(document, template)
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName=template, PolicyDocument=json.dumps(sandbox))
    return iam.create_access_key(UserName=name)["AccessKey"], relaxed


def denied(call, *args, **kwargs):
    """The call is refused by IAM: HTTP 403, AccessDenied. (moto's IAM error
    reaches JSON-protocol clients such as CloudWatch Logs as an XML body that
    botocore cannot parse, so there the code is the bare status.)"""
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    response = caught.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403, response
    assert response["Error"]["Code"] in ("AccessDenied", "AccessDeniedException", "403"), response
    return True


@pytest.fixture(scope="module")
def principals(moto):
    """Set up as the unrestricted admin, then switch enforcement on."""
    account = client("sts").get_caller_identity()["Account"]
    kms_key = client("kms").create_key(Description="itest backups")["KeyMetadata"]["Arn"]
    s3 = client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=BUCKET, Key="%s/%s/20261127T020000Z/shard-0-5460.rdb.zst" % (PREFIX, OTHER_CLUSTER),
                  Body=b"another cluster's backup")
    client("logs").create_log_group(logGroupName=LOG_GROUP)
    iam = client("iam")
    common = {"backup_bucket": BUCKET, "backup_kms_key_arn": kms_key, "backup_prefix": PREFIX,
              "cluster_name": CLUSTER, "region": REGION}
    node_keys, node_relaxed = user_with_policy(
        iam, "itest-node", "node", dict(common, account_id=account, metrics_namespace=NAMESPACE))
    operator_keys, operator_relaxed = user_with_policy(iam, "itest-operator", "operator", common)

    # From now on every request is checked (0 unauthenticated requests left).
    request = urllib.request.Request(ENDPOINT + "/moto-api/reset-auth", data=b"0", method="POST",
                                     headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.load(response)["status"] == "ok"
    return {"node": node_keys, "operator": operator_keys, "kms_key": kms_key,
            "relaxed": {"node": node_relaxed, "operator": operator_relaxed}}


def own_key(name):
    return "%s/%s/20261127T020000Z/%s" % (PREFIX, CLUSTER, name)


def test_enforcement_is_on(principals):
    # The admin keys used for the set-up are unknown to IAM: refused from now on.
    with pytest.raises(ClientError) as caught:
        client("s3").list_buckets()
    assert caught.value.response["Error"]["Code"] == "InvalidAccessKeyId"


def test_node_writes_and_reads_its_own_cluster_backups(principals):
    s3 = client("s3", principals["node"])
    key = own_key("shard-0-5460.rdb.zst")
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"rdb bytes", ServerSideEncryption="aws:kms",
                  SSEKMSKeyId=principals["kms_key"])
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"rdb bytes"
    assert s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"] == len(b"rdb bytes")
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="%s/%s/" % (PREFIX, CLUSTER))
    assert key in [item["Key"] for item in listed["Contents"]]


def test_node_uploads_in_parts_and_aborts_its_own_uploads(principals):
    s3 = client("s3", principals["node"])
    key = own_key("shard-5461-10922.rdb.zst")
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ServerSideEncryption="aws:kms",
                                        SSEKMSKeyId=principals["kms_key"])["UploadId"]
    part = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=1, Body=b"x" * 1024)
    s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"x" * 1024
    abandoned = s3.create_multipart_upload(Bucket=BUCKET, Key=own_key("shard-10923-16383.rdb.zst"))["UploadId"]
    s3.abort_multipart_upload(Bucket=BUCKET, Key=own_key("shard-10923-16383.rdb.zst"), UploadId=abandoned)


def test_node_cannot_touch_another_clusters_backups_nor_delete_its_own(principals):
    s3 = client("s3", principals["node"])
    other = "%s/%s/20261127T020000Z/shard-0-5460.rdb.zst" % (PREFIX, OTHER_CLUSTER)
    assert denied(s3.put_object, Bucket=BUCKET, Key=other, Body=b"overwrite")
    assert denied(s3.get_object, Bucket=BUCKET, Key=other)
    assert denied(s3.put_object, Bucket=BUCKET, Key="%s/elsewhere.rdb" % CLUSTER, Body=b"outside the prefix")
    key = own_key("shard-0-5460.manifest.json")
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"{}")
    assert denied(s3.delete_object, Bucket=BUCKET, Key=key)
    # DeleteObjects answers 200 with a per-key error, as on AWS.
    errors = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": key}]})["Errors"]
    assert [(e["Key"], e["Code"]) for e in errors] == [(key, "AccessDenied")]
    assert s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"] == 2
    assert denied(s3.list_object_versions, Bucket=BUCKET, Prefix="%s/%s/" % (PREFIX, CLUSTER))


def test_node_publishes_metrics_and_ships_logs_but_reads_nothing_else(principals):
    keys = principals["node"]
    client("cloudwatch", keys).put_metric_data(
        Namespace=NAMESPACE, MetricData=[{"MetricName": "NodeUp", "Value": 1.0, "Unit": "Count",
                                          "Dimensions": [{"Name": "ClusterName", "Value": CLUSTER}]}])
    logs = client("logs", keys)
    logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName="i-0123456789abcdef0")
    logs.put_log_events(logGroupName=LOG_GROUP, logStreamName="i-0123456789abcdef0",
                        logEvents=[{"timestamp": int(time.time() * 1000), "message": "backup: done"}])
    assert denied(logs.create_log_group, logGroupName="/redisops/%s/new" % CLUSTER)
    assert denied(client("ssm", keys).get_parameter, Name="/redisops/%s/acl/admin" % CLUSTER, WithDecryption=True)
    assert denied(client("ec2", keys).describe_instances)
    assert denied(client("iam", keys).list_users)


def test_operator_lists_reads_and_deletes_its_cluster_backups(principals):
    s3 = client("s3", principals["operator"])
    prefix = "%s/%s/" % (PREFIX, CLUSTER)
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"]]
    assert own_key("shard-0-5460.rdb.zst") in keys
    assert s3.get_object(Bucket=BUCKET, Key=own_key("shard-0-5460.rdb.zst"))["Body"].read() == b"rdb bytes"
    s3.delete_object(Bucket=BUCKET, Key=own_key("shard-0-5460.rdb.zst"))
    versions = s3.list_object_versions(Bucket=BUCKET, Prefix=prefix)
    old = [v for v in versions["Versions"] if v["Key"] == own_key("shard-0-5460.rdb.zst")]
    assert len(old) == 1 and versions["DeleteMarkers"]
    s3.delete_object(Bucket=BUCKET, Key=own_key("shard-0-5460.rdb.zst"), VersionId=old[0]["VersionId"])
    assert denied(s3.put_object, Bucket=BUCKET, Key=own_key("planted.rdb.zst"), Body=b"no")
    assert denied(s3.delete_object, Bucket=BUCKET,
                  Key="%s/%s/20261127T020000Z/shard-0-5460.rdb.zst" % (PREFIX, OTHER_CLUSTER))


def test_operator_deletes_versions_in_one_request_as_rotation_does(principals):
    # backup_rotation sends DeleteObjects with version ids; moto checks it on the bucket (the copy's OnBucket grant).
    node, operator = client("s3", principals["node"]), client("s3", principals["operator"])
    key = own_key("shard-0-5460.rotated.rdb.zst")
    versions = [node.put_object(Bucket=BUCKET, Key=key, Body=body)["VersionId"] for body in (b"one", b"two")]
    answer = operator.delete_objects(Bucket=BUCKET, Delete={
        "Objects": [{"Key": key, "VersionId": version} for version in versions], "Quiet": False})
    assert answer.get("Errors", []) == [] and sorted(d["VersionId"] for d in answer["Deleted"]) == sorted(versions)
    left = operator.list_object_versions(Bucket=BUCKET, Prefix=key)
    assert left.get("Versions", []) == [] and left.get("DeleteMarkers", []) == []


def test_the_copy_reports_what_the_sandbox_does_not_enforce(principals):
    node = sorted((item["sid"], item["kind"]) for item in principals["relaxed"]["node"])
    assert ("ListOwnClusterBackups", "condition_dropped") in node
    assert ("PublishMetricsInOwnNamespace", "condition_dropped") in node
    assert ("ShipLogsToOwnClusterGroups", "resource_widened") in node
    operator = sorted((item["sid"], item["kind"]) for item in principals["relaxed"]["operator"])
    assert operator == [("DecryptBackupsThroughS3Only", "condition_dropped"),
                        ("DecryptBackupsThroughS3Only", "resource_widened"),
                        ("ListClusterBackupsAndVersions", "condition_dropped"),
                        ("ReadAndDeleteClusterBackups", "bucket_granted")]
