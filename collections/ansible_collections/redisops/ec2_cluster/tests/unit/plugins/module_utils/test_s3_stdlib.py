# -*- coding: utf-8 -*-
"""The standard-library S3 client's pure parts: SigV4 against AWS's published
examples and against botocore's own signer, addressing, error parsing, and
credentials from the environment, the shared files and a local IMDSv2 fake
(127.0.0.1, never the real metadata address). The client against moto is in
tests/integration/test_s3_stdlib.py."""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import json
import threading
import time

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import s3_stdlib

# AWS's S3 SigV4 examples ("Signature calculations for the Authorization
# header: transferring payload in a single chunk"): these keys, us-east-1,
# bucket examplebucket, 20130524T000000Z.
EXAMPLE_KEY, EXAMPLE_SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EXAMPLE_DATE = "20130524T000000Z"
EXAMPLE_HOST = "examplebucket.s3.amazonaws.com"


def example_sign(method, path, query, headers, payload):
    payload_hash = hashlib.sha256(payload).hexdigest()
    headers = dict(headers, host=EXAMPLE_HOST, **{"x-amz-date": EXAMPLE_DATE, "x-amz-content-sha256": payload_hash})
    return s3_stdlib.sign(method, path, query, headers, payload_hash, EXAMPLE_KEY, EXAMPLE_SECRET, "us-east-1", "s3",
                          EXAMPLE_DATE)


def test_aws_example_get_object_with_range():
    authorization, canonical, _ = example_sign("GET", "/test.txt", (), {"range": "bytes=0-9"}, b"")
    assert canonical.splitlines()[:3] == ["GET", "/test.txt", ""]
    assert authorization == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")


def test_aws_example_put_object():
    authorization, _, string_to_sign = example_sign(
        "PUT", "/test%24file.text", (), {"date": "Fri, 24 May 2013 00:00:00 GMT",
                                        "x-amz-storage-class": "REDUCED_REDUNDANCY"}, b"Welcome to Amazon S3.")
    assert string_to_sign.splitlines()[2] == "20130524/us-east-1/s3/aws4_request"
    assert authorization.endswith(
        "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, "
        "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")


def test_aws_example_get_bucket_lifecycle_and_list_objects():
    lifecycle, canonical, _ = example_sign("GET", "/", [("lifecycle", "")], {}, b"")
    assert canonical.splitlines()[2] == "lifecycle="
    assert lifecycle.endswith("Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    listing, canonical, _ = example_sign("GET", "/", [("prefix", "J"), ("max-keys", "2")], {}, b"")
    assert canonical.splitlines()[2] == "max-keys=2&prefix=J"
    assert listing.endswith("Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")


def test_aws_sigv4_suite_get_vanilla():
    """The generic SigV4 test suite's get-vanilla (service 'service', 20150830T123600Z)."""
    headers = {"Host": "example.amazonaws.com", "X-Amz-Date": "20150830T123600Z"}
    authorization, canonical, string_to_sign = s3_stdlib.sign(
        "GET", "/", (), headers, s3_stdlib.EMPTY_SHA256, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "us-east-1", "service", "20150830T123600Z")
    assert canonical == ("GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
                         + s3_stdlib.EMPTY_SHA256)
    assert string_to_sign.splitlines()[:3] == ["AWS4-HMAC-SHA256", "20150830T123600Z",
                                                "20150830/us-east-1/service/aws4_request"]
    assert authorization == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;x-amz-date, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")


KEYS = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF, blacklist_categories=("Cs",)), min_size=1,
               max_size=40)


@settings(derandomize=True, max_examples=150, deadline=None)
@given(key=KEYS, upload_id=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=30),
       number=st.integers(1, 10000), body=st.binary(max_size=64), token=st.one_of(st.none(), st.text(
           st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40)))
@example(key="backups/c/20261127T020000Z/shard-0-5460.rdb.zst", upload_id="a b+c/=", number=1, body=b"x",
         token=None)
