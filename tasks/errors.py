"""The errors a person meets, each with a message that says what is wrong and a hint that says what to do.

    CorpusError                     (message, hint)
     ├── CorpusFormatError          the output folder holds something unreadable: a newer schema, a broken
     │                              manifest, a file the manifest names that is missing or damaged
     ├── CorpusLockedError          another build holds the output folder's lock
     ├── NoSpaceError               the disk filled up while a build wrote its files
     └── BuildRefusedError          a build that would lose data unless told so (a prune of most of the
                                    corpus, an input folder with no input files or inside the output)

The command line catches ``CorpusError`` and prints ``error: <message>`` and the hint, never a traceback.
"""

from __future__ import annotations


class CorpusError(Exception):
    """An error for the person at the keyboard: ``message`` says what is wrong, ``hint`` what to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message, hint)  # both in args: the error survives pickling to and from worker processes
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message


class CorpusFormatError(CorpusError):
    """The output folder holds something this version cannot read (a newer schema, a broken manifest)."""


class CorpusLockedError(CorpusError):
    """Another build holds the output folder's lock."""


class NoSpaceError(CorpusError):
    """The disk filled up while a build wrote its files."""


class BuildRefusedError(CorpusError):
    """A build that would lose data, refused unless asked for explicitly."""
