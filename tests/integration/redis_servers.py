"""redis-server processes for integration tests: started on 127.0.0.1 in a
temp dir on ports of a fixed range (REDISOPS_TEST_REDIS_PORTS, default
7100-7199; the cluster bus uses port + 10000), with an ACL user and no
default user, and killed in teardown (only the processes started here)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time

import redis

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
HOST = "127.0.0.1"
USER = "ops"
PASSWORD = "s3cret-test-only"  # test-only ACL password of the throwaway servers


def port_range():
    first, _sep, last = os.environ.get("REDISOPS_TEST_REDIS_PORTS", "7100-7199").partition("-")
    return range(int(first), int(last) + 1)


def _free(port):
    with socket.socket() as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port_pair(taken=()):
    """A port of the range whose cluster bus port (+10000) is free too."""
    for port in port_range():
        if port not in taken and _free(port) and _free(port + 10000):
            return port
    raise RuntimeError("no free port pair in %s" % port_range())


class Servers:
    """redis-server processes this test started (and only those)."""

    def __init__(self, root):
        self.root = root
        self.procs = {}
        self.confs = {}

    def start(self, count=1, cluster=True):
        ports = []
        for _ in range(count):
            port = free_port_pair(taken=set(self.procs))
            workdir = os.path.join(self.root, str(port))
            os.makedirs(workdir)
            conf = os.path.join(workdir, "redis.conf")
            lines = ["port %d" % port, "bind %s" % HOST, "dir %s" % workdir, "save \"\"", "appendonly yes",
                     "repl-diskless-sync-delay 0", "daemonize no", "logfile %s/redis.log" % workdir,
                     "user default off", "user %s on >%s ~* &* +@all" % (USER, PASSWORD),
                     "masteruser %s" % USER, "masterauth %s" % PASSWORD]
            if cluster:
                lines += ["cluster-enabled yes", "cluster-config-file nodes.conf", "cluster-node-timeout 1000"]
            with open(conf, "w") as handle:
                handle.write("\n".join(lines + [""]))
            self.confs[port] = conf
            self._spawn(port)
            ports.append(port)
        self._wait_answering(ports)
        return ports

    def _spawn(self, port):
        self.procs[port] = subprocess.Popen([REDIS_SERVER, self.confs[port]], stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)

    def restart(self, port):
        """Kill and start again from the same directory (AOF, nodes.conf)."""
        self.kill(port)
        self._spawn(port)
        self._wait_answering([port])

    def _wait_answering(self, ports):
        for port in ports:
            deadline = time.monotonic() + 10
            while True:
                try:
                    if self.client(port).ping():
                        break
                except redis.RedisError:
                    pass
                if time.monotonic() > deadline or self.procs[port].poll() is not None:
                    raise RuntimeError("redis-server on port %d did not start" % port)
                time.sleep(0.05)

    def client(self, port):
        return redis.Redis(host=HOST, port=port, username=USER, password=PASSWORD, socket_timeout=5,
                           decode_responses=True)

    def kill(self, port):
        proc = self.procs.pop(port)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def stop_all(self):
        for port in list(self.procs):
            self.kill(port)


def wait_for(check, timeout=30, what="condition"):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(0.2)
