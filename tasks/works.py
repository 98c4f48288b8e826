"""Which work a document belongs to: its folder, a works file, or grouping by content.

* ``detect`` (default): like ``folder``, except in a folder that holds files of several works side by side,
  which shows as two of its files that look like one language (``tasks.langtag.same_language``) and are two
  different texts (``tasks.same_text``): the new files of such a folder are grouped by content, as with
  ``auto``. A folder per work, or one article with its translations in a flat folder, is never grouped by
  content, even when two of its languages are close (Malay and Indonesian, Serbian and Croatian) or one
  language is written two ways (Simplified and Traditional Chinese): their files are one text.
  Folders of one file each (a folder per language: ``en/article.txt``, ``fr/article.txt``) are grouped by
  content among themselves and with the stored documents alone in their work or grouped by content; a file
  that joins nothing keeps its folder's work.
* ``folder``: the file's folder relative to the input root.
* a works file (CSV with columns ``source_path,work_id``): names the work of the files it lists, overriding
  any guess; the way to correct a wrong automatic assignment.
* ``auto``: documents already in the corpus keep their work; each new file is decoded, tagged and
  segmented, reduced to a language-independent profile (numbers, Latin-script names and acronyms,
  transliterations; see ``tasks.grouping``) and compared with one representative per work. It joins the
  best work when the match is confident, else it starts a new work ``auto-<doc_id>``. Two documents in the
  same language never share a work. New files are placed richest profile first, then by content hash, so
  the grouping of one build does not depend on the order files are listed in.
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import posixpath
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from schemas import DocumentRow
from schemas.build import Grouping
from tasks.documents import doc_id_for, segments_from_table
from tasks.errors import WorksFileError
from tasks.grouping import WorkIndex, WorkProfile, profile_document
from tasks.ingest import Fingerprint, Rejection, read_document, read_documents
from tasks.langtag import same_language, signature_in_script, tag_language, text_script
from tasks.same_text import TextShape, same_text, text_shape
from tasks.segment import segment_text
from tasks.store.profile_cache import ProfileCache
from tasks.store.storage import load_manifest, read_segment_tables, segment_locations

AUTO_PREFIX = "auto-"


@dataclasses.dataclass(frozen=True, slots=True)
class WorksFile:
    """A works file read: the work of each listed file, and the rows that add nothing (for the build summary)."""

    path: Path
    mapping: Mapping[str, str]  # source_path -> work_id
    repeated: tuple[tuple[int, str], ...] = ()  # (line, source_path) of rows repeating an earlier row


def read_works_file(path: Path) -> WorksFile:
    """The works file: a CSV file with the columns ``source_path`` and ``work_id`` (more columns are ignored).

    A file listed twice with the same work is repeated (said in the summary); with two different works, the
    file cannot be used.
    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = {"source_path", "work_id"} - set(reader.fieldnames or ())
            if missing:
                raise WorksFileError(f"{path} needs the columns source_path and work_id (missing: "
                                     f"{', '.join(sorted(missing))})")
            mapping: dict[str, str] = {}
            first_line: dict[str, int] = {}
            repeated: list[tuple[int, str]] = []
            for line, row in enumerate(reader, start=2):
                source_path, work_id = (row["source_path"] or "").strip(), (row["work_id"] or "").strip()
                source_path = source_path and posixpath.normpath(source_path)  # ./en/a.txt is en/a.txt
                if not source_path or not work_id:
                    raise WorksFileError(f"{path}, line {line}: source_path and work_id must both be given")
                if source_path in mapping and mapping[source_path] != work_id:
                    raise WorksFileError(
                        f"{path}, line {line}: {source_path} is given the work {work_id!r}, but line "
                        f"{first_line[source_path]} gives it {mapping[source_path]!r}; keep one of the two rows")
                if source_path in mapping:
                    repeated.append((line, source_path))
                mapping[source_path] = work_id
                first_line.setdefault(source_path, line)
    except OSError as error:
        raise WorksFileError(f"cannot read the works file {path}: {error.strerror or error}") from error
    except (UnicodeDecodeError, csv.Error) as error:
        raise WorksFileError(f"{path} is not a UTF-8 CSV file: {error}") from error
    return WorksFile(path, mapping, tuple(repeated))


def works_file_warnings(works: WorksFile, fingerprints: Sequence[Fingerprint]) -> list[str]:
    """What a person should know about the rows of a works file: rows naming no input file (a typo, or a file
    moved), which are ignored, and rows repeating an earlier one."""
    inputs = {fp.file.source_path for fp in fingerprints}
    unmatched = sorted(path for path in works.mapping if path not in inputs)
    warnings = [f"works file {works.path}: {path} is not a file of the input folder; its row is ignored"
                for path in unmatched]
    warnings += [f"works file {works.path}, line {line}: {path} is listed again (same work); the row adds nothing"
                 for line, path in works.repeated]
    return warnings


