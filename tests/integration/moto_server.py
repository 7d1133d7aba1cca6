"""A private moto server for integration tests: started on 127.0.0.1 at a
given port, reset between uses, always stopped. Clients get dummy
credentials and never read the user's AWS files or instance metadata."""

from __future__ import annotations

import contextlib
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