@example(key="with space/and+plus/ünïcode~", upload_id="x", number=10000, body=b"", token="tok en")
def test_signatures_match_botocores_signer(key, upload_id, number, body, token):
    """An independent implementation signs the same request the same way."""
    client = s3_stdlib.S3Client("us-west-2", "http://127.0.0.1:5201")
    host_header, _host, path = client._address("bucket-1", key)
    query = [("partNumber", number), ("uploadId", upload_id)]
    payload = hashlib.sha256(body).hexdigest()
    headers = {"x-amz-content-sha256": payload, "content-type": "application/zstd",
               "x-amz-meta-redisops-program": "redisops-backup/1.0.0"}
    url = "http://%s%s?%s" % (host_header, path, s3_stdlib.canonical_query(query))
    request = AWSRequest(method="PUT", url=url, data=body, headers=headers)
    S3SigV4Auth(BotoCredentials("AKIDTEST", "secret/+key", token), "s3", "us-west-2").add_auth(request)

    date = request.headers["X-Amz-Date"]  # botocore signs at its own clock's time
    headers.update({"host": host_header, "x-amz-date": date})
    if token:
        headers["x-amz-security-token"] = token
    ours = s3_stdlib.sign("PUT", path, query, headers, payload, "AKIDTEST", "secret/+key", "us-west-2", "s3", date)
    assert request.headers["Authorization"] == ours[0]


def test_addressing_path_style_with_an_endpoint_virtual_hosted_on_aws():
    local = s3_stdlib.S3Client("us-west-2", "http://127.0.0.1:5201/")
    assert local._address("bkt", "a b/c+d.zst") == ("127.0.0.1:5201", "127.0.0.1", "/bkt/a%20b/c%2Bd.zst")
    aws = s3_stdlib.S3Client("us-west-2")
    assert (aws.scheme, aws.port) == ("https", None)
    assert aws._address("my-backups", "k/1") == ("my-backups.s3.us-west-2.amazonaws.com",
                                                 "my-backups.s3.us-west-2.amazonaws.com", "/k/1")
    # dots would break the wildcard certificate: path style
    assert aws._address("my.backups", "k") == ("s3.us-west-2.amazonaws.com", "s3.us-west-2.amazonaws.com",
                                               "/my.backups/k")
    assert s3_stdlib.S3Client("cn-north-1").hostname == "s3.cn-north-1.amazonaws.com.cn"
    assert s3_stdlib.S3Client("us-west-2", "https://s3.example.test:8443/base")._address("b", "k") == (
        "s3.example.test:8443", "s3.example.test", "/base/b/k")
    with pytest.raises(ValueError, match="not an http"):
        s3_stdlib.S3Client("us-west-2", "ftp://x")
    with pytest.raises(ValueError, match="region"):
        s3_stdlib.S3Client("")


def test_https_verifies_certificates_and_host_names():
    context = s3_stdlib.S3Client("us-west-2")._tls
    assert context.check_hostname and context.verify_mode.name == "CERT_REQUIRED"


def test_error_answers_are_parsed():
    body = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
            b'<Message>Access Denied</Message><RequestId>R1</RequestId></Error>')
    assert s3_stdlib._error_of(403, body) == ("AccessDenied", "Access Denied")
    assert s3_stdlib._error_of(404, b"") == ("NotFound", "Not Found")
    assert s3_stdlib._error_of(503, b"<html>") == ("503", "Service Unavailable")
    assert s3_stdlib._error_in_ok_body(body.replace(b"AccessDenied", b"InternalError")) == (
        "InternalError", "Access Denied")
    ok = (b'<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
          b'<ETag>"abc-2"</ETag></CompleteMultipartUploadResult>')
    assert s3_stdlib._error_in_ok_body(ok) is None
    assert s3_stdlib._xml_text(ok, "ETag") == '"abc-2"'


