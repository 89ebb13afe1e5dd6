"""Account safety over HTTP, against a live gunicorn and a real SMTP server (aiosmtpd): mail, verification and
reset, her sign-ins, a second factor, sudo mode, no lock-out by someone else, her activity, and a service that
fails closed."""

import email
import os
import re
import subprocess
import threading
import time
import uuid
from email.message import Message

import pyotp
import pytest
from aiosmtpd.controller import Controller
from flask_migrate import upgrade
from sqlalchemy import text
from werkzeug.security import generate_password_hash

from bcd_app import create_app
from bcd_app.db import db
from bcd_app.services import accounts
from bcd_app.services.clients import address_prefix, limited_address
from tests.conftest import SENT_SECRETS, database_uri, make_config
from tests.helpers import completed_session, data_of, wait_until
from tests.live import ROOT, Api, LiveServer, free_port
from tests.photo_data import SCENES

pytestmark = pytest.mark.slow

PASSWORD = "violet-lantern-harbour-7"
FRONTEND = "https://app.example.org"
HER_BROWSER = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0) AppleWebKit Mobile/15E148 Safari/604.1"}
OTHER_BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"}


class Inbox:
    """What the SMTP server received, by recipient."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()
        # While set, every message is refused with a temporary failure (a server in trouble).
        self.refusing = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        """Keep each message whole (or refuse it for now)."""
        if self.refusing.is_set():
            return "451 Requested action aborted: try again later"
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        """Messages to `address`, oldest first."""
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def wait(self, address: str, subject: str, count: int = 1) -> Message:
        """The `count`-th message to `address` with `subject`, waited for."""

        def arrived() -> list[Message]:
            found = [m for m in self.to(address) if m["Subject"] == subject]
            return found if len(found) >= count else []

        return wait_until(arrived, timeout=30, interval=0.1, what=f"mail {subject!r}")[count - 1]


def link_token(message: Message) -> str:
    """The token of the one link in a mail."""
    return re.search(r"\?token=([A-Za-z0-9_-]+)", message.get_payload(decode=True).decode())[1]


@pytest.fixture(scope="module")
def stack(pg_server, upload_dir):
    """A migrated database, an SMTP server and a live gunicorn sending through it, verification on."""
    url = database_uri(pg_server, f"bcd_accounts_{uuid.uuid4().hex[:8]}")
    live_app = create_app(make_config(url, upload_dir))
    with live_app.app_context():
        upgrade()
        db.engine.dispose()
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    env = {
        "SMTP_URL": f"smtp://127.0.0.1:{smtp.port}",
        "MAIL_FROM": "Check-ins <no-reply@example.org>",
        "FRONTEND_URL": FRONTEND,
        "EMAIL_VERIFICATION_REQUIRED": "1",
        "MAIL_RETRY_SECONDS": "0.5",
    }
    server = LiveServer(url, upload_dir, workers=2, **env).start()
    try:
        yield Api(server.url), inbox, live_app
    finally:
        server.stop()
        smtp.stop()
        with live_app.app_context():
            db.engine.dispose()


def sql(live_app, statement: str, **values) -> object:
    """Run one statement on the live server's database; its first value, if any."""
    with live_app.app_context():
        result = db.session.execute(text(statement), values)
        value = result.scalar() if result.returns_rows else None
        db.session.commit()
        db.session.remove()
        return value


def joined(api: Api, inbox: Inbox, address: str, password: str = PASSWORD) -> None:
    """Register and verify an account through its mail."""
    SENT_SECRETS.update({address, password})
    assert api.call("POST", "/api/auth/register", json={"email": address, "password": password}).status_code == 202
    token = link_token(inbox.wait(address, "Confirm your email address"))
    assert api.call("POST", "/api/auth/verify-email", json={"token": token}).status_code == 200


def signed_in(api: Api, address: str, browser: dict = HER_BROWSER, password: str = PASSWORD, **extra) -> dict:
    """A sign-in's data (token and device token)."""
    response = api.call("POST", "/api/auth/login", browser, json={"email": address, "password": password, **extra})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    SENT_SECRETS.update({data["token"], data.get("device_token") or data["token"]})
    return data


