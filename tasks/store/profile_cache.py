"""The grouping profiles of stored documents, cached under ``OUT/.cache/profiles`` by doc_id.

Grouping by content compares each new file with the works already in the corpus, so it needs the profile
(``tasks.grouping.WorkProfile``) of every stored document. Computing them means reading every segment file of
the corpus; the cache keeps them from one build to the next, so a build that places one new file reads
the cache instead. It is derived data: deleting it only costs time, and a document's profile depends on its
content alone (its doc_id is a content hash), so an entry never goes stale. A change to how profiles are
made changes ``PROFILE_VERSION``, and shards of another version are ignored.

Each build that computes profiles adds one shard (gzipped JSON lines, written to a temp file and renamed);
when there are many, they are merged into one.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from tasks.files import atomic_binary
from tasks.fs import is_remote, open_store
from tasks.grouping import WorkProfile

PROFILE_VERSION = 3  # 2: the documents' outlines; 3: also anchors read by tasks.anchors (numbers by value)
_SHARD_SUFFIX = f".v{PROFILE_VERSION}.jsonl.gz"
_MAX_SHARDS = 8
_CACHE = ".cache/profiles"


def _encode(doc_id: str, profile: WorkProfile) -> str:
    return json.dumps({
        "doc_id": doc_id,
        "langs": sorted(profile.langs),
        # Positions are percentages (0-100), so the bytes are ASCII.
        "anchors": {k: v.decode("ascii") for k, v in sorted(profile.anchors.items())},
        "spellings": {k: v.decode("ascii") for k, v in sorted(profile.spellings.items())},
        "soft": sorted(profile.soft),
        "weak": sorted(profile.weak),
        "outlines": [list(outline) for outline in profile.outlines],
    }, ensure_ascii=False, sort_keys=True)


def _decode(line: str) -> tuple[str, WorkProfile]:
    data = json.loads(line)
    return data["doc_id"], WorkProfile(
        langs=frozenset(data["langs"]),
        anchors={k: v.encode("ascii") for k, v in data["anchors"].items()},
        spellings={k: v.encode("ascii") for k, v in data["spellings"].items()},
        soft=frozenset(data["soft"]),
        weak=frozenset(data["weak"]),
        outlines=tuple(tuple(int(n) for n in outline) for outline in data["outlines"]),
    )


class ProfileCache:
    """Profiles by doc_id, read from the cache folder's shards; ``add`` writes a new shard."""

    def __init__(self, out_dir: Path) -> None:
        self.cache_dir = out_dir / ".cache" / "profiles"
        self._profiles: dict[str, WorkProfile] = {}
        self._store = open_store(out_dir) if is_remote(out_dir) else None  # on an object store, objects beside it
        if self._store is not None:
            names = sorted(n for n in self._store.listing(_CACHE) if n.endswith(_SHARD_SUFFIX))
            self._shards = [out_dir / name for name in names]
            for name in names:
                self._profiles.update(_decode_shard(self._store.read_bytes(name)))
            return
        self._shards = sorted(self.cache_dir.glob("*" + _SHARD_SUFFIX)) if self.cache_dir.is_dir() else []
        for path in self._shards:
            self._profiles.update(_read_shard(path))

    def __len__(self) -> int:
        return len(self._profiles)

    def get(self, doc_id: str) -> WorkProfile | None:
        return self._profiles.get(doc_id)

    def add(self, profiles: Mapping[str, WorkProfile]) -> None:
        """Remember new profiles, in a new shard (all shards merged into one when there are many)."""
        fresh = {doc_id: p for doc_id, p in profiles.items() if doc_id not in self._profiles}
        if not fresh:
            return
        self._profiles.update(fresh)
        if len(self._shards) + 1 > _MAX_SHARDS:
            merged = self._write_shard(self._profiles.items())
            stale = [path for path in self._shards if path != merged]
            if self._store is not None:
                self._store.delete([f"{_CACHE}/{path.name}" for path in stale])
            else:
                for path in stale:
                    path.unlink(missing_ok=True)
            self._shards = [merged]
        else:
            self._shards.append(self._write_shard(fresh.items()))

    def _write_shard(self, profiles: Iterable[tuple[str, WorkProfile]]) -> Path:
        lines = "".join(_encode(doc_id, p) + "\n" for doc_id, p in sorted(profiles, key=lambda item: item[0]))
        payload = gzip.compress(lines.encode("utf-8"), mtime=0)
        name = hashlib.sha256(payload).hexdigest()[:32] + _SHARD_SUFFIX
        if self._store is not None:
            self._store.write_bytes(f"{_CACHE}/{name}", payload)
            return self.cache_dir / name
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        path = self.cache_dir / name
        with atomic_binary(path) as handle:
            handle.write(payload)
        return path


def _decode_shard(payload: bytes) -> dict[str, WorkProfile]:
    """A shard's profiles from its bytes; nothing from a shard that is not whole and well-formed."""
    try:
        lines = gzip.decompress(payload).decode("utf-8").splitlines()
        return dict(_decode(line) for line in lines if line.strip())
    except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _read_shard(path: Path) -> dict[str, WorkProfile]:
    """A shard's profiles; nothing from a shard that is not whole and well-formed (it is only a cache)."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            return dict(_decode(line) for line in handle if line.strip())
    except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError):
        return {}
