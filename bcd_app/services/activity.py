"""Her account's activity: what happened (a sign-in, a password change, an export...), when, and from which
browser family and address prefix; kept a year."""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from ..db import db
from ..models import utcnow
from ..store import account_tokens as store
from .clients import address_prefix, agent_family

KEPT = timedelta(days=366)
# Most events one listing answers.
LISTED = 200


@dataclass(frozen=True)
class Client:
    """What is kept of who made a request: its browser family and address prefix."""

    agent: str
    prefix: str

    @classmethod
    def of(cls, user_agent: str | None, address: str | None) -> "Client":
        """The client of a request's User-Agent and address."""
        return cls(agent_family(user_agent), address_prefix(address))


def record(user_id: uuid.UUID, kind: str, client: Client) -> None:
    """Add an event in the caller's transaction."""
    store.add_event(user_id, kind, client.agent, client.prefix)


def record_now(user_id: uuid.UUID, kind: str, client: Client) -> None:
    """Add an event and commit it."""
    record(user_id, kind, client)
    db.session.commit()


def listed(user_id: uuid.UUID) -> list[dict]:
    """Her latest events, newest first."""
    return [
        {"kind": e.kind, "at": e.at.isoformat(), "agent_family": e.agent_family, "address_prefix": e.address_prefix}
        for e in store.events(user_id, LISTED)
    ]


def forget_old() -> None:
    """Drop events older than a year."""
    store.forget_events(utcnow() - KEPT)