def bearer(data: dict, browser: dict = HER_BROWSER) -> dict:
    """The headers of a sign-in."""
    return {**browser, "Authorization": f"Bearer {data['token']}"}


def test_a_taken_email_and_a_new_one_answer_alike_and_verification_comes_by_mail(stack):
    api, inbox, _ = stack
    new, taken = f"new-{uuid.uuid4().hex[:6]}@example.org", f"taken-{uuid.uuid4().hex[:6]}@example.org"
    joined(api, inbox, taken)
    SENT_SECRETS.add(new)
    first = api.call("POST", "/api/auth/register", json={"email": new, "password": PASSWORD})
    again = api.call("POST", "/api/auth/register", json={"email": taken, "password": PASSWORD})
    assert first.status_code == again.status_code == 202
    assert first.content == again.content
    assert set(first.headers) - {"X-Request-ID", "Date"} == set(again.headers) - {"X-Request-ID", "Date"}
    exists = inbox.wait(taken, "You already have an account")
    assert f"{FRONTEND}/reset-password?token=" in exists.get_payload(decode=True).decode()
    confirm = inbox.wait(new, "Confirm your email address")
    assert f"{FRONTEND}/verify-email?token=" in confirm.get_payload(decode=True).decode()
    for message in (exists, confirm):
        body = message.get_payload(decode=True).decode().lower()
        assert not any(word in body for word in ("photo", "breast", "score", "result", "variation"))
    before = api.call("POST", "/api/auth/login", json={"email": new, "password": PASSWORD})
    assert before.status_code == 403 and before.json()["error"]["code"] == "email_not_verified"
    wrong = api.call("POST", "/api/auth/login", json={"email": new, "password": "not-her-password-1"})
    assert wrong.status_code == 401
    token = link_token(confirm)
    assert api.call("POST", "/api/auth/verify-email", json={"token": token}).status_code == 200
    assert api.call("POST", "/api/auth/verify-email", json={"token": token}).status_code == 400
    assert signed_in(api, new)["device_token"]


def test_a_reset_link_works_once_for_30_minutes_and_ends_every_sign_in(stack):
    api, inbox, live_app = stack
    address = f"reset-{uuid.uuid4().hex[:6]}@example.org"
    joined(api, inbox, address)
    old = bearer(signed_in(api, address))
    nobody = api.call("POST", "/api/auth/password-reset", json={"email": "nobody-here@example.org"})
    asked = api.call("POST", "/api/auth/password-reset", json={"email": address})
    assert nobody.status_code == asked.status_code == 202 and nobody.content == asked.content
    token = link_token(inbox.wait(address, "Set a new password"))
    # Asked again within a minute: no second mail (nobody fills her inbox through the form), the link stays.
    link_row = "SELECT CAST(t.id AS text) FROM account_tokens t JOIN users u ON u.id = t.user_id WHERE u.email = :e AND t.kind = 'password_reset'"
    first = sql(live_app, link_row, e=address)
    assert api.call("POST", "/api/auth/password-reset", json={"email": address}).status_code == 202
    assert sql(live_app, link_row, e=address) == first
    weak = api.call("POST", "/api/auth/password-reset/confirm", json={"token": token, "new_password": "password1"})
    assert weak.status_code == 400  # and the link still works
    new_password = "copper-kettle-meadow-42"
    SENT_SECRETS.add(new_password)
    body = {"token": token, "new_password": new_password}
    assert api.call("POST", "/api/auth/password-reset/confirm", json=body).status_code == 200
    assert api.call("POST", "/api/auth/password-reset/confirm", json=body).status_code == 400
    assert api.call("GET", "/api/auth/me", old).status_code == 401
    assert api.call("POST", "/api/auth/login", json={"email": address, "password": PASSWORD}).status_code == 401
    signed_in(api, address, password=new_password)
    inbox.wait(address, "Your password was reset")
    # A link older than 30 minutes is refused.
    sql(live_app, "UPDATE account_tokens SET created_at = now() - interval '2 minutes'")
    api.call("POST", "/api/auth/password-reset", json={"email": address})
    late = link_token(inbox.wait(address, "Set a new password", count=2))
    sql(live_app, "UPDATE account_tokens SET expires_at = now() - interval '1 second' WHERE kind = 'password_reset'")
    late_body = {"token": late, "new_password": "another-long-passphrase-9"}
    assert api.call("POST", "/api/auth/password-reset/confirm", json=late_body).status_code == 400


