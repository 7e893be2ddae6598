"""The one way files pass between requests, jobs and downloads: uploads waiting to be imported,
exports, print batches. Jobs receive storage keys in their parameters, never file contents.

The default is a folder (`JOB_FILES_DIR`, `instance/files`). Several machines share it as a mounted
volume in production (docs/operations.md, "Job workers"): a web instance stores an upload that a
worker on another machine reads, and serves a file that a worker wrote.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Protocol

from webapp.services.errors import N_, DomainError


class FileGone(DomainError):
    """A stored file that is no longer there (kept for a stated time, then deleted)."""

    code = "file_gone"
    http_status = 410
    message = N_("This file is no longer kept: it was deleted after its retention period.")


class BadStorageKey(ValueError):
    """A key that is not a plain relative path (a bug in the caller, never a user's input)."""


class Storage(Protocol):
    def writer(self, key: str) -> Iterator[BinaryIO]: ...
    def open(self, key: str) -> BinaryIO: ...
    def local_path(self, key: str) -> Path: ...
    def exists(self, key: str) -> bool: ...
    def size(self, key: str) -> int: ...
    def delete(self, key: str) -> None: ...
    def delete_prefix(self, prefix: str) -> int: ...
    def put_file(self, key: str, source: Path) -> None: ...


def checked_key(key: str) -> PurePosixPath:
    """A key as a relative path inside the storage: no absolute path, no `..`, no empty part."""
    path = PurePosixPath(key)
    if not key or path.is_absolute() or any(part in ("", ".", "..") for part in key.split("/")):
        raise BadStorageKey(key)
    return path


class FolderStorage:
    """Files under one folder. Writes are atomic (a temporary name, renamed when complete), so a
    reader never sees half a file and a worker killed mid-write leaves no file under the key."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def local_path(self, key: str) -> Path:
        return self.root.joinpath(*checked_key(key).parts)

    @contextmanager
    def writer(self, key: str) -> Iterator[BinaryIO]:  # type: ignore[override]
        target = self.local_path(key)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{secrets.token_hex(6)}.partial")
        try:
            with partial.open("wb") as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)

    def open(self, key: str) -> BinaryIO:
        try:
            return self.local_path(key).open("rb")
        except FileNotFoundError:
            raise FileGone() from None

    def exists(self, key: str) -> bool:
        return self.local_path(key).is_file()

    def size(self, key: str) -> int:
        try:
            return self.local_path(key).stat().st_size
        except FileNotFoundError:
            raise FileGone() from None

    def delete(self, key: str) -> None:
        self.local_path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> int:
        """Delete every file under a folder-like prefix (`jobs/12`); how many were deleted."""
        folder = self.local_path(prefix)
        if not folder.is_dir():
            return 0
        count = sum(1 for path in folder.rglob("*") if path.is_file())
        shutil.rmtree(folder, ignore_errors=True)
        return count

    def put_file(self, key: str, source: Path) -> None:
        """Move a file already on disk (an upload saved to a temporary name) under the key."""
        target = self.local_path(key)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.move(str(source), target)


def folder_storage(root: str | Path) -> FolderStorage:
    """The folder is made when the first file is written."""
    return FolderStorage(Path(root))
