"""Database: declarative base, engines for SQLite and PostgreSQL, and the unit of work.

The edge (request, CLI command, job) owns the transaction; services only flush.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every table."""

    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    """Now in UTC, naive, truncated to microseconds: what both databases store alike."""
    return datetime.now(UTC).replace(tzinfo=None)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for the metadata store; SQLite gets WAL, foreign keys and real BEGINs."""
    if url.startswith("sqlite"):
        # As many connections as the server has worker threads (40, AnyIO's default): a SQLite
        # connection costs little, and a request should not queue for one behind the others.
        if "poolclass" not in kwargs:
            kwargs.setdefault("pool_size", 40)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _prepare_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _prepare_sqlite(engine: Engine) -> None:
    # pysqlite opens transactions lazily and breaks SAVEPOINTs; SQLAlchemy's documented
    # recipe turns that off and emits BEGIN itself.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        # 64 MiB of page cache per connection (the default is 2 MiB): catalog search reads
        # resource rows by id all over the table, and a miss is a read from the OS.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITES_FIRST) else "BEGIN")


WRITES_FIRST = "digigov_writes_first"


def writes_first(session: Session) -> None:
    """Begin the session's transaction holding the write lock (SQLite; elsewhere nothing changes).

    A SQLite transaction that reads and then writes cannot take the write lock once another
    writer has committed after its first read: it fails at once with "database is locked",
    whatever the busy timeout. Beginning IMMEDIATE makes it wait its turn instead. Call it first,
    in requests that always write (a data API call records itself), before anything is read.
    """
    session.connection(execution_options={WRITES_FIRST: True})


@contextmanager
def side_transaction(session: Session) -> Iterator[Session]:
    """A short transaction of its own beside `session`'s, holding the write lock from its start; committed at the end.

    For a request that reads at length and then writes a little (a data API call reads a version,
    then records itself): on SQLite the reads run beside other requests and only the short write
    takes turns. Whatever the write depends on must be read again inside it.
    """
    bind = session.get_bind()
    with Session(bind=bind, join_transaction_mode="create_savepoint", expire_on_commit=False) as side, side.begin():
        writes_first(side)
        yield side


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One transaction: commits on normal exit, rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session
