"""The node_files module on the real filesystem (tests run as root, so owners
and groups are real): one call keeps directories, files and absent paths,
changes nothing the second time, checks the whole request before it changes
anything, and check mode changes nothing."""

import json
import os
import stat

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.redisops.ec2_cluster.plugins.module_utils import atomic_file
from ansible_collections.redisops.ec2_cluster.plugins.modules import node_files


def run(capsys, check_mode=False, diff=False, **args):
    args.update(_ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(SystemExit):
        node_files.main()
    return json.loads(capsys.readouterr().out)


def mode_of(path):
    return "%04o" % stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def request_(tmp_path):
    return dict(
        directories=[{"path": str(tmp_path / "lib"), "mode": "0755"},
                     {"path": str(tmp_path / "state/private"), "mode": "0700"}],
        files=[{"path": str(tmp_path / "lib/program"), "content": "#!/bin/sh\necho hi\n", "mode": "0755"},
               {"path": str(tmp_path / "state/private/secret.json"), "content": '{"password": "x"}\n',
                "mode": "0600", "owner": "root", "group": "root"}],
        absent=[str(tmp_path / "old")],
    )


def test_makes_writes_removes_then_changes_nothing(capsys, tmp_path, request_):
    (tmp_path / "old").mkdir()
    (tmp_path / "old/stale.py").write_text("x")
    first = run(capsys, **request_)
    assert first["changed"] is True
    assert sorted(first["changed_paths"]) == sorted(
        [d["path"] for d in request_["directories"]] + [f["path"] for f in request_["files"]] + [str(tmp_path / "old")])
    assert (tmp_path / "lib/program").read_text() == "#!/bin/sh\necho hi\n"
    assert mode_of(tmp_path / "lib/program") == "0755"
    assert mode_of(tmp_path / "state/private") == "0700"
    assert mode_of(tmp_path / "state/private/secret.json") == "0600"
    assert not (tmp_path / "old").exists()
    second = run(capsys, **request_)
    assert second["changed"] is False and second["changed_paths"] == []


def test_check_mode_reports_and_changes_nothing(capsys, tmp_path, request_):
    result = run(capsys, check_mode=True, diff=True, **request_)
    assert result["changed"] is True
    assert not (tmp_path / "lib").exists() and not (tmp_path / "state").exists()
    program = [d for d in result["diff"] if d["after_header"] == str(tmp_path / "lib/program")]
    assert program == [dict(before_header=str(tmp_path / "lib/program"), after_header=str(tmp_path / "lib/program"),
                            before="", after="#!/bin/sh\necho hi\n")]


def test_check_mode_takes_a_missing_directory_for_one_an_earlier_task_makes(capsys, tmp_path):
    files = [{"path": str(tmp_path / "made-earlier/program"), "content": "x", "mode": "0755"}]
    result = run(capsys, check_mode=True, files=files)
    assert result["changed_paths"] == [files[0]["path"]] and not (tmp_path / "made-earlier").exists()
    assert "does not exist" in run(capsys, files=files)["msg"]


def test_a_mode_change_alone_is_changed_with_its_diff(capsys, tmp_path, request_):
    run(capsys, **request_)
    os.chmod(tmp_path / "lib/program", 0o644)
    result = run(capsys, diff=True, **request_)
    assert result["changed_paths"] == [str(tmp_path / "lib/program")]
    assert result["diff"][0]["before"] == {"mode": "0644"} and result["diff"][0]["after"] == {"mode": "0755"}
    assert mode_of(tmp_path / "lib/program") == "0755"


def test_content_change_shows_the_diff(capsys, tmp_path, request_):
    run(capsys, **request_)
    request_["files"][0]["content"] = "#!/bin/sh\necho bye\n"
    result = run(capsys, diff=True, **request_)
    assert result["changed_paths"] == [str(tmp_path / "lib/program")]
    assert result["diff"] == [dict(before_header=str(tmp_path / "lib/program"), after_header=str(tmp_path / "lib/program"),
                                   before="#!/bin/sh\necho hi\n", after="#!/bin/sh\necho bye\n")]


def test_create_only_leaves_an_existing_file_alone(capsys, tmp_path):
    path = tmp_path / "redis.conf"
    path.write_text("rewritten by the server\n")
    os.chmod(path, 0o600)
    result = run(capsys, files=[{"path": str(path), "content": "initial\n", "mode": "0640", "create_only": True}])
    assert result["changed"] is False
    assert path.read_text() == "rewritten by the server\n" and mode_of(path) == "0600"
    path.unlink()
    assert run(capsys, files=[{"path": str(path), "content": "initial\n", "mode": "0640", "create_only": True}])["changed"]
    assert path.read_text() == "initial\n" and mode_of(path) == "0640"


@pytest.mark.parametrize("mutate, message", [
    (lambda r, t: r["files"].append({"path": "relative/file", "content": "", "mode": "0644"}), "absolute"),
    (lambda r, t: r["files"].append(dict(r["files"][0])), "named twice"),
    (lambda r, t: r["files"][0].update(mode="644x"), "octal"),
    (lambda r, t: r["absent"].append(str(t / "state")), "to be absent"),
    (lambda r, t: r["files"].append({"path": str(t / "nowhere/file"), "content": "", "mode": "0644"}),
     "does not exist"),
    (lambda r, t: r["files"][1].update(owner="no-such-user-here"), "no user"),
    (lambda r, t: (t / "lib").write_text("a file"), "not a directory"),
    (lambda r, t: (t / "state/private/secret.json").mkdir(parents=True), "is a directory"),
])
def test_bad_requests_fail_before_anything_changes(capsys, tmp_path, request_, mutate, message):
    (tmp_path / "old").mkdir()
    mutate(request_, tmp_path)
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    result = run(capsys, **request_)
    assert result["failed"] is True and message in result["msg"], result
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


def test_a_file_is_replaced_whole_with_its_mode_from_the_start(capsys, tmp_path, monkeypatch):
    """The temporary file has the final mode before the rename: a secret is never readable by others."""
    path = tmp_path / "secret"
    path.write_text("old")
    os.chmod(path, 0o600)
    seen = []
    replace = os.replace

    def watching_replace(src, dst):
        seen.append((mode_of(src), open(src).read()))
        replace(src, dst)

    monkeypatch.setattr(atomic_file.os, "replace", watching_replace)
    run(capsys, files=[{"path": str(path), "content": "new", "mode": "0600"}])
    assert seen == [("0600", "new")] and path.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["secret"]
