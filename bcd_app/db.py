"""The database handle and migrations, created once without an app and bound in the factory."""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData

# Stable constraint names, so migrations and models agree on them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()


def contended(exc: Exception) -> bool:
    """Whether PostgreSQL gave a statement up over another transaction rather than being out of reach: a deadlock
    or serialisation failure (SQLSTATE class 40) or a lock not granted in time (55P03). Retrying is the cure."""
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None) or ""
    return sqlstate.startswith("40") or sqlstate == "55P03"
