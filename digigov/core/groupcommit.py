"""Group commit: many requests' small records written in one transaction, each caller answered after it commits.

A data API call must be recorded (its usage row and its audit event) before its answer leaves. One
transaction per call makes the metadata store's write lock and commit the limit on calls per second:
every call queues for the lock. A `GroupCommit` keeps one writer thread per engine that takes every
record waiting when it is free, writes them in one transaction with `write`, commits, and wakes
their callers: under load a commit carries many calls; alone, a call waits for its own commit as
before. Nothing is answered before it is committed, so nothing answered is lost.

On SQLite, processes serving the same file (`digigov serve --workers N`) queue for the write lock
on a file lock beside the database first: SQLite's own wait polls with sleeps of up to 100 ms, so
two writers that keep committing starve each other (stop 14 measured a p99 of 902 ms with two
processes); a file lock hands over the moment it is released.

`write(connection, items)` returns, per item, None when it was recorded or the error to raise to its
caller (a call refused by a limit); if the transaction fails, every caller in it gets that error.
"""

from __future__ import annotations

import fcntl
import logging
import os
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from digigov.core.committing import Submits, Then
from digigov.core.db import WRITES_FIRST, make_engine
from digigov.core.writerprocess import RemoteCommit, remote_address

log = logging.getLogger(__name__)
T = TypeVar("T")
Write = Callable[[Connection, Sequence[T]], Sequence[BaseException | None]]
MAX_BATCH = 500  # records per transaction at most


@dataclass
class _Waiting(Generic[T]):
    """An item and whom to tell once its batch is committed or has failed."""

    item: T
    then: Then
    error: BaseException | None = None


class GroupCommit(Submits[T]):
    """One writer thread for `engine` that writes waiting items with `write`, in batches."""

    def __init__(self, engine: Engine, write: Write[T], name: str) -> None:
        self.engine, self.write, self.name = engine, write, name
        self.waiting: queue.SimpleQueue[_Waiting[T]] = queue.SimpleQueue()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()
        self.turns = _lock_file(engine)
        self.connection: Connection | None = None  # the writer's own: never waits on the pool

    def submit_then(self, item: T, then: Then) -> None:
        """Record `item` and return at once; `then(error or None)` runs on the writer's thread after its batch."""
        self.waiting.put(_Waiting(item, then))
        self._start()

    def _start(self) -> None:
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self.thread.start()

    def _run(self) -> None:
        while True:
            batch = [self.waiting.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self.waiting.get_nowait())
                except queue.Empty:
                    break
            self._commit(batch)

    def _commit(self, batch: list[_Waiting[T]]) -> None:
        # The writer keeps a connection of its own, outside the engine's pool. Taken from the pool,
        # it could wait for ever: the requests waiting for this writer each hold one of the pool's
        # connections, and with as many requests as the pool has connections, none is left.
        try:
            with self._turn():
                if self.connection is None:  # outside the pool: it may be empty just when the writer starts
                    url = self.engine.url.render_as_string(hide_password=False)
                    connection = make_engine(url, poolclass=NullPool).connect()
                    self.connection = connection.execution_options(**{WRITES_FIRST: True})
                with self.connection.begin():  # a Connection, not a Session: nothing here needs the ORM
                    outcomes = self.write(self.connection, [w.item for w in batch])
            for waiting, outcome in zip(batch, outcomes, strict=True):
                waiting.error = outcome
        except Exception as error:  # the transaction failed: every caller in it hears why
            log.warning("%s: a batch of %d failed: %s", self.name, len(batch), error)
            self._reconnect()
            for waiting in batch:
                waiting.error = error
        finally:
            for waiting in batch:
                waiting.then(waiting.error)

    def _reconnect(self) -> None:
        """Drop the writer's connection after a failure (the next batch connects afresh)."""
        if self.connection is not None:
            try:
                self.connection.close()
            except Exception as error:  # a broken connection may fail to close; it is dropped anyway
                log.warning("%s: closing the connection failed: %s", self.name, error)
            self.connection = None

    @contextmanager
    def _turn(self) -> Iterator[None]:
        """Hold the file lock the database's writers in every process queue on (SQLite files only)."""
        if self.turns is None:
            yield
            return
        fcntl.flock(self.turns, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self.turns, fcntl.LOCK_UN)


def _lock_file(engine: Engine) -> int | None:
    """A descriptor of the lock file beside a SQLite database file; None for other databases."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return os.open(f"{database}-writers.lock", os.O_RDWR | os.O_CREAT, 0o600)


_writers: dict[tuple[int, str, bool], GroupCommit[Any] | RemoteCommit[Any]] = {}
_writers_lock = threading.Lock()


def group_commit(
    engine: Engine, name: str, write: Write[T], *, local: bool = False
) -> GroupCommit[T] | RemoteCommit[T]:
    """The process's writer named `name` for `engine` (made on first use).

    In a worker of `digigov serve --workers N` on SQLite, the writer process's (`writerprocess`),
    unless `local`: the writer process itself writes locally.
    """
    address = remote_address()
    remote = address is not None and not local and engine.dialect.name == "sqlite"
    key = (id(engine), name, remote)
    with _writers_lock:
        found = _writers.get(key)
        if found is None or (isinstance(found, GroupCommit) and found.engine is not engine):
            if remote:
                assert address is not None
                found = RemoteCommit(address, name, write)
            else:
                found = GroupCommit(engine, write, name)
            _writers[key] = found
    return found
