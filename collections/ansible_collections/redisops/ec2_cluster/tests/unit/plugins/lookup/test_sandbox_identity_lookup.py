# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The redisops.ec2_cluster.sandbox_identity lookup, loaded through Ansible's
plugin loader as a playbook would load it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

import pytest
from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import init_plugin_loader, lookup_loader
from ansible.utils.collection_loader import AnsibleCollectionConfig

COLLECTIONS_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), *[".."] * 7))


@pytest.fixture(scope="module")
def lookup():
    if AnsibleCollectionConfig.collection_finder is None:
        for name in [n for n in sys.modules if n == "ansible_collections" or n.startswith("ansible_collections.")]:
            del sys.modules[name]
        init_plugin_loader([COLLECTIONS_DIR])
    plugin = lookup_loader.get("redisops.ec2_cluster.sandbox_identity")
    assert plugin is not None
    return plugin


@pytest.fixture(autouse=True)
def no_sandbox_environment(monkeypatch):
    """Only what a test sets: a shell that selected another sandbox does not leak in."""
    for name in [n for n in os.environ if n.startswith("REDISOPS_SANDBOX_")]:
        monkeypatch.delenv(name)


def test_reads_the_environment(lookup, monkeypatch, tmp_path):
    monkeypatch.setenv("REDISOPS_SANDBOX_PORT", "5100")
    monkeypatch.setenv("REDISOPS_SANDBOX_DIR", "state")
    [identity] = lookup.run([], {}, project_dir=str(tmp_path))
    assert identity["endpoint_url"] == "http://127.0.0.1:5100"
    assert identity["dir"] == str(tmp_path / "state")
    assert identity["network"] == "redisops-sandbox"


def test_refuses_a_public_network(lookup, monkeypatch):
    monkeypatch.setenv("REDISOPS_SANDBOX_VPC_CIDR", "8.8.0.0/16")
    with pytest.raises(AnsibleLookupError, match="REDISOPS_SANDBOX_VPC_CIDR"):
        lookup.run([], {}, project_dir="/")
