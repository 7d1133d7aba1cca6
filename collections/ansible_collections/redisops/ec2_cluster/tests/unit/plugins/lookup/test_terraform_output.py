# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the redisops.ec2_cluster.terraform_output lookup with local
state files.

The plugin is loaded through Ansible's plugin loader (so its DOCUMENTATION
drives the options, as in a playbook). The S3 cases run against a real moto
server in tests/integration/test_terraform_output_s3.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys

import pytest
from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import init_plugin_loader, lookup_loader
from ansible.utils.collection_loader import AnsibleCollectionConfig

COLLECTIONS_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), *[".."] * 7))

OUTPUTS = {
    "region": {"value": "us-west-2", "type": "string"},
    "private_subnet_ids": {
        "value": {"us-west-2a": "subnet-a", "us-west-2b": "subnet-b", "us-west-2c": "subnet-c"},
        "type": ["map", "string"],
    },
    "azs": {"value": ["us-west-2a", "us-west-2b", "us-west-2c"], "type": ["list", "string"]},
    "node_count": {"value": 6, "type": "number"},
    "tls_enabled": {"value": False, "type": "bool"},
}


def state_document(outputs=None, version=4):
    return {
        "version": version,
        "terraform_version": "1.9.8",
        "serial": 3,
        "lineage": "3f1c0a5e-6c1e-4d7b-9a55-0c8f1b0b7d11",
        "outputs": OUTPUTS if outputs is None else outputs,
        "resources": [],
    }


def _install_collection_loader():
    """Load plugins the way ansible-playbook does (once per session)."""
    if AnsibleCollectionConfig.collection_finder is not None:
        return
    # Collection modules imported earlier straight from PYTHONPATH (by other
    # test files) would shadow the loader's: drop them, their importers keep
    # their references.
    for name in [n for n in sys.modules if n == "ansible_collections" or n.startswith("ansible_collections.")]:
        del sys.modules[name]
    init_plugin_loader([COLLECTIONS_DIR])


@pytest.fixture(scope="module")
def lookup():
    _install_collection_loader()
    plugin = lookup_loader.get("redisops.ec2_cluster.terraform_output")
    assert plugin is not None, "lookup plugin not found under %s" % COLLECTIONS_DIR
    return plugin


@pytest.fixture
def state_file(tmp_path):
    path = tmp_path / "terraform.tfstate"
    path.write_text(json.dumps(state_document()))
    return str(path)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("region", "us-west-2"),
        ("private_subnet_ids", {"us-west-2a": "subnet-a", "us-west-2b": "subnet-b", "us-west-2c": "subnet-c"}),
        ("azs", ["us-west-2a", "us-west-2b", "us-west-2c"]),
        ("node_count", 6),
        ("tls_enabled", False),
    ],
    ids=["string", "map", "list", "number", "bool"],
)
def test_each_output_type_keeps_its_value_and_type(lookup, state_file, name, expected):
    (value,) = lookup.run([name], variables={}, state=state_file)
    assert value == expected
    assert type(value) is type(expected)


def test_several_terms_come_back_in_order(lookup, state_file):
    assert lookup.run(["node_count", "region"], variables={}, state=state_file) == [6, "us-west-2"]


def test_no_terms_returns_every_output_as_one_dict(lookup, state_file):
    (everything,) = lookup.run([], variables={}, state=state_file)
    assert everything == {name: output["value"] for name, output in OUTPUTS.items()}


def test_state_defaults_to_the_inventory_variable(lookup, state_file):
    assert lookup.run(["region"], variables={"redisops_terraform_state": state_file}) == ["us-west-2"]


def test_missing_output_names_the_output_and_the_state(lookup, state_file):
    with pytest.raises(AnsibleLookupError) as err:
        lookup.run(["backup_bucket"], variables={}, state=state_file)
    message = str(err.value)
    assert "'backup_bucket'" in message
    assert state_file in message
    assert "region" in message  # lists what is available


def test_missing_file_names_the_state(lookup, tmp_path):
    missing = str(tmp_path / "nowhere.tfstate")
    with pytest.raises(AnsibleLookupError, match="does not exist") as err:
        lookup.run(["region"], variables={}, state=missing)
    assert missing in str(err.value)


def test_unreadable_json_names_the_state(lookup, tmp_path):
    broken = tmp_path / "broken.tfstate"
    broken.write_text('{"version": 4, "outputs": {')
    with pytest.raises(AnsibleLookupError, match="not readable JSON") as err:
        lookup.run(["region"], variables={}, state=str(broken))
    assert str(broken) in str(err.value)


@pytest.mark.parametrize("version", [3, 5, None])
def test_unsupported_state_version_is_refused(lookup, tmp_path, version):
    old = tmp_path / "old.tfstate"
    old.write_text(json.dumps(state_document(version=version)))
    with pytest.raises(AnsibleLookupError, match="only version 4 is supported") as err:
        lookup.run(["region"], variables={}, state=str(old))
    assert str(old) in str(err.value)
    assert repr(version) in str(err.value)


def test_malformed_s3_location_is_refused(lookup):
    with pytest.raises(AnsibleLookupError, match="s3://bucket/key"):
        lookup.run(["region"], variables={}, state="s3://only-a-bucket")
