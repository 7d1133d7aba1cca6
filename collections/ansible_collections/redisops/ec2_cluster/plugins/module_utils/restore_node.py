# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers the restore's node modules share: the connection options, the
backup object download (verified while it is decompressed), the temporary
loopback server a shard's RDB is loaded into, and bounded waits."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import time

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import redis_nodes

CHUNK = 1 << 20


def connection_argument_spec():
    """Options of every module that talks to the node it runs on."""
    return dict(
        login_host=dict(type="str", default="127.0.0.1"),
        login_port=dict(type="int", default=6379),
        username=dict(type="str"),
        password=dict(type="str", no_log=True),
        tls=dict(type="bool", default=False),
        tls_ca_cert_file=dict(type="path"),
        tls_cert_file=dict(type="path"),
        tls_key_file=dict(type="path"),
        connect_timeout=dict(type="float", default=5),
    )



def settings_from(params, command_timeout=60.0):
    return redis_nodes.ConnectionSettings(
        login_user=params["username"], login_password=params["password"], tls=params["tls"],
        tls_ca_cert=params["tls_ca_cert_file"], tls_cert=params["tls_cert_file"],
        tls_key=params["tls_key_file"], connect_timeout=params["connect_timeout"],
        command_timeout=command_timeout)


def address_of(params):
    return "%s:%d" % (params["login_host"], params["login_port"])


def port_answers(host, port, timeout=2.0):
    """True when something accepts connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(CHUNK)
            if not chunk:
                return digest.hexdigest()
            digest.update(chunk)


def chown(path, owner, group):
    if owner or group:
        shutil.chown(path, user=owner or None, group=group or None)


class FetchError(RuntimeError):
    pass


def fetch_verified(s3, bucket, key, version_id, expected, dest):
    """Stream s3://bucket/key (the given version) through zstd into dest
    (None: verify only), checking the stored size and SHA-256 and the
    decompressed size and SHA-256 against expected (the manifest's object).
    dest is written as dest + '.part' and renamed only once all match."""
    import zstandard

    args = {"Bucket": bucket, "Key": key}
    if version_id:
        args["VersionId"] = version_id
    try:
        body = s3.get_object(**args)["Body"]
    except Exception as exc:
        raise FetchError("cannot read s3://%s/%s: %s" % (bucket, key, exc))
    stored_hash, raw_hash = hashlib.sha256(), hashlib.sha256()
    stored = raw = 0
    part = dest + ".part" if dest else None
    out = open(part, "wb") if part else None
    try:
        decompressor = zstandard.ZstdDecompressor().decompressobj()
        while True:
            chunk = body.read(CHUNK)
            if not chunk:
                break
            stored += len(chunk)
            if stored > expected["size"]:
                raise FetchError("s3://%s/%s is larger than the manifest's %d bytes" % (bucket, key,
                                                                                      expected["size"]))
            stored_hash.update(chunk)
            try:
                data = decompressor.decompress(chunk)
            except zstandard.ZstdError as exc:
                raise FetchError("s3://%s/%s does not decompress: %s" % (bucket, key, exc))
            if data:
                raw += len(data)
                raw_hash.update(data)
                if out:
                    out.write(data)
        problems = []
        if stored != expected["size"] or stored_hash.hexdigest() != expected["sha256"]:
            problems.append("stored object: %d bytes, sha256 %s (manifest: %d bytes, %s)" % (
                stored, stored_hash.hexdigest(), expected["size"], expected["sha256"]))
        if raw != expected["uncompressed_size"] or raw_hash.hexdigest() != expected["uncompressed_sha256"]:
            problems.append("RDB: %d bytes, sha256 %s (manifest: %d bytes, %s)" % (
                raw, raw_hash.hexdigest(), expected["uncompressed_size"], expected["uncompressed_sha256"]))
        if problems:
            raise FetchError("checksum mismatch for s3://%s/%s: %s" % (bucket, key, "; ".join(problems)))
        if out:
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        if out:
            out.close()
            os.unlink(part)
        raise
    finally:
        body.close()
    if out:
        out.close()
        os.replace(part, dest)
    return {"size": stored, "uncompressed_size": raw}


def free_port(host="127.0.0.1"):
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class TempServer:
    """A throw-away server on the loopback that loads one RDB: no cluster,
    no AOF, no saves, a random password, its files in the RDB's directory."""

    def __init__(self, server_bin, rdb_path, user=None, tls=None):
        self.server_bin, self.rdb_path, self.user, self.tls = server_bin, rdb_path, user, tls
        self.directory = os.path.dirname(os.path.abspath(rdb_path))
        self.port = None
        self.password = secrets.token_hex(24)
        self.process = None
        self.config = os.path.join(self.directory, "restore-server.conf")
        self.log = os.path.join(self.directory, "restore-server.log")

    def start(self, timeout):
        self.port = free_port()
        lines = ["port %d" % self.port, "bind 127.0.0.1", "protected-mode yes", "daemonize no",
                 "dir %s" % self.directory, "dbfilename %s" % os.path.basename(self.rdb_path),
                 "appendonly no", 'save ""', "cluster-enabled no", "logfile %s" % self.log,
                 "maxmemory 0", "requirepass %s" % self.password]
        if self.tls:
            # MIGRATE to a TLS cluster goes out over TLS (tls-cluster).
            lines += ["tls-cluster yes", "tls-port 0", "tls-ca-cert-file %s" % self.tls["ca_cert"],
                      "tls-cert-file %s" % self.tls["cert"], "tls-key-file %s" % self.tls["key"]]
        fd = os.open(self.config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        if self.user and os.geteuid() == 0:
            shutil.chown(self.config, user=self.user)
        kwargs = {"user": self.user} if self.user and os.geteuid() == 0 else {}
        self.process = subprocess.Popen([self.server_bin, self.config], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, close_fds=True, **kwargs)
        client = None
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("the temporary server exited with %s while loading %s; its log: %s" % (
                    self.process.returncode, self.rdb_path, self.tail_log()))
            try:
                if client is None:
                    client = redis_nodes.NodeClient("127.0.0.1:%d" % self.port, redis_nodes.ConnectionSettings(
                        login_password=self.password, connect_timeout=2, command_timeout=120))
                # field by field: "async_loading:0" also contains "loading:0"
                if redis_nodes.parse_info(client.text("INFO", "persistence")).get("loading") == "0":
                    return client
            except redis_nodes.RedisError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("the temporary server did not load %s within %ss" % (self.rdb_path, timeout))
            time.sleep(0.2)

    def tail_log(self):
        try:
            with open(self.log, "rb") as handle:
                handle.seek(max(0, os.path.getsize(self.log) - 2000))
                return handle.read().decode("utf-8", "replace").strip().replace("\n", " | ")
        except OSError:
            return "(no log)"

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        for path in (self.config,):
            try:
                os.unlink(path)
            except OSError:
                pass
