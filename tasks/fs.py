"""Where a corpus and its input live: a local folder (the default) or an object store, through fsspec.

A location is a local path or a URL: ``s3://bucket/prefix`` (the ``s3`` extra, s3fs), ``gs://`` (``gcs``, gcsfs),
``az://`` / ``abfs://`` (``azure``, adlfs), ``file://`` (a local path written as a URL) and ``memory://`` (fsspec's
in-process store, for tests). fsspec is the layer because every reader of the corpus takes its URLs and options
as they are: DuckDB (``register_filesystem``), polars and pandas (``storage_options``), pyarrow (an fsspec
filesystem wraps into ``pyarrow.fs``) and Hugging Face ``datasets`` (``storage_options``), so the corpus is
written and read through the same library and the same credentials; s3fs, gcsfs and adlfs are kept by the
projects that maintain fsspec and Dask, which use them the same way.

A URL travels through a build as a :class:`~pathlib.Path` whose first part is its scheme (``Path("s3://b/k")``
is ``s3:/b/k``): every parameter, job and message keeps its type and pickles to worker processes and Dask
workers as before, and :func:`store_url` turns it back into the URL where a file is read or written. Local
paths never reach fsspec: the local code paths are unchanged.

Credentials and endpoints come from where each library reads them (for S3: the ``AWS_*`` variables, among them
``AWS_ENDPOINT_URL`` for MinIO or another S3-compatible server, and ``~/.aws``), plus ``CORPUS_STORAGE_OPTIONS``,
a JSON object of fsspec options (e.g. ``{"endpoint_url": "http://127.0.0.1:9000"}``) that every process of a
build reads, Dask workers included.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from schemas.locations import SCHEMES, is_remote, store_url, to_location
from tasks.errors import CorpusError, StoreError

__all__ = [
    "SCHEMES", "STORAGE_OPTIONS_VARIABLE", "Store", "display", "is_remote", "open_store", "store_url", "to_location",
]

STORAGE_OPTIONS_VARIABLE = "CORPUS_STORAGE_OPTIONS"


def display(location: Path | str) -> str:
    """How a location is shown to a person: the URL of a store, the path of a folder."""
    return store_url(location) or str(location)


def storage_options(scheme: str) -> dict[str, Any]:
    """fsspec options for every store of this process, from ``CORPUS_STORAGE_OPTIONS`` (a JSON object)."""
    raw = os.environ.get(STORAGE_OPTIONS_VARIABLE, "").strip()
    if not raw:
        return {}
    try:
        options = json.loads(raw)
    except ValueError as error:
        raise StoreError(f"{STORAGE_OPTIONS_VARIABLE} is not JSON ({error})",
                         hint='set it to a JSON object of fsspec options, e.g. {"endpoint_url": "http://host:9000"}'
                         ) from None
    if not isinstance(options, dict):
        raise StoreError(f"{STORAGE_OPTIONS_VARIABLE} must be a JSON object", hint="e.g. {\"anon\": false}")
    if scheme in ("s3", "s3a") and "endpoint_url" in options:  # s3fs takes the endpoint among the client's options
        options = dict(options)
        options.setdefault("client_kwargs", {})["endpoint_url"] = options.pop("endpoint_url")
    return options


@dataclass(frozen=True)
class ObjectInfo:
    """What a listing says of an object: its size and when it was last written."""

    size: int
    modified: datetime | None


@dataclass(frozen=True)
class Store:
    """An object-store prefix: ``fs`` (an fsspec filesystem) and ``root`` (the prefix, without its scheme)."""

    url: str
    fs: Any  # fsspec.AbstractFileSystem (fsspec has no type hints)
    root: str

    def path(self, relative: str = "") -> str:
        return f"{self.root}/{relative}" if relative else self.root

    def child_url(self, relative: str) -> str:
        return f"{self.url.rstrip('/')}/{relative}"

    def read_bytes(self, relative: str) -> bytes:
        with self.errors():
            data: bytes = self.fs.cat_file(self.path(relative))
        return data

    def write_bytes(self, relative: str, payload: bytes) -> None:
        """Put an object; a reader sees the old object or the whole new one (a PUT is atomic on every store)."""
        with self.errors():
            self.fs.pipe_file(self.path(relative), payload)

    def put_once(self, relative: str, payload: bytes) -> bool:
        """Put an object unless the same one is there: one conditional PUT for a new object (rather than a HEAD
        and a PUT), and a look at the size when one was there (a damaged object of that name is replaced). True
        when it was written."""
        if self.create(relative, payload):
            return True
        with self.errors():
            if int(self.fs.size(self.path(relative))) == len(payload):
                return False
        self.write_bytes(relative, payload)
        return True

    def create(self, relative: str, payload: bytes) -> bool:
        """Put an object only if none is there (S3 ``If-None-Match: *``, GCS ``ifGenerationMatch=0``); False when
        one already was. The store decides, so of two writers exactly one creates it."""
        try:
            with self.errors(exists_ok=True):
                self.fs.pipe_file(self.path(relative), payload, mode="create")
        except FileExistsError:
            return False
        return True

    def exists(self, relative: str) -> bool:
        with self.errors():
            return bool(self.fs.exists(self.path(relative)))

    def listing(self, relative: str = "") -> dict[str, ObjectInfo]:
        """Every object under the prefix (or under ``relative`` in it), by its path relative to the prefix; one
        paged LIST, not a request per object."""
        base = self.path(relative)
        with self.errors():
            self.fs.invalidate_cache(base)  # other processes (workers, other builds) write here too
            try:
                found = self.fs.find(base, detail=True)
            except FileNotFoundError:
                return {}
        listing: dict[str, ObjectInfo] = {}
        for name, info in found.items():
            if info.get("type") == "directory":
                continue
            relative_name = str(PurePosixPath(name).relative_to(self.root))
            listing[relative_name] = ObjectInfo(int(info.get("size") or 0), _modified(info))
        return listing

    def delete(self, relatives: list[str]) -> None:
        if relatives:
            with self.errors():
                self.fs.rm([self.path(r) for r in relatives])

    @contextmanager
    def errors(self, exists_ok: bool = False) -> Iterator[None]:
        """What the store says, as one line for a person: a missing extra, credentials, endpoint, bucket."""
        try:
            yield
        except CorpusError:
            raise
        except FileExistsError:
            if exists_ok:
                raise
            raise StoreError(f"{self.url}: an object is in the way", hint="remove it or choose another prefix"
                             ) from None
        except FileNotFoundError:  # a missing object: the caller's to judge (a missing table file is damage)
            raise
        except Exception as error:  # botocore, aiohttp, google-auth and azure raise their own
            raise _store_error(self.url, error) from None


def _modified(info: dict[str, Any]) -> datetime | None:
    value = info.get("LastModified") or info.get("mtime") or info.get("updated") or info.get("last_modified")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def _store_error(url: str, error: BaseException) -> StoreError:
    name = type(error).__name__
    text = str(error).splitlines()[0] if str(error) else name
    if name in ("NoCredentialsError", "PartialCredentialsError") or ("credentials" in text.lower() and (
            "unable to locate" in text.lower())):
        return StoreError(f"no credentials for {url}",
                          hint="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or a profile, or the store's own "
                               "login) for every process of the build")
    if isinstance(error, PermissionError) or (name in ("ClientError",) and "AccessDenied" in text):
        return StoreError(f"access to {url} denied ({text})",
                          hint="check the credentials and that they may read and write this bucket")
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ClientConnectorError", "ConnectionError",
                "ServerDisconnectedError") or isinstance(error, ConnectionError):
        return StoreError(f"cannot reach the store of {url} ({text})",
                          hint="check AWS_ENDPOINT_URL / endpoint_url in CORPUS_STORAGE_OPTIONS and the network")
    return StoreError(f"{url}: {name}: {text}", hint="check the location, the credentials and the endpoint")


_STORES: dict[str, Store] = {}


def open_store(location: Path | str) -> Store:
    """The store of a location given as a URL (or its Path form); one per process and URL."""
    url = store_url(location)
    if url is None:
        raise ValueError(f"{location} is a local path, not a store URL")
    cached = _STORES.get(url)
    if cached is not None:
        return cached
    scheme = url.split("://", 1)[0]
    module, extra = SCHEMES[scheme]
    if module is not None and importlib.util.find_spec(module) is None:
        raise StoreError(f"{scheme}:// locations need the {extra} extra ({module} is not installed)",
                         hint=f"pip install 'parallel-corpus[{extra}]'")
    import fsspec

    try:
        # Not fsspec's instance cache: it keys on the options given, not on the environment (AWS_ENDPOINT_URL,
        # credentials) a client reads when it is made, so a process pointed at another endpoint would get a client of
        # the old one. _STORES is the one cache, cleared where the environment changes.
        fs, root = fsspec.core.url_to_fs(url, skip_instance_cache=True, **storage_options(scheme))
    except CorpusError:
        raise
    except Exception as error:
        raise _store_error(url, error) from None
    store = Store(url.rstrip("/"), fs, str(root).rstrip("/"))
    _STORES[url] = store
    return store


def check_store(location: Path) -> Store:
    """Open a store location and ask it something, so that a missing bucket, wrong credentials or an endpoint
    that does not answer stop a build before any work, in one line."""
    store = open_store(location)
    bucket = store.root.split("/", 1)[0]
    try:
        with store.errors():
            store.fs.invalidate_cache(bucket)
            store.fs.ls(bucket)  # one LIST: it fails on a missing bucket, wrong credentials, no endpoint
    except FileNotFoundError:
        raise StoreError(f"{store.url}: the bucket {bucket!r} does not exist (or these credentials cannot see it)",
                         hint="create it, or check the location and the credentials") from None
    return store


def object_location(location: Path) -> tuple[Store, str]:
    """The store of an object's bucket (one per process and bucket) and the object's key in it."""
    url = store_url(location)
    if url is None:
        raise ValueError(f"{location} is a local path, not a store URL")
    scheme, rest = url.split("://", 1)
    bucket, _, key = rest.partition("/")
    return open_store(f"{scheme}://{bucket}"), key


def read_object(location: Path, max_bytes: int) -> bytes | int:
    """The bytes of an object, by one ranged GET that never reads more than ``max_bytes`` + 1 bytes; its size (an
    ``int``) instead when it is larger. FileNotFoundError when it is gone."""
    store, key = object_location(location)
    with store.errors():
        data: bytes = store.fs.cat_file(store.path(key), start=0, end=max_bytes + 1)
        if len(data) > max_bytes:
            return int(store.fs.size(store.path(key)))
    return data
