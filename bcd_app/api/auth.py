"""Account routes: register and verify, sign in (with a second factor), sign out, her sign-ins, the password
(change, reset by mail), sudo mode and the second factor."""

from flask import Blueprint, g, request
from spectree import Response

from ..schemas.common import ErrorBody, Ok
from ..schemas.requests import (
    CodeIn,
    Credentials,
    EmailIn,
    LoginIn,
    PasswordChangeIn,
    ReauthIn,
    ResetIn,
    SecondFactorIn,
    TokenIn,
)
from ..schemas.resources import (
    AcceptedOut,
    ChallengeOut,
    Done,
    LoggedOut,
    RecoveryCodesOut,
    SetupOut,
    SignInOut,
    SignInsOut,
    TokenOut,
    UserOut,
)
from ..services import accounts, registration, second_factor, sign_in
from ..web.extensions import limiter, spec
from .common import client, config, current_sign_in, current_user, fresh, ok, public
from .serializers import token_out, user_out

bp = Blueprint("auth", __name__, url_prefix="/auth")
TAGS = ("account",)
ERRORS = {"HTTP_400": ErrorBody, "HTTP_401": ErrorBody}
REGISTERED = (
    "If this email can be used, a mail is on its way to it: open its link to confirm the address, then sign in."
)
RESET_ASKED = "If this email has an account, a mail with a link to set a new password is on its way to it."


def _auth_limit() -> str:
    return config("AUTH_RATE_LIMIT")


def _login_limit() -> str:
    return config("LOGIN_RATE_LIMIT")


def _links() -> registration.Links:
    return registration.Links(config("FRONTEND_URL"))


def _attempt(email: str = "", password: str = "", device_token: str | None = None) -> sign_in.Attempt:
    return sign_in.Attempt(email, password, client(), request.remote_addr, device_token)


@bp.post("/register")
@public
@limiter.limit(_auth_limit)
@spec.validate(
    resp=Response(HTTP_201=Ok[TokenOut], HTTP_202=Ok[AcceptedOut], HTTP_409=ErrorBody, HTTP_429=ErrorBody),
    tags=TAGS,
    security={},
)
def register(json: Credentials):
    """Create an account. With EMAIL_VERIFICATION_REQUIRED: 202, the same for a new and a taken email (a mail
    follows either way); otherwise 201 with a token (409 for a taken email)."""
    issued = registration.register(
        json.email,
        json.password,
        config("TOKEN_TTL_HOURS"),
        client(),
        _links(),
        verification_required=config("EMAIL_VERIFICATION_REQUIRED"),
    )
    if issued is None:
        return ok(AcceptedOut(message=REGISTERED), 202)
    return ok(token_out(issued), 201)


@bp.post("/verify-email")
@public
@limiter.limit(_auth_limit)
@spec.validate(resp=Response(HTTP_200=Ok[Done], **ERRORS), tags=TAGS, security={})
def verify_email(json: TokenIn):
    """Confirm the address with the token of the verification mail (once)."""
    registration.verify_email(json.token)
    return ok(Done())


@bp.post("/login")
@public
@limiter.limit(_login_limit)
@spec.validate(
    resp=Response(HTTP_200=Ok[TokenOut | ChallengeOut], HTTP_403=ErrorBody, HTTP_429=ErrorBody, **ERRORS),
    tags=TAGS,
    security={},
)
def login(json: LoginIn):
    """Exchange email and password for a token, or for a challenge when her second factor is on."""
    answer = sign_in.login(
        _attempt(json.email, json.password, json.device_token),
        config("TOKEN_TTL_HOURS"),
        secret=config("SECRET_KEY"),
        verification_required=config("EMAIL_VERIFICATION_REQUIRED"),
    )
    if answer.challenge is not None:
        return ok(ChallengeOut(challenge=answer.challenge))
    return ok(token_out(answer.issued))


@bp.post("/login/second-factor")
@public
@limiter.limit(_login_limit)
@spec.validate(resp=Response(HTTP_200=Ok[TokenOut], HTTP_429=ErrorBody, **ERRORS), tags=TAGS, security={})
def login_second_factor(json: SecondFactorIn):
    """Finish a sign-in with a code of her authenticator app or a recovery code."""
    issued = sign_in.second_factor_login(
        json.challenge,
        json.code,
        _attempt(device_token=json.device_token),
        config("TOKEN_TTL_HOURS"),
        secret=config("SECRET_KEY"),
    )
    return ok(token_out(issued))


@bp.post("/logout")
@spec.validate(resp=Response(HTTP_200=Ok[LoggedOut], HTTP_401=ErrorBody), tags=TAGS)
def logout():
    """Revoke the token used for this request."""
    accounts.logout(g.token)
    return ok(LoggedOut())


