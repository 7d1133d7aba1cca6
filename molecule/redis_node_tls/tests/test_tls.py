"""TLS on: plaintext refused, TLS clients served, cluster bus and replication over TLS."""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import testinfra

NODES = {
    "rt-redis-1": "10.84.1.11",
    "rt-redis-2": "10.84.1.12",
    "rt-valkey-1": "10.84.1.13",
}
APP_PASSWORD = "molecule-tls-app-Secret-1f6b"
TLS_DIR = "/etc/redis-node/tls"
CLIENT_TLS = f"--tls --cacert {TLS_DIR}/ca.crt"


@pytest.fixture
def me(host):
    name = host.backend.get_hostname()
    facts = json.loads(host.file("/etc/ansible/facts.d/redis_image.fact").content_string)
    return {"name": name, "ip": NODES[name], "cli": facts["cli_bin"]}


def test_tls_settings(host, me):
    out = host.check_output("redis-node-cli CONFIG GET 'tls-*'").splitlines()
    settings = dict(zip(out[::2], out[1::2]))
    assert settings["tls-port"] == "6379"
    assert settings["tls-cluster"] == "yes"
    assert settings["tls-replication"] == "yes"
    assert settings["tls-cert-file"] == f"{TLS_DIR}/node.crt"
    port = host.check_output("redis-node-cli CONFIG GET port").splitlines()
    assert port == ["port", "0"]


def test_key_is_private_and_certificate_names_the_private_ip(host, me):
    key = host.file(f"{TLS_DIR}/node.key")
    assert (key.user, key.group, key.mode) == ("root", "redis", 0o640)
    text = host.check_output(f"openssl x509 -in {TLS_DIR}/node.crt -noout -text")
    assert f"IP Address:{me['ip']}" in text
    assert "TLS Web Server Authentication" in text and "TLS Web Client Authentication" in text
    assert not host.file(f"{TLS_DIR}/ca.key").exists


def test_plaintext_clients_are_refused(host, me):
    out = host.run(f"REDISCLI_AUTH='{APP_PASSWORD}' {me['cli']} --user app -h {me['ip']} -p 6379 PING")
    assert "PONG" not in out.stdout
    assert out.rc != 0 or "Error" in out.stdout + out.stderr


def test_tls_clients_are_served(host, me):
    for address in (me["ip"], "127.0.0.1"):
        out = host.run(f"REDISCLI_AUTH='{APP_PASSWORD}' {me['cli']} {CLIENT_TLS} --user app -h {address} -p 6379 PING")
        assert out.stdout.strip() == "PONG", out.stdout + out.stderr


def test_tls_clients_still_need_a_password(host, me):
    out = host.run(f"{me['cli']} {CLIENT_TLS} -h {me['ip']} -p 6379 PING")
    assert "NOAUTH" in out.stdout + out.stderr


def test_cluster_bus_speaks_tls(host, me):
    out = host.run(
        f"openssl s_client -connect {me['ip']}:16379 -CAfile {TLS_DIR}/ca.crt "
        f"-cert {TLS_DIR}/node.crt -key {TLS_DIR}/node.key -verify_return_error -brief < /dev/null"
    )
    text = out.stdout + out.stderr
    assert "CONNECTION ESTABLISHED" in text, text
    assert "Verification: OK" in text, text


def _cli(name, *args):
    node = testinfra.get_host(f"docker://{name}")
    return node.check_output("redis-node-cli " + " ".join(f"'{a}'" for a in args))


def _wait(predicate, what, timeout_s=60):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def test_cluster_bus_and_replication_over_tls():
    """rt-redis-2 meets rt-redis-1 and replicates it: only possible over TLS (port 0)."""
    if _cli("rt-redis-1", "CLUSTER", "INFO").find("cluster_slots_assigned:0") >= 0:
        _cli("rt-redis-1", "CLUSTER", "ADDSLOTSRANGE", "0", "16383")
    _cli("rt-redis-2", "CLUSTER", "MEET", NODES["rt-redis-1"], "6379")
    master_id = _cli("rt-redis-1", "CLUSTER", "MYID")
    _wait(lambda: master_id in _cli("rt-redis-2", "CLUSTER", "NODES"), "the TLS cluster bus handshake")
    _cli("rt-redis-2", "CLUSTER", "REPLICATE", master_id)
    _wait(lambda: "master_link_status:up" in _cli("rt-redis-2", "INFO", "replication"), "replication over TLS")
    _wait(lambda: "cluster_state:ok" in _cli("rt-redis-2", "CLUSTER", "INFO"), "cluster_state ok")
    _cli("rt-redis-1", "SET", "app:tls", "over-tls")
    assert _cli("rt-redis-1", "GET", "app:tls") == "over-tls"
    _wait(lambda: _cli("rt-redis-2", "DBSIZE") == _cli("rt-redis-1", "DBSIZE"), "the write to reach the replica")
    _wait(lambda: "slave0:ip=10.84.1.12" in _cli("rt-redis-1", "INFO", "replication"), "the master to list its replica")


CONVERGE = Path(__file__).resolve().parents[1] / "converge.yml"


def _run_converge(*args):
    """ansible-playbook of this scenario's converge.yml against Molecule's inventory (bounded)."""
    inventory = Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
    done = subprocess.run(["ansible-playbook", "-i", str(inventory), str(CONVERGE), *args], capture_output=True,
                          text=True, env=env, timeout=900, check=False)
    return done.returncode, done.stdout + done.stderr


def _pids():
    return {name: testinfra.get_host(f"docker://{name}").check_output("systemctl show -p MainPID --value redis-node")
            for name in NODES}


def _role(name):
    return next(line.split(":", 1)[1] for line in _cli(name, "INFO", "replication").splitlines()
                if line.startswith("role:"))


def test_rolling_restart_over_tls_fails_the_master_over_first():
    """A static change restarts every node; the modules reach them over TLS."""
    master, replica = ("rt-redis-1", "rt-redis-2") if _role("rt-redis-1") == "master" else ("rt-redis-2", "rt-redis-1")
    before = _pids()
    for backlog in ("1024", "511"):
        rc, output = _run_converge("-e", "redis_node_tcp_backlog=" + backlog)
        assert rc == 0, output[-4000:]
        assert "Fail the master over to its replica with CLUSTER FAILOVER" in output
        for name in NODES:
            assert _cli(name, "CONFIG", "GET", "tcp-backlog").splitlines()[1] == backlog
        # The master was handed over before its restart: roles swap each time.
        assert (_role(master), _role(replica)) == ("slave", "master")
        master, replica = replica, master
        _wait(lambda: "cluster_state:ok" in _cli(master, "CLUSTER", "INFO"), "cluster_state ok")
        after = _pids()
        assert all(after[n] != before[n] for n in NODES), (before, after)
        before = after
    for secret in ("molecule-tls-admin-Secret-41c2", "molecule-tls-repl-Secret-88d0", APP_PASSWORD):
        assert secret not in output
