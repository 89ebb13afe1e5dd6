"""Share links: a person lets someone without an account (a clinician) see one session's report until the link
expires or she revokes it; every opening is counted and logged without identifying the viewer."""

import secrets
import uuid
from datetime import timedelta

from ..db import db
from ..errors import NotFound
from ..models import ShareLink, utcnow
from ..store import shares as store
from . import activity
from .accounts import hash_token
from .activity import Client
from .clients import agent_family
from .clinician_report import Gathered, analysed, gather


def create(
    user_id: uuid.UUID, session_id: uuid.UUID, expires_in_days: int, note: str | None, *, cycle_notes: bool = False
) -> tuple[ShareLink, str]:
    """A new link to a session's report and its token (256 bits; only its hash is kept, so this is the one time
    it exists). The session must have its analysis (409 while it runs or before). With `cycle_notes` the report
    shows the symptoms and notes of her cycle log on its sessions' days."""
    session, _ = analysed(user_id, session_id)
    token = secrets.token_urlsafe(32)
    link = store.add(
        ShareLink(
            user_id=user_id,
            session_id=session.id,
            token_hash=hash_token(token),
            note=note,
            include_cycle_notes=cycle_notes,
            created_at=utcnow(),
            expires_at=utcnow() + timedelta(days=expires_in_days),
            access_count=0,
        )
    )
    db.session.commit()
    return link, token


def listed(user_id: uuid.UUID) -> list[tuple[ShareLink, list]]:
    """A person's links, newest first, each with its openings."""
    links = store.of_user(user_id)
    opened = store.openings([link.id for link in links])
    return [(link, opened[link.id]) for link in links]


def revoke(user_id: uuid.UUID, share_id: object) -> None:
    """End a link at once (another person's link, or none, is 404)."""
    try:
        link = store.owned(user_id, uuid.UUID(str(share_id)))
    except ValueError:
        link = None
    if link is None:
        raise NotFound("Share link not found.")
    if link.revoked_at is None:
        link.revoked_at = utcnow()
    db.session.commit()


def open_shared(token: str, opened: str, user_agent: str | None, secret: str) -> Gathered:
    """The report a live link shows, its opening counted; the same 404 for an unknown, expired or revoked token."""
    link = store.live(hash_token(token), utcnow())
    if link is None:
        raise NotFound("Not found.")
    found = gather(link.user_id, link.session_id, secret, cycle_notes=link.include_cycle_notes)
    family = agent_family(user_agent)
    store.record_opening(link, opened, family)
    activity.record(link.user_id, "share_opened", Client(family, "unknown"))
    db.session.commit()
    return found