@bp.post("/logout-all")
@spec.validate(resp=Response(HTTP_200=Ok[LoggedOut], HTTP_401=ErrorBody), tags=TAGS)
def logout_all():
    """End every sign-in of the account, this one too."""
    accounts.end_all_sign_ins(current_user().id, client())
    return ok(LoggedOut())


@bp.get("/sessions")
@spec.validate(resp=Response(HTTP_200=Ok[SignInsOut], HTTP_401=ErrorBody), tags=TAGS)
def list_sign_ins():
    """Her live sign-ins: when made and last used, the browser family and network, which one is asking."""
    found = accounts.sign_ins(current_user().id, current_sign_in(), config("TOKEN_IDLE_HOURS"))
    return ok(SignInsOut(sessions=[SignInOut(**entry) for entry in found]))


@bp.delete("/sessions/<sign_in_id>")
@spec.validate(resp=Response(HTTP_200=Ok[LoggedOut], HTTP_404=ErrorBody, HTTP_401=ErrorBody), tags=TAGS)
def end_sign_in(sign_in_id: str):
    """End one of her sign-ins (404 for any other id)."""
    accounts.end_sign_in(current_user().id, sign_in_id, client())
    return ok(LoggedOut())


@bp.post("/password")
@spec.validate(resp=Response(HTTP_200=Ok[Done], HTTP_429=ErrorBody, **ERRORS), tags=TAGS)
def change_password(json: PasswordChangeIn):
    """A new password from the current one: every other sign-in ends, this one stays."""
    accounts.change_password(
        current_user(), current_sign_in(), json.current_password, json.new_password, config("SECRET_KEY"), client()
    )
    return ok(Done())


@bp.post("/password-reset")
@public
@limiter.limit(_auth_limit)
@spec.validate(resp=Response(HTTP_202=Ok[AcceptedOut], HTTP_400=ErrorBody, HTTP_429=ErrorBody), tags=TAGS, security={})
def request_reset(json: EmailIn):
    """Mail a link to set a new password; the same 202 for any email."""
    registration.request_reset(json.email, _links())
    return ok(AcceptedOut(message=RESET_ASKED), 202)


@bp.post("/password-reset/confirm")
@public
@limiter.limit(_auth_limit)
@spec.validate(resp=Response(HTTP_200=Ok[Done], **ERRORS), tags=TAGS, security={})
def confirm_reset(json: ResetIn):
    """Set a new password with the mailed token (once, 30 minutes); every sign-in ends."""
    registration.confirm_reset(json.token, json.new_password, client())
    return ok(Done())


@bp.post("/reauthenticate")
@spec.validate(resp=Response(HTTP_200=Ok[Done], HTTP_429=ErrorBody, **ERRORS), tags=TAGS)
def reauthenticate(json: ReauthIn):
    """Sudo mode: her password or a code opens export, erasure, second-factor changes and new share links for
    REAUTH_WINDOW_SECONDS on this sign-in."""
    accounts.reauthenticate(current_user(), current_sign_in(), json.password, json.code, config("SECRET_KEY"))
    return ok(Done())


@bp.post("/2fa/setup")
@spec.validate(resp=Response(HTTP_200=Ok[SetupOut], HTTP_403=ErrorBody, HTTP_409=ErrorBody, **ERRORS), tags=TAGS)
def setup_second_factor():
    """A new TOTP secret and its otpauth:// URI for her authenticator app (in force once enabled)."""
    fresh()
    secret, uri = second_factor.setup(current_user())
    return ok(SetupOut(secret=secret, otpauth_uri=uri))


@bp.post("/2fa/enable")
@spec.validate(
    resp=Response(HTTP_200=Ok[RecoveryCodesOut], HTTP_403=ErrorBody, HTTP_409=ErrorBody, **ERRORS), tags=TAGS
)
def enable_second_factor(json: CodeIn):
    """Turn the second factor on with a code of the new secret: ten single-use recovery codes, shown once."""
    fresh()
    codes = second_factor.enable(current_user(), json.code, client())
    return ok(RecoveryCodesOut(recovery_codes=codes))


@bp.post("/2fa/disable")
@spec.validate(resp=Response(HTTP_200=Ok[Done], HTTP_403=ErrorBody, HTTP_409=ErrorBody, **ERRORS), tags=TAGS)
def disable_second_factor(json: CodeIn):
    """Turn the second factor off; it takes a code (TOTP or recovery)."""
    fresh()
    second_factor.disable(current_user(), json.code, client())
    return ok(Done())


@bp.get("/me")
@spec.validate(resp=Response(HTTP_200=Ok[UserOut], HTTP_401=ErrorBody), tags=TAGS)
def me():
    """The caller's account."""
    return ok(user_out(current_user()))
