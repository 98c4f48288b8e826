"""Ingest: find input files, fingerprint them, decode them. Every file ends up a document or a reject."""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TypeVar

from charset_normalizer.md import mess_ratio

from tasks.errors import StoreError
from tasks.fs import display, is_remote, open_store, read_object

__all__ = [
    "DecodedText",
    "Fingerprint",
    "InputFile",
    "Rejection",
    "decode_bytes",
    "discover_inputs",
    "fingerprint",
    "fingerprint_files",
    "read_document",
    "read_documents",
]


@dataclass(frozen=True, slots=True)
class InputFile:
    path: Path  # absolute path on disk
    source_path: str  # POSIX path relative to the input root
    work_id: str  # folder relative to the input root, "." for the root itself (unless grouped otherwise)
    work_assigned_by: str = "folder"  # folder, mapping (a works file) or auto (grouped by content)
    work_confidence: float = 1.0  # how sure an automatic grouping was, 0-1


@dataclass(frozen=True, slots=True)
class Rejection:
    source_path: str
    reason: str  # short code: empty, binary, too_large, unreadable, outside_input, ...
    message: str  # what happened and what a person should do
    content_sha256: str | None = None  # when the bytes could be read


@dataclass(frozen=True, slots=True)
class Fingerprint:
    file: InputFile
    content_sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class DecodedText:
    text: str  # decoded, original newlines kept (offsets point into this)
    encoding: str  # Python codec name: ``data.decode(encoding) == text``


# ---------------------------------------------------------------------------------------------------
# Discovery


def _is_ignored(name: str) -> bool:
    """Hidden entries and editor/OS droppings are not inputs, so they are skipped without a reject."""
    return (
        name.startswith(".")  # hidden, .DS_Store, .#lock, .x.swp
        or name.endswith("~")
        or (len(name) > 1 and name.startswith("#") and name.endswith("#"))
        or name.endswith((".swp", ".swo"))
    )


