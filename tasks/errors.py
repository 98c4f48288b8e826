"""The errors a person meets, each with a message that says what is wrong and a hint that says what to do.

    CorpusError                     (message, hint)
     ├── CorpusFormatError          the output folder holds something unreadable: a newer schema, a broken
     │                              manifest, a file the manifest names that is missing or damaged
     ├── CorpusNotFoundError        a folder to read holds no built corpus
     ├── CorpusLockedError          another build holds the output folder's lock
     ├── NoSpaceError               the disk filled up while a build wrote its files
     ├── BuildRefusedError          a build that would lose data unless told so (a prune of most of the
     │                              corpus, an input folder with no input files or inside the output)
     ├── WorksFileError             a works file (``--works``) that cannot be used
     ├── RulesFileError             a rules file (``--rules``) that cannot be used
     ├── UnknownLanguageError       a language the corpus does not have, or no pair of them sharing a work
     ├── UnknownWorkError           a work the corpus does not have
     ├── DestinationError           a place to write to that cannot take what is written (a file for a folder)
     ├── ServerUnavailableError     no Prefect server to serve a deployment with
     └── StoreError                 an object store that cannot be used (its extra missing, no credentials, an
                                    endpoint that does not answer, a missing bucket)

The ``corpus`` command line catches ``CorpusError`` in one place (``flows.cli``'s command group) and prints
``error: <message>; <hint>``, never a traceback, with exit code 2. ``eval`` has errors of its own for its gold
files and output folders, in the same tree.
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


class CorpusNotFoundError(CorpusError):
    """The folder holds no built corpus."""


class CorpusLockedError(CorpusError):
    """Another build holds the output folder's lock."""


class NoSpaceError(CorpusError):
    """The disk filled up while a build wrote its files."""


class BuildRefusedError(CorpusError):
    """A build that would lose data, refused unless asked for explicitly."""


class WorksFileError(CorpusError):
    """The works file cannot be used; the message says why and what to fix."""


class RulesFileError(CorpusError):
    """A rules file that cannot be used."""


class UnknownLanguageError(CorpusError):
    """A language the corpus does not have was asked for."""


class UnknownWorkError(CorpusError):
    """A work the corpus does not have was asked for."""


class DestinationError(CorpusError):
    """Where a command was told to write cannot take what it writes."""


class ServerUnavailableError(CorpusError):
    """No Prefect server to register the deployment with."""


class StoreError(CorpusError):
    """An object store that cannot be used: its extra is not installed, no credentials, no endpoint, no bucket."""