def test_credentials_from_the_environment_before_the_files(tmp_path):
    shared = tmp_path / "credentials"
    shared.write_text("[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n"
                      "[other]\naws_access_key_id = OTHER\naws_secret_access_key = othersecret\n"
                      "aws_session_token = othertoken\n")
    env = {"AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "envsecret", "AWS_SESSION_TOKEN": "t",
           "AWS_SHARED_CREDENTIALS_FILE": str(shared), "AWS_EC2_METADATA_DISABLED": "true"}
    found = s3_stdlib.CredentialSource(env).get()
    assert (found.access_key, found.token, found.source) == ("ENVKEY", "t", "environment")
    del env["AWS_ACCESS_KEY_ID"]
    found = s3_stdlib.CredentialSource(env).get()
    assert (found.access_key, found.secret_key, found.token) == ("FILEKEY", "filesecret", None)
    assert "filesecret" not in repr(found)
    found = s3_stdlib.CredentialSource(dict(env, AWS_PROFILE="other")).get()
    assert (found.access_key, found.token) == ("OTHER", "othertoken")


def test_credentials_from_the_config_file_and_none_at_all(tmp_path):
    config = tmp_path / "config"
    config.write_text("[profile ops]\naws_access_key_id = CFGKEY\naws_secret_access_key = cfgsecret\n")
    env = {"AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "missing"), "AWS_CONFIG_FILE": str(config),
           "AWS_PROFILE": "ops", "AWS_EC2_METADATA_DISABLED": "true"}
    assert s3_stdlib.CredentialSource(env).get().access_key == "CFGKEY"
    with pytest.raises(s3_stdlib.CredentialsError, match="AWS_EC2_METADATA_DISABLED"):
        s3_stdlib.CredentialSource(dict(env, AWS_PROFILE="nobody")).get()
    (tmp_path / "broken").write_text("not an ini file")
    with pytest.raises(s3_stdlib.CredentialsError, match="cannot read"):
        s3_stdlib.CredentialSource(dict(env, AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "broken"))).get()


class FakeIMDS(http.server.BaseHTTPRequestHandler):
    """IMDSv2 as EC2 answers it: a token first, then the role and its credentials."""

    state = {}

    def log_message(self, *args):
        pass

    def _answer(self, status, body=b""):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):
        self.state["calls"].append(("PUT", self.path))
        if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            self._answer(200, b"TOKEN-1")
        else:
            self._answer(400)

    def do_GET(self):
        self.state["calls"].append(("GET", self.path))
        if self.headers.get("X-aws-ec2-metadata-token") != "TOKEN-1":
            self._answer(401)
        elif self.path == "/latest/meta-data/iam/security-credentials/":
            self._answer(200, b"node-role")
        elif self.path == "/latest/meta-data/iam/security-credentials/node-role":
            serial = self.state["serial"] = self.state.get("serial", 0) + 1
            self._answer(200, json.dumps({"Code": "Success", "AccessKeyId": "ASIA%d" % serial,
                                          "SecretAccessKey": "s%d" % serial, "Token": "tok%d" % serial,
                                          "Expiration": self.state["expiration"]}).encode())
        else:
            self._answer(404)


@contextlib.contextmanager
def fake_imds(expiration):
    FakeIMDS.state = {"calls": [], "expiration": expiration}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeIMDS)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d" % port, FakeIMDS.state
    finally:
        server.shutdown()
        server.server_close()


def test_instance_credentials_by_imdsv2_refreshed_before_they_expire(tmp_path):
    now = [1_800_000_000.0]  # 2027-01-15T08:00:00Z
    env = {"AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"), "AWS_CONFIG_FILE": str(tmp_path / "none")}
    with fake_imds("2027-01-15T09:00:00Z") as (endpoint, state):
        env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = endpoint
        source = s3_stdlib.CredentialSource(env, clock=lambda: now[0])
        first = source.get()
        assert (first.access_key, first.token, first.expires_at) == ("ASIA1", "tok1", 1_800_003_600.0)
        assert state["calls"][0] == ("PUT", "/latest/api/token")
        assert source.get() is first  # an hour left: no call
        assert len(state["calls"]) == 3
        now[0] += 50 * 60  # ten minutes left: refreshed
        assert source.get().access_key == "ASIA2"
    # the service gone while the credentials still have minutes: they are used
    now[0] += 1
    assert source.get().access_key == "ASIA2"


