"""Fixtures of the sandbox tests."""

import docker
import pytest


@pytest.fixture(scope="session")
def docker_client():
    client = docker.from_env()
    yield client
    client.close()
