"""The terraform_output lookup reading a state object from a real (moto) S3."""

import json
import os
import sys

import pytest
from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import init_plugin_loader, lookup_loader
from ansible.utils.collection_loader import AnsibleCollectionConfig

from conftest import ROOT
from moto_server import client, moto_server

PORT = 5111
OUTPUTS = {
    "region": {"value": "us-west-2", "type": "string"},
    "private_subnet_ids": {"value": {"us-west-2a": "subnet-a", "us-west-2b": "subnet-b"}, "type": ["map", "string"]},
    "node_count": {"value": 6, "type": "number"},
}
STATE = {"version": 4, "terraform_version": "1.9.8", "serial": 3, "lineage": "3f1c0a5e-6c1e-4d7b-9a55-0c8f1b0b7d11",
         "outputs": OUTPUTS, "resources": []}


@pytest.fixture(scope="module")
def lookup():
    """The plugin as ansible-playbook loads it (its DOCUMENTATION drives the options)."""
    if AnsibleCollectionConfig.collection_finder is None:
        # Collection modules imported straight from sys.path by other test
        # files would shadow the loader's: drop them, importers keep theirs.
        for name in [n for n in sys.modules if n == "ansible_collections" or n.startswith("ansible_collections.")]:
            del sys.modules[name]
        init_plugin_loader([str(ROOT / "collections")])
    plugin = lookup_loader.get("redisops.ec2_cluster.terraform_output")
    assert plugin is not None
    return plugin


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    with moto_server(PORT, tmp_path_factory.mktemp("moto")) as endpoint:
        s3 = client("s3", endpoint)
        s3.create_bucket(Bucket="tfstate", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
        s3.put_object(Bucket="tfstate", Key="redisops/sandbox.tfstate", Body=json.dumps(STATE).encode())
        yield {"endpoint_url": endpoint, "region": "us-west-2", "access_key": "testing", "secret_key": "testing"}


@pytest.fixture(autouse=True)
def no_real_credentials(monkeypatch):
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_s3_object_is_read_with_the_aws_options(lookup, aws):
    values = lookup.run(["private_subnet_ids", "node_count"], variables={},
                        state="s3://tfstate/redisops/sandbox.tfstate", **aws)
    assert values == [OUTPUTS["private_subnet_ids"]["value"], 6]


def test_missing_s3_object_names_the_state(lookup, aws):
    location = "s3://tfstate/redisops/absent.tfstate"
    with pytest.raises(AnsibleLookupError, match="does not exist") as err:
        lookup.run(["region"], variables={}, state=location, **aws)
    assert location in str(err.value)


def test_missing_output_in_s3_state_names_the_s3_location(lookup, aws):
    location = "s3://tfstate/redisops/sandbox.tfstate"
    with pytest.raises(AnsibleLookupError) as err:
        lookup.run(["alarm_topic_arn"], variables={}, state=location, **aws)
    assert "'alarm_topic_arn'" in str(err.value) and location in str(err.value)
