"""A private moto server for integration tests: started on 127.0.0.1 at a
given port, reset between uses, always stopped. Clients get dummy
credentials and never read the user's AWS files or instance metadata."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3

REGION = "us-west-2"
SAFE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def _answers(endpoint):
    try:
        with urllib.request.urlopen(endpoint + "/moto-api/", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def moto_server(port, log_dir, env=None):
    """Yield the endpoint URL of a moto server that lives for the block."""
    endpoint = "http://127.0.0.1:%d" % port
    if _answers(endpoint):
        raise RuntimeError("something already answers at %s" % endpoint)
    binary = Path(sys.executable).with_name("moto_server")
    log = open(Path(log_dir) / ("moto-%d.log" % port), "ab")
    process = subprocess.Popen([str(binary), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log,
                               env=dict(os.environ, **SAFE_ENV, **(env or {})))
    try:
        for _ in range(100):
            if _answers(endpoint):
                break
            if process.poll() is not None:
                raise RuntimeError("moto_server exited with %s" % process.returncode)
            time.sleep(0.2)
        else:
            raise RuntimeError("moto_server did not answer within 20 s")
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def reset(endpoint):
    request = urllib.request.Request(endpoint + "/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass


def client(service, endpoint, config=None, **keys):
    for name, value in SAFE_ENV.items():
        os.environ.setdefault(name, value)
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, config=config,
                        aws_access_key_id=keys.get("access_key", "testing"),
                        aws_secret_access_key=keys.get("secret_key", "testing"))


# moto counts these calls before it enforces IAM (INITIAL_NO_AUTH_ACTION_COUNT).
NODE_PRINCIPAL_SETUP_CALLS = 6


@contextlib.contextmanager
def moto_with_node_principal(port, log_dir, node_policy):
    """moto that enforces IAM once an unrestricted admin and a `node` user
    holding node_policy exist. Yields (endpoint, the admin's and the node's
    keys as client()'s keyword arguments, a shared credentials file of the node's key)."""
    env = {"INITIAL_NO_AUTH_ACTION_COUNT": str(NODE_PRINCIPAL_SETUP_CALLS)}
    with moto_server(port, log_dir, env=env) as endpoint:
        iam = client("iam", endpoint)
        iam.create_user(UserName="admin")
        iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        admin = iam.create_access_key(UserName="admin")["AccessKey"]
        keys = {"access_key": admin["AccessKeyId"], "secret_key": admin["SecretAccessKey"]}
        iam = client("iam", endpoint, **keys)
        iam.create_user(UserName="node")
        iam.put_user_policy(UserName="node", PolicyName="node", PolicyDocument=json.dumps(node_policy))
        created = iam.create_access_key(UserName="node")["AccessKey"]
        node = {"access_key": created["AccessKeyId"], "secret_key": created["SecretAccessKey"]}
        credentials = Path(log_dir) / "node-credentials"
        credentials.write_text("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                               % (node["access_key"], node["secret_key"]))
        yield endpoint, keys, node, str(credentials)
