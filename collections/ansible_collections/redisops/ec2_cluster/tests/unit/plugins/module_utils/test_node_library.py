"""The node library zip: same modules, same bytes; every module importable from it."""

import io
import zipfile

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import node_library as lib

names = st.from_regex(r"[a-z_][a-z0-9_]{0,12}\.py", fullmatch=True).filter(lambda n: n != "__init__.py")
libraries = st.dictionaries(names, st.binary(max_size=64), min_size=1, max_size=6)


@settings(derandomize=True, max_examples=60)
@given(libraries)
@example({"a.py": b"X = 1\n"})
def test_same_modules_same_bytes_whatever_the_order(modules):
    reordered = dict(reversed(list(modules.items())))
    data = lib.library_zip(modules)
    assert lib.library_zip(reordered) == data
    assert lib.artifact_name(lib.library_zip(reordered)) == lib.artifact_name(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        base = lib.PACKAGE.replace(".", "/") + "/"
        assert {n[len(base):]: archive.read(n) for n in archive.namelist() if n.startswith(base) and n[len(base):] in modules} == modules
        assert all(info.date_time == lib.FIXED_TIME for info in archive.infolist())
        assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())


@settings(derandomize=True, max_examples=60)
@given(libraries, st.data())
def test_any_changed_module_changes_the_artifact(modules, data):
    name = data.draw(st.sampled_from(sorted(modules)))
    changed = dict(modules, **{name: modules[name] + b"#"})
    assert lib.library_zip(changed) != lib.library_zip(modules)
    assert lib.artifact_name(lib.library_zip(changed)) != lib.artifact_name(lib.library_zip(modules))


def test_every_package_level_has_an_init_for_zipimport():
    paths = [path for path, _ in lib.entries({"x.py": b""})]
    assert paths[:5] == [
        "ansible_collections/__init__.py",
        "ansible_collections/redisops/__init__.py",
        "ansible_collections/redisops/ec2_cluster/__init__.py",
        "ansible_collections/redisops/ec2_cluster/plugins/__init__.py",
        "ansible_collections/redisops/ec2_cluster/plugins/module_utils/__init__.py",
    ]
    assert paths[5:] == ["ansible_collections/redisops/ec2_cluster/plugins/module_utils/x.py"]


@pytest.mark.parametrize("modules, message", [
    ({}, "at least one"),
    ({"../x.py": b""}, "not a module file name"),
    ({"dir/x.py": b""}, "not a module file name"),
    ({"x.txt": b""}, "not a module file name"),
    ({"__init__.py": b""}, "not a module file name"),
])
def test_bad_names_are_refused(modules, message):
    with pytest.raises(ValueError, match=message):
        lib.library_zip(modules)


def test_a_module_listed_twice_is_refused():
    with pytest.raises(ValueError, match="listed twice: a.py"):
        lib.check_module_names(["a.py", "b.py", "a.py"])


artifact_names = st.from_regex(r"redisops-node-library-[0-9a-f]{16}\.zip", fullmatch=True)
other_names = st.sampled_from(["notes.txt", "redisops-node-library-x.zip", ".node-library-abc", "other.zip"])
DAY = 86400.0


@settings(derandomize=True, max_examples=100)
@given(st.dictionaries(artifact_names | other_names, st.floats(0, 40 * DAY), max_size=12), st.data())
@example({"redisops-node-library-0000000000000000.zip": 0.0, "notes.txt": 0.0}, None)
def test_only_artifacts_unused_for_longer_than_the_age_go_and_never_the_current_one(files, data):
    now, max_age = 40 * DAY, 14 * DAY
    current = data.draw(st.sampled_from(sorted(files))) if data and files else "redisops-node-library-0000000000000000.zip"
    removed = lib.stale_artifacts(files, current, now, max_age)
    assert current not in removed
    for name in files:
        expected = name != current and name.startswith("redisops-node-library-") and len(name) == 42 \
            and now - files[name] > max_age
        assert (name in removed) == expected, name
    assert removed == sorted(removed)


def test_a_maximum_age_that_is_not_positive_is_refused():
    with pytest.raises(ValueError, match="positive"):
        lib.stale_artifacts({}, "x", 0, 0)
