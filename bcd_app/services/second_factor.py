"""A second factor: TOTP (RFC 6238, pyotp) with her secret sealed with her key, each code taken once, and ten
single-use recovery codes kept as hashes."""

import hashlib
import secrets
import time

import pyotp

from ..db import db
from ..errors import Conflict, Invalid
from ..models import User, utcnow
from ..store import account_tokens as store
from ..store import keys
from . import activity
from .activity import Client

# The name an authenticator app shows (no word of what the account is for), and how many recovery codes she gets.
ISSUER = "Photo check-ins"
RECOVERY_CODES = 10
# A code of the step before or after the current one is accepted too (a phone's clock a little off).
VALID_WINDOW = 1
STEP_SECONDS = 30


def _secret_id(user: User) -> str:
    return f"users.totp_secret/{user.id}"


def _secret(user: User) -> str | None:
    opened = keys.open_column(user.id, _secret_id(user), user.totp_secret)
    return None if opened is None else opened.decode()


def enabled(user: User) -> bool:
    """Whether her second factor is on."""
    return user.totp_enabled_at is not None


def setup(user: User) -> tuple[str, str]:
    """A new secret for her authenticator app (not in force until a code confirms it): the secret and its
    otpauth:// URI; 409 when a second factor is already on."""
    if enabled(user):
        raise Conflict("The second factor is already on; turn it off first.", code="second_factor_enabled")
    secret = pyotp.random_base32()
    user.totp_secret = keys.seal(user.id, _secret_id(user), secret.encode())
    user.totp_last_step = None
    uri = pyotp.TOTP(secret).provisioning_uri(name="account", issuer_name=ISSUER)
    db.session.commit()
    return secret, uri


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().lower().replace("-", "").encode()).hexdigest()


def _totp_step(secret: str, code: str) -> int | None:
    """The time step a TOTP code belongs to within the accepted window, or None."""
    code = code.strip().replace(" ", "")
    if not code.isdigit():
        return None
    totp, now = pyotp.TOTP(secret), time.time()
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        moment = now + offset * STEP_SECONDS
        if secrets.compare_digest(totp.at(moment), code):
            return int(moment // STEP_SECONDS)
    return None


def _take_totp(user: User, code: str) -> bool:
    """Accept a TOTP code once (a later step only), moving her last accepted step on."""
    secret = _secret(user)
    step = None if secret is None else _totp_step(secret, code)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


def enable(user: User, code: str, client: Client) -> list[str]:
    """Turn the second factor on with a code of the set-up secret; her new recovery codes (shown this once)."""
    if enabled(user):
        raise Conflict("The second factor is already on.", code="second_factor_enabled")
    if user.totp_secret is None:
        raise Conflict("Set the second factor up first (POST /api/auth/2fa/setup).", code="second_factor_not_set_up")
    if not _take_totp(user, code):
        raise Invalid("The code is not valid; check the phone's time and try the next one.", code="invalid_code")
    user.totp_enabled_at = utcnow()
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    store.replace_recovery_codes(user.id, [_hash(code) for code in codes])
    activity.record(user.id, "second_factor_enabled", client)
    db.session.commit()
    return codes


def check(user: User, code: str) -> bool:
    """Whether `code` is a fresh TOTP code or an unused recovery code of hers (a recovery code is spent)."""
    if not enabled(user) or not code:
        return False
    return _take_totp(user, code) or store.use_recovery_code(user.id, _hash(code))


def disable(user: User, code: str, client: Client) -> None:
    """Turn the second factor off; it takes one of her codes."""
    if not enabled(user):
        raise Conflict("The second factor is not on.", code="second_factor_not_enabled")
    if not check(user, code):
        raise Invalid("The code is not valid.", code="invalid_code")
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    store.drop_recovery_codes(user.id)
    activity.record(user.id, "second_factor_disabled", client)
    db.session.commit()
