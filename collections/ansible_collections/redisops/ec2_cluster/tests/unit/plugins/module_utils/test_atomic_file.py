"""atomic_file.replace on the real filesystem: the file is replaced whole, the
temporary one is private until prepared, and a failure leaves the old file
and nothing else."""

import os
import stat

import pytest

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import atomic_file


def test_replaces_the_file_whole_with_the_mode_prepare_gives(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text("old")
    modes = []

    def prepare(temporary):
        modes.append(stat.S_IMODE(os.stat(temporary).st_mode))
        os.chmod(temporary, 0o640)

    atomic_file.replace(str(path), b"new", prepare=prepare)
    assert path.read_bytes() == b"new"
    assert modes == [0o600] and stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["keys.json"]


def test_a_failed_prepare_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text("old")

    def prepare(temporary):
        raise OSError("no such user")

    with pytest.raises(OSError, match="no such user"):
        atomic_file.replace(str(path), b"new", prepare=prepare)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keys.json"]


def test_creates_a_missing_file(tmp_path):
    atomic_file.replace(str(tmp_path / "new"), b"x")
    assert (tmp_path / "new").read_bytes() == b"x"
