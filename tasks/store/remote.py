"""The commit protocol of a corpus on an object store: no rename, no lock, a conditional create decides.

Table files are written as on a local disk: immutable, under names derived from their content, each by one PUT
(which a reader sees whole or not at all). A snapshot is published as the next numbered manifest version,
``_versions/<20-digit number>.json``, created with a conditional write (S3 ``If-None-Match: *``; GCS and Azure
have the same through fsspec's ``mode="create"``): of two builds that read version N, exactly one creates N+1,
and the other stops, saying so, without changing anything a reader follows. Before creating, a build checks
that the latest version is still the one it started from, so a build that started from an older version never
publishes over a newer one. The latest version is the current snapshot; ``manifest.json`` beside the tables is a
copy of it for people and tools that read one file (written after the version, so it may lag behind by one
build, never ahead). Readers can open any kept version.

Garbage collection keeps the files of the last ``keep`` versions (``CORPUS_KEEP_SNAPSHOTS``, default 3 on a
store), and deletes a table file only when no kept version names it and it was last written more than
``CORPUS_STORE_GRACE_SECONDS`` ago (default 24 h): a build still writing (even one that writes a file under a
name an old version used) is never robbed of its files, and a reader of a kept version always finds them.
A killed build leaves its files unnamed; they go once the grace period has passed.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from schemas import SEGMENTS, TABLES, Manifest
from tasks.errors import CorpusError, CorpusFormatError, CorpusLockedError
from tasks.fs import Store

VERSIONS_DIR = "_versions"
POINTER_NAME = "manifest.json"
GRACE_VARIABLE = "CORPUS_STORE_GRACE_SECONDS"
DEFAULT_GRACE_SECONDS = 24 * 3600
DEFAULT_KEEP_VERSIONS = 3

_VERSION = re.compile(rf"^{VERSIONS_DIR}/(\d{{20}})\.json$")
# What this program writes, and so what garbage collection may delete: nothing else under the prefix is touched.
_DIGEST_NAMED = "|".join(re.escape(t.name) for t in TABLES if t.name != SEGMENTS.name)
_TABLE_FILE = re.compile(rf"^(?:(?:{_DIGEST_NAMED})/[A-Za-z0-9_.-]+-[0-9a-f]{{16}}"
                         r"|segments/lang=[^/]+/[A-Za-z0-9_.-]+)\.parquet$")


def version_name(version: int) -> str:
    return f"{VERSIONS_DIR}/{version:020d}.json"


def versions(store: Store) -> list[int]:
    """The stored manifest versions, oldest first."""
    found = [_VERSION.match(name) for name in store.listing(VERSIONS_DIR)]
    return sorted(int(m.group(1)) for m in found if m)


def _parse(store: Store, version: int) -> Manifest:
    where = store.child_url(version_name(version))
    try:
        return Manifest.model_validate_json(store.read_bytes(version_name(version)))
    except ValidationError as error:
        raise CorpusFormatError(f"{where} is not a valid manifest ({error.errors()[0]['msg']})",
                                hint="remove that version object so that the one before it is current") from None
    except FileNotFoundError:
        raise CorpusFormatError(f"{where} is gone", hint="read a later version") from None


def load_version(store: Store, version: int | None = None) -> tuple[int, Manifest] | None:
    """The latest manifest version (or ``version``), None when the prefix holds no corpus."""
    stored = versions(store)
    if version is None:
        return (stored[-1], _parse(store, stored[-1])) if stored else None
    if version not in stored:
        shown = ", ".join(str(v) for v in stored[-10:]) or "none"
        raise CorpusError(f"{store.url} has no version {version} (kept versions: {shown})",
                          hint="pick a kept version, or leave --version out for the current one")
    return version, _parse(store, version)


def _same(a: Manifest | None, b: Manifest | None) -> bool:
    if a is None or b is None:
        return a is b
    return (a.build_id, a.written_at) == (b.build_id, b.written_at)


def commit(store: Store, manifest: Manifest, payload: bytes, base: Manifest | None) -> int:
    """Publish ``manifest`` as the version after ``base`` (the snapshot the build started from); the version
    number. Refused when another build published meanwhile, or wins the race for the same number."""
    current = load_version(store)
    latest, latest_manifest = current if current else (0, None)
    if not _same(latest_manifest, base):
        raise CorpusLockedError(
            f"another build published version {latest} of {store.url} while this one ran",
            hint="build again: it starts from that version and redoes only what is still missing")
    listing = store.listing()
    missing = [f.path for f in manifest.files() if f.path not in listing]
    if missing:
        raise CorpusFormatError(f"{store.url}: {len(missing)} file(s) of the new snapshot are gone "
                                f"(first {missing[0]}) before it was published", hint="build again")
    # The store decides (If-None-Match); reading the version back also catches a backend whose "create" is only a
    # check before the write (fsspec's fallback), unless both writes land between the other's check and read.
    if not store.create(version_name(latest + 1), payload) or store.read_bytes(version_name(latest + 1)) != payload:
        raise CorpusLockedError(f"another build published version {latest + 1} of {store.url} first",
                                hint="build again: it starts from that version and redoes only what is still missing")
    store.write_bytes(POINTER_NAME, payload)
    return latest + 1


def keep_versions() -> int:
    value = os.environ.get("CORPUS_KEEP_SNAPSHOTS", "").strip()
    try:
        return max(1, int(value)) if value else DEFAULT_KEEP_VERSIONS
    except ValueError:
        raise CorpusError(f"CORPUS_KEEP_SNAPSHOTS={value!r} is not a number of snapshots of 1 or more",
                          hint=f"unset it (default on a store: {DEFAULT_KEEP_VERSIONS})") from None


def grace_seconds() -> float:
    value = os.environ.get(GRACE_VARIABLE, "").strip()
    try:
        grace = float(value) if value else DEFAULT_GRACE_SECONDS
    except ValueError:
        grace = -1.0
    if grace < 0:
        raise CorpusError(f"{GRACE_VARIABLE}={value!r} is not a number of seconds",
                          hint=f"unset it (default {DEFAULT_GRACE_SECONDS} s)")
    return grace


def collect_garbage(store: Store, keep: int | None = None) -> list[str]:
    """Delete the table files no kept version names and nobody wrote within the grace period, and the versions
    older than the kept ones (never the latest); return what went."""
    keep = keep_versions() if keep is None else keep
    stored = versions(store)
    kept = stored[-keep:]
    needed = {f.path for v in kept for f in _parse(store, v).files()}
    grace = grace_seconds()
    cutoff = datetime.now(UTC) - timedelta(seconds=grace)
    listing = store.listing()
    gone = sorted(name for name, info in listing.items()
                  if _TABLE_FILE.match(name) and name not in needed
                  and (info.modified <= cutoff if info.modified is not None else grace == 0))
    old_versions = [version_name(v) for v in stored[:-keep]] if keep < len(stored) else []
    store.delete(gone + old_versions)
    return gone + old_versions
