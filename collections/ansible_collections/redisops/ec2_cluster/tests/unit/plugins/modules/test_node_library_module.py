"""The node_library module: writes the zip once, named after its content; check mode writes nothing."""

import os
import time

import pytest

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import node_library as lib
from ansible_collections.redisops.ec2_cluster.plugins.modules import node_library as mod


@pytest.fixture
def src(tmp_path):
    directory = tmp_path / "module_utils"
    directory.mkdir()
    (directory / "a.py").write_bytes(b"A = 1\n")
    (directory / "b.py").write_bytes(b"B = 2\n")
    return directory


def test_writes_once_then_changes_nothing(src, tmp_path):
    dest = tmp_path / "build"
    first = mod.build(str(src), ["b.py", "a.py"], str(dest), check_mode=False)
    assert first["changed"] is True
    data = lib.library_zip({"a.py": b"A = 1\n", "b.py": b"B = 2\n"})
    assert first["path"] == str(dest / lib.artifact_name(data))
    assert (dest / lib.artifact_name(data)).read_bytes() == data
    assert first["size"] == len(data)
    again = mod.build(str(src), ["a.py", "b.py"], str(dest), check_mode=False)
    assert again == dict(first, changed=False)
    (src / "a.py").write_bytes(b"A = 3\n")
    changed = mod.build(str(src), ["a.py", "b.py"], str(dest), check_mode=False)
    assert changed["changed"] is True and changed["path"] != first["path"]
    assert sorted(p.name for p in dest.iterdir()) == sorted([lib.artifact_name(data), changed["path"].rsplit("/", 1)[1]])


def test_check_mode_writes_nothing(src, tmp_path):
    result = mod.build(str(src), ["a.py"], str(tmp_path / "build"), check_mode=True)
    assert result["changed"] is True
    assert not (tmp_path / "build").exists()


def test_a_missing_module_fails_before_writing(src, tmp_path):
    with pytest.raises(ValueError, match="gone.py"):
        mod.build(str(src), ["a.py", "gone.py"], str(tmp_path / "build"), check_mode=False)
    assert not (tmp_path / "build").exists()


def test_artifacts_unused_for_the_maximum_age_are_deleted_the_others_kept(src, tmp_path):
    dest = tmp_path / "build"
    dest.mkdir()
    old, recent = dest / ("redisops-node-library-%s.zip" % ("a" * 16)), dest / ("redisops-node-library-%s.zip" % ("b" * 16))
    unrelated = dest / "notes.txt"
    for path in (old, recent, unrelated):
        path.write_bytes(b"x")
    month_ago = time.time() - 30 * 86400
    os.utime(old, (month_ago, month_ago))
    os.utime(unrelated, (month_ago, month_ago))
    checked = mod.build(str(src), ["a.py"], str(dest), check_mode=True)
    assert checked["removed"] == [old.name] and old.exists()
    result = mod.build(str(src), ["a.py"], str(dest), check_mode=False)
    assert result["removed"] == [old.name]
    assert sorted(p.name for p in dest.iterdir()) == sorted([recent.name, unrelated.name, result["path"].rsplit("/", 1)[1]])


def test_a_run_that_uses_an_artifact_makes_it_recent(src, tmp_path):
    dest = tmp_path / "build"
    first = mod.build(str(src), ["a.py"], str(dest), check_mode=False)
    month_ago = time.time() - 30 * 86400
    os.utime(first["path"], (month_ago, month_ago))
    again = mod.build(str(src), ["a.py"], str(dest), check_mode=False)
    assert again["changed"] is False and again["removed"] == []
    assert time.time() - os.stat(first["path"]).st_mtime < 60
