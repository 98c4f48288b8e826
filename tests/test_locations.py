"""Locations: local paths stay paths, URLs name a store; a store's errors are one line. No extra needed: the
in-process ``memory://`` store of fsspec stands for an object store here (tests/test_object_store.py has S3)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from schemas.build import BuildParameters
from tasks import fs as store_fs
from tasks.fs import display, is_remote, store_url, to_location
from tasks.store import remote
from tasks.store.storage import load_manifest, read_table
from tests.helpers import SEEDS, TIMESTAMPS


@pytest.mark.parametrize(("text", "url"), [
    ("s3://bucket/corpus", "s3://bucket/corpus"),
    ("s3://bucket/a/b/", "s3://bucket/a/b"),
    ("gs://bucket/x", "gs://bucket/x"),
    ("az://container/x", "az://container/x"),
    ("output", None),
    ("/abs/output", None),
    ("s3/bucket", None),  # a folder called s3
    ("notascheme://x/y", None),
])
def test_urls_name_stores_and_paths_stay_paths(text: str, url: str | None) -> None:
    location = to_location(text)
    assert store_url(location) == url
    assert store_url(str(location)) == url  # what a Path's str gives (the Prefect flow's parameters) reads the same
    assert is_remote(location) is (url is not None)
    assert display(location) == (url or str(location))


def test_file_urls_are_local_paths(tmp_path: Path) -> None:
    assert to_location(f"file://{tmp_path}") == tmp_path
    assert to_location(Path(f"file://{tmp_path}")) == tmp_path  # as typer hands it over
    params = BuildParameters(source=f"file://{SEEDS}", out=f"file://{tmp_path / 'out'}")  # type: ignore[arg-type]
    assert params.source == SEEDS and params.out == tmp_path / "out"


def test_input_and_output_must_not_nest_on_a_store() -> None:
    with pytest.raises(ValueError, match="inside each other"):
        BuildParameters(source="s3://b/in", out="s3://b/in/out")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="inside each other"):
        BuildParameters(source="s3://b/corpus/in", out="s3://b/corpus")  # type: ignore[arg-type]
    assert BuildParameters(source="s3://b/in", out="s3://b/input-corpus").out == Path("s3:/b/input-corpus")  # type: ignore[arg-type]


def test_a_missing_extra_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(store_fs.importlib.util, "find_spec", lambda name: None)
    store_fs._STORES.clear()
    result = CliRunner().invoke(app, ["build", str(SEEDS), "--out", "gs://bucket/corpus"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: gs:// locations need the gcs extra (gcsfs is not installed); pip install 'parallel-corpus[gcs]'"]


def test_storage_options_must_be_a_json_object(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(store_fs.STORAGE_OPTIONS_VARIABLE, "endpoint=x")
    store_fs._STORES.clear()
    with pytest.raises(store_fs.StoreError, match="is not JSON"):
        store_fs.open_store("memory://bucket/x")
    monkeypatch.setenv(store_fs.STORAGE_OPTIONS_VARIABLE, json.dumps({"endpoint_url": "http://h:9000"}))
    assert store_fs.storage_options("s3") == {"client_kwargs": {"endpoint_url": "http://h:9000"}}


@pytest.fixture
def memory_store() -> Iterator[str]:
    import fsspec

    store_fs._STORES.clear()
    fs = fsspec.filesystem("memory")
    fs.mkdir("/corpus-test")
    yield "memory://corpus-test"
    fs.rm("/corpus-test", recursive=True)
    store_fs._STORES.clear()


def _rows(out: Path) -> dict[str, list[str]]:
    manifest = load_manifest(out)
    found = {}
    for name in ("documents", "segments", "alignments", "parallel", "rejects"):
        from schemas import TABLES

        table = next(t for t in TABLES if t.name == name)
        data = read_table(out, manifest, table)
        keep = [c for c in data.column_names if c not in TIMESTAMPS]
        found[name] = sorted(json.dumps(r, sort_keys=True, default=str) for r in data.select(keep).to_pylist())
    return found


def test_a_build_into_a_store_gives_the_rows_of_a_local_build(memory_store: str, tmp_path: Path) -> None:
    """The seeds into the in-process store: versions instead of a renamed manifest, the same rows."""
    for command in (["build", str(SEEDS), "--out", f"{memory_store}/corpus"],
                    ["build", str(SEEDS), "--out", str(tmp_path / "local")]):
        result = CliRunner().invoke(app, [*command, "--json", "--workers", "1"])
        assert result.exit_code == 0, result.output
    out = to_location(f"{memory_store}/corpus")
    assert _rows(out) == _rows(tmp_path / "local")
    store = store_fs.open_store(out)
    assert remote.versions(store) == [1]
    assert store.read_bytes(remote.POINTER_NAME) == store.read_bytes(remote.version_name(1))
    assert not (tmp_path / "s3:").exists() and not Path("memory:").exists()  # nothing local was written
