"""Pieces of the backup program on their own: its part buffer, its
configuration checks, the RDB checker's verdicts on real RDB files, and
the RESP client over TLS against a real redis-server.

Binds fixed loopback ports: run under `flock /tmp/redisops-local.lock`.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import redis

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.resp_client import (
    RespClient,
    RespConnectionError,
    RespError,
)

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "roles/redis_backup/files/redisops-backup"
CHECK_RDB = shutil.which("redis-check-rdb") or "/usr/bin/redis-check-rdb"
TLS_PORT = 7490


def load_program():
    loader = importlib.machinery.SourceFileLoader("redisops_backup", str(PROGRAM))
    spec = importlib.util.spec_from_loader("redisops_backup", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def program():
    return load_program()


def test_part_buffer_grows_past_its_capacity_and_is_reused(program):
    buffer = program.PartBuffer(16)
    for piece in (b"abc", b"defghijklmnop", b"qrstuvwxyz"):  # past the capacity: it grows
        buffer.write(piece)
    assert len(buffer) == 26
    with buffer.view() as view:
        assert bytes(view) == b"abcdefghijklmnopqrstuvwxyz"
    buffer.reset().write(b"xy")
    assert len(buffer) == 2 and bytes(buffer.view()) == b"xy"


def test_configuration_problems_are_listed_together(program, tmp_path):
    config = tmp_path / "node.json"
    config.write_text(json.dumps({"cluster_name": "bad name", "address": "10.0.0.1", "port": 6379,
                                  "engine": {"check_rdb_bin": "/nonexistent"},
                                  "backup": {"bucket": "b", "prefix": "backups", "interval_hours": 5,
                                             "part_buffers": 9},
                                  "aws": {}}))
    with pytest.raises(program.ConfigError) as error:
        program.load_config(str(config))
    message = str(error.value)
    for problem in ("backup.kms_key_arn is missing", "/nonexistent is not an executable", "aws.region is missing",
                    "part_buffers must be between 1 and 4"):
        assert problem in message
    config.write_text("{not json")
    with pytest.raises(program.ConfigError, match="not valid JSON"):
        program.load_config(str(config))


@pytest.fixture(scope="module")
def rdb_file(tmp_path_factory):
    """A real RDB: a redis-server saves a few keys and exits."""
    directory = tmp_path_factory.mktemp("rdb")
    server = subprocess.Popen(["redis-server", "--port", "7491", "--bind", "127.0.0.1", "--dir", str(directory),
                               "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    try:
        client = redis.Redis(port=7491)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        for i in range(100):
            client.set("k%d" % i, "v" * i)
        client.save()
    finally:
        server.terminate()
        server.wait(10)
    return directory / "dump.rdb"


def check(program, data):
    output = tempfile.TemporaryFile()
    checker = program.start_checker(CHECK_RDB, output)
    checker.stdin.write(data)
    checker.stdin.close()
    return program.checker_result(checker, output, 30)


def test_the_checker_counts_keys_and_rejects_damaged_rdbs(program, rdb_file):
    data = rdb_file.read_bytes()
    assert check(program, data) == 100
    with pytest.raises(program.BackupFailed, match="rejected"):
        check(program, data[: len(data) // 2])
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF
    with pytest.raises(program.BackupFailed, match="rejected"):
        check(program, bytes(flipped))


def test_resp_client_over_tls_with_acl(tmp_path):
    def openssl(*args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=tmp_path)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
            "-subj", "/CN=test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "node.key", "-out", "node.csr", "-subj", "/CN=node")
    (tmp_path / "san.ext").write_text("subjectAltName=IP:127.0.0.1\nkeyUsage=critical,digitalSignature,"
                                      "keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n")
    openssl("x509", "-req", "-in", "node.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out",
            "node.crt", "-days", "2", "-extfile", "san.ext")
    conf = tmp_path / "redis.conf"
    conf.write_text("\n".join([
        "port 0", "tls-port %d" % TLS_PORT, "bind 127.0.0.1", "dir %s" % tmp_path, "save \"\"",
        "tls-ca-cert-file %s/ca.crt" % tmp_path, "tls-cert-file %s/node.crt" % tmp_path,
        "tls-key-file %s/node.key" % tmp_path, "tls-auth-clients optional",
        "user default off", "user agent on >agent-password-0123 -@all +ping +info", ""]))
    server = subprocess.Popen(["redis-server", str(conf)], stdout=subprocess.DEVNULL)
    tls = {"ca_cert": str(tmp_path / "ca.crt"), "cert": str(tmp_path / "node.crt"), "key": str(tmp_path / "node.key")}
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client = RespClient("127.0.0.1", TLS_PORT, "agent", "agent-password-0123", tls=tls)
                break
            except RespConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        with client:
            assert client.call("PING") == b"PONG"
            assert "redis_version:" in client.text("INFO", "server")
            with pytest.raises(RespError, match="NOPERM"):
                client.call("BGSAVE")
        with pytest.raises(RespConnectionError, match="TLS"):
            RespClient("127.0.0.1", TLS_PORT, tls={"ca_cert": os.devnull})
    finally:
        server.terminate()
        server.wait(10)
