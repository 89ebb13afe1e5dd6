"""Envelope encryption of everything that shows a photo: a random data key per user, kept wrapped by a master key
(AES-GCM, with a version), seals each object with AES-GCM under the user, the object's id and the key version as
associated data, so a blob moved to another user's name or another object's place does not open. Erasure deletes
the wrapped key first (crypto-shredding): every copy of the user's objects, in any backup, is unreadable after."""

import base64
import os
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, current_app
from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError, OperationalError

from ..db import db
from ..errors import NotFound
from ..models import UserKey, utcnow

# A sealed object: magic and format, the user key's version (1 byte), a 96-bit nonce, then AES-GCM's output.
MAGIC = b"BCD\x01"
NONCE_BYTES = 12
TAG_BYTES = 16
# What sealing adds to an object's size.
SEALING_BYTES = len(MAGIC) + 1 + NONCE_BYTES + TAG_BYTES
# The row an erasure leaves while it runs: the key is gone, and none is made again for the account.
DESTROYED = 0
KEY_BYTES = 32
USER_KEY_VERSION = 1
# An unwrapped user key is kept in the process this long: one database read per user and minute, not per object.
# Erasure drops it here at once; another process's copy outlives the erased rows by at most this (nothing
# points to the erased objects any more).
CACHE_SECONDS = 60.0
# How long a legacy account's first key waits for its account row (held by an erasure under way).
LOCK_TIMEOUT = "3s"
# Re-wrapped user keys per transaction of a rotation (each batch commits: a rotation can stop and resume).
ROTATION_BATCH = 500


class KeyGone(NotFound):
    """The user's key was destroyed (her account is being erased): nothing more is sealed for her; the request
    that wanted to answers 404, as for anything of an erased account."""

    def __init__(self) -> None:
        super().__init__("Not found.")


class Unreadable(Exception):
    """A sealed object that does not open with its owner's key under its own name (moved, altered, or its key was
    destroyed)."""


@dataclass(frozen=True)
class Keyring:
    """The master keys by version; the newest wraps, every one unwraps (during a rotation both are in use)."""

    keys: dict[int, bytes]

    @property
    def current(self) -> int:
        """The version new and re-wrapped user keys are wrapped with."""
        return max(self.keys)


def parse_keyring(text: str) -> Keyring:
    """A key file: one `<version> <base64 key>` per line, or a single bare base64 key (version 1)."""
    keys = {}
    for line in (part.strip() for part in text.splitlines()):
        if not line or line.startswith("#"):
            continue
        version, _, encoded = line.rpartition(" ")
        key = base64.b64decode(encoded, validate=True)
        if len(key) != KEY_BYTES:
            raise ValueError(f"a master key must be {KEY_BYTES} bytes (base64 of 32 random bytes)")
        keys[int(version) if version else 1] = key
    if not keys:
        raise ValueError("the master key file holds no key")
    return Keyring(keys)


def format_keyring(keyring: Keyring) -> str:
    """The key file's text."""
    return "".join(f"{version} {base64.b64encode(key).decode()}\n" for version, key in sorted(keyring.keys.items()))