def _version(fp: Fingerprint) -> tuple[str, str]:
    """A file version as the stored documents know it: its path and content hash."""
    return fp.file.source_path, fp.content_sha256


def _stored_versions(stored: Sequence[DocumentRow]) -> dict[tuple[str, str], DocumentRow]:
    return {(d.source_path, d.content_sha256): d for d in stored}


def _stored_profiles(cache: ProfileCache, out_dir: Path, stored: Sequence[DocumentRow]
                     ) -> list[tuple[DocumentRow, WorkProfile]]:
    """The profiles of stored documents: from the cache, else from their segments (and then cached)."""
    langs = {d.doc_id: d.lang for d in stored if cache.get(d.doc_id) is None}
    tables = read_segment_tables(out_dir, segment_locations(load_manifest(out_dir)), langs)
    cache.add({doc_id: profile_document(segments_from_table(table), langs[doc_id]) for doc_id, table in tables})
    return [(d, profile) for d in stored if (profile := cache.get(d.doc_id)) is not None]


def _new_profile(fp: Fingerprint, max_bytes: int) -> WorkProfile | None:
    read = read_document(fp, max_bytes)
    if isinstance(read, Rejection):
        return None  # the analysis stage rejects it again, with the reason
    decoded, _ = read
    tag = tag_language(decoded.text)
    return profile_document(segment_text(decoded.text, script=tag.script), tag.lang)


def group_by_content(
    fingerprints: Sequence[Fingerprint], stored: Sequence[DocumentRow], out_dir: Path, max_bytes: int,
    folders: Collection[str] | None = None, keep_alone: Collection[str] = (),
) -> list[Fingerprint]:
    """Fingerprints with the work of each new file decided by content (stored documents keep theirs);
    only the new files of the given ``folders`` (work ids by folder), if given. A file of a folder in
    ``keep_alone`` that joins no other document keeps its folder's work."""
    stored_versions = _stored_versions(stored)
    new = [fp for fp in fingerprints if _version(fp) not in stored_versions
           and fp.file.work_assigned_by == "folder" and (folders is None or fp.file.work_id in folders)]
    if not new:
        return list(fingerprints)
    index = WorkIndex()
    cache = ProfileCache(out_dir)
    # The paths being placed: a changed file's old version leaves, it must not keep the new one out of its work.
    placed = {fp.file.source_path for fp in new}
    by_work: dict[str, list[tuple[str, WorkProfile]]] = {}
    for document, profile in _stored_profiles(cache, out_dir, [d for d in stored if d.source_path not in placed]):
        by_work.setdefault(document.work_id, []).append((document.doc_id, profile))
    for stored_work, documents in by_work.items():
        index.add_work(stored_work, documents)
    profiles: dict[str, WorkProfile] = {}
    for fp in new:
        new_profile = _new_profile(fp, max_bytes)
        if new_profile is not None:
            profiles[fp.content_sha256] = new_profile
    cache.add({doc_id_for(sha): profile for sha, profile in profiles.items()})
    confidence: dict[str, float] = {}
    for sha in sorted(profiles, key=lambda sha: (-len(profiles[sha].anchors), sha)):
        match = index.best_match(profiles[sha])
        confidence[sha] = match.confidence if match.work_id is not None else 1.0 - match.confidence
        index.place(doc_id_for(sha), profiles[sha])
    work_of = index.assignments()
    given = {d.work_id for d in stored}

    members = Counter(work_of.values())

    def work_id(sha: str) -> str:
        work = work_of[doc_id_for(sha)]
        return work if work in given else AUTO_PREFIX + work

    def regrouped(fp: Fingerprint) -> bool:
        if fp.content_sha256 not in profiles or fp.file.source_path not in placed:
            return False
        return fp.file.work_id not in keep_alone or members[work_of[doc_id_for(fp.content_sha256)]] > 1

    return [
        dataclasses.replace(fp, file=dataclasses.replace(
            fp.file, work_id=work_id(fp.content_sha256), work_assigned_by="auto",
            work_confidence=round(confidence[fp.content_sha256], 4)))
        if regrouped(fp) else fp
        for fp in fingerprints
    ]


def lone_folders(fingerprints: Sequence[Fingerprint], stored: Sequence[DocumentRow]
                 ) -> tuple[set[str], list[DocumentRow]]:
    """The folders whose work would be one new file alone, and the stored documents alone in their work or in a
    work made by content, when there are two such works or more: translations in a folder per language
    (``en/article.txt``, ``fr/article.txt``), which as folder works would have nothing to be aligned with.

    A folder per work whose works have several files, or a single new work of one file among complete works,
    finds none, and costs nothing more.
    """
    stored_versions = _stored_versions(stored)
    contents: dict[str, set[str]] = {}
    new_in: set[str] = set()
    for fp in fingerprints:
        if fp.file.work_assigned_by == "folder":
            contents.setdefault(fp.file.work_id, set()).add(fp.content_sha256)
            if _version(fp) not in stored_versions:
                new_in.add(fp.file.work_id)
    lone = {folder for folder, shas in contents.items() if len(shas) == 1 and folder in new_in}
    replaced = {fp.file.source_path for fp in fingerprints if fp.file.work_id in lone}
    stored_sizes = Counter(d.work_id for d in stored)
    stored_lone = [d for d in stored if (stored_sizes[d.work_id] == 1 or d.work_assigned_by == "auto")
                   and d.source_path not in replaced]
    return (lone, stored_lone) if lone and len(lone) + len(stored_lone) >= 2 else (set(), [])


