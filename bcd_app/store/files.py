"""Photo storage: one object per app that holds every file under generated keys, sealed for its owner (store/keys),
written atomically and removed for real, in a local folder or an S3-compatible bucket; the key layout (user /
session / image) is defined here and nowhere else."""

import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from flask import Flask, current_app

from . import keys

# Where a local write stands until it is renamed into place: a file of this prefix is never an object.
TEMPORARY_PREFIX = ".part-"


def user_prefix(user_id: uuid.UUID) -> str:
    """Where every file of a user lives."""
    return str(user_id)


def session_prefix(user_id: uuid.UUID, session_id: uuid.UUID) -> str:
    """Where every file of a session lives."""
    return f"{user_prefix(user_id)}/{session_id}"


def image_key(user_id: uuid.UUID, session_id: uuid.UUID, image_id: uuid.UUID, extension: str) -> str:
    """The key of an image: ids only, nothing from the client."""
    return f"{session_prefix(user_id, session_id)}/{image_id}.{extension}"


def working_key(key: str) -> str:
    """Where an image's working copy (decoded at the analysis's size, lossless) lives beside it."""
    return key.rsplit(".", 1)[0] + ".work.npy"


def display_key(key: str) -> str:
    """Where an image's display copy (what a preview shows: a phone-sized JPEG) lives beside it."""
    return key.rsplit(".", 1)[0] + ".display.jpg"


def key_owner(key: str) -> uuid.UUID:
    """The user a storage key belongs to (its first part)."""
    return uuid.UUID(key.split("/", 1)[0])


class Storage(Protocol):
    """Where objects live: a folder or a bucket."""

    def put(self, key: str, data: bytes) -> None:
        """Write an object whole (a reader never sees half of it)."""

    def get(self, key: str) -> bytes:
        """An object's bytes (FileNotFoundError when there is none)."""

    def delete(self, key: str) -> None:
        """Remove an object (a missing one is already removed)."""

    def delete_prefix(self, prefix: str) -> None:
        """Remove every object under a user's or a session's prefix."""

    def exists(self, key: str) -> bool:
        """Whether an object is there."""

    def list_keys(self) -> Iterator[str]:
        """Every object's key (for a backup)."""

    def sweep_temporary(self, older_than_seconds: float) -> int:
        """Remove what writes that never finished left behind (a killed process), older than this; how many."""


class LocalStorage:
    """Files under one folder (UPLOAD_DIR), every folder 0700."""

    def __init__(self, root: str) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise ValueError("storage key escapes the upload directory")
        return path

    def _private_folders(self, folder: Path) -> None:
        """Create `folder` and every missing folder between it and the root as 0700 (mkdir's parents=True would
        give the intermediate ones the umask's 0755: a user's folder readable by every local account)."""
        for part in reversed([folder, *folder.parents][: len(folder.relative_to(self.root).parts)]):
            part.mkdir(mode=0o700, exist_ok=True)

    def put(self, key: str, data: bytes) -> None:
        """Write `data` at `key` atomically: a temporary file in the same folder, fsync, rename."""
        path = self._path(key)
        self._private_folders(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMPORARY_PREFIX)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        """The bytes stored at `key` (FileNotFoundError when gone)."""
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        """Remove one file; a missing file is already removed."""
        self._path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> None:
        """Remove a user's or a session's folder with every file in it."""
        shutil.rmtree(self._path(prefix), ignore_errors=True)

    def exists(self, key: str) -> bool:
        """Whether a file is there."""
        return self._path(key).is_file()

    def list_keys(self) -> Iterator[str]:
        """Every file's key, skipping a write still in progress."""
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.startswith(TEMPORARY_PREFIX):
                yield str(path.relative_to(self.root))

    def sweep_temporary(self, older_than_seconds: float) -> int:
        """Remove temporary files of writes that never finished (a process killed between write and rename),
        older than `older_than_seconds`: a younger one may still be renamed into place by a live write."""
        cutoff = time.time() - older_than_seconds
        removed = 0
        for path in self.root.rglob(f"{TEMPORARY_PREFIX}*"):
            try:
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed


class SealedStorage:
    """Any storage, with every object sealed for the user its key names, under that key (so an object copied to
    another user's or another photo's key does not open: FileNotFoundError, as if it were not there)."""

    def __init__(self, inner: Storage) -> None:
        self.inner = inner

    def put(self, key: str, data: bytes) -> None:
        """Seal and write."""
        self.inner.put(key, keys.seal(key_owner(key), key, data))

    def get(self, key: str) -> bytes:
        """Read and open; an object that does not open under its key reads as missing."""
        try:
            return keys.open_sealed(key_owner(key), key, self.inner.get(key))
        except keys.Unreadable:
            raise FileNotFoundError(key) from None

    def delete(self, key: str) -> None:
        """Remove one object."""
        self.inner.delete(key)

    def delete_prefix(self, prefix: str) -> None:
        """Remove every object under a prefix."""
        self.inner.delete_prefix(prefix)

    def exists(self, key: str) -> bool:
        """Whether an object is there (sealed or not)."""
        return self.inner.exists(key)

    def list_keys(self) -> Iterator[str]:
        """Every object's key."""
        return self.inner.list_keys()

    def sweep_temporary(self, older_than_seconds: float) -> int:
        """Remove what unfinished writes left behind."""
        return self.inner.sweep_temporary(older_than_seconds)


def make_storage(config: dict) -> Storage:
    """The backend STORAGE_BACKEND names: "local" (UPLOAD_DIR) or "s3" (S3_BUCKET at S3_ENDPOINT_URL)."""
    if config["STORAGE_BACKEND"] == "s3":
        from .s3 import S3Storage

        return S3Storage(config["S3_BUCKET"], config["S3_PREFIX"], config["S3_ENDPOINT_URL"], config["S3_REGION"])
    os.makedirs(config["UPLOAD_DIR"], mode=0o700, exist_ok=True)
    return LocalStorage(config["UPLOAD_DIR"])


def init_app(app: Flask) -> None:
    """Bind the app's storage: the configured backend, every object sealed."""
    app.extensions["storage"] = SealedStorage(make_storage(app.config))


def storage() -> SealedStorage:
    """The running app's storage."""
    return current_app.extensions["storage"]