def write_key_file(path: Path, keyring: Keyring) -> None:
    """Write a key file atomically, readable by its owner only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    part = path.with_name(path.name + ".part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(format_keyring(keyring))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(part, path)


def load_keyring(config: dict) -> Keyring:
    """The master keys: BCD_MASTER_KEY_FILE, else BCD_MASTER_KEY (base64), else (outside production) a key file
    made under instance/ on first run."""
    if config.get("MASTER_KEY_FILE"):
        return parse_keyring(Path(config["MASTER_KEY_FILE"]).read_text())
    if config.get("MASTER_KEY"):
        return parse_keyring(config["MASTER_KEY"])
    path = Path(config["DEV_MASTER_KEY_FILE"])
    if not path.exists():
        _create_once(path)
    return parse_keyring(path.read_text())


def _create_once(path: Path) -> None:
    """Make the development key file unless another process (a sibling gunicorn worker starting at the same time)
    made it first: the file is linked into place only where none exists, so every process reads the same key."""
    draft = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    write_key_file(draft, Keyring({1: AESGCM.generate_key(bit_length=256)}))
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()


class _Cache:
    """Unwrapped user keys of this process, for CACHE_SECONDS."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.keys: dict[uuid.UUID, tuple[bytes, float]] = {}

    def get(self, user_id: uuid.UUID) -> bytes | None:
        """A user's key if it is here and fresh."""
        with self.lock:
            found = self.keys.get(user_id)
        return found[0] if found and found[1] > time.monotonic() else None

    def put(self, user_id: uuid.UUID, key: bytes) -> None:
        """Keep a user's key for CACHE_SECONDS."""
        with self.lock:
            if len(self.keys) > 10_000:
                self.keys.clear()
            self.keys[user_id] = (key, time.monotonic() + CACHE_SECONDS)

    def drop(self, user_id: uuid.UUID) -> None:
        """Forget a user's key now."""
        with self.lock:
            self.keys.pop(user_id, None)


_cache = _Cache()


def _keyring() -> Keyring:
    return current_app.extensions["keyring"]


def _wrap_aad(user_id: uuid.UUID, version: int) -> bytes:
    return f"bcd-user-key|{user_id}|{version}".encode()


def _wrap(keyring: Keyring, user_id: uuid.UUID, key: bytes, version: int) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(keyring.keys[version]).encrypt(nonce, key, _wrap_aad(user_id, version))


def _keyring_with(version: int) -> Keyring:
    """The running keyring, read again from its file when a rotation elsewhere has added `version` to it."""
    keyring = _keyring()
    if version not in keyring.keys:
        keyring = current_app.extensions["keyring"] = load_keyring(current_app.config)
    if version not in keyring.keys:
        raise RuntimeError(f"master key version {version} is not configured (BCD_MASTER_KEY_FILE)")
    return keyring


def _unwrap(keyring: Keyring, user_id: uuid.UUID, wrapped: bytes, version: int) -> bytes:
    return AESGCM(keyring.keys[version]).decrypt(
        wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _wrap_aad(user_id, version)
    )


def _new_row(user_id: uuid.UUID) -> dict:
    keyring = _keyring()
    fresh = secrets.token_bytes(KEY_BYTES)
    return {
        "user_id": user_id,
        "wrapped": _wrap(keyring, user_id, fresh, keyring.current),
        "master_version": keyring.current,
        "created_at": utcnow(),
    }


def add_for(user_id: uuid.UUID) -> None:
    """A new account's data key, in the caller's transaction (committed with the account)."""
    db.session.execute(insert(UserKey).values(**_new_row(user_id)))


def user_key(user_id: uuid.UUID, *, create: bool) -> bytes | None:
    """A user's data key: from this process's cache, else unwrapped from its row; None once destroyed. An account
    from before keys existed gets one with `create`, committed at once on a connection of its own (so it exists
    before anything sealed with it), waiting at most LOCK_TIMEOUT for the account's row (an erasure under way
    wins: KeyGone)."""
    cached = _cache.get(user_id)
    if cached is not None:
        return cached
    query = select(UserKey.wrapped, UserKey.master_version).where(UserKey.user_id == user_id)
    row = db.session.execute(query).first()
    if row is None and create:
        try:
            with db.engine.begin() as connection:
                connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
                connection.execute(
                    insert(UserKey).values(**_new_row(user_id)).on_conflict_do_nothing(index_elements=[UserKey.user_id])
                )
        except (OperationalError, IntegrityError):
            raise KeyGone() from None
        row = db.session.execute(query).first()
    if row is None or row.master_version == DESTROYED:
        return None
    key = _unwrap(_keyring_with(row.master_version), user_id, row.wrapped, row.master_version)
    _cache.put(user_id, key)
    return key


def _aad(user_id: uuid.UUID, object_id: str, version: int) -> bytes:
    return f"{user_id}|{object_id}|{version}".encode()


