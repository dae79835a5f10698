"""Group commit: items from many threads, coroutines and processes written in shared transactions.

Each caller is answered only once its item is committed, or with the error that kept it out;
the writer never waits on the connection pool; processes on one SQLite file take turns.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from digigov.core import writerprocess
from digigov.core.db import make_engine
from digigov.core.errors import DigigovError
from digigov.core.groupcommit import group_commit


class Refused(DigigovError):
    """A refusal, as the platform's are: it travels back from a writer process as itself."""


def _write(session: Connection, items: Sequence[int]) -> list[BaseException | None]:
    """Write every item but refuse negative ones (they are not written)."""
    kept = [n for n in items if n >= 0]
    if kept:
        session.execute(text("INSERT INTO item (n) VALUES (:n)"), [{"n": n} for n in kept])
    session.execute(text("INSERT INTO batch (size) VALUES (:s)"), {"s": len(items)})
    return [Refused(str(n)) if n < 0 else None for n in items]


def _store(path: Path, **kwargs: object) -> Engine:
    engine = make_engine(f"sqlite:///{path}", **kwargs)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS item (n INTEGER PRIMARY KEY)"))
        conn.execute(text("CREATE TABLE IF NOT EXISTS batch (size INTEGER)"))
    return engine


def _items(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return [n for (n,) in conn.execute(text("SELECT n FROM item ORDER BY n"))]


def test_threads_are_answered_after_their_items_commit_and_share_batches(tmp_path: Path) -> None:
    engine = _store(tmp_path / "g.db")
    writer = group_commit(engine, "test-threads", _write)

    def submit(n: int) -> bool:
        writer.submit(n)
        with engine.connect() as other:  # answered: another connection sees it committed
            return other.scalar(text("SELECT count(*) FROM item WHERE n = :n"), {"n": n}) == 1

    with ThreadPoolExecutor(16) as pool:
        seen = list(pool.map(submit, range(400)))
    assert all(seen)
    assert _items(engine) == list(range(400))
    with engine.connect() as conn:
        sizes = [s for (s,) in conn.execute(text("SELECT size FROM batch"))]
    assert sum(sizes) == 400 and max(sizes) > 1, "calls waiting together are written together"


def test_a_refused_item_fails_only_its_own_caller(tmp_path: Path) -> None:
    engine = _store(tmp_path / "g.db")
    writer = group_commit(engine, "test-refused", _write)

    def submit(n: int) -> str:
        try:
            writer.submit(n)
        except Refused:
            return "refused"
        return "ok"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(submit, [1, -1, 2, -2, 3, 4]))
    assert outcomes == ["ok", "refused", "ok", "refused", "ok", "ok"]
    assert _items(engine) == [1, 2, 3, 4]


def test_a_failed_transaction_fails_its_callers_and_the_writer_goes_on(tmp_path: Path) -> None:
    engine = _store(tmp_path / "g.db")
    writer = group_commit(engine, "test-failed", _write)
    writer.submit(1)
    with pytest.raises(Exception, match="UNIQUE"):
        writer.submit(1)  # the primary key refuses it: the whole transaction rolls back
    writer.submit(2)
    assert _items(engine) == [1, 2]


def test_coroutines_await_their_commit_without_holding_a_thread(tmp_path: Path) -> None:
    engine = _store(tmp_path / "g.db")
    writer = group_commit(engine, "test-async", _write)

    async def main() -> list[str]:
        async def submit(n: int) -> str:
            try:
                await writer.submit_async(n)
            except Refused:
                return "refused"
            return "ok"

        return await asyncio.gather(*(submit(n) for n in [*range(200), -5]))

    outcomes = asyncio.run(main())
    assert outcomes == ["ok"] * 200 + ["refused"]
    assert _items(engine) == list(range(200))


def test_the_writer_does_not_wait_on_a_pool_its_callers_hold(tmp_path: Path) -> None:
    # Requests waiting for the writer each hold a pooled connection; with all of them held, a
    # writer that took its connection from the pool would wait for ever.
    engine = _store(tmp_path / "g.db", pool_size=2, max_overflow=0, pool_timeout=5)
    writer = group_commit(engine, "test-pool", _write)
    held = [engine.connect(), engine.connect()]
    try:
        writer.submit(7)
    finally:
        for conn in held:
            conn.close()
    assert _items(engine) == [7]


def _process(path: str, first: int, count: int) -> None:
    engine = make_engine(f"sqlite:///{path}")
    writer = group_commit(engine, "test-processes", _write)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(writer.submit, range(first, first + count)))


def test_processes_on_one_sqlite_file_take_turns(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    _store(path)
    spawn = multiprocessing.get_context("spawn")
    workers = [spawn.Process(target=_process, args=(str(path), k * 1000, 300)) for k in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [worker.exitcode for worker in workers] == [0, 0, 0]
    assert _items(_store(path)) == [n for k in range(3) for n in range(k * 1000, k * 1000 + 300)]


def _writer_process(path: str, key: bytes, url: str) -> None:
    writerprocess.serve(path, key, url)


@pytest.fixture
def writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Engine, Callable[[bool], None]]]:
    """A writer process for a SQLite file, this process set up as one of its workers: (engine, kill or start)."""
    db, socket_path, key = tmp_path / "g.db", str(tmp_path / "w.sock"), secrets.token_bytes(32)
    engine = _store(db)
    monkeypatch.setenv(writerprocess.SOCKET, socket_path)
    monkeypatch.setenv(writerprocess.KEY, key.hex())
    spawn = multiprocessing.get_context("spawn")
    processes = []

    def start(kill: bool = False) -> None:
        if kill:
            processes[-1].kill()
            processes[-1].join(10)
            return
        if Path(socket_path).exists():
            Path(socket_path).unlink()
        process = spawn.Process(target=_writer_process, args=(socket_path, key, f"sqlite:///{db}"), daemon=True)
        process.start()
        processes.append(process)
        deadline = time.monotonic() + 30
        while not Path(socket_path).exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    start()
    yield engine, start
    for process in processes:
        process.kill()
        process.join(10)


def test_workers_send_their_items_to_the_writer_process(writer: tuple[Engine, Callable[[bool], None]]) -> None:
    engine, _ = writer
    remote = group_commit(engine, "test-remote", _write)
    assert isinstance(remote, writerprocess.RemoteCommit)

    def submit(n: int) -> str:
        try:
            remote.submit(n)
        except Refused:
            return "refused"
        with engine.connect() as other:  # answered: committed
            return "ok" if other.scalar(text("SELECT count(*) FROM item WHERE n = :n"), {"n": n}) == 1 else "lost"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(submit, [*range(100), -1]))
    assert outcomes == ["ok"] * 100 + ["refused"]

    async def main() -> None:
        await asyncio.gather(*(remote.submit_async(n) for n in range(100, 150)))

    asyncio.run(main())
    assert _items(engine) == list(range(150))


def test_a_worker_refuses_what_it_cannot_send_and_reconnects(writer: tuple[Engine, Callable[[bool], None]]) -> None:
    engine, restart = writer
    remote = group_commit(engine, "test-reconnect", _write)
    remote.submit(1)
    restart(True)  # the writer dies
    time.sleep(0.2)
    with pytest.raises(writerprocess.WriterUnavailable):
        remote.submit(2)
    restart(False)
    remote.submit(3)
    assert _items(engine) == [1, 3]


def test_a_client_without_the_key_is_refused(writer: tuple[Engine, Callable[[bool], None]]) -> None:
    path = os.environ[writerprocess.SOCKET]
    with pytest.raises(AuthenticationError):
        Client(path, family="AF_UNIX", authkey=b"not the key")
