"""Writing a file so that a reader sees the old file or the whole new one, never a part of it.

Every writer of the project goes through :func:`atomic_binary` or :func:`atomic_text`: the corpus' table
files and manifest, the export formats, the report, the embedding and profile caches. The new content is
written to a temp file beside the target (``.tmp-<name>-<random>``), renamed over it when complete, and
removed if anything fails, an interrupt included. Files get the permissions of any file the user creates
(the umask), not the 0600 of ``mkstemp``.
"""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, TextIO

__all__ = ["FILE_MODE", "TEMP_PREFIX", "atomic_binary", "atomic_text", "temp_path"]

TEMP_PREFIX = ".tmp-"


def _umask() -> int:
    """The process' umask (read without changing it where /proc tells it)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()


def temp_path(path: Path) -> Path:
    """Where ``path`` is written before it is renamed into place: a name that says whose temp file it is."""
    return path.with_name(f"{TEMP_PREFIX}{path.name}-{secrets.token_hex(4)}")


@contextmanager
def atomic_binary(path: Path, *, durable: bool = False) -> Iterator[BinaryIO]:
    """A binary file that appears at ``path`` only once the block has written it completely.

    ``durable``: fsync before the rename, so that after a crash of the machine the file is whole too."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_path(path)
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(temp, FILE_MODE)  # os.open's mode passes through the umask too: same result, said once more
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_text(path: Path) -> Iterator[TextIO]:
    """A UTF-8 text file with ``\\n`` line ends that appears at ``path`` only once completely written."""
    with atomic_binary(path) as raw:
        handle = io.TextIOWrapper(raw, encoding="utf-8", newline="\n")
        yield handle
        handle.flush()
        handle.detach()
