from __future__ import annotations

import os

from ansible import constants as C

from ansible_collections.redisops.ec2_cluster.plugins.plugin_utils import project


def test_the_project_is_where_the_ansible_cfg_in_use_is(monkeypatch, tmp_path):
    monkeypatch.setattr(C, "CONFIG_FILE", str(tmp_path / "ansible.cfg"), raising=False)
    assert project.project_dir() == str(tmp_path)


def test_without_an_ansible_cfg_the_project_is_the_working_directory(monkeypatch, tmp_path):
    monkeypatch.setattr(C, "CONFIG_FILE", None, raising=False)
    monkeypatch.chdir(tmp_path)
    assert project.project_dir() == os.getcwd() == str(tmp_path)
