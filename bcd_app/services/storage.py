"""Image files on disk: written atomically under generated names, removed for real."""

import os
import shutil
import tempfile
import uuid
from pathlib import Path


def image_key(user_id: uuid.UUID, session_id: uuid.UUID, image_id: uuid.UUID, extension: str) -> str:
    """The relative path of an image: ids only, nothing from the client."""
    return f"{user_id}/{session_id}/{image_id}.{extension}"


def working_key(key: str) -> str:
    """Where an image's working copy (decoded at the analysis's size, lossless) lives beside it."""
    return key.rsplit(".", 1)[0] + ".work.npy"


def _resolve(upload_dir: str, key: str) -> Path:
    root = Path(upload_dir).resolve()
    path = (root / key).resolve()
    if root not in path.parents:
        raise ValueError("storage key escapes the upload directory")
    return path


def _private_folders(root: Path, folder: Path) -> None:
    """Create `folder` and every missing folder between it and `root` as 0700 (mkdir's parents=True would
    give the intermediate ones the umask's 0755: a user's folder readable by every local account)."""
    for part in reversed([folder, *folder.parents][: len(folder.relative_to(root).parts)]):
        part.mkdir(mode=0o700, exist_ok=True)


def write(upload_dir: str, key: str, data: bytes) -> None:
    """Write `data` at `key` atomically: a temporary file in the same folder, fsync, rename."""
    path = _resolve(upload_dir, key)
    _private_folders(Path(upload_dir).resolve(), path.parent)
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


def read(upload_dir: str, key: str) -> bytes:
    """The bytes stored at `key` (FileNotFoundError when gone)."""
    return _resolve(upload_dir, key).read_bytes()


def delete(upload_dir: str, key: str) -> None:
    """Remove one file; a missing file is already removed."""
    _resolve(upload_dir, key).unlink(missing_ok=True)


def delete_tree(upload_dir: str, prefix: str) -> None:
    """Remove a user's or a session's folder with every file in it."""
    shutil.rmtree(_resolve(upload_dir, prefix), ignore_errors=True)
