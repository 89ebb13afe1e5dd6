"""Photo storage: one object per app that holds every file under generated keys, written atomically and removed
for real; the key layout (user / session / image) is defined here and nowhere else."""

import os
import shutil
import tempfile
import uuid
from pathlib import Path

from flask import Flask, current_app


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
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
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


def init_app(app: Flask) -> None:
    """Bind the app's storage (its root folder created private)."""
    os.makedirs(app.config["UPLOAD_DIR"], mode=0o700, exist_ok=True)
    app.extensions["storage"] = LocalStorage(app.config["UPLOAD_DIR"])


def storage() -> LocalStorage:
    """The running app's storage."""
    return current_app.extensions["storage"]
