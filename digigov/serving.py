"""`digigov serve --workers N`: N processes, each with its own listening socket on the same port.

uvicorn's own workers share one listening socket, and whichever process is awake first accepts:
under a few keep-alive clients one process took every connection while the other sat idle
(stop 15: 16 wrk connections, one worker at 114 % CPU, the other at 0.3 %). Here every worker
binds the port with SO_REUSEPORT, and the kernel spreads new connections over the sockets by
their addresses. The supervisor starts the workers, starts again one that dies, and stops them
all on SIGINT or SIGTERM.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import time
from multiprocessing.context import SpawnProcess
from types import FrameType

RESTART_PAUSE = 1.0  # seconds before a worker that died is started again


def check_port(host: str, port: int) -> None:
    """Refuse a port another program listens on, before any worker starts (SO_REUSEPORT would not tell)."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def serve_workers(host: str, port: int, workers: int) -> None:
    """Run `workers` worker processes on host:port until SIGINT or SIGTERM."""
    check_port(host, port)
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: no state copied from this one
    running: list[SpawnProcess] = []
    stopping = False

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for _ in range(workers):
            running.append(_start(spawn, host, port))
        while not stopping:
            time.sleep(0.2)
            for k, process in enumerate(running):
                if not process.is_alive() and not stopping:
                    time.sleep(RESTART_PAUSE)
                    running[k] = _start(spawn, host, port)
    finally:
        for process in running:
            process.terminate()  # uvicorn shuts down gracefully on SIGTERM
        for process in running:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
        for s, handler in previous.items():
            signal.signal(s, handler)


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
