"""Signed, expiring tokens for links an <img> on another site can use without a bearer header."""

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..errors import NotFound


def sign(secret: str, salt: str, payload: dict) -> str:
    """A token carrying `payload`, verified with a max age when opened."""
    return URLSafeTimedSerializer(secret, salt=salt).dumps(payload)


def open_link(secret: str, salt: str, token: str, max_age: int) -> dict:
    """The payload of an unexpired token; an expired one is NotFound `link_expired`, a forged one NotFound."""
    try:
        payload = URLSafeTimedSerializer(secret, salt=salt).loads(token, max_age=max_age)
    except SignatureExpired:
        raise NotFound("This link has expired.", code="link_expired") from None
    except BadSignature:
        raise NotFound("Not found.") from None
    if not isinstance(payload, dict):
        raise NotFound("Not found.")
    return payload
