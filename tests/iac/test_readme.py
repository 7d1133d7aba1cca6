"""The README's IAM section says what iam/ and the sandbox copy really do."""

import os
import re

import pytest

from conftest import IAM_DIR, REPO
from ansible_collections.redisops.ec2_cluster.plugins.module_utils import iam_policies


@pytest.fixture(scope="module")
def readme():
    with open(os.path.join(REPO, "README.md")) as handle:
        return handle.read()


def test_the_controller_policy_in_the_readme_is_the_template(readme):
    section = readme.split("### Controller policy", 1)[1]
    (block,) = re.findall(r"```json\n(.*?)```", section.split("\n### ", 1)[0], re.S)
    with open(os.path.join(IAM_DIR, "controller.json.tpl")) as handle:
        assert block == handle.read()


@pytest.mark.parametrize("name", ["node", "operator"])
def test_the_readme_lists_everything_the_sandbox_does_not_enforce(readme, name):
    with open(os.path.join(IAM_DIR, name + iam_policies.TEMPLATE_SUFFIX)) as handle:
        text = handle.read()
    # Placeholders shown by name, as the README writes them.
    document = iam_policies.render(text, {key: "<%s>" % key for key in iam_policies.placeholders(text)}, name)
    _sandbox, relaxed = iam_policies.sandbox_copy(document, name)
    section = readme.split("### What the sandbox cannot enforce", 1)[1].split("\n## ", 1)[0]
    listed = section.split("%s:\n```\n" % name.capitalize(), 1)[1].split("```", 1)[0].splitlines()
    assert listed == iam_policies.describe_relaxations(relaxed)
