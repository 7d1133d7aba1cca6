#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: openpgp_verify
short_description: Verify a detached OpenPGP signature against a pinned key fingerprint
version_added: "0.2.0"
description:
  - Checks O(path) against its detached signature O(signature) with C(gpgv), using only the key(s) in O(key)
    (armored or binary), and succeeds only when C(gpgv) reports a valid signature by the key whose fingerprint is
    O(fingerprint) (as signing key or primary key).
  - A missing key file, a key with another fingerprint, a bad or missing signature all fail. Nothing is imported
    into any keyring; the module never changes anything (check mode runs the same check).
author:
  - redisops maintainers
requirements:
  - gpgv (Debian's gpgv package, which apt itself needs)
options:
  path:
    description: The signed file.
    type: path
    required: true
  signature:
    description: Its detached signature.
    type: path
    required: true
  key:
    description: The signer's public key as published (armored or binary).
    type: path
    required: true
  fingerprint:
    description: The pinned fingerprint (40 hex digits, spaces allowed).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Verify the CloudWatch agent package
  redisops.ec2_cluster.openpgp_verify:
    path: /tmp/agent/amazon-cloudwatch-agent.deb
    signature: /tmp/agent/amazon-cloudwatch-agent.deb.sig
    key: /tmp/agent/amazon-cloudwatch-agent.gpg
    fingerprint: 9376 16F3 450B 7D80 6CBD 9725 D581 6730 3B78 9C72
"""

RETURN = r"""
signers:
  description: Fingerprints gpgv vouched for (the pinned one among them).
  returned: success
  type: list
  elements: str
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.openpgp import (
    OpenPGPError,
    check_signature,
    dearmor,
    normalise_fingerprint,
    valid_signers,
)


def verify(module, path, signature, key, fingerprint):
    for what, name in (("file", path), ("signature", signature), ("key", key)):
        if not os.path.isfile(name):
            raise OpenPGPError("the %s %s does not exist" % (what, name))
    pinned = normalise_fingerprint(fingerprint)
    with open(key, "rb") as handle:
        packets = dearmor(handle.read())
    gpgv = module.get_bin_path("gpgv", required=True)
    with tempfile.TemporaryDirectory() as home:
        keyring = os.path.join(home, "pinned.gpg")
        with open(keyring, "wb") as handle:
            handle.write(packets)
        rc, out, err = module.run_command([gpgv, "--homedir", home, "--status-fd", "1", "--keyring", keyring,
                                           signature, path], environ_update={"LANG": "C"})
    check_signature(out, rc, pinned)
    return sorted(set(valid_signers(out)))


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "signature": {"type": "path", "required": True},
            "key": {"type": "path", "required": True, "no_log": False},
            "fingerprint": {"type": "str", "required": True},
        },
        supports_check_mode=True,
    )
    params = module.params
    try:
        signers = verify(module, params["path"], params["signature"], params["key"], params["fingerprint"])
    except OpenPGPError as exc:
        module.fail_json(msg="%s: %s" % (params["path"], exc))
    module.exit_json(changed=False, signers=signers)


if __name__ == "__main__":
    main()
