"""Password hashes: argon2id at OWASP's parameters for every new hash; an older Werkzeug scrypt hash still checks
and is replaced at the next sign-in."""

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from werkzeug.security import check_password_hash

# OWASP Password Storage Cheat Sheet's argon2id minimum: 19 MiB, 2 iterations, 1 lane (~35 ms on this VM's core,
# bench/login_bench.py); one lane keeps a sign-in on one core, so a burst of them cannot take every core.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)
# Checked when an email has no account, so that answer costs as much as a wrong password (no timing oracle).
_DUMMY_HASH = HASHER.hash("not-a-real-password")


def hash_password(password: str) -> str:
    """A new hash of `password`."""
    return HASHER.hash(password)


def verify(stored: str | None, password: str) -> bool:
    """Whether `password` matches `stored` (None: no account; the dummy is checked for the same cost)."""
    if stored is None:
        _matches_argon2(_DUMMY_HASH, password)
        return False
    if not stored.startswith("$argon2"):
        return check_password_hash(stored, password)
    return _matches_argon2(stored, password)


def outdated(stored: str) -> bool:
    """Whether a hash is of an older scheme or parameters (replaced at the next right password)."""
    return not stored.startswith("$argon2") or HASHER.check_needs_rehash(stored)


def _matches_argon2(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
