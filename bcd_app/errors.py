"""Typed errors raised anywhere; web/errors.py turns each into the one JSON error body."""


class ApiError(Exception):
    """Base of every error the API reports on purpose."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, headers: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.headers = headers or {}


class Invalid(ApiError):
    """The request is malformed or breaks a rule."""

    status = 400
    code = "invalid"


class Unauthorized(ApiError):
    """No valid bearer token."""

    status = 401
    code = "unauthorized"


class Forbidden(ApiError):
    """Not for this caller or address."""

    status = 403
    code = "forbidden"


class NotFound(ApiError):
    """Unknown id, or somebody else's: the two are never told apart."""

    status = 404
    code = "not_found"


class Conflict(ApiError):
    """The resource is in a state that does not allow this."""

    status = 409
    code = "conflict"


class UnsupportedMediaType(ApiError):
    """A body in a format the route does not read."""

    status = 415
    code = "unsupported_media_type"


class ImageRejected(ApiError):
    """An upload that is not an image we accept."""

    status = 422
    code = "image_rejected"


class QuotaExceeded(ApiError):
    """The per-user analysis quota is used up."""

    status = 429
    code = "quota_exceeded"


class TooManyAttempts(ApiError):
    """Login attempts past the account's or the address's limit: locked for the rest of the window."""

    status = 429
    code = "too_many_attempts"


class Unavailable(ApiError):
    """The service cannot take the work now; retry later."""

    status = 503
    code = "unavailable"