def crowded_folders(fingerprints: Sequence[Fingerprint], stored: Sequence[DocumentRow], max_bytes: int) -> set[str]:
    """The folders with new files that hold files of several works side by side: two files that look like one
    language and are two texts (``tasks.same_text``), not one text in two close languages.

    Only folders with a new file are looked at (the others do not change), and only files whose script
    another file of the folder shares are compared further.
    """
    stored_versions = _stored_versions(stored)
    by_folder: dict[str, dict[str, Fingerprint]] = {}
    for fp in fingerprints:
        if fp.file.work_assigned_by == "folder":  # a copy of a file is a duplicate, not a second document
            by_folder.setdefault(fp.file.work_id, {}).setdefault(fp.content_sha256, fp)
    crowded: set[str] = set()
    for folder, by_content in by_folder.items():
        members = list(by_content.values())
        known = [stored_versions[_version(fp)] for fp in members if _version(fp) in stored_versions]
        if len(members) > 1 and len(known) < len(members) and (
                any(d.work_assigned_by == "auto" for d in known) or _two_texts_in_one_language(members, max_bytes)):
            crowded.add(folder)
    return crowded


def _two_texts_in_one_language(members: Sequence[Fingerprint], max_bytes: int) -> bool:
    """Whether two of the files look like one language (one script, and alike letter trigrams unless the script
    has a single language) and are two different texts."""
    reads = read_documents(members, max_bytes)
    texts = [read[0].text for read in reads if not isinstance(read, Rejection)]
    by_script: dict[str, list[str]] = {}
    for text in texts:
        script = text_script(text)
        if script is not None:
            by_script.setdefault(script, []).append(text)
    for script, same_script in by_script.items():
        if len(same_script) < 2:
            continue
        signatures = [signature_in_script(text, script) for text in same_script]
        shapes: dict[int, TextShape] = {}  # made only for files that look like another's language
        for a, b in itertools.combinations(range(len(same_script)), 2):
            if not same_language(signatures[a], signatures[b]):
                continue
            for k in (a, b):
                if k not in shapes:
                    shapes[k] = text_shape(segment_text(same_script[k], script=script))
            if not same_text(shapes[a], shapes[b]):
                return True
    return False


def apply_works_file(fingerprints: Sequence[Fingerprint], mapping: Mapping[str, str]) -> list[Fingerprint]:
    """Fingerprints with the work named by the works file, for the files it lists."""
    return [
        dataclasses.replace(fp, file=dataclasses.replace(
            fp.file, work_id=mapping[fp.file.source_path], work_assigned_by="mapping", work_confidence=1.0))
        if fp.file.source_path in mapping else fp
        for fp in fingerprints
    ]


def assignment_needed(fingerprints: Sequence[Fingerprint], stored: Sequence[DocumentRow], grouping: Grouping,
                      works_file: Path | None) -> bool:
    """Whether ``assign_works`` can change anything: a works file names works, or there are new files to group
    (a file stored unchanged keeps its work whatever the grouping)."""
    if works_file is not None:
        return True
    stored_versions = _stored_versions(stored)
    return grouping is not Grouping.folder and any(_version(fp) not in stored_versions for fp in fingerprints)


def assign_works(
    fingerprints: Sequence[Fingerprint], stored: Sequence[DocumentRow], out_dir: Path, max_bytes: int,
    grouping: Grouping, works_file: Path | None,
) -> list[Fingerprint]:
    """The work of every input file: a works file first, then folders or grouping by content."""
    assigned = apply_works_file(fingerprints, read_works_file(works_file).mapping) if works_file else list(fingerprints)
    if grouping is Grouping.auto:
        assigned = group_by_content(assigned, stored, out_dir, max_bytes)
    elif grouping is Grouping.detect:
        crowded = crowded_folders(assigned, stored, max_bytes)
        if crowded:
            assigned = group_by_content(assigned, stored, out_dir, max_bytes, crowded)
        lone, stored_lone = lone_folders(assigned, stored)
        if lone:  # grouped with each other and the stored documents alone in their work, not with whole works
            assigned = group_by_content(assigned, stored_lone, out_dir, max_bytes, lone, keep_alone=lone)
    return assigned