def test_her_sign_ins_listed_ended_one_or_all_and_a_password_change_keeps_only_hers(stack):
    api, inbox, live_app = stack
    address = f"signins-{uuid.uuid4().hex[:6]}@example.org"
    joined(api, inbox, address)
    mine = bearer(signed_in(api, address))
    other = bearer(signed_in(api, address, OTHER_BROWSER), OTHER_BROWSER)
    third = bearer(signed_in(api, address, OTHER_BROWSER), OTHER_BROWSER)
    listed = api.call("GET", "/api/auth/sessions", mine).json()["data"]["sessions"]
    assert len(listed) == 3 and sum(s["current"] for s in listed) == 1
    assert {s["agent_family"] for s in listed} == {"safari mobile", "firefox desktop"}
    assert all(s["address_prefix"] == "127.0.0.0/24" for s in listed)
    newest_other = next(s for s in listed if not s["current"])
    assert api.call("DELETE", f"/api/auth/sessions/{newest_other['id']}", mine).status_code == 200
    assert api.call("GET", "/api/auth/me", third).status_code == 401
    assert api.call("DELETE", f"/api/auth/sessions/{uuid.uuid4()}", mine).status_code == 404
    # Another person's sign-in id is hers to end only.
    stranger = f"stranger-{uuid.uuid4().hex[:6]}@example.org"
    joined(api, inbox, stranger)
    theirs = bearer(signed_in(api, stranger))
    their_id = api.call("GET", "/api/auth/sessions", theirs).json()["data"]["sessions"][0]["id"]
    assert api.call("DELETE", f"/api/auth/sessions/{their_id}", mine).status_code == 404
    assert api.call("GET", "/api/auth/me", theirs).status_code == 200
    wrong = {"current_password": "not-the-password-3", "new_password": "juniper-bicycle-lantern-5"}
    assert api.call("POST", "/api/auth/password", mine, json=wrong).status_code == 401
    changed = {"current_password": PASSWORD, "new_password": "juniper-bicycle-lantern-5"}
    SENT_SECRETS.add(changed["new_password"])
    assert api.call("POST", "/api/auth/password", mine, json=changed).status_code == 200
    assert api.call("GET", "/api/auth/me", other).status_code == 401
    assert api.call("GET", "/api/auth/me", mine).status_code == 200
    inbox.wait(address, "Your password was changed")
    # Idle for longer than the limit: ended.
    sql(live_app, "UPDATE auth_tokens SET last_used_at = now() - interval '73 hours'")
    assert api.call("GET", "/api/auth/me", mine).status_code == 401
    again = bearer(signed_in(api, address, password=changed["new_password"]))
    assert api.call("POST", "/api/auth/logout-all", again).status_code == 200
    assert api.call("GET", "/api/auth/me", again).status_code == 401
    with live_app.app_context():
        accounts.forget_stale(72)
        left = db.session.scalar(
            text("SELECT count(*) FROM auth_tokens t JOIN users u ON u.id = t.user_id WHERE u.email = :e"),
            {"e": address},
        )
        db.session.remove()
    assert left == 0


