"""Offline checks of terraform/ and iam/ (make iac-check), run in .venv-iac.

The Terraform configuration is parsed with python-hcl2; nothing here needs the
terraform binary, a provider or the network.
"""

import os
import sys

import hcl2
import pytest
from hcl2 import SerializationOptions

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TERRAFORM = os.path.join(REPO, "terraform")
IAM_DIR = os.path.join(REPO, "iam")
sys.path.insert(0, os.path.join(REPO, "collections"))

# Literal strings without their quotes; expressions stay "${...}".
_OPTIONS = SerializationOptions(with_comments=False, explicit_blocks=False, strip_string_quotes=True)

# Values an operator would give; only used to render the templates here.
EXAMPLE_POLICY_VALUES = {
    "account_id": "123456789012",
    "backup_bucket": "redisops-prod-backups-123456789012",
    "backup_kms_key_arn": "arn:aws:kms:us-west-2:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    "backup_prefix": "backups",
    "builder_role_name": "redisops-prod-builder",
    "cluster_name": "prod",
    "log_group_name": "/aws/vpc/redisops-prod/flow-logs",
    "metrics_namespace": "RedisCluster",
    "node_role_name": "redisops-prod-node",
    "region": "us-west-2",
    "state_bucket": "acme-terraform-state",
    "state_key": "redisops/prod.tfstate",
    "ssm_transfer_bucket": "redisops-prod-ssm-transfer-123456789012",
}


def load_hcl(path):
    with open(path) as handle:
        return hcl2.load(handle, serialization_options=_OPTIONS)


class Module:
    """Every block of the configuration in terraform/*.tf, merged."""

    def __init__(self, directory):
        self.files = sorted(f for f in os.listdir(directory) if f.endswith(".tf"))
        self.blocks = {}
        self.text = {}
        for name in self.files:
            self.text[name] = open(os.path.join(directory, name)).read()
            for kind, entries in load_hcl(os.path.join(directory, name)).items():
                self.blocks.setdefault(kind, []).extend(entries)

    def resources(self, rtype=None):
        """{(type, name): body} of every resource (of one type)."""
        found = {}
        for entry in self.blocks.get("resource", []):
            for kind, named in entry.items():
                for name, body in named.items():
                    if rtype in (None, kind):
                        found[(kind, name)] = body
        return found

    def resource(self, rtype, name):
        return self.resources(rtype)[(rtype, name)]

    def data(self, dtype, name):
        for entry in self.blocks.get("data", []):
            if dtype in entry and name in entry[dtype]:
                return entry[dtype][name]
        raise KeyError((dtype, name))

    @property
    def outputs(self):
        return {name: body for entry in self.blocks.get("output", []) for name, body in entry.items()}

    @property
    def variables(self):
        return {name: body for entry in self.blocks.get("variable", []) for name, body in entry.items()}

    @property
    def locals(self):
        merged = {}
        for entry in self.blocks.get("locals", []):
            merged.update(entry)
        return merged


@pytest.fixture(scope="session")
def module():
    return Module(TERRAFORM)


def pytest_terminal_summary(terminalreporter):
    """List parliament's findings with their explanations (the iac-check report)."""
    try:
        from test_policies_parliament import EXPLAINED, REPORT
    except ImportError:
        return
    if not REPORT:
        return
    terminalreporter.section("parliament")
    for name, keys in REPORT:
        terminalreporter.write_line("%s: %d finding%s" % (name, len(keys), "" if len(keys) == 1 else "s"))
        for key in keys:
            terminalreporter.write_line("  %s %s: %s" % (key[1], key[2], EXPLAINED.get(key, "UNEXPLAINED")))
