# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side helpers shared by the collection's plugins."""

from __future__ import annotations

import os

from ansible import constants as C


def project_dir():
    """The project an Ansible run belongs to: the directory of the ansible.cfg
    in use, else the working directory (where the sandbox keeps its state)."""
    config = getattr(C, "CONFIG_FILE", None)
    return os.path.dirname(config) if config else os.getcwd()
