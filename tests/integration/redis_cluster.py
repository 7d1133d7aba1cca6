"""A real Redis Cluster on 127.0.0.1 for integration tests: redis-server
processes on given ports, formed with redis-cli, always stopped. Nodes get
the `agent` ACL user of docs/node-programs.md; the default user stays on
(without password) for the test's own commands."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import redis

AGENT_USER = "agent"
AGENT_PASSWORD = "agent-password-for-tests"
# The agent user's rights (docs/node-programs.md "The agent ACL user").
AGENT_ACL = ("user %s on >%s -@all +ping +info +dbsize +lastsave +bgsave +cluster|info +cluster|nodes "
             "+cluster|myid +cluster|shards +cluster|slots +config|get" % (AGENT_USER, AGENT_PASSWORD))


def wait_for(check, timeout, what, step=0.2):
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except (redis.RedisError, OSError):
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(step)


class Node:
    def __init__(self, port, workdir):
        self.port = port
        self.address = "127.0.0.1:%d" % port
        self.dir = Path(workdir) / str(port)
        self.process = None

    def client(self, **kwargs):
        """A client the caller closes (use it in a with block)."""
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5, socket_connect_timeout=2,
                           decode_responses=True, **kwargs)

    def command(self, *args):
        """One command on a connection closed right after: the node's client
        count stays what the code under test makes it."""
        with self.client() as client:
            return client.execute_command(*args)

    def info(self, section):
        with self.client() as client:
            return client.info(section)

    def start(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "users.acl").write_text("user default on nopass ~* &* +@all\n" + AGENT_ACL + "\n")
        self.process = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000",
             "--aclfile", str(self.dir / "users.acl"), "--appendonly", "yes", "--save", "",
             "--maxmemory", "64mb", "--logfile", str(self.dir / "redis.log"), "--protected-mode", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self.command("PING"), 10, "redis-server on %d" % self.port)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def node_id(self):
        return self.command("CLUSTER", "MYID")

    def role(self):
        return self.info("replication")["role"]


class Cluster:
    def __init__(self, ports, workdir):
        self.nodes = [Node(port, workdir) for port in ports]

    def by_port(self, port):
        return next(n for n in self.nodes if n.port == port)

    def masters(self):
        return [n for n in self.nodes if n.process.poll() is None and n.role() == "master"]

    def master_of(self, replica):
        info = replica.info("replication")
        return self.by_port(int(info["master_port"]))

    def replica_of(self, master):
        return next(n for n in self.nodes if n is not master and n.process.poll() is None
                    and n.role() == "slave" and self.master_of(n) is master)

    def wait_ok(self, timeout=60):
        def every_live_node_ok():
            live = [n for n in self.nodes if n.process.poll() is None]
            return all("cluster_state:ok" in n.command("CLUSTER", "INFO") for n in live)
        wait_for(every_live_node_ok, timeout, "cluster_state:ok on every live node")


@contextlib.contextmanager
def redis_cluster(ports, workdir, replicas=1):
    """Yield a formed cluster (len(ports) / (replicas + 1) masters)."""
    cluster = Cluster(ports, workdir)
    try:
        for node in cluster.nodes:
            node.start()
        subprocess.run([shutil.which("redis-cli"), "--cluster", "create", *[n.address for n in cluster.nodes],
                        "--cluster-replicas", str(replicas), "--cluster-yes"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60,
                       env=dict(os.environ))
        cluster.wait_ok()
        yield cluster
    finally:
        for node in cluster.nodes:
            node.stop()