def test_no_instance_profile_and_no_metadata_service_are_clear_errors(tmp_path):
    with pytest.raises(s3_stdlib.CredentialsError, match="after 2 attempts"):
        s3_stdlib.fetch_instance_credentials("http://127.0.0.1:5209", timeout=0.5, attempts=2)
    with pytest.raises(s3_stdlib.CredentialsError, match="not an http"):
        s3_stdlib.fetch_instance_credentials("https://127.0.0.1:5209", timeout=0.5, attempts=1)


class FakeS3(http.server.BaseHTTPRequestHandler):
    """Answers UploadPart with the scripted statuses in turn, then 200; or never answers."""

    protocol_version = "HTTP/1.1"
    script = []
    seen = []

    def log_message(self, *args):
        pass

    def do_PUT(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append((self.path, self.headers.get("Authorization", ""), self.headers["x-amz-content-sha256"],
                          hashlib.sha256(body).hexdigest()))
        status = self.script.pop(0) if self.script else 200
        if status == "hang":
            threading.Event().wait(3)
            return
        error = (b"<Error><Code>%s</Code><Message>scripted</Message></Error>"
                 % {500: b"InternalError", 503: b"SlowDown", 403: b"AccessDenied"}.get(status, b"X")
                 if status != 200 else b"")
        self.send_response(status)
        if status == 200:
            self.send_header("ETag", '"etag-%d"' % len(self.seen))
        self.send_header("Content-Length", str(len(error)))
        self.end_headers()
        self.wfile.write(error)


@contextlib.contextmanager
def fake_s3(script):
    FakeS3.script, FakeS3.seen = list(script), []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeS3)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d" % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def client_for(endpoint, sleeps, **options):
    env = {"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_EC2_METADATA_DISABLED": "true"}
    return s3_stdlib.S3Client("us-west-2", endpoint, s3_stdlib.CredentialSource(env), sleep=sleeps.append,
                              **options)


def test_transient_errors_are_retried_with_backoff_and_a_fresh_signature():
    sleeps = []
    with fake_s3([500, 503]) as endpoint:
        etag = client_for(endpoint, sleeps).upload_part("b", "k", "u1", 3, memoryview(b"part-data"))
    assert etag == '"etag-3"' and len(FakeS3.seen) == 3 and len(sleeps) == 2
    assert all(0 <= pause <= s3_stdlib.MAX_BACKOFF_SECONDS for pause in sleeps)
    for path, authorization, claimed, actual in FakeS3.seen:
        assert path == "/b/k?partNumber=3&uploadId=u1" and claimed == actual
        assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDTEST/")


def test_refusals_are_not_retried_and_attempts_are_bounded():
    sleeps = []
    with fake_s3([403]) as endpoint:
        with pytest.raises(s3_stdlib.S3Error, match="AccessDenied") as error:
            client_for(endpoint, sleeps).upload_part("b", "k", "u1", 1, b"x")
    assert (error.value.status, len(FakeS3.seen), sleeps) == (403, 1, [])
    with fake_s3([500] * 10) as endpoint:
        with pytest.raises(s3_stdlib.S3Error, match="InternalError"):
            client_for(endpoint, sleeps, max_attempts=4).upload_part("b", "k", "u1", 1, b"x")
    assert len(FakeS3.seen) == 4 and len(sleeps) == 3


def test_a_silent_server_times_out_and_a_closed_port_fails_after_the_attempts():
    sleeps = []
    with fake_s3(["hang", "hang"]) as endpoint:
        began = time.monotonic()
        with pytest.raises(s3_stdlib.S3Error, match="RequestError.*timed out"):
            client_for(endpoint, sleeps, read_timeout=0.5, max_attempts=2).upload_part("b", "k", "u", 1, b"x")
        assert time.monotonic() - began < 2.5
    with pytest.raises(s3_stdlib.S3Error, match="RequestError.*(refused|Errno)"):
        client_for("http://127.0.0.1:5209", sleeps, max_attempts=2).put_object("b", "k", b"x")