def test_a_second_factor_recovery_codes_once_and_sudo_for_its_changes(stack):
    api, inbox, live_app = stack
    address = f"totp-{uuid.uuid4().hex[:6]}@example.org"
    joined(api, inbox, address)
    headers = bearer(signed_in(api, address))
    setup = api.call("POST", "/api/auth/2fa/setup", headers).json()["data"]
    assert setup["otpauth_uri"].startswith("otpauth://totp/") and "breast" not in setup["otpauth_uri"].lower()
    totp = pyotp.TOTP(setup["secret"])
    assert api.call("POST", "/api/auth/2fa/enable", headers, json={"code": "000000"}).status_code == 400
    codes = api.call("POST", "/api/auth/2fa/enable", headers, json={"code": totp.now()}).json()["data"]
    codes = codes["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    SENT_SECRETS.update(codes)
    challenged = api.call("POST", "/api/auth/login", json={"email": address, "password": PASSWORD}).json()["data"]
    assert challenged["second_factor_required"] is True and "token" not in challenged
    # The code of the next step (the last one was taken when enabling).
    code = totp.at(time.time() + 30)
    finished = api.call(
        "POST", "/api/auth/login/second-factor", json={"challenge": challenged["challenge"], "code": code}
    )
    assert finished.status_code == 200 and finished.json()["data"]["token"]
    replay = api.call("POST", "/api/auth/login", json={"email": address, "password": PASSWORD}).json()["data"]
    again = {"challenge": replay["challenge"], "code": code}
    assert api.call("POST", "/api/auth/login/second-factor", json=again).status_code == 401
    recovered = {"challenge": replay["challenge"], "code": codes[0]}
    assert api.call("POST", "/api/auth/login/second-factor", json=recovered).status_code == 200
    spent = api.call("POST", "/api/auth/login", json={"email": address, "password": PASSWORD}).json()["data"]
    reuse = {"challenge": spent["challenge"], "code": codes[0]}
    assert api.call("POST", "/api/auth/login/second-factor", json=reuse).status_code == 401
    # Five wrong codes end a challenge.
    for _ in range(5):
        api.call("POST", "/api/auth/login/second-factor", json={"challenge": spent["challenge"], "code": "123456"})
    good = {"challenge": spent["challenge"], "code": codes[1]}
    assert api.call("POST", "/api/auth/login/second-factor", json=good).status_code == 429
    # Turning it off takes sudo and a code.
    sql(live_app, "UPDATE auth_tokens SET reauthenticated_at = now() - interval '1 hour'")
    stale = api.call("POST", "/api/auth/2fa/disable", headers, json={"code": codes[2]})
    assert stale.status_code == 403 and stale.json()["error"]["code"] == "reauthentication_required"
    assert api.call("POST", "/api/auth/reauthenticate", headers, json={"code": codes[2]}).status_code == 200
    assert api.call("POST", "/api/auth/2fa/disable", headers, json={"code": "999999"}).status_code == 400
    assert api.call("POST", "/api/auth/2fa/disable", headers, json={"code": codes[3]}).status_code == 200
    assert "token" in api.call("POST", "/api/auth/login", json={"email": address, "password": PASSWORD}).json()["data"]


def test_export_erasure_and_share_links_need_a_fresh_password(stack, jpeg):
    api, inbox, live_app = stack
    address = f"sudo-{uuid.uuid4().hex[:6]}@example.org"
    joined(api, inbox, address)
    headers = bearer(signed_in(api, address))
    assert api.call("GET", "/api/account/export", headers).status_code == 200  # a sign-in counts
    sql(live_app, "UPDATE auth_tokens SET reauthenticated_at = now() - interval '301 seconds'")
    for method, path, body in (
        ("GET", "/api/account/export", None),
        ("DELETE", "/api/account", None),
        ("POST", "/api/shares", {"session_id": str(uuid.uuid4())}),
        ("POST", "/api/auth/2fa/setup", None),
    ):
        refused = api.call(method, path, headers, json=body)
        assert refused.status_code == 403, (path, refused.text)
        assert refused.json()["error"]["code"] == "reauthentication_required"
    wrong = api.call("POST", "/api/auth/reauthenticate", headers, json={"password": "not-her-password-7"})
    assert wrong.status_code == 401
    assert api.call("POST", "/api/auth/reauthenticate", headers, json={"password": PASSWORD}).status_code == 200
    assert api.call("GET", "/api/account/export", headers).status_code == 200
    kinds = [e["kind"] for e in api.call("GET", "/api/account/activity", headers).json()["data"]["events"]]
    assert kinds.count("export") == 2 and "sign_in" in kinds
    assert api.call("DELETE", "/api/account", headers).status_code == 200
    assert sql(live_app, "SELECT count(*) FROM users WHERE email = :e", e=address) == 0


def test_her_known_browser_signs_in_after_eight_wrong_guesses_by_someone_else(stack):
    api, inbox, _ = stack
    address = f"guessed-{uuid.uuid4().hex[:6]}@example.org"
    joined(api, inbox, address)
    device = signed_in(api, address)["device_token"]
    guesses = [
        api.call("POST", "/api/auth/login", OTHER_BROWSER, json={"email": address, "password": f"guess-{n}-abcdef"})
        for n in range(8)
    ]
    assert [g.status_code for g in guesses] == [401] * 5 + [429] * 3
    assert "Retry-After" in guesses[-1].headers
    # Without her device's token her right password waits like the guesser; with it, she is in.
    plain = api.call("POST", "/api/auth/login", json={"email": address, "password": PASSWORD})
    assert plain.status_code == 429
    assert signed_in(api, address, device_token=device)["device_token"] == device
    inbox.wait(address, "Several wrong passwords were tried for your account")
    assert len([m for m in inbox.to(address) if m["Subject"].startswith("Several wrong")]) == 1
    headers = bearer(signed_in(api, address, device_token=device))
    kinds = [e["kind"] for e in api.call("GET", "/api/account/activity", headers).json()["data"]["events"]]
    assert "sign_in_failures" in kinds


def test_a_sign_in_from_a_new_browser_family_is_mailed_and_listed(stack):
    api, inbox, _ = stack
    address = f"newbrowser-{uuid.uuid4().hex[:6]}@example.org"
    joined(api, inbox, address)
    signed_in(api, address)
    signed_in(api, address)
    assert not [m for m in inbox.to(address) if m["Subject"] == "A new sign-in to your account"]
    headers = bearer(signed_in(api, address, OTHER_BROWSER), OTHER_BROWSER)
    notice = inbox.wait(address, "A new sign-in to your account")
    assert "firefox desktop" in notice.get_payload(decode=True).decode()
    events = api.call("GET", "/api/account/activity", headers).json()["data"]["events"]
    assert events[0]["kind"] == "sign_in" and events[0]["agent_family"] == "firefox desktop"
    assert {e["address_prefix"] for e in events} == {"127.0.0.0/24"}


def test_a_mail_the_server_refuses_is_retried_until_it_goes(stack):
    api, inbox, live_app = stack
    address = f"retry-{uuid.uuid4().hex[:6]}@example.org"
    joined(api, inbox, address)
    inbox.refusing.set()
    try:
        assert api.call("POST", "/api/auth/password-reset", json={"email": address}).status_code == 202
        wait_until(
            lambda: sql(live_app, "SELECT max(attempts) FROM outgoing_mail") or 0,
            timeout=30,
            what="a failed send to be counted",
        )
    finally:
        inbox.refusing.clear()
    inbox.wait(address, "Set a new password")
    wait_until(lambda: sql(live_app, "SELECT count(*) FROM outgoing_mail") == 0, timeout=30, what="queue empty")


def test_an_old_scrypt_hash_is_replaced_by_argon2id_at_the_next_sign_in(stack):
    api, inbox, live_app = stack
    address = f"legacy-{uuid.uuid4().hex[:6]}@example.org"
    joined(api, inbox, address)
    legacy = generate_password_hash(PASSWORD, method="scrypt")
    sql(live_app, "UPDATE users SET password_hash = :h WHERE email = :e", h=legacy, e=address)
    signed_in(api, address)
    stored = sql(live_app, "SELECT password_hash FROM users WHERE email = :e", e=address)
    assert stored.startswith("$argon2id$") and stored != legacy
    signed_in(api, address)


def test_addresses_are_kept_as_prefixes_and_ipv6_is_limited_by_its_64():
    assert address_prefix("203.0.113.77") == "203.0.113.0/24"
    assert address_prefix("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::/64"
    assert address_prefix(None) == address_prefix("nonsense") == "unknown"
    assert limited_address("203.0.113.77") == "203.0.113.77"
    assert limited_address("2001:db8:1:2::1") == limited_address("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"


def test_development_writes_mail_to_the_outbox_and_logs_its_subject_only(app, client, tmp_path):
    app.config.update(OUTBOX_DIR=str(tmp_path / "outbox"), SMTP_URL="")
    address = f"outbox-{uuid.uuid4().hex[:6]}@example.org"
    SENT_SECRETS.add(address)
    assert client.post("/api/auth/register", json={"email": address, "password": PASSWORD}).status_code == 201
    written = wait_until(lambda: list((tmp_path / "outbox").glob("*.eml")), timeout=30, what="the outbox mail")
    assert oct(written[0].stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "outbox").stat().st_mode & 0o777) == "0o700"
    assert email.message_from_bytes(written[0].read_bytes())["Subject"] == "Confirm your email address"


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/health").headers
    secure = client.get("/health", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


PRODUCTION = {
    "SECRET_KEY": "s" * 48,
    "DATABASE_URL": "postgresql+psycopg://u@127.0.0.1:1/none",
    "ALLOWED_ORIGINS": FRONTEND,
    "BCD_MASTER_KEY_FILE": "/etc/bcd/master.key",
    "SMTP_URL": "smtp://127.0.0.1:2525",
}


@pytest.mark.parametrize(
    ("env", "refusal"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY must be set"),
        ({"BCD_MASTER_KEY_FILE": str(ROOT / "instance" / "master.key")}, "development made beside the data"),
    ],
)
def test_make_serve_runs_the_production_config_and_refuses_unsafe_settings(env, refusal):
    kept = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "BCD_MASTER_KEY", "BCD_MASTER_KEY_FILE")}
    settings = {key: value for key, value in {**kept, **PRODUCTION, **env}.items() if value is not None}
    # The virtual environment is the suite's own: make is told not to remake it.
    command = ["make", "-s", "-o", ".venv/.installed", "serve"]
    started = subprocess.run(command, cwd=ROOT, env=settings, capture_output=True, text=True, timeout=120)
    assert started.returncode != 0
    assert refusal in started.stderr + started.stdout


@pytest.mark.parametrize(
    ("env", "refusal"),
    [
        ({"SECRET_KEY": "dev-only-not-secret"}, "not the development default"),
        ({"SECRET_KEY": "short"}, "at least 32"),
        ({"SMTP_URL": None}, "SMTP_URL must be set"),
    ],
)
def test_the_production_config_refuses_a_public_secret_and_no_mail(monkeypatch, env, refusal):
    from config import ProductionConfig

    for key, value in {**PRODUCTION, **env}.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    monkeypatch.setattr(ProductionConfig, "ALLOWED_ORIGINS", [FRONTEND])
    with pytest.raises(RuntimeError, match=refusal):
        ProductionConfig.validate()
    monkeypatch.setenv("SMTP_URL", PRODUCTION["SMTP_URL"])
    monkeypatch.setenv("SECRET_KEY", PRODUCTION["SECRET_KEY"])
    ProductionConfig.validate()


def test_a_backup_is_readable_by_its_owner_only(app, client, auth, jpeg, tmp_path):
    headers = auth.register()
    completed_session(client, headers, {angle: jpeg(name) for angle, name in SCENES.items()})
    target = tmp_path / "backup"
    with app.app_context():
        from bcd_app.services.backup import backup

        backup(target, report=lambda _: None)
    assert oct(target.stat().st_mode & 0o777) == "0o700"
    for path in target.rglob("*"):
        assert oct(path.stat().st_mode & 0o777) == ("0o700" if path.is_dir() else "0o600"), path
    assert data_of(client.get("/api/auth/me", headers=headers))["email"]