def seal(user_id: uuid.UUID, object_id: str, data: bytes) -> bytes:
    """`data` encrypted for `user_id` under the name `object_id`."""
    key = user_key(user_id, create=True)
    if key is None:
        raise KeyGone()
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, data, _aad(user_id, object_id, USER_KEY_VERSION))
    return MAGIC + bytes([USER_KEY_VERSION]) + nonce + sealed


def open_sealed(user_id: uuid.UUID, object_id: str, blob: bytes) -> bytes:
    """The plain bytes of a sealed object; Unreadable when it is not this user's object of this name, or the
    user's key is gone."""
    if not blob.startswith(MAGIC) or len(blob) < SEALING_BYTES:
        raise Unreadable("not a sealed object")
    version, nonce = blob[len(MAGIC)], blob[len(MAGIC) + 1 : len(MAGIC) + 1 + NONCE_BYTES]
    key = user_key(user_id, create=False)
    if key is None:
        raise Unreadable("the owner's key is gone")
    try:
        return AESGCM(key).decrypt(nonce, blob[len(MAGIC) + 1 + NONCE_BYTES :], _aad(user_id, object_id, version))
    except InvalidTag:
        raise Unreadable("the object does not open under this name") from None


def seal_column(user_id: uuid.UUID, object_id: str, data: bytes | None) -> bytes | None:
    """A binary column's value sealed (None stays None)."""
    return None if data is None else seal(user_id, object_id, data)


def open_column(user_id: uuid.UUID, object_id: str, blob: bytes | None) -> bytes | None:
    """A sealed binary column's plain value; None when it is empty or does not open (it is computed again)."""
    if blob is None:
        return None
    try:
        return open_sealed(user_id, object_id, blob)
    except Unreadable:
        return None


def destroy(user_id: uuid.UUID) -> None:
    """Destroy a user's key (the caller commits, before removing anything else) and forget it here. The row stays
    as a tombstone, without the key, until the account's deletion takes it, so that no request racing the erasure
    makes her a new one."""
    tombstone = {"wrapped": b"", "master_version": DESTROYED, "created_at": utcnow()}
    db.session.execute(
        insert(UserKey)
        .values(user_id=user_id, **tombstone)
        .on_conflict_do_update(index_elements=[UserKey.user_id], set_=tombstone)
    )
    _cache.drop(user_id)


def rotate(app: Flask, key_file: Path, report=print) -> int:
    """Re-wrap every user key under the newest master key, adding a new one first unless a rotation is already
    under way (some keys still under an older one). Each batch commits: an interrupted rotation resumes where it
    stopped. No photo is read or written. Answers how many keys were re-wrapped."""
    keyring = parse_keyring(key_file.read_text())
    with app.app_context():
        behind = db.session.scalar(
            select(func.count()).where(UserKey.master_version < keyring.current, UserKey.master_version != DESTROYED)
        )
        if not behind:
            keyring = Keyring({**keyring.keys, keyring.current + 1: AESGCM.generate_key(bit_length=256)})
            write_key_file(key_file, keyring)
            report(f"added master key version {keyring.current} to {key_file}")
        app.extensions["keyring"] = keyring
        done = 0
        while True:
            rows = db.session.execute(
                select(UserKey.user_id, UserKey.wrapped, UserKey.master_version)
                .where(UserKey.master_version < keyring.current, UserKey.master_version != DESTROYED)
                .limit(ROTATION_BATCH)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                break
            for row in rows:
                key = _unwrap(keyring, row.user_id, row.wrapped, row.master_version)
                db.session.execute(
                    update(UserKey)
                    .where(UserKey.user_id == row.user_id)
                    .values(wrapped=_wrap(keyring, row.user_id, key, keyring.current), master_version=keyring.current)
                )
            db.session.commit()
            done += len(rows)
            report(f"re-wrapped {done} user keys")
        db.session.remove()
    return done


def init_app(app: Flask) -> None:
    """Load the master keys (refusing to start without a usable one)."""
    app.extensions["keyring"] = load_keyring(app.config)
