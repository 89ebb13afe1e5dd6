"""Share links and the log of their openings."""

import uuid
from datetime import datetime

from sqlalchemy import select, update

from ..db import db
from ..models import ShareAccess, ShareLink, utcnow


def add(link: ShareLink) -> ShareLink:
    """Keep a new link."""
    db.session.add(link)
    db.session.flush()
    return link


def of_user(user_id: uuid.UUID) -> list[ShareLink]:
    """A person's links, newest first."""
    return list(
        db.session.scalars(
            select(ShareLink).where(ShareLink.user_id == user_id).order_by(ShareLink.created_at.desc(), ShareLink.id)
        )
    )


def owned(user_id: uuid.UUID, share_id: uuid.UUID) -> ShareLink | None:
    """One of a person's links."""
    return db.session.scalar(select(ShareLink).where(ShareLink.id == share_id, ShareLink.user_id == user_id))


def live(token_hash: str, now: datetime) -> ShareLink | None:
    """The link a token opens, if it is neither revoked nor expired."""
    return db.session.scalar(
        select(ShareLink).where(
            ShareLink.token_hash == token_hash, ShareLink.revoked_at.is_(None), ShareLink.expires_at > now
        )
    )


def record_opening(link: ShareLink, opened: str, agent_family: str) -> None:
    """Count one opening and log it."""
    now = utcnow()
    db.session.execute(
        update(ShareLink)
        .where(ShareLink.id == link.id)
        .values(access_count=ShareLink.access_count + 1, last_accessed_at=now)
    )
    db.session.add(ShareAccess(share_id=link.id, opened=opened, agent_family=agent_family, accessed_at=now))


def openings(share_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[ShareAccess]]:
    """These links' openings, oldest first, by link (one query)."""
    found: dict[uuid.UUID, list[ShareAccess]] = {share_id: [] for share_id in share_ids}
    rows = db.session.scalars(select(ShareAccess).where(ShareAccess.share_id.in_(share_ids)).order_by(ShareAccess.id))
    for row in rows:
        found[row.share_id].append(row)
    return found
