# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small S3 client on Python's standard library alone, for node programs.

The backup program streams multi-GB objects with two 5 MiB part buffers and a
64 MB budget for its whole process; botocore alone takes about 49 MB of it on
the node's Python (docs/backups.md, "Memory"). This client does exactly what
the program needs, with about 10 MB:

- SigV4 signing (``sign``: a pure function, tested against AWS's published
  examples), payloads always signed with their SHA-256;
- CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
  AbortMultipartUpload, PutObject, HeadObject;
- the endpoint given (path-style addressing, as botocore with an endpoint
  URL), else AWS's regional endpoint over HTTPS with certificate and host
  name verification (virtual-hosted addressing);
- bounded retries with exponential backoff and jitter on connection errors,
  5xx, throttling and S3's transient error codes; a connect and a read
  timeout on every request;
- credentials as botocore 1.29 finds them for the node: the environment,
  the shared credentials file, the config file, then IMDSv2 (token, role,
  role credentials; refreshed before they expire).

Like botocore 1.29 (Debian 12), it reads no endpoint from the environment:
the caller passes the configured one.
"""

from __future__ import annotations

import configparser
import datetime as dt
import hashlib
import hmac
import http.client
import json
import os
import random
import re
import ssl
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ElementTree
from xml.sax.saxutils import escape

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
# Error codes S3 answers for conditions that pass (botocore's standard retry mode retries these too).
RETRYABLE_CODES = frozenset(("RequestTimeout", "RequestTimeTooSkewed", "InternalError", "SlowDown",
                             "ServiceUnavailable", "Throttling", "ThrottlingException", "RequestLimitExceeded",
                             "TooManyRequestsException", "RequestThrottled", "BandwidthLimitExceeded",
                             "PriorRequestNotComplete", "EC2ThrottledException", "TransactionInProgressException"))
MAX_ERROR_BODY = 64 * 1024
MAX_BACKOFF_SECONDS = 20.0
IMDS_DEFAULT_ENDPOINT = "http://169.254.169.254"
IMDS_TOKEN_TTL_SECONDS = 21600
# Role credentials are refreshed once they expire within this many seconds.
REFRESH_BEFORE_EXPIRY_SECONDS = 15 * 60


class S3Error(Exception):
    """A request that failed for good: S3's error code and message, or the
    connection error after the last attempt."""

    def __init__(self, operation, code, message, status=None, request_id=None):
        self.operation, self.code, self.message = operation, code, message
        self.status, self.request_id = status, request_id
        where = " (HTTP %s%s)" % (status, ", request %s" % request_id if request_id else "") if status else ""
        super().__init__("%s: %s: %s%s" % (operation, code, message, where))


class CredentialsError(Exception):
    """No usable credentials were found, or they could not be refreshed."""


# ---------------------------------------------------------------- SigV4 (pure)


def uri_encode(text, keep_slash):
    """AWS's UriEncode: every byte except A-Z a-z 0-9 - _ . ~ percent-encoded
    in upper case; '/' kept in paths."""
    return urllib.parse.quote(text, safe="/" if keep_slash else "")


def canonical_query(query):
    """The canonical query string of (name, value) pairs: encoded, sorted."""
    pairs = sorted((uri_encode(str(name), False), uri_encode(str(value), False)) for name, value in query)
    return "&".join("%s=%s" % pair for pair in pairs)


def _header_value(value):
    return " ".join(str(value).split())


def signing_key(secret_key, date, region, service):
    key = ("AWS4" + secret_key).encode("utf-8")
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def sign(method, path, query, headers, payload_sha256, access_key, secret_key, region, service, amz_date):
    """The Authorization header value of a SigV4 request.

    path is the already encoded absolute path; query (name, value) pairs;
    headers every header to sign (x-amz-date and host included);
    amz_date 'YYYYMMDDTHHMMSSZ'. Returns (authorization, canonical_request,
    string_to_sign) so that tests can compare every step.
    """
    names = sorted(name.lower() for name in headers)
    values = {name.lower(): _header_value(value) for name, value in headers.items()}
    canonical_headers = "".join("%s:%s\n" % (name, values[name]) for name in names)
    signed_headers = ";".join(names)
    canonical_request = "\n".join((method, path, canonical_query(query), canonical_headers, signed_headers,
                                   payload_sha256))
    scope = "%s/%s/%s/aws4_request" % (amz_date[:8], region, service)
    string_to_sign = "\n".join(("AWS4-HMAC-SHA256", amz_date, scope,
                                hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()))
    signature = hmac.new(signing_key(secret_key, amz_date[:8], region, service), string_to_sign.encode("utf-8"),
                         hashlib.sha256).hexdigest()
    authorization = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        access_key, scope, signed_headers, signature)
    return authorization, canonical_request, string_to_sign


# ---------------------------------------------------------------- credentials


class Credentials:
    """Keys, an optional session token, and when they expire (epoch seconds, None: never)."""

    __slots__ = ("access_key", "secret_key", "token", "expires_at", "source")

    def __init__(self, access_key, secret_key, token=None, expires_at=None, source=""):
        self.access_key, self.secret_key, self.token = access_key, secret_key, token or None
        self.expires_at, self.source = expires_at, source

    def __repr__(self):  # never the secret
        return "Credentials(%s, from %s)" % (self.access_key, self.source)


def _profile_keys(path, section):
    parser = configparser.RawConfigParser()
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except FileNotFoundError:
        return None
    except (OSError, configparser.Error) as exc:
        raise CredentialsError("cannot read %s: %s" % (path, exc))
    if not parser.has_section(section):
        return None
    values = dict(parser.items(section))
    if values.get("aws_access_key_id") and values.get("aws_secret_access_key"):
        return Credentials(values["aws_access_key_id"], values["aws_secret_access_key"],
                           values.get("aws_session_token"), source=path)
    return None


def _imds_connection(endpoint, timeout):
    parsed = urllib.parse.urlsplit(endpoint)
    if parsed.scheme != "http" or not parsed.hostname:
        raise CredentialsError("instance metadata endpoint %r is not an http:// URL" % endpoint)
    host = parsed.hostname if ":" not in parsed.hostname else "[%s]" % parsed.hostname
    return http.client.HTTPConnection(host, parsed.port or 80, timeout=timeout)


def _imds_call(endpoint, method, path, headers, timeout):
    connection = _imds_connection(endpoint, timeout)
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        body = response.read(MAX_ERROR_BODY)
        return response.status, body
    finally:
        connection.close()


def fetch_instance_credentials(endpoint=IMDS_DEFAULT_ENDPOINT, timeout=1.0, attempts=3):
    """IMDSv2: a session token (PUT), the instance profile's role name, its
    credentials. Bounded: `attempts` tries of three calls of `timeout` each."""
    last = None
    for attempt in range(attempts):
        if attempt:
            time.sleep(min(1.0, 0.1 * 2 ** attempt))
        try:
            status, token = _imds_call(endpoint, "PUT", "/latest/api/token",
                                       {"X-aws-ec2-metadata-token-ttl-seconds": str(IMDS_TOKEN_TTL_SECONDS)},
                                       timeout)
            if status != 200:
                last = "token request answered HTTP %d" % status
                continue
            auth = {"X-aws-ec2-metadata-token": token.decode("ascii").strip()}
            status, roles = _imds_call(endpoint, "GET", "/latest/meta-data/iam/security-credentials/", auth,
                                       timeout)
            if status == 404:
                raise CredentialsError("the instance has no instance profile (instance metadata answered 404)")
            if status != 200 or not roles.strip():
                last = "role name request answered HTTP %d" % status
                continue
            role = roles.decode("utf-8").split()[0]
            status, body = _imds_call(endpoint, "GET", "/latest/meta-data/iam/security-credentials/"
                                      + uri_encode(role, False), auth, timeout)
            if status != 200:
                last = "credentials request for role %s answered HTTP %d" % (role, status)
                continue
            document = json.loads(body.decode("utf-8"))
        except (OSError, http.client.HTTPException, ValueError, UnicodeDecodeError) as exc:
            last = "%s: %s" % (exc.__class__.__name__, exc)
            continue
        if document.get("Code", "Success") != "Success" or not document.get("AccessKeyId"):
            last = "role %s: credentials not available (%s)" % (role, document.get("Code"))
            continue
        expires_at = None
        if document.get("Expiration"):
            expires_at = dt.datetime.strptime(document["Expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=dt.timezone.utc).timestamp()
        return Credentials(document["AccessKeyId"], document["SecretAccessKey"], document.get("Token"),
                           expires_at, source="instance profile role %s" % role)
    raise CredentialsError("no credentials from the instance metadata service at %s after %d attempts: %s"
                           % (endpoint, attempts, last))


class CredentialSource:
    """Finds credentials once, in botocore's order for a node (environment,
    shared credentials file, config file, instance metadata), and refreshes
    instance credentials before they expire. Thread-safe."""

    def __init__(self, environ=None, clock=time.time):
        self.environ = os.environ if environ is None else environ
        self.clock = clock
        self._lock = threading.Lock()
        self._current = None
        self._refresh = None

    def _find(self):
        env = self.environ
        if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
            return Credentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env.get("AWS_SESSION_TOKEN"),
                               source="environment"), None
        profile = env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE") or "default"
        home = os.path.expanduser("~")
        found = _profile_keys(env.get("AWS_SHARED_CREDENTIALS_FILE") or os.path.join(home, ".aws", "credentials"),
                              profile)
        if found is None:
            found = _profile_keys(env.get("AWS_CONFIG_FILE") or os.path.join(home, ".aws", "config"),
                                  profile if profile == "default" else "profile " + profile)
        if found is not None:
            return found, None
        if env.get("AWS_EC2_METADATA_DISABLED", "").lower() == "true":
            raise CredentialsError("no credentials in the environment or the shared files, and the instance "
                                   "metadata service is disabled (AWS_EC2_METADATA_DISABLED)")
        endpoint = (env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT") or IMDS_DEFAULT_ENDPOINT).rstrip("/")
        timeout = float(env.get("AWS_METADATA_SERVICE_TIMEOUT") or 1)
        attempts = max(1, min(5, int(env.get("AWS_METADATA_SERVICE_NUM_ATTEMPTS") or 3)))

        def refresh():
            return fetch_instance_credentials(endpoint, timeout, attempts)
        return refresh(), refresh

    def get(self):
        with self._lock:
            if self._current is None:
                self._current, self._refresh = self._find()
            current = self._current
            if self._refresh is not None and current.expires_at is not None \
                    and current.expires_at - self.clock() < REFRESH_BEFORE_EXPIRY_SECONDS:
                try:
                    self._current = current = self._refresh()
                except CredentialsError:
                    if current.expires_at <= self.clock() + 60:
                        raise  # no time left on the old ones
                    # still valid for a while: use them and try again at the next request
            return current


# ---------------------------------------------------------------- the client


class S3Client:
    """The S3 calls of the node programs. One connection per thread, kept alive."""

    def __init__(self, region, endpoint_url=None, credentials=None, connect_timeout=10, read_timeout=120,
                 max_attempts=5, user_agent="redisops-s3-stdlib", sleep=time.sleep):
        if not region:
            raise ValueError("a region is needed")
        self.region = region
        self.credentials = credentials or CredentialSource()
        self.connect_timeout, self.read_timeout = float(connect_timeout), float(read_timeout)
        self.max_attempts = max(1, int(max_attempts))
        self.user_agent = user_agent
        self.sleep = sleep
        if endpoint_url:
            parsed = urllib.parse.urlsplit(endpoint_url)
            if parsed.scheme not in ("http", "https") or not parsed.hostname:
                raise ValueError("endpoint %r is not an http:// or https:// URL" % endpoint_url)
            self.scheme, self.hostname, self.port = parsed.scheme, parsed.hostname, parsed.port
            self.base_path = parsed.path.rstrip("/")
            self.path_style = True
        else:
            suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
            self.scheme, self.hostname, self.port = "https", "s3.%s.%s" % (region, suffix), None
            self.base_path = ""
            self.path_style = False
        self._local = threading.local()
        self._tls = ssl.create_default_context() if self.scheme == "https" else None

    # -- addressing

    def _address(self, bucket, key):
        """(host header, connect host, encoded path) of an object."""
        key_path = "/" + uri_encode(key, True) if key else "/"
        virtual = not self.path_style and re.fullmatch(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", bucket)
        host = "%s.%s" % (bucket, self.hostname) if virtual else self.hostname
        path = self.base_path + (key_path if virtual else "/" + uri_encode(bucket, False) + key_path)
        default_port = 443 if self.scheme == "https" else 80
        host_header = host if self.port in (None, default_port) else "%s:%d" % (host, self.port)
        if ":" in host and not host.startswith("["):
            host_header = "[%s]" % host if self.port in (None, default_port) else "[%s]:%d" % (host, self.port)
        return host_header, host, path

    # -- connections

    def _connection(self, host):
        connection = getattr(self._local, "connection", None)
        if connection is not None and connection.host != host:
            connection.close()
            connection = None
        if connection is None:
            if self.scheme == "https":
                connection = http.client.HTTPSConnection(host, self.port or 443, timeout=self.connect_timeout,
                                                         context=self._tls)
            else:
                connection = http.client.HTTPConnection(host, self.port or 80, timeout=self.connect_timeout)
            connection.connect()
            connection.sock.settimeout(self.read_timeout)
            self._local.connection = connection
        return connection

    def _drop_connection(self):
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()

    def close(self):
        """Close this thread's connection."""
        self._drop_connection()

    # -- requests

    def _request(self, operation, method, bucket, key, query=(), headers=None, body=b"", ok=(200,)):
        """Send a signed request with bounded retries. Returns (status, headers, body)."""
        payload_sha256 = hashlib.sha256(body).hexdigest() if len(body) else EMPTY_SHA256
        host_header, host, path = self._address(bucket, key)
        target = path + ("?" + canonical_query(query) if query else "")
        error = None
        for attempt in range(1, self.max_attempts + 1):
            if attempt > 1:
                self.sleep(min(MAX_BACKOFF_SECONDS, random.uniform(0, 2 ** (attempt - 1))))
            try:
                credentials = self.credentials.get()
            except CredentialsError as exc:
                raise S3Error(operation, "NoCredentials", str(exc))
            amz_date = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            signed = {"host": host_header, "x-amz-date": amz_date, "x-amz-content-sha256": payload_sha256}
            if credentials.token:
                signed["x-amz-security-token"] = credentials.token
            if method in ("PUT", "POST") or len(body):
                signed["content-length"] = str(len(body))
            signed.update((name.lower(), value) for name, value in (headers or {}).items())
            signed["authorization"] = sign(method, path, query, signed, payload_sha256, credentials.access_key,
                                           credentials.secret_key, self.region, "s3", amz_date)[0]
            try:
                connection = self._connection(host)
                connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
                for name, value in signed.items():
                    connection.putheader(name, value)
                connection.putheader("user-agent", self.user_agent)
                connection.endheaders()
                if len(body):
                    connection.send(body)
                response = connection.getresponse()
                data = response.read(MAX_ERROR_BODY) if method != "HEAD" else b""
                if method != "HEAD" and not response.isclosed():
                    self._drop_connection()  # a body larger than we read: do not reuse
                elif response.will_close:
                    self._drop_connection()
            except (OSError, http.client.HTTPException) as exc:
                self._drop_connection()
                error = S3Error(operation, "RequestError", "%s: %s" % (exc.__class__.__name__, exc))
                continue
            reply_headers = {name.lower(): value for name, value in response.getheaders()}
            if response.status in ok:
                failure = _error_in_ok_body(data) if method == "POST" else None
                if failure is None:
                    return response.status, reply_headers, data
                code, message = failure
                status = response.status
            else:
                code, message = _error_of(response.status, data)
                status = response.status
            error = S3Error(operation, code, message, status, reply_headers.get("x-amz-request-id"))
            if not (status >= 500 or status == 429 or code in RETRYABLE_CODES):
                raise error
        raise error

    # -- operations

    @staticmethod
    def _object_headers(content_type=None, sse_kms_key_id=None, metadata=None):
        headers = {}
        if content_type:
            headers["content-type"] = content_type
        if sse_kms_key_id:
            headers["x-amz-server-side-encryption"] = "aws:kms"
            headers["x-amz-server-side-encryption-aws-kms-key-id"] = sse_kms_key_id
        for name, value in (metadata or {}).items():
            headers["x-amz-meta-" + name.lower()] = value
        return headers

    def create_multipart_upload(self, bucket, key, content_type=None, sse_kms_key_id=None, metadata=None):
        """The new upload's id."""
        _status, _headers, data = self._request(
            "CreateMultipartUpload", "POST", bucket, key, [("uploads", "")],
            self._object_headers(content_type, sse_kms_key_id, metadata))
        upload_id = _xml_text(data, "UploadId")
        if not upload_id:
            raise S3Error("CreateMultipartUpload", "MalformedResponse", "no UploadId in the answer")
        return upload_id

    def upload_part(self, bucket, key, upload_id, number, body):
        """Upload one part (bytes-like, sent without copying); its ETag."""
        _status, headers, _data = self._request("UploadPart", "PUT", bucket, key,
                                                [("partNumber", number), ("uploadId", upload_id)], body=body)
        if not headers.get("etag"):
            raise S3Error("UploadPart", "MalformedResponse", "no ETag for part %d" % number)
        return headers["etag"]

    def complete_multipart_upload(self, bucket, key, upload_id, parts):
        """parts: [(number, etag)] in order. {"etag": ..., "version_id": ... or None}."""
        document = "".join("<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % (number, escape(etag))
                           for number, etag in parts)
        body = ('<CompleteMultipartUpload xmlns="%s">%s</CompleteMultipartUpload>'
                % (S3_NAMESPACE, document)).encode("utf-8")
        _status, headers, data = self._request("CompleteMultipartUpload", "POST", bucket, key,
                                               [("uploadId", upload_id)], {"content-type": "application/xml"},
                                               body)
        etag = _xml_text(data, "ETag") or headers.get("etag")
        if not etag:
            raise S3Error("CompleteMultipartUpload", "MalformedResponse", "no ETag in the answer")
        return {"etag": etag, "version_id": headers.get("x-amz-version-id")}

    def abort_multipart_upload(self, bucket, key, upload_id):
        self._request("AbortMultipartUpload", "DELETE", bucket, key, [("uploadId", upload_id)], ok=(204, 200))

    def put_object(self, bucket, key, body, content_type=None, sse_kms_key_id=None, metadata=None):
        _status, headers, _data = self._request("PutObject", "PUT", bucket, key, (),
                                                self._object_headers(content_type, sse_kms_key_id, metadata), body)
        return {"etag": headers.get("etag"), "version_id": headers.get("x-amz-version-id")}

    def head_object(self, bucket, key, version_id=None):
        """The object's facts: content_length, etag, sse, sse_kms_key_id, version_id, headers."""
        query = [("versionId", version_id)] if version_id else ()
        _status, headers, _data = self._request("HeadObject", "HEAD", bucket, key, query)
        return {"content_length": int(headers.get("content-length", "-1")), "etag": headers.get("etag"),
                "sse": headers.get("x-amz-server-side-encryption"),
                "sse_kms_key_id": headers.get("x-amz-server-side-encryption-aws-kms-key-id"),
                "version_id": headers.get("x-amz-version-id"), "headers": headers}


def _xml_root(data):
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return None


def _local_name(tag):
    return tag.rsplit("}", 1)[-1]


def _xml_text(data, name):
    root = _xml_root(data) if data else None
    if root is None:
        return None
    for element in root.iter():
        if _local_name(element.tag) == name:
            return (element.text or "").strip()
    return None


def _error_of(status, data):
    """(code, message) of an error answer; HEAD answers have no body."""
    root = _xml_root(data) if data else None
    if root is not None and _local_name(root.tag) == "Error":
        code = _xml_text(data, "Code") or str(status)
        return code, _xml_text(data, "Message") or http.client.responses.get(status, "")
    return {404: "NotFound", 403: "Forbidden", 400: "BadRequest"}.get(status, str(status)), \
        http.client.responses.get(status, "HTTP %d" % status)


def _error_in_ok_body(data):
    """CompleteMultipartUpload (and CopyObject) may answer 200 with an error inside."""
    root = _xml_root(data) if data else None
    if root is not None and _local_name(root.tag) == "Error":
        return _xml_text(data, "Code") or "InternalError", _xml_text(data, "Message") or ""
    return None
