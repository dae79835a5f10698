"""`digigov serve --workers N`: N processes, each with its own listening socket on the same port.

uvicorn's own workers share one listening socket, and whichever process is awake first accepts:
under a few keep-alive clients one process took every connection while the other sat idle
(stop 15: 16 wrk connections, one worker at 114 % CPU, the other at 0.3 %). Here every worker
binds the port with SO_REUSEPORT, and the kernel spreads new connections over the sockets by
their addresses. The supervisor starts the workers, starts again one that dies, and stops them
all on SIGINT or SIGTERM.

On SQLite it starts one writer process first (`core.writerprocess`): the workers send it the
records their group commits would write, so one process holds the database's write lock and its
batches carry every worker's calls.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import signal
import socket
import tempfile
import time
from multiprocessing.context import SpawnProcess
from types import FrameType

from digigov.core import writerprocess
from digigov.core.errors import Conflict

RESTART_PAUSE = 1.0  # seconds before a worker that died is started again


def check_port(host: str, port: int) -> None:
    """Refuse a port another program listens on, before any worker starts (SO_REUSEPORT would not tell)."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise Conflict(
                f"Cannot listen on {host}:{port}: {error.strerror}. Stop what uses it or choose --port.",
                f"无法监听 {host}:{port}（{error.strerror}），请停止占用该端口的程序或用 --port 另选端口。",
            ) from None


def serve_workers(host: str, port: int, workers: int, database_url: str) -> None:
    """Run `workers` worker processes on host:port (and on SQLite, their writer) until SIGINT or SIGTERM."""
    check_port(host, port)
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: no state copied from this one
    running: list[SpawnProcess] = []
    writer: SpawnProcess | None = None
    stopping = False
    if database_url.startswith("sqlite"):
        # the workers inherit where the writer listens and the key that opens it
        os.environ[writerprocess.SOCKET] = os.path.join(tempfile.gettempdir(), f"digigov-writer-{os.getpid()}.sock")
        os.environ[writerprocess.KEY] = secrets.token_hex(32)

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        if writerprocess.remote_address() is not None:
            writer = _start_writer(spawn, database_url)
        for _ in range(workers):
            running.append(_start(spawn, host, port))
        while not stopping:
            time.sleep(0.2)
            if writer is not None and not writer.is_alive() and not stopping:
                time.sleep(RESTART_PAUSE)
                writer = _start_writer(spawn, database_url)
            for k, process in enumerate(running):
                if not process.is_alive() and not stopping:
                    time.sleep(RESTART_PAUSE)
                    running[k] = _start(spawn, host, port)
    finally:
        _stop_all(running)  # uvicorn shuts down gracefully on SIGTERM, answering what it has begun
        if writer is not None:  # after the workers: their last calls are still written
            _stop_all([writer])
            address = writerprocess.remote_address()
            if address is not None and os.path.exists(address[0]):
                os.unlink(address[0])
        for s, handler in previous.items():
            signal.signal(s, handler)


def _stop_all(processes: list[SpawnProcess]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()


def _start_writer(spawn: multiprocessing.context.SpawnContext, database_url: str) -> SpawnProcess:
    """The writer process, once it listens (the workers' first calls need it)."""
    address = writerprocess.remote_address()
    assert address is not None
    path, key = address
    if os.path.exists(path):
        os.unlink(path)
    process = spawn.Process(target=_writer, args=(path, key, database_url), daemon=True)
    process.start()
    deadline = time.monotonic() + 30
    while not os.path.exists(path) and process.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    return process


def _writer(path: str, key: bytes, database_url: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the supervisor, which stops us
    writerprocess.serve(path, key, database_url)


def _start(spawn: multiprocessing.context.SpawnContext, host: str, port: int) -> SpawnProcess:
    process = spawn.Process(target=_worker, args=(host, port), daemon=True)
    process.start()
    return process


def _worker(host: str, port: int) -> None:
    """One worker: its own socket on the shared port, the app from the environment, uvicorn on it."""
    import uvicorn

    from digigov.app import worker_app

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the supervisor, which stops us
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    config = uvicorn.Config(worker_app(), log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
