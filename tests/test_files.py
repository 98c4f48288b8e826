"""Atomic writes (tasks/files.py): a reader sees the old file or the whole new one, and no temp file stays."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.files import FILE_MODE, _umask, atomic_binary, atomic_text


def test_a_whole_write_replaces_the_file_with_the_usual_permissions(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "cache.bin"
    with atomic_binary(target, durable=True) as handle:
        handle.write(b"one")
        assert not target.exists(), "nothing at the target before the write is complete"
    with atomic_text(target) as text:
        text.write("two\nlines ✓\n")
    assert target.read_bytes() == "two\nlines ✓\n".encode()
    assert target.stat().st_mode & 0o777 == FILE_MODE == 0o666 & ~_umask()
    assert [p.name for p in target.parent.iterdir()] == ["cache.bin"]


@pytest.mark.parametrize("failure", [OSError("disk"), KeyboardInterrupt()])
def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp_file(tmp_path: Path, failure: BaseException) -> None:
    target = tmp_path / "report.html"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(type(failure)), atomic_text(target) as handle:
        handle.write("half of the new")
        raise failure
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
