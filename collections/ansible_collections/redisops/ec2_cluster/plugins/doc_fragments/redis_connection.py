# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options of the modules that talk to the node they run on
(module_utils/restore_node.py: connection_argument_spec)."""

from __future__ import annotations


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  login_host:
    description: Address of the node (its loopback by default).
    type: str
    default: 127.0.0.1
  login_port:
    description: Client port of the node.
    type: int
    default: 6379
  username:
    description: ACL user to authenticate as (the admin user).
    type: str
  password:
    description: Password of O(username).
    type: str
  tls:
    description: Connect with TLS.
    type: bool
    default: false
  tls_ca_cert_file:
    description: CA bundle that signed the node's certificate.
    type: path
  tls_cert_file:
    description: Client certificate, when the node requires one.
    type: path
  tls_key_file:
    description: Key of O(tls_cert_file).
    type: path
  connect_timeout:
    description: Seconds to wait for a connection.
    type: float
    default: 5
requirements:
  - redis (redis-py) >= 4.3
"""
