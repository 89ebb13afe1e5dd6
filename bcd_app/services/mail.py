"""Outgoing mail: queued in the request's transaction (sealed with the person's key), sent by each worker's
sender over SMTP (or written to the outbox folder in development), retried with a growing pause until it goes.
A mail holds no photo, result or score; a log line names its subject only."""

import json
import logging
import os
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..db import db
from ..store import account_tokens as store
from ..store import keys

log = logging.getLogger(__name__)

# Mails one pass sends at most, the longest pause between two tries of one mail, and how long one SMTP
# conversation may wait.
BATCH = 20
LONGEST_PAUSE = timedelta(hours=1)
SMTP_TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class Mail:
    """One mail: to whom, its subject and its plain-text body."""

    to: str
    subject: str
    body: str


def _object_id(row_id: int) -> str:
    return f"outgoing_mail/{row_id}"


def queue(user_id: uuid.UUID, mail: Mail) -> None:
    """Queue a mail to the person in the caller's transaction (sent once it commits, by a worker's sender)."""
    row = store.queue_mail(user_id, b"-")
    plain = json.dumps({"to": mail.to, "subject": mail.subject, "body": mail.body}).encode()
    row.sealed = keys.seal(user_id, _object_id(row.id), plain)


def _message(mail: Mail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, mail.to, mail.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip(">"))
    message.set_content(mail.body)
    return message


def _smtp_send(url: str, message: EmailMessage) -> None:
    """Send one message through the server of an smtp:// or smtps:// URL (STARTTLS when offered)."""
    parts = urlsplit(url)
    secure = parts.scheme == "smtps"
    port = parts.port or (465 if secure else 25)
    context = ssl.create_default_context()
    client_type = smtplib.SMTP_SSL if secure else smtplib.SMTP
    extra = {"context": context} if secure else {}
    with client_type(parts.hostname, port, timeout=SMTP_TIMEOUT_SECONDS, **extra) as client:
        client.ehlo()
        if not secure and client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)


def _to_outbox(folder: str, row_id: int, message: EmailMessage) -> None:
    """Write one message to the development outbox (readable by its owner only: it holds links)."""
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = path / f"{row_id:08d}.eml"
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(bytes(message))


def send_due(config: dict) -> int:
    """Send the mail that is due (a batch, rows locked so another worker skips them); how many went."""
    sent = 0
    for row in store.due_mail(BATCH):
        opened = keys.open_column(row.user_id, _object_id(row.id), row.sealed)
        if opened is None:
            # Her key is gone (erasure): the mail cannot be read, and must not be.
            store.sent(row)
            continue
        mail = Mail(**json.loads(opened))
        message = _message(mail, config["MAIL_FROM"])
        try:
            if config["SMTP_URL"]:
                _smtp_send(config["SMTP_URL"], message)
            else:
                _to_outbox(config["OUTBOX_DIR"], row.id, message)
        except (OSError, smtplib.SMTPException) as error:
            pause = min(timedelta(seconds=config["MAIL_RETRY_SECONDS"]) * 2 ** min(row.attempts, 16), LONGEST_PAUSE)
            store.retry_later(row, pause, type(error).__name__)
            log.warning("mail not sent, retried later", extra={"subject": mail.subject, "error": type(error).__name__})
            continue
        store.sent(row)
        sent += 1
        log.info("mail sent", extra={"subject": mail.subject})
    db.session.commit()
    return sent
