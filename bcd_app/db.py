"""The database handle and migrations, created once without an app and bound in the factory."""

import psycopg
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from pgvector import Vector
from pgvector.psycopg.vector import VectorDumper, register_vector_info
from psycopg.types import TypeInfo
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine

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


# A vector (models.VectorColumn binds pgvector's Vector) goes as text on any connection, typed by the server from the
# column it is written to; a connection to a database with the type sends and reads it in pgvector's binary form
# instead: 5 KB copied, where the text form costs ~1-2 ms of float formatting per 1280-dimension vector.
psycopg.adapters.register_dumper(Vector, VectorDumper)


@event.listens_for(Engine, "connect")
def _binary_vectors(dbapi_connection: psycopg.Connection, _record: object) -> None:
    """Register pgvector's binary adapters on a new connection, when its database has the type (before the first
    migration it has not)."""
    info = TypeInfo.fetch(dbapi_connection, "vector")
    if info is not None:
        register_vector_info(dbapi_connection, info)