def _matches(parts: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    """Whether a relative path matches a glob, ``**`` standing for zero or more folders."""
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return _matches(parts, pattern[1:]) or (bool(parts) and _matches(parts[1:], pattern))
    return bool(parts) and fnmatchcase(parts[0], pattern[0]) and _matches(parts[1:], pattern[1:])


def _may_match_below(parts: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    """Whether some path strictly inside folder ``parts`` could match, so the folder is worth listing."""
    if not pattern:
        return False
    if not parts or pattern[0] == "**":
        return True
    return fnmatchcase(parts[0], pattern[0]) and _may_match_below(parts[1:], pattern[1:])


def _input_file(path: Path, parts: tuple[str, ...]) -> InputFile:
    return InputFile(
        path=path,
        source_path="/".join(parts),
        work_id="/".join(parts[:-1]) or ".",
    )


@dataclass(frozen=True, slots=True)
class _Folder:
    path: Path  # real path on disk
    parts: tuple[str, ...]  # as seen from the root, through the links that led here
    ancestors: frozenset[tuple[int, int]]  # (device, inode) of every folder on the way, itself included


def discover_inputs(root: Path, glob: str = "**/*.txt") -> tuple[list[InputFile], list[Rejection]]:
    """Input files under ``root`` whose relative path matches ``glob``, and the entries that were refused.

    Symbolic links are followed only while they stay inside ``root``; a link leading out of it is
    rejected without being read, a link cycle is rejected instead of walked forever, and a folder that
    cannot be listed is rejected instead of failing the run. Both lists are sorted by ``source_path``.
    ``root`` may be an object-store location (``tasks.fs``): its objects are the files, listed at once.
    """
    if is_remote(root):
        return _discover_objects(root, glob)
    real_root = root.resolve()
    try:
        root_stat = real_root.stat()
    except FileNotFoundError:  # the caller's mistake, not a file to reject
        raise FileNotFoundError(f"input folder {root} does not exist") from None
    if not stat.S_ISDIR(root_stat.st_mode):
        raise NotADirectoryError(f"input root {root} is not a folder")
    pattern = tuple(part for part in glob.split("/") if part not in ("", "."))
    files: list[InputFile] = []
    rejections: list[Rejection] = []
    stack = [_Folder(real_root, (), frozenset({(root_stat.st_dev, root_stat.st_ino)}))]
    while stack:
        folder = stack.pop()
        for entry_path, parts in _list_folder(folder, rejections):
            outcome = _classify(entry_path, parts, folder, real_root, pattern)
            if isinstance(outcome, InputFile):
                files.append(outcome)
            elif isinstance(outcome, Rejection):
                rejections.append(outcome)
            elif isinstance(outcome, _Folder):
                stack.append(outcome)
    files.sort(key=lambda f: f.source_path)
    rejections.sort(key=lambda r: r.source_path)
    return files, rejections


def _list_folder(folder: _Folder, rejections: list[Rejection]) -> Iterator[tuple[Path, tuple[str, ...]]]:
    shown = "/".join(folder.parts) or "."
    try:
        names = sorted(entry.name for entry in os.scandir(folder.path))
    except OSError as error:
        rejections.append(
            Rejection(
                shown,
                "unreadable",
                f"cannot list folder {shown}: {error.strerror or error}; make it readable "
                "(chmod u+rx) or move it out of the input folder.",
            )
        )
        return
    for name in names:
        if not _is_ignored(name):
            yield folder.path / name, (*folder.parts, name)


def _classify(
    path: Path,
    parts: tuple[str, ...],
    parent: _Folder,
    real_root: Path,
    pattern: tuple[str, ...],
) -> InputFile | Rejection | _Folder | None:
    """What one folder entry is: an input, a reject, a folder to walk, or nothing of interest."""
    shown = "/".join(parts)
    is_input = _matches(parts, pattern)
    may_hold_inputs = _may_match_below(parts, pattern)
    if not (is_input or may_hold_inputs):
        return None
    try:
        shown.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8, carried by Python as lone surrogates
        readable = shown.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        return Rejection(
            readable, "bad_name",
            f"the name {readable} is not valid UTF-8, so it cannot be stored; rename it.",
        )
    is_link = path.is_symlink()
    try:
        target = path.resolve(strict=True) if is_link else path
        info = target.stat()
    except RuntimeError:  # how Python < 3.13 reports a link cycle met while resolving
        return _loop_rejection(shown)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return _loop_rejection(shown)
        if is_link and isinstance(error, FileNotFoundError):
            return Rejection(
                shown, "broken_link",
                f"{shown} is a symbolic link to {os.readlink(path)}, which does not exist; "
                "fix the link or remove it.",
            )
        return Rejection(
            shown, "unreadable",
            f"cannot inspect {shown}: {error.strerror or error}; make it readable or remove it.",
        )
    is_folder = stat.S_ISDIR(info.st_mode)
    if not (may_hold_inputs if is_folder else is_input):
        return None
    if is_link and not target.is_relative_to(real_root):
        return Rejection(
            shown, "outside_input",
            f"{shown} is a symbolic link to {target}, outside the input folder, so it was not read; "
            "copy what it points to into the input folder if it belongs to the corpus.",
        )
    if is_folder:
        key = (info.st_dev, info.st_ino)
        if key in parent.ancestors:
            return _loop_rejection(shown)
        return _Folder(target, parts, parent.ancestors | {key})
    if not stat.S_ISREG(info.st_mode):
        return _not_a_file(shown)
    return _input_file(target, parts)


def _not_a_file(shown: str) -> Rejection:
    return Rejection(
        shown, "not_a_file",
        f"{shown} is not a regular file (a pipe, socket or device); remove it from the input folder.",
    )


def _loop_rejection(shown: str) -> Rejection:
    return Rejection(
        shown, "symlink_loop",
        f"{shown} is a symbolic link that leads back into itself; remove or fix the link.",
    )


# ---------------------------------------------------------------------------------------------------
# Reading

_CHUNK = 1 << 20


def _discover_objects(root: Path, glob: str) -> tuple[list[InputFile], list[Rejection]]:
    """The input objects under a store prefix (a store has no links, no special files, no unreadable folders)."""
    store = open_store(root)
    listing = store.listing()
    if not listing:
        raise StoreError(f"input {display(root)} holds no objects", hint="check the location (and --glob)")
    pattern = tuple(part for part in glob.split("/") if part not in ("", "."))
    files = [_input_file(root / name, tuple(name.split("/"))) for name in sorted(listing)
             if not any(_is_ignored(part) for part in name.split("/")) and _matches(tuple(name.split("/")), pattern)]
    return files, []


def _read_object(file: InputFile, max_bytes: int, keep: bool) -> tuple[str, int, bytes] | Rejection:
    """``_read`` for an object of a store: one ranged GET that reads at most ``max_bytes`` + 1 bytes."""
    shown = file.source_path
    try:
        data = read_object(file.path, max_bytes)
    except FileNotFoundError:
        return Rejection(shown, "vanished", f"{shown} disappeared before it could be read; re-run once the input "
                         "is stable.")
    if isinstance(data, int):
        return _too_large(shown, data, max_bytes)
    sha = hashlib.sha256(data).hexdigest()
    if not data:
        return _no_bytes(shown, sha)
    return sha, len(data), data if keep else b""


def _read(file: InputFile, max_bytes: int, keep: bool) -> tuple[str, int, bytes] | Rejection:
    """SHA-256 and size of the file (and its bytes when ``keep``), never reading past ``max_bytes``."""
    if is_remote(file.path):
        return _read_object(file, max_bytes, keep)
    shown = file.source_path
    try:
        # O_NONBLOCK: opening a pipe that slipped in as an input must not wait for a writer.
        fd = os.open(file.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return Rejection(
            shown, "vanished",
            f"{shown} disappeared before it could be read; re-run once the input folder is stable.",
        )
    except OSError as error:
        return Rejection(
            shown, "unreadable",
            f"cannot read {shown}: {error.strerror or error}; make it readable (chmod a+r) "
            "or move it out of the input folder.",
        )
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            return _not_a_file(shown)
        if info.st_size > max_bytes:
            return _too_large(shown, info.st_size, max_bytes)
        digest = hashlib.sha256()
        size = 0
        kept: list[bytes] = []
        try:
            while chunk := handle.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:  # the file grew after it was measured
                    return _too_large(shown, size, max_bytes)
                digest.update(chunk)
                if keep:
                    kept.append(chunk)
        except OSError as error:
            return Rejection(
                shown, "unreadable",
                f"reading {shown} failed: {error.strerror or error}; check the disk or copy the file "
                "somewhere readable.",
            )
    sha = digest.hexdigest()
    if size == 0:
        return _no_bytes(shown, sha)
    return sha, size, b"".join(kept)


def _no_bytes(shown: str, sha: str) -> Rejection:
    return Rejection(shown, "empty", f"{shown} is empty (0 bytes); add its text or remove it.", sha)


def _too_large(shown: str, size: int, max_bytes: int) -> Rejection:
    return Rejection(
        shown, "too_large",
        f"{shown} has {size:,} bytes, more than the limit of {max_bytes:,}; split it into smaller "
        "files or raise the size limit.",
    )


def fingerprint(file: InputFile, max_bytes: int) -> Fingerprint | Rejection:
    """Content hash and size of an input file, streamed so that a large file is never held in memory."""
    result = _read(file, max_bytes, keep=False)
    if isinstance(result, Rejection):
        return result
    sha, size, _ = result
    return Fingerprint(file, sha, size)


STORE_READERS = 16  # objects of a store fingerprinted at once: each read is mostly waiting for the network


_T = TypeVar("_T")
_R = TypeVar("_R")


def _each(read: Callable[[_T], _R], items: Sequence[_T], on_store: bool) -> list[_R]:
    """``read`` of each item, in order: objects of a store several at a time (threads: the waiting is network
    I/O), local files one after the other as always."""
    if not on_store:
        return [read(item) for item in items]
    with ThreadPoolExecutor(STORE_READERS) as pool:
        return list(pool.map(read, items))


def fingerprint_files(files: list[InputFile], max_bytes: int) -> list[Fingerprint | Rejection]:
    """``fingerprint`` of each file, in order."""
    return _each(lambda f: fingerprint(f, max_bytes), files, any(is_remote(f.path) for f in files))


def read_documents(fps: Sequence[Fingerprint], max_bytes: int) -> list[tuple[DecodedText, str] | Rejection]:
    """``read_document`` of each, in order."""
    return _each(lambda fp: read_document(fp, max_bytes), fps, any(is_remote(fp.file.path) for fp in fps))


def read_document(fp: Fingerprint, max_bytes: int) -> tuple[DecodedText, str] | Rejection:
    """Decoded text of a fingerprinted file, and its content SHA-256 (the fingerprint's).

    The bytes are hashed again as they are read, so a file that was modified after it was
    fingerprinted is rejected instead of being stored under a hash that does not describe it.
    """
    result = _read(fp.file, max_bytes, keep=True)
    if isinstance(result, Rejection):
        return result
    sha, _, data = result
    shown = fp.file.source_path
    if sha != fp.content_sha256:
        return Rejection(
            shown, "changed_during_run",
            f"{shown} changed while this run was reading it; re-run once nothing is writing to it.",
            sha,
        )
    decoded = decode_bytes(data, source_path=shown)
    if isinstance(decoded, Rejection):
        return replace(decoded, content_sha256=sha)
    return decoded, sha


# ---------------------------------------------------------------------------------------------------
# Decoding

_BOMS: tuple[tuple[bytes, str], ...] = (
    # UTF-32 first: its little-endian BOM begins with UTF-16's.
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or a .docx/.odt/.epub document)"),
    (b"PK\x05\x06", "a ZIP archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"\x7fELF", "a program"),
)

# Legacy code pages in the order that settles ties, as several often decode a file equally cleanly.
# Western European first, the most common. Then the multi-byte East Asian ones: a strict multi-byte
# decode that also reads cleanly is strong evidence. Then the single-byte ones, a code page that
# leaves bytes undefined before one that would read its text as plausible words: Hebrew text reads
# as Cyrillic letters in cp1251, but Russian needs bytes cp1255 lacks. Latin-1 last: it differs from
# cp1252 only in the C1 control bytes, which cp1252 leaves undefined. Each choice is tested on
# realistic text in tests/test_ingest.py.
_LEGACY_ENCODINGS: tuple[str, ...] = (
    "cp1252",
    "gb18030",
    "big5",
    "cp932",
    "cp949",
    "euc_jp",
    "big5hkscs",
    "cp874",
    "cp1255",
    "cp1251",
    "cp1253",
    "cp1250",
    "cp1256",
    "cp1254",
    "cp1257",
    "cp1258",
    "koi8_r",
    "koi8_u",
    "latin-1",
)

# charset-normalizer's own cut-off: above it a decoding is considered garbled.
_MAX_MESS = 0.2
# Enough text to judge a decoding by; the ASCII-only lines read the same in every candidate.
_SAMPLE_CHARS = 50_000
# Control characters (Unicode category Cc) other than tab and the line and page breaks.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
# Symbols (math, currency, modifiers, other) and superscripts or fractions rarely follow a letter
# directly; when a decoding puts many there, they were letters in another code page.
_GLUED_CATEGORIES = frozenset({"Sm", "Sc", "Sk", "So", "No"})
# One misplaced character per 100 letters already marks a decoding as garbled.
_MISPLACED_WEIGHT = 20.0


def decode_bytes(data: bytes, *, source_path: str = "") -> DecodedText | Rejection:
    """Text of a file's bytes, or why it is not text. Never raises.

    Order: a byte-order mark decides (UTF-8/16/32); binary signatures and NUL bytes (unless they are
    BOM-less UTF-16) mean binary; then strict UTF-8; then the legacy code page that reads most
    plausibly by charset-normalizer's mess measure. Newlines are kept exactly as in the file.
    """
    shown = source_path or "the file"
    if not data:
        return _empty(source_path, shown)
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), None)
    if encoding is None:
        kind = next((kind for magic, kind in _MAGIC if data.startswith(magic)), None)
        if kind is not None:
            return _binary(source_path, shown, kind)
        if b"\x00" in data:
            encoding = _bomless_utf16(data)
            if encoding is None:
                return _binary(source_path, shown, "binary data (it contains NUL bytes)")
        elif _is_utf8(data):
            encoding = "utf-8"
        else:
            encoding = _best_legacy(data)
            if encoding is None:
                return Rejection(
                    source_path, "undecodable",
                    f"{shown} is not UTF-8 and does not read cleanly in any common legacy encoding; "
                    "convert it to UTF-8 or remove it.",
                )
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        return Rejection(
            source_path, "undecodable",
            f"{shown} looks like {encoding} but byte {error.start} is invalid there (a truncated or "
            "corrupted file?); convert it to UTF-8 or remove it.",
        )
    if not text.strip():
        return _empty(source_path, shown)
    if len(_CONTROLS.findall(text)) * 10 > len(text):
        return _binary(source_path, shown, "binary data (it is mostly control characters)")
    return DecodedText(text, encoding)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without a byte-order mark, recognised by NULs in every other byte of mostly-ASCII text."""
    if len(data) % 2:
        return None
    half = len(data) // 2
    nul_even = data[0::2].count(0)
    nul_odd = data[1::2].count(0)
    if nul_odd * 10 >= half * 7 and nul_even * 20 <= half:
        return "utf-16-le"
    if nul_even * 10 >= half * 7 and nul_odd * 20 <= half:
        return "utf-16-be"
    return None


def _best_legacy(data: bytes) -> str | None:
    """The legacy code page whose decoding reads most like text, or None if every one is garbled."""
    best: tuple[float, int, str] | None = None
    for rank, encoding in enumerate(_LEGACY_ENCODINGS):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        sample = _non_ascii_sample(text)
        mess = mess_ratio(sample, _MAX_MESS) + _misplaced_characters(sample)
        if mess < _MAX_MESS and (best is None or (mess, rank) < best[:2]):
            best = (mess, rank, encoding)
    return best[2] if best else None


def _non_ascii_sample(text: str) -> str:
    """The lines that differ between candidate decodings, up to ``_SAMPLE_CHARS`` characters."""
    lines: list[str] = []
    size = 0
    for line in text.splitlines(keepends=True):
        if not line.isascii():
            lines.append(line)
            size += len(line)
            if size >= _SAMPLE_CHARS:
                break
    return "".join(lines)


def _misplaced_characters(text: str) -> float:
    """Characters no writing system puts where they are, per letter, scaled like a mess ratio.

    A wrong code page turns letters into symbols glued to a word ("wi¹cej", "mo¿e", "s¹"), into
    combining marks with no letter to sit on, or into spelled-out Hangul jamo; charset-normalizer
    lets a few of those pass in short texts, but real words do not hold them.
    """
    letters = 0
    misplaced = 0
    for before, ch in zip(" " + text, text, strict=False):
        category = unicodedata.category(ch)
        if category[0] == "L":
            letters += 1
            misplaced += "\u3131" <= ch <= "\u318e"  # Hangul compatibility jamo
        elif category == "Mn":
            misplaced += not (before.isalpha() or unicodedata.category(before)[0] == "M")
        elif before.isalpha():
            misplaced += category in _GLUED_CATEGORIES or ch in "¿¡" or (ch.isdigit() and not ch.isascii())
    return _MISPLACED_WEIGHT * misplaced / letters if letters else 0.0


def _empty(source_path: str, shown: str) -> Rejection:
    return Rejection(
        source_path, "empty", f"{shown} contains no text (only whitespace); add its text or remove it."
    )


def _binary(source_path: str, shown: str, kind: str) -> Rejection:
    return Rejection(
        source_path, "binary",
        f"{shown} looks like {kind}, not plain text; export it as a .txt file or remove it.",
    )
