"""Real redis-server cluster nodes on loopback addresses (127.0.0.x), started
by the tests themselves in temporary directories and always stopped.

Each node gets its own loopback IP so that AZ maps keyed by IP work as on
EC2. Users as on a deployed node: admin (everything), replication, and the
`agent` user the node programs use, with exactly the commands
docs/node-programs.md grants it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import redis

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
ADMIN = ("admin", "admin-test-password-0123")
REPLICATION = ("replication", "replication-test-password-01")
AGENT = ("agent", "agent-test-password-012345")
AGENT_COMMANDS = "-@all +ping +info +dbsize +lastsave +bgsave +cluster|info +cluster|nodes +cluster|myid " \
                 "+cluster|shards +cluster|slots +config|get"


@dataclass(eq=False)
class Node:
    ip: str
    port: int
    zone: str
    root: str
    process: Optional[subprocess.Popen] = None
    extra_args: List[str] = field(default_factory=list)

    @property
    def address(self):
        return "%s:%d" % (self.ip, self.port)

    @property
    def dir(self):
        return os.path.join(self.root, "node-%d" % self.port)

    @property
    def conf(self):
        return os.path.join(self.dir, "redis.conf")

    def client(self, user=ADMIN, **kwargs):
        return redis.Redis(host=self.ip, port=self.port, username=user[0], password=user[1], socket_timeout=30,
                           socket_connect_timeout=5, **kwargs)

    def raw(self, *args):
        """A command's reply as the server sent it (no redis-py parsing), text decoded."""
        client = self.client(decode_responses=True)
        client.response_callbacks.clear()
        try:
            return client.execute_command(*args)
        finally:
            client.close()

    def info(self, section):
        from ansible_collections.redisops.ec2_cluster.plugins.module_utils.redis_info import parse_info
        return parse_info(self.raw("INFO", section))


class LocalCluster:
    def __init__(self, root, specs):
        """specs: [(ip, port, zone), ...]; masters are formed from the first ones."""
        self.nodes = [Node(ip, port, zone, root) for ip, port, zone in specs]

    def by_address(self) -> Dict[str, Node]:
        return {n.address: n for n in self.nodes}

    def write_config(self, node):
        os.makedirs(node.dir, exist_ok=True)
        with open(node.conf, "w") as handle:
            handle.write("\n".join([
                "port %d" % node.port, "bind %s" % node.ip, "dir %s" % node.dir, "daemonize no",
                "cluster-enabled yes", "cluster-announce-ip %s" % node.ip, "replica-announce-ip %s" % node.ip,
                "cluster-config-file %s/nodes.conf" % node.dir, "cluster-node-timeout 2000",
                "appendonly yes", "aof-use-rdb-preamble yes", "appenddirname appendonlydir", "dbfilename dump.rdb",
                'save ""', "repl-diskless-sync-delay 0", "logfile %s/redis.log" % node.dir,
                "user default off", "user %s on >%s ~* &* +@all" % ADMIN,
                "user %s on >%s +psync +replconf +ping" % REPLICATION,
                "user %s on >%s %s" % (AGENT[0], AGENT[1], AGENT_COMMANDS),
                "masteruser %s" % REPLICATION[0], "masterauth %s" % REPLICATION[1], "",
            ]))

    def start(self, node, extra_args=(), wait=True):
        if node.process is not None and node.process.poll() is None:
            raise RuntimeError("%s already runs" % node.address)
        if not os.path.exists(node.conf):
            self.write_config(node)
        node.process = subprocess.Popen([REDIS_SERVER, node.conf] + list(extra_args), stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        if wait:
            self.wait_answering(node)

    def wait_answering(self, node, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            try:
                if node.client().ping():
                    return
            except redis.exceptions.BusyLoadingError:
                return
            except redis.RedisError:
                pass
            if node.process.poll() is not None:
                raise RuntimeError("redis-server %s exited (%s); see %s/redis.log" % (
                    node.address, node.process.returncode, node.dir))
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server %s did not answer within %ss" % (node.address, timeout))
            time.sleep(0.05)

    def stop(self, node, sig=signal.SIGTERM):
        if node.process is None:
            return
        if node.process.poll() is None:
            node.process.send_signal(sig)
            try:
                node.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                node.process.kill()
                node.process.wait(timeout=10)
        node.process = None

    def stop_all(self):
        for node in self.nodes:
            self.stop(node, signal.SIGKILL)

    def start_all(self):
        for node in self.nodes:
            self.start(node, wait=False)
        for node in self.nodes:
            self.wait_answering(node)

    def form(self, masters, replicas_of=None, timeout=60):
        """masters: nodes that get the slots (evenly, in order); replicas_of:
        {replica node: master node}."""
        replicas_of = replicas_of or {}
        share = 16384 // len(masters)
        first = 0
        for index, master in enumerate(masters):
            last = 16383 if index == len(masters) - 1 else first + share - 1
            master.client().execute_command("CLUSTER", "ADDSLOTSRANGE", first, last)
            first = last + 1
        seed = masters[0]
        for node in self.nodes:
            if node is not seed:
                node.client().execute_command("CLUSTER", "MEET", seed.ip, seed.port)
        ids = {n.address: n.raw("CLUSTER", "MYID") for n in self.nodes}

        def everyone_known():
            return all(all(i in n.raw("CLUSTER", "NODES") for i in ids.values()) for n in self.nodes)
        wait_for(everyone_known, timeout, "every node to know every other")
        for replica, master in replicas_of.items():
            replica.client().execute_command("CLUSTER", "REPLICATE", ids[master.address])
        self.wait_healthy(timeout)
        return ids

    def wait_healthy(self, timeout=60):
        def healthy():
            for node in self.nodes:
                if "cluster_state:ok" not in node.raw("CLUSTER", "INFO"):
                    return False
                replication = node.info("replication")
                if replication["role"] == "slave" and (replication.get("master_link_status") != "up"
                                                       or replication.get("master_sync_in_progress") != "0"):
                    return False
            views = {tuple(sorted(line.split()[0] + " " + line.split()[2].replace("myself,", "")
                                  + " " + " ".join(line.split()[8:])
                                  for line in n.raw("CLUSTER", "NODES").splitlines())) for n in self.nodes}
            return len(views) == 1
        wait_for(healthy, timeout, "the cluster to be healthy and agreed")

    def masters(self):
        result = []
        for node in self.nodes:
            if node.process is not None and node.info("replication")["role"] == "master":
                result.append(node)
        return result


def wait_for(check, timeout, what, step=0.2):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except redis.RedisError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(step)
