# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read outputs from a Terraform state (format version 4) without terraform.

Pure functions: no I/O, no Ansible imports, so the lookup plugin and any
module can share them and they are tested on their own.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

SUPPORTED_STATE_VERSION = 4
S3_SCHEME = "s3://"

# The outputs every Terraform state of the base resources provides
# (ARCHITECTURE section 3), with the type Terraform records for each in the
# state (its JSON type encoding). The terraform/ module and the sandbox's
# state are tested against this mapping.
CONTRACT_OUTPUTS = {
    "region": "string",
    "cluster_name": "string",
    "vpc_id": "string",
    "vpc_cidr": "string",
    "private_subnet_ids": ["map", "string"],
    "redis_security_group_id": "string",
    "redis_instance_profile": "string",
    "backup_bucket": "string",
    "backup_kms_key_arn": "string",
    "alarm_topic_arn": "string",
    # How the controller reaches the instances (docs/targets.md, "Reaching the nodes").
    "bastion_public_ip": "string",
    "key_pair_name": "string",
}


class TerraformStateError(Exception):
    """A state location, state document or output cannot be used."""


def parse_location(location):
    """Split a state location into ``("s3", bucket, key)`` or ``("file", path, None)``."""
    if not isinstance(location, str) or not location.strip():
        raise TerraformStateError("Terraform state location must be a non-empty path or s3://bucket/key")
    if location.startswith(S3_SCHEME):
        bucket, _sep, key = location[len(S3_SCHEME):].partition("/")
        if not bucket or not key:
            raise TerraformStateError(
                "Terraform state location %r is not of the form s3://bucket/key" % location
            )
        return "s3", bucket, key
    return "file", location, None


def parse_state(text, location):
    """Return ``{output name: value}`` from the text of a version 4 state.

    ``location`` only names the state in error messages.
    """
    try:
        state = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise TerraformStateError("Terraform state %s is not readable JSON: %s" % (location, exc))
    if not isinstance(state, dict):
        raise TerraformStateError("Terraform state %s is not a JSON object" % location)
    version = state.get("version")
    if version != SUPPORTED_STATE_VERSION:
        raise TerraformStateError(
            "Terraform state %s has format version %r; only version %d is supported"
            % (location, version, SUPPORTED_STATE_VERSION)
        )
    outputs = state.get("outputs", {})
    if not isinstance(outputs, dict):
        raise TerraformStateError("Terraform state %s has no valid 'outputs' object" % location)
    values = {}
    for name, output in outputs.items():
        if not isinstance(output, dict) or "value" not in output:
            raise TerraformStateError(
                "Terraform output '%s' in state %s has no 'value'" % (name, location)
            )
        values[name] = output["value"]
    return values


def select_outputs(outputs, names, location):
    """Return the values of ``names`` in order; a missing name is an error."""
    missing = [name for name in names if name not in outputs]
    if missing:
        raise TerraformStateError(
            "Terraform output%s %s not found in state %s (available: %s)"
            % (
                "s" if len(missing) > 1 else "",
                ", ".join("'%s'" % name for name in missing),
                location,
                ", ".join(sorted(outputs)) or "none",
            )
        )
    return [outputs[name] for name in names]
