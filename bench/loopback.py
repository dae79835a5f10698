"""What the HTTP benchmarks share: the real app under uvicorn on 127.0.0.1, a token, percentiles."""

from __future__ import annotations

import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from sqlalchemy import select
from sqlalchemy.engine import Engine

from digigov.app import create_app, prepare_to_serve
from digigov.core.config import Settings
from digigov.core.db import unit_of_work
from digigov.identity import service as identity
from digigov.identity import tokens
from digigov.identity.models import User


def consumer_token(engine: Engine, settings: Settings) -> str:
    """An API token for the demo user `consumer`."""
    with unit_of_work(engine) as session:
        user = session.scalars(select(User).where(User.username == "consumer")).one()
        actor = identity.actor_for_user(session, user)
        _, secret = tokens.create_token(session, actor, settings, name="bench", scopes=["*"])
    return secret


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(settings: Settings, engine: Engine, wrap: Callable[[Any], Any] | None = None) -> Iterator[str]:
    """The real app under uvicorn on 127.0.0.1, in a thread, prepared as `digigov serve` prepares it.

    `wrap` may put an ASGI wrapper around it.
    """
    port = free_port()
    app: Any = create_app(settings, engine=engine)
    served = wrap(app) if wrap else app
    prepare_to_serve()  # as `digigov serve` does
    runner = uvicorn.Server(uvicorn.Config(served, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not runner.started and time.monotonic() < deadline:
        time.sleep(0.05)
    if not runner.started:
        raise SystemExit("uvicorn did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        runner.should_exit = True
        thread.join(10)


def percentiles(times: list[float]) -> tuple[float, float]:
    """p50 and p99 of a list of milliseconds."""
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return statistics.median(times), cuts[98]
