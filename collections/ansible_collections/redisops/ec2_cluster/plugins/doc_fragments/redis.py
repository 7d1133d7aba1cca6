# -*- coding: utf-8 -*-
# Copyright: redisops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Connection options of every module (module_utils/redis_connection.py)."""

    DOCUMENTATION = r"""
options:
  login_user:
    description:
      - ACL user to authenticate as. Without it, O(login_password) is the default user's password.
    type: str
  login_password:
    description: Password of O(login_user) (or of the default user).
    type: str
  tls:
    description: Connect with TLS.
    type: bool
    default: false
  tls_ca_cert:
    description: CA certificate file that signed the nodes' certificates (with O(tls=true)).
    type: path
  tls_cert:
    description: Client certificate file, for nodes that require (or accept) client certificates.
    type: path
  tls_key:
    description: Private key of O(tls_cert).
    type: path
  tls_check_hostname:
    description: Check that the node's certificate names the address connected to.
    type: bool
    default: false
  connect_timeout:
    description: Seconds to wait for a TCP (and TLS) connection to a node.
    type: float
    default: 5
requirements:
  - redis (redis-py) >= 4.3
notes:
  - Connections never retry behind the module's back; every wait of the module is its own and bounded.
"""

    SINGLE_NODE = r"""
options:
  login_host:
    description: Address of the node to connect to.
    type: str
    default: 127.0.0.1
  login_port:
    description: Client port of the node (its TLS port when O(tls=true)).
    type: int
    default: 6379
"""
