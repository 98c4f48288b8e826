"""What a build has to do: compare the input folder's content hashes with the stored snapshot.

The output folder is the source of truth: the previous documents and rejects tables say which
file content is already in the corpus, so any machine can continue a corpus from the output alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tasks.errors import BuildRefusedError
from tasks.ingest import Fingerprint, Rejection, discover_inputs, fingerprint_files

TRANSIENT_REJECTS = frozenset({"changed_during_run"})  # rejects that the next build looks at again


@dataclass(frozen=True, slots=True)
class Inventory:
    """Every file of the input folder: fingerprinted, or rejected with a reason."""

    fingerprints: tuple[Fingerprint, ...]
    rejections: tuple[Rejection, ...]


def take_inventory(source: Path, glob: str, max_bytes: int) -> Inventory:
    """Find the input files and hash their bytes; nothing is decoded yet."""
    files, rejections = discover_inputs(source, glob)
    fingerprints: list[Fingerprint] = []
    for result in fingerprint_files(files, max_bytes):
        if isinstance(result, Rejection):
            rejections.append(result)
        else:
            fingerprints.append(result)
    return Inventory(tuple(fingerprints), tuple(rejections))


# A prune that would remove more than this share of the stored documents (and at least two of them) is refused
# unless confirmed: it is what a mistyped or empty input folder looks like.
PRUNE_SHARE_LIMIT = 0.1


def prune_refusal(plan: BuildPlan, n_stored: int) -> BuildRefusedError | None:
    """The error that refuses a prune of most of the corpus (None when the prune is small)."""
    n = len(plan.pruned)
    if n == 0 or ((n < 2 or n <= PRUNE_SHARE_LIMIT * n_stored) and n < n_stored):
        return None
    shown = ", ".join(plan.pruned[:3]) + (f" and {n - 3} more" if n > 3 else "")
    return BuildRefusedError(
        f"--prune would remove {n} of the corpus' {n_stored} documents ({shown}): their source files are not in "
        "the input folder",
        hint="check the input folder and --glob; `corpus build ... --prune --dry-run` lists what would go, "
        "and --prune --yes removes them",
    )


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """What the plan needs to know of a document already in the corpus."""

    doc_id: str
    work_id: str
    source_path: str
    content_sha256: str
    lang: str


@dataclass(frozen=True, slots=True)
class StoredReject:
    source_path: str
    reason: str
    content_sha256: str | None


@dataclass(frozen=True, slots=True)
class WorkPlan:
    """The changes to one work: documents to ingest, kept and dropped."""

    work_id: str
    to_ingest: tuple[Fingerprint, ...]
    kept: tuple[StoredDocument, ...]
    dropped: tuple[StoredDocument, ...]


@dataclass(frozen=True, slots=True)
class BuildPlan:
    works: tuple[WorkPlan, ...]  # only works that change
    unchanged_work_ids: tuple[str, ...]
    n_unchanged: int
    n_new: int
    n_changed: int
    missing: tuple[str, ...]  # stored documents whose source file is gone, kept (no --prune)
    pruned: tuple[str, ...]  # stored documents whose source file is gone, removed (--prune)
    rejections: tuple[Rejection, ...]  # found while planning: discovery, fingerprint and duplicates
    reused_rejects: tuple[StoredReject, ...] = field(default=())  # unchanged files rejected before
    decisions: tuple[str, ...] = field(default=())  # why each file is (not) processed, for DEBUG logs
    moved: tuple[str, ...] = field(default=())  # stored documents a works file puts into another work

    @property
    def nothing_to_do(self) -> bool:
        return not self.works

    def summary(self) -> dict[str, int]:
        return {
            "new": self.n_new,
            "changed": self.n_changed,
            "unchanged": self.n_unchanged,
            "missing": len(self.missing),
            "pruned": len(self.pruned),
            "moved": len(self.moved),
        }


def _duplicate(path: str, canonical: str, sha: str, canonical_is_stored_only: bool) -> Rejection:
    where = (
        f"{canonical}, which is already in the corpus although its source file is gone "
        "(build with --prune to drop it)"
        if canonical_is_stored_only
        else canonical
    )
    return Rejection(
        source_path=path,
        reason="duplicate",
        message=f"same content as {where}; it is stored once, under that path. "
        "Remove this copy if it is not meant to be a different document.",
        content_sha256=sha,
    )


def _moved(fp: Fingerprint, stored: StoredDocument) -> bool:
    """Whether a works file names another work for a stored document (a guess never moves a stored one)."""
    return fp.file.work_assigned_by == "mapping" and fp.file.work_id != stored.work_id


def plan_build(
    fingerprints: Sequence[Fingerprint],
    rejections: Sequence[Rejection],
    stored: Sequence[StoredDocument],
    stored_rejects: Sequence[StoredReject],
    *,
    prune: bool,
    reanalyse: bool = False,
) -> BuildPlan:
    """Decide, from content hashes, which files are new, changed, unchanged, duplicated or gone. With
    ``reanalyse`` (the boilerplate rules changed), every stored file still there is analysed again."""
    stored_by_path = {d.source_path: d for d in stored}
    current_paths = {fp.file.source_path for fp in fingerprints}
    gone = sorted((d for d in stored if d.source_path not in current_paths), key=lambda d: d.source_path)
    kept_gone = [] if prune else gone

    # Who holds each content: an unchanged stored file first, then a stored file whose source is gone
    # (kept), then the first current path in sorted order.
    holder: dict[str, tuple[str, bool]] = {}
    for fp in fingerprints:
        previous = stored_by_path.get(fp.file.source_path)
        if previous is not None and previous.content_sha256 == fp.content_sha256:
            holder.setdefault(fp.content_sha256, (fp.file.source_path, False))
    for d in kept_gone:
        holder.setdefault(d.content_sha256, (d.source_path, True))
    for fp in sorted(fingerprints, key=lambda f: f.file.source_path):
        holder.setdefault(fp.content_sha256, (fp.file.source_path, False))

    # A reject that says nothing about the content (the file changed while it was read) is never reused.
    rejected_before = {(r.source_path, r.content_sha256): r for r in stored_rejects
                       if r.content_sha256 and r.reason not in TRANSIENT_REJECTS}
    planned_rejections = list(rejections)
    reused: list[StoredReject] = []
    to_ingest: dict[str, list[Fingerprint]] = defaultdict(list)
    dropped: dict[str, list[StoredDocument]] = defaultdict(list)
    kept: dict[str, list[StoredDocument]] = defaultdict(list)
    n_new = n_changed = n_unchanged = 0
    decisions: list[str] = []
    moved: list[str] = []

    for fp in sorted(fingerprints, key=lambda f: f.file.source_path):
        path, sha = fp.file.source_path, fp.content_sha256
        previous = stored_by_path.get(path)
        if previous is not None and previous.content_sha256 == sha and _moved(fp, previous):
            # Only the pairs of the moved document change: its old work drops it, its new work ingests it.
            dropped[previous.work_id].append(previous)
            to_ingest[fp.file.work_id].append(fp)
            moved.append(path)
            decisions.append(f"moved: {path} from work {previous.work_id!r} to {fp.file.work_id!r} (works file)")
            continue
        if previous is not None and previous.content_sha256 == sha and reanalyse:
            dropped[previous.work_id].append(previous)
            to_ingest[fp.file.work_id].append(fp)
            n_changed += 1
            decisions.append(f"re-analyse: {path} (the boilerplate rules changed)")
            continue
        if previous is not None and previous.content_sha256 == sha:
            kept[previous.work_id].append(previous)
            n_unchanged += 1
            decisions.append(f"unchanged: {path} (sha256 {sha[:12]} already stored as {previous.doc_id})")
            continue
        if previous is not None:
            dropped[previous.work_id].append(previous)
            decisions.append(f"replaced: {path} (was sha256 {previous.content_sha256[:12]}, now {sha[:12]})")
        canonical, stored_only = holder[sha]
        if canonical != path:
            planned_rejections.append(_duplicate(path, canonical, sha, stored_only))
            decisions.append(f"duplicate: {path} has the content of {canonical}")
            continue
        if (path, sha) in rejected_before:
            reused.append(rejected_before[(path, sha)])
            decisions.append(f"still rejected: {path} (unchanged since it was rejected)")
            continue
        to_ingest[fp.file.work_id].append(fp)
        decisions.append(f"ingest: {path} into work {fp.file.work_id!r}")
        if previous is None:
            n_new += 1
        else:
            n_changed += 1

    for d in gone:
        (dropped if prune else kept)[d.work_id].append(d)
        decisions.append(f"{'pruned' if prune else 'kept although its file is gone'}: {d.source_path}")

    changed_works = sorted(set(to_ingest) | set(dropped))
    works = tuple(
        WorkPlan(
            work_id=w,
            to_ingest=tuple(to_ingest.get(w, ())),
            kept=tuple(sorted(kept.get(w, ()), key=lambda d: d.source_path)),
            dropped=tuple(dropped.get(w, ())),
        )
        for w in changed_works
    )
    unchanged_works = tuple(sorted(set(kept) - set(changed_works)))
    return BuildPlan(
        works=works,
        unchanged_work_ids=unchanged_works,
        n_unchanged=n_unchanged,
        n_new=n_new,
        n_changed=n_changed,
        missing=tuple(d.source_path for d in kept_gone),
        pruned=tuple(d.source_path for d in gone) if prune else (),
        rejections=tuple(sorted(planned_rejections, key=lambda r: r.source_path)),
        reused_rejects=tuple(reused),
        decisions=tuple(decisions),
        moved=tuple(moved),
    )
