"""Proof that a test session leaves the user's sandbox alone.

Before the session the user's sandbox (the identity `make deploy` in this
clone uses) is recorded: its Docker network, its instance containers, the
files in its state directory, whether its moto answers and what runs in its
containers. When nothing of it exists, a stand-in is created with the same
identity (the network with its address range, a container labelled like an
instance, a pid file and a Terraform state), so the proof is real on a clean
machine too. After the session the record must be the same, and only what
the guard created is removed.
"""

import hashlib
import os
import urllib.request

import docker

from redisops_testlib.sandbox import CLUSTER_LABEL, ENDPOINT_LABEL, ID_LABEL, IP_LABEL

STANDIN_LABEL = "io.redisops.test.user-sandbox-stand-in"
STANDIN_INSTANCE = "i-0000000standin00"


class UserSandboxGuard:
    def __init__(self, identity, base_image):
        self.identity = identity
        self.base_image = base_image
        self.client = docker.from_env()
        self.endpoint = identity["endpoint_url"]
        self.files = [os.path.join(identity["dir"], "moto-%d.pid" % identity["port"]),
                      os.path.join(identity["dir"], "terraform.tfstate")]
        self.created = {}
        self.before = None

    # --- what the user's sandbox looks like --------------------------------
    def record(self):
        network = self._network()
        containers = self.client.containers.list(all=True, filters={"label": ["%s=%s" % (ENDPOINT_LABEL, self.endpoint)]})
        by_prefix = [c for c in self.client.containers.list(all=True)
                     if c.name.startswith(self.identity["container_prefix"])]
        return {
            "network": None if network is None else {
                "id": network.id, "subnets": [c["Subnet"] for c in network.attrs["IPAM"]["Config"]]},
            "containers": {c.name: self._container(c) for c in {c.id: c for c in containers + by_prefix}.values()},
            "files": {path: self._digest(path) for path in self.files},
            "moto_answers": self._moto_answers(),
        }

    def is_up(self, record):
        return bool(record["network"] or record["containers"] or record["moto_answers"]
                    or any(record["files"].values()))

    # --- before and after the session --------------------------------------
    def start(self):
        self.before = self.record()
        if not self.is_up(self.before):
            self._create_standin()
            self.before = self.record()
        return self.before

    def changes(self):
        """What differs from the record taken before the session (empty: untouched)."""
        after = self.record()
        return {key: {"before": self.before[key], "after": after[key]}
                for key in self.before if self.before[key] != after[key]}

    def finish(self):
        """Remove what start() created, and only that."""
        container = self.created.get("container")
        if container:
            self.client.containers.get(container).remove(force=True)
        if self.created.get("network"):
            self.client.networks.get(self.created["network"]).remove()
        for path in self.created.get("files", []):
            os.remove(path)
        if self.created.get("dir"):
            os.rmdir(self.created["dir"])
        self.created = {}
        self.client.close()

    @property
    def is_standin(self):
        return bool(self.created)

    # --- internals ------------------------------------------------------------
    def _create_standin(self):
        identity = self.identity
        network = self.client.networks.create(
            identity["network"], driver="bridge", labels={STANDIN_LABEL: "true"},
            ipam=docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=identity["vpc_cidr"])]))
        self.created["network"] = network.id
        ip = identity["private_subnets"][0]["cidr"].rsplit(".", 1)[0] + ".11"
        name = identity["container_prefix"] + STANDIN_INSTANCE
        container = self.client.containers.create(
            self.base_image, ["infinity"], entrypoint=["sleep"], name=name, detach=True,
            labels={ID_LABEL: STANDIN_INSTANCE, IP_LABEL: ip, CLUSTER_LABEL: identity["cluster_name"],
                    ENDPOINT_LABEL: self.endpoint, STANDIN_LABEL: "true"},
            network=identity["network"])
        self.created["container"] = container.id
        network.disconnect(container)
        network.connect(container, ipv4_address=ip)
        container.start()
        if not os.path.isdir(identity["dir"]):
            os.makedirs(identity["dir"])
            self.created["dir"] = identity["dir"]
        self.created["files"] = []
        for path, content in zip(self.files, ["4194305\n", '{"version": 4, "outputs": {}}\n']):
            with open(path, "x") as handle:
                handle.write(content)
            self.created["files"].append(path)

    def _network(self):
        try:
            return self.client.networks.get(self.identity["network"])
        except docker.errors.NotFound:
            return None

    @staticmethod
    def _container(container):
        state = container.attrs["State"]
        networks = container.attrs["NetworkSettings"]["Networks"]
        running = {}
        if state["Status"] == "running" and STANDIN_LABEL not in container.labels:
            # what runs inside an instance of the user's sandbox
            for unit in ("redis-node.service",):
                code, out = container.exec_run(["systemctl", "is-active", unit])
                running[unit] = out.decode().strip()
        return {"id": container.id, "status": state["Status"], "started_at": state["StartedAt"],
                "image": container.attrs["Image"],
                "ips": {name: n.get("IPAddress") for name, n in networks.items()}, "units": running}

    @staticmethod
    def _digest(path):
        try:
            with open(path, "rb") as handle:
                return hashlib.sha256(handle.read()).hexdigest()
        except FileNotFoundError:
            return None

    def _moto_answers(self):
        try:
            with urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=3) as resp:
                return resp.status == 200
        except OSError:
            return False
