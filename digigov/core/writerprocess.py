"""One writer process for every worker on a SQLite file: the workers' group commits, combined.

With `digigov serve --workers N` on SQLite, each worker's group commit took the database's write
lock in turn: N small batches where one would do, and each writer thread waited for the
interpreter lock behind its own worker's requests while the other workers waited for it (stop
15: batches of 2, p99 over 20 ms at 900 lookups/s). The supervisor starts one writer process
instead (`serve`); each worker sends it what it would have written (`RemoteCommit`, over a Unix
socket authenticated with a key only the supervisor's children know), and it writes them with
the same `write` functions in its own group commits, answering each item once committed.

A worker whose writer cannot be reached refuses the call it cannot record (`NotReady`, 503) and
connects again on the next one. Items sent but not answered when the connection breaks are
refused too: the caller is never told a call was recorded when that is not known.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import pickle
import threading
from collections.abc import Callable
from multiprocessing.connection import Client, Connection, Listener
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from digigov.core.committing import Submits, Then
from digigov.core.errors import DigigovError, NotReady

log = logging.getLogger(__name__)
T = TypeVar("T")
PROTOCOL = pickle.HIGHEST_PROTOCOL  # plain pickle: multiprocessing's own pickler costs more per message
SOCKET, KEY = "DIGIGOV_WRITER_SOCKET", "DIGIGOV_WRITER_KEY"  # set by the supervisor for its workers


class WriterUnavailable(NotReady):
    """The writer process could not be reached, or the connection broke before an item was answered."""


def remote_address() -> tuple[str, bytes] | None:
    """The writer process's socket and key when this process is a worker of a supervisor that runs one."""
    path, key = os.environ.get(SOCKET), os.environ.get(KEY)
    return (path, bytes.fromhex(key)) if path and key else None


def serve(path: str, key: bytes, url: str) -> None:
    """The writer process: accept workers on `path` and write what they send to the database at `url`."""
    from digigov.core.db import make_engine
    from digigov.core.groupcommit import group_commit

    engine = make_engine(url)
    if os.path.exists(path):
        os.unlink(path)
    with Listener(path, family="AF_UNIX", authkey=key) as listener:
        os.chmod(path, 0o600)
        while True:
            try:
                conn = listener.accept()
            except (OSError, EOFError) as error:  # a client that failed authentication, or went away
                log.warning("writer: a connection was refused: %s", error)
                continue
            threading.Thread(target=_serve_worker, args=(conn, engine, group_commit), daemon=True).start()


def _serve_worker(conn: Connection, engine: Engine, group_commit: Callable[..., Any]) -> None:
    sending = threading.Lock()

    def answer(number: int) -> Then:
        def then(error: BaseException | None) -> None:
            if error is not None and not isinstance(error, DigigovError):  # may not pickle; the worker logs it
                error = WriterUnavailable(f"Writing failed: {error}", f"写入失败：{error}")
            try:
                with sending:
                    conn.send_bytes(pickle.dumps((number, error), PROTOCOL))
            except OSError:  # the worker went away; what it sent was written all the same
                pass

        return then

    try:
        while True:
            name, write, number, item = pickle.loads(conn.recv_bytes())
            group_commit(engine, name, write, local=True).submit_then(item, answer(number))
    except (EOFError, OSError):
        conn.close()


class RemoteCommit(Submits[T]):
    """`GroupCommit`'s interface in a worker: items go to the writer process, answers come back."""

    def __init__(self, address: tuple[str, bytes], name: str, write: Callable[..., Any]) -> None:
        self.address, self.name, self.write = address, name, write
        self.lock = threading.Lock()
        self.conn: Connection | None = None
        self.numbers = itertools.count(1)
        self.waiting: dict[int, Then] = {}

    def submit_then(self, item: T, then: Then) -> None:
        """Send `item` to the writer process; `then(error or None)` runs once it answers (or cannot)."""
        with self.lock:
            number = next(self.numbers)
            try:
                conn = self._connection()
                self.waiting[number] = then
                conn.send_bytes(pickle.dumps((self.name, self.write, number, item), PROTOCOL))
            except (OSError, EOFError) as error:
                self.waiting.pop(number, None)
                self._drop(error)
                raise WriterUnavailable(
                    f"The writer process is not reachable ({error}); retry.", "记录写入进程暂不可用，请重试。"
                ) from error

    def _connection(self) -> Connection:
        if self.conn is None:
            path, key = self.address
            self.conn = Client(path, family="AF_UNIX", authkey=key)
            threading.Thread(target=self._receive, args=(self.conn,), name=f"{self.name}-answers", daemon=True).start()
        return self.conn

    def _receive(self, conn: Connection) -> None:
        try:
            while True:
                number, error = pickle.loads(conn.recv_bytes())
                with self.lock:
                    then = self.waiting.pop(number, None)
                if then is not None:
                    then(error)
        except (EOFError, OSError) as error:
            with self.lock:
                if self.conn is conn:
                    self._drop(error)

    def _drop(self, error: BaseException) -> None:
        """Forget the connection; every item still unanswered is refused (held: self.lock)."""
        if self.conn is not None:
            with contextlib.suppress(OSError):
                self.conn.close()
        self.conn = None
        waiting, self.waiting = self.waiting, {}
        for then in waiting.values():
            then(WriterUnavailable(f"The writer process went away ({error}).", "记录写入进程中断，本次调用未记录。"))
