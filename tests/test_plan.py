"""Change planning from content hashes: new, changed, unchanged, duplicate, gone."""

from __future__ import annotations

from pathlib import Path

from tasks.ingest import Fingerprint, InputFile
from tasks.store.plan import StoredDocument, StoredReject, plan_build


def fp(path: str, sha: str) -> Fingerprint:
    work = path.rsplit("/", 1)[0] if "/" in path else "."
    return Fingerprint(InputFile(Path("/in") / path, path, work), sha, 10)


def stored(path: str, sha: str) -> StoredDocument:
    work = path.rsplit("/", 1)[0] if "/" in path else "."
    return StoredDocument(sha[:16], work, path, sha, "en")


def test_first_build_ingests_everything() -> None:
    plan = plan_build([fp("w/a.txt", "a" * 64), fp("w/b.txt", "b" * 64)], [], [], [], prune=False)
    assert plan.summary() == {"new": 2, "changed": 0, "unchanged": 0, "missing": 0, "pruned": 0, "moved": 0}
    assert [w.work_id for w in plan.works] == ["w"]
    assert len(plan.works[0].to_ingest) == 2


def test_unchanged_input_is_nothing_to_do() -> None:
    plan = plan_build([fp("w/a.txt", "a" * 64)], [], [stored("w/a.txt", "a" * 64)], [], prune=False)
    assert plan.nothing_to_do
    assert plan.unchanged_work_ids == ("w",)


def test_new_translation_touches_only_its_work() -> None:
    plan = plan_build(
        [fp("w/a.txt", "a" * 64), fp("w/b.txt", "b" * 64), fp("v/c.txt", "c" * 64)],
        [], [stored("w/a.txt", "a" * 64), stored("v/c.txt", "c" * 64)], [], prune=False,
    )
    assert [w.work_id for w in plan.works] == ["w"]
    (work,) = plan.works
    assert [f.file.source_path for f in work.to_ingest] == ["w/b.txt"]
    assert [d.source_path for d in work.kept] == ["w/a.txt"]
    assert plan.unchanged_work_ids == ("v",)


def test_changed_file_replaces_its_old_version() -> None:
    plan = plan_build([fp("w/a.txt", "z" * 64)], [], [stored("w/a.txt", "a" * 64)], [], prune=False)
    (work,) = plan.works
    assert [d.content_sha256 for d in work.dropped] == ["a" * 64]
    assert plan.summary()["changed"] == 1


def test_removed_file_is_kept_unless_pruned() -> None:
    kept = plan_build([], [], [stored("w/a.txt", "a" * 64)], [], prune=False)
    assert kept.missing == ("w/a.txt",) and kept.nothing_to_do
    pruned = plan_build([], [], [stored("w/a.txt", "a" * 64)], [], prune=True)
    assert pruned.pruned == ("w/a.txt",)
    assert [d.source_path for d in pruned.works[0].dropped] == ["w/a.txt"]


def test_duplicate_content_is_stored_once_and_rejected_with_its_twin() -> None:
    plan = plan_build([fp("w/b.txt", "a" * 64), fp("w/a.txt", "a" * 64)], [], [], [], prune=False)
    assert [f.file.source_path for f in plan.works[0].to_ingest] == ["w/a.txt"]
    (reject,) = plan.rejections
    assert reject.reason == "duplicate" and reject.source_path == "w/b.txt"
    assert "w/a.txt" in reject.message


def test_duplicate_of_a_stored_document_keeps_the_stored_one() -> None:
    plan = plan_build([fp("w/a.txt", "a" * 64), fp("w/0.txt", "a" * 64)], [], [stored("w/a.txt", "a" * 64)], [],
                      prune=False)
    assert plan.nothing_to_do
    assert [(r.source_path, r.reason) for r in plan.rejections] == [("w/0.txt", "duplicate")]


def test_a_file_rejected_before_is_not_decoded_again_while_unchanged() -> None:
    plan = plan_build([fp("w/x.txt", "x" * 64)], [], [], [StoredReject("w/x.txt", "binary", "x" * 64)], prune=False)
    assert plan.nothing_to_do
    assert [r.reason for r in plan.reused_rejects] == ["binary"]
