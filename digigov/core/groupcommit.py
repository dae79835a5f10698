"""Group commit: many requests' small records written in one transaction, each caller answered after it commits.

A data API call must be recorded (its usage row and its audit event) before its answer leaves. One
transaction per call makes the metadata store's write lock and commit the limit on calls per second:
every call queues for the lock. A `GroupCommit` keeps one writer thread per engine that takes every
record waiting when it is free, writes them in one transaction with `write`, commits, and wakes
their callers: under load a commit carries many calls; alone, a call waits for its own commit as
before. Nothing is answered before it is committed, so nothing answered is lost.

`write(session, items)` returns, per item, None when it was recorded or the error to raise to its
caller (a call refused by a limit); if the transaction fails, every caller in it gets that error.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from digigov.core.db import writes_first

log = logging.getLogger(__name__)
T = TypeVar("T")
Write = Callable[[Session, Sequence[T]], Sequence[BaseException | None]]
MAX_BATCH = 500  # records per transaction at most


@dataclass
class _Waiting(Generic[T]):
    item: T
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class GroupCommit(Generic[T]):
    """One writer thread for `engine` that writes waiting items with `write`, in batches."""

    def __init__(self, engine: Engine, write: Write[T], name: str) -> None:
        self.engine, self.write, self.name = engine, write, name
        self.waiting: queue.SimpleQueue[_Waiting[T]] = queue.SimpleQueue()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def submit(self, item: T) -> None:
        """Record `item`; return once it is committed, or raise the error that kept it out."""
        waiting = _Waiting(item)
        self.waiting.put(waiting)
        self._start()
        waiting.done.wait()
        if waiting.error is not None:
            raise waiting.error

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
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                writes_first(session)
                outcomes = self.write(session, [w.item for w in batch])
            for waiting, outcome in zip(batch, outcomes, strict=True):
                waiting.error = outcome
        except Exception as error:  # the transaction failed: every caller in it hears why
            log.warning("%s: a batch of %d failed: %s", self.name, len(batch), error)
            for waiting in batch:
                waiting.error = error
        finally:
            for waiting in batch:
                waiting.done.set()


_writers: dict[tuple[int, str], GroupCommit[object]] = {}
_writers_lock = threading.Lock()


def group_commit(engine: Engine, name: str, write: Write[T]) -> GroupCommit[T]:
    """The process's writer named `name` for `engine` (made on first use)."""
    key = (id(engine), name)
    with _writers_lock:
        found = _writers.get(key)
        if found is None or found.engine is not engine:
            found = _writers[key] = GroupCommit(engine, write, name)  # type: ignore[arg-type]
    return found  # type: ignore[return-value]
