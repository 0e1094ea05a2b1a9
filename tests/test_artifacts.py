"""Versioned model artifacts: published whole or not at all; the newest is served and swapped in."""

from __future__ import annotations

from pathlib import Path

import pytest

from zhongcao import artifacts


def _write(root: Path, value: str) -> Path:
    with artifacts.new_version("demo_model", {"value": value}, root=root) as folder:
        (folder / "weights.txt").write_text(value)
    newest = artifacts.newest("demo_model", root)
    assert newest is not None
    return newest


def test_a_version_is_published_whole_with_its_metadata(tmp_path: Path) -> None:
    first = _write(tmp_path, "one")
    second = _write(tmp_path, "two")
    assert artifacts.versions("demo_model", tmp_path) == [first, second]
    meta = artifacts.read_metadata(second)
    assert meta["value"] == "two" and meta["name"] == "demo_model" and meta["version"] == second.name
    # A failed training leaves nothing behind, not even a temporary folder.
    with pytest.raises(RuntimeError), artifacts.new_version("demo_model", {}, root=tmp_path) as folder:
        (folder / "weights.txt").write_text("half")
        raise RuntimeError("training failed")
    assert artifacts.newest("demo_model", tmp_path) == second
    assert not [p for p in (tmp_path / "demo_model").iterdir() if p.name.startswith(".")]
    assert artifacts.prune("demo_model", keep=1, root=tmp_path) == [first]
    with pytest.raises(ValueError):
        artifacts.models_root("../escape", tmp_path)


def test_newest_swaps_in_a_new_version_and_keeps_serving_on_a_bad_one(tmp_path: Path) -> None:
    def load(path: Path) -> str:
        text = (path / "weights.txt").read_text()
        if text == "broken":
            raise ValueError("cannot load")
        return text

    served = artifacts.Newest("demo_model", load, root=tmp_path, poll_seconds=0.0)
    assert served.get() is None
    _write(tmp_path, "one")
    assert served.get() == "one"
    _write(tmp_path, "two")
    assert served.get() == "two"
    _write(tmp_path, "broken")
    assert served.get() == "two"
    assert served.last_error and "cannot load" in served.last_error


def test_two_trainers_at_once_publish_two_versions(tmp_path: Path) -> None:
    from zhongcao import clock

    # The same second for both.
    with clock.frozen(clock.now()), artifacts.new_version("demo_model", {"who": "a"}, root=tmp_path) as a:
        with artifacts.new_version("demo_model", {"who": "b"}, root=tmp_path) as b:
            (b / "weights.txt").write_text("b")
        (a / "weights.txt").write_text("a")
    published = artifacts.versions("demo_model", tmp_path)
    assert [artifacts.read_metadata(p)["who"] for p in published] == ["b", "a"]
    assert published[0].name.endswith("-001") and published[1].name.endswith("-002")
