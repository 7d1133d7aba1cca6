# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The iam_policy and sandbox_credentials lookups, loaded through Ansible's
plugin loader as a playbook would load them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

import pytest
from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import init_plugin_loader, lookup_loader
from ansible.utils.collection_loader import AnsibleCollectionConfig

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import sandbox_iam

COLLECTIONS_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), *[".."] * 7))
IAM_DIR = os.path.join(os.path.dirname(COLLECTIONS_DIR), "iam")
VALUES = {
    "account_id": "123456789012", "region": "us-west-2", "cluster_name": "sbx", "backup_bucket": "redisops-sbx-backups",
    "backup_prefix": "backups", "metrics_namespace": "RedisCluster", "node_role_name": "redisops-sbx-node",
    "backup_kms_key_arn": "arn:aws:kms:us-west-2:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
}


def load(name):
    if AnsibleCollectionConfig.collection_finder is None:
        for module in [n for n in sys.modules if n == "ansible_collections" or n.startswith("ansible_collections.")]:
            del sys.modules[module]
        init_plugin_loader([COLLECTIONS_DIR])
    plugin = lookup_loader.get("redisops.ec2_cluster." + name)
    assert plugin is not None
    return plugin


def test_renders_a_template_and_its_sandbox_copy():
    lookup = load("iam_policy")
    [node] = lookup.run(["node"], {}, values=VALUES, iam_dir=IAM_DIR)
    sids = [s["Sid"] for s in node["Statement"]]
    assert "ReadWriteOwnClusterBackups" in sids
    resources = {s["Sid"]: s["Resource"] for s in node["Statement"]}
    assert resources["ReadWriteOwnClusterBackups"] == "arn:aws:s3:::redisops-sbx-backups/backups/sbx/*"
    [copy] = lookup.run(["node"], {}, values=VALUES, iam_dir=IAM_DIR, sandbox=True)
    actions = {a for s in copy["Statement"] for a in s["Action"]}
    assert "monitoring:PutMetricData" in actions
    assert not any("Condition" in s for s in copy["Statement"])


def test_a_template_text_is_returned_unrendered_and_values_are_required_otherwise():
    lookup = load("iam_policy")
    [text] = lookup.run(["node"], {}, iam_dir=IAM_DIR, template=True)
    with open(os.path.join(IAM_DIR, "node.json.tpl")) as handle:
        assert text == handle.read()
    assert "${backup_kms_key_arn}" in text
    with pytest.raises(AnsibleLookupError, match="values are required unless template=true"):
        lookup.run(["node"], {}, iam_dir=IAM_DIR)


def test_a_missing_value_or_template_is_named():
    lookup = load("iam_policy")
    with pytest.raises(AnsibleLookupError, match="missing values for state_bucket, state_key"):
        lookup.run(["controller"], {}, values=dict(VALUES, builder_role_name="b"), iam_dir=IAM_DIR)
    with pytest.raises(AnsibleLookupError, match="no IAM policy template 'admin'"):
        lookup.run(["admin"], {}, values=VALUES, iam_dir=IAM_DIR)


def test_credentials_come_from_the_keys_file_else_the_dummy_key(tmp_path):
    lookup = load("sandbox_credentials")
    path = tmp_path / sandbox_iam.KEYS_FILE_NAME
    assert lookup.run(["controller"], {}, keys_file=str(path)) == [
        {"access_key": "testing", "secret_key": "testing", "user_name": ""}]
    path.write_text(sandbox_iam.render_keys({"controller": {
        "user_name": "redisops-sbx-controller", "access_key_id": "AKIA0123456789ABCDEF",
        "secret_access_key": "secret"}}, "http://127.0.0.1:5100"))
    assert lookup.run(["controller"], {}, keys_file=str(path)) == [
        {"access_key": "AKIA0123456789ABCDEF", "secret_key": "secret", "user_name": "redisops-sbx-controller"}]
    with pytest.raises(AnsibleLookupError, match="no key for principal node"):
        lookup.run(["node"], {}, keys_file=str(path))
    with pytest.raises(AnsibleLookupError, match="unknown principal root"):
        lookup.run(["root"], {}, keys_file=str(path))


def test_the_default_keys_file_is_in_the_sandbox_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("REDISOPS_SANDBOX_DIR", str(tmp_path))
    (tmp_path / sandbox_iam.KEYS_FILE_NAME).write_text(sandbox_iam.render_keys({"node": {
        "user_name": "redisops-sandbox-node", "access_key_id": "AKIAFEDCBA9876543210",
        "secret_access_key": "s"}}, "http://127.0.0.1:5000"))
    assert load("sandbox_credentials").run(["node"], {})[0]["access_key"] == "AKIAFEDCBA9876543210"
