# -*- coding: utf-8 -*-
# Copyright: redisops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Where the backup modules find the bucket's S3 endpoint."""

    DOCUMENTATION = r"""
options:
  aws_region:
    description: AWS region.
    type: str
    required: true
  aws_endpoint_url:
    description: S3 endpoint (the sandbox's moto); empty for AWS.
    type: str
    default: ""
requirements:
  - boto3
"""
