"""node_files.check_request: the whole request is judged before the module
changes anything; properties over generated trees of paths."""

import posixpath

import pytest
from hypothesis import given, strategies as st

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import node_files

names = st.sampled_from(["a", "b", "etc", "lib"])
paths = st.lists(names, min_size=1, max_size=3).map(lambda parts: "/" + "/".join(parts))


def entry(path, mode="0644"):
    return {"path": path, "mode": mode}


@given(st.lists(paths, unique=True, max_size=6), st.lists(paths, unique=True, max_size=6))
def test_a_request_passes_exactly_when_it_is_consistent(directory_paths, file_paths):
    directories = [entry(p, "0755") for p in directory_paths]
    files = [entry(p) for p in file_paths]
    every = directory_paths + file_paths
    consistent = (len(set(every)) == len(every)
                  and not any(posixpath.dirname(p) in file_paths for p in every)
                  and all(posixpath.dirname(p) in directory_paths or posixpath.dirname(p) == "/" for p in file_paths))
    try:
        node_files.check_request(directories, files, [], existing_directories={"/"})
    except ValueError:
        assert not consistent
    else:
        assert consistent


@given(paths, paths)
def test_nothing_is_kept_under_an_absent_path(kept, gone):
    under = kept.startswith(gone + "/")
    try:
        node_files.check_request([entry(kept, "0755")], [], [gone], existing_directories=set())
    except ValueError as exc:
        assert under or kept == gone, exc
    else:
        assert not under and kept != gone


@pytest.mark.parametrize("path", ["etc/x", "/etc/../x", "/etc//x", "/", "/etc/x/"])
def test_paths_must_be_absolute_and_normalised(path):
    with pytest.raises(ValueError, match="absolute"):
        node_files.check_request([], [entry(path)], [], existing_directories={"/etc"})


@pytest.mark.parametrize("mode", ["644", "0644", "0755", "1777"])
def test_octal_modes_pass(mode):
    node_files.check_request([], [entry("/etc/x", mode)], [], existing_directories={"/etc"})


@pytest.mark.parametrize("mode", ["", "0648", "rw-r--r--", "u=rw", "06444", None])
def test_other_modes_fail(mode):
    with pytest.raises(ValueError, match="octal"):
        node_files.check_request([], [entry("/etc/x", mode)], [], existing_directories={"/etc"})


@pytest.mark.parametrize("current, desired, create_only, needed", [
    (None, b"x", False, True), (None, b"x", True, True),
    (b"x", b"x", False, False), (b"y", b"x", False, True), (b"y", b"x", True, False),
])
def test_needs_content(current, desired, create_only, needed):
    assert node_files.needs_content(current, desired, create_only) is needed
