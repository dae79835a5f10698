"""What every `digigov` command module shares: error reporting, the unit of work, the operator actor."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from digigov.core import migrate
from digigov.core.auth import SYSTEM, Actor
from digigov.core.config import Settings
from digigov.core.db import make_engine, unit_of_work
from digigov.core.errors import DigigovError, Invalid

errors = Console(stderr=True)
T = TypeVar("T")


def english() -> bool:
    """Messages in English unless DIGIGOV_LANG or LANG asks for Chinese."""
    lang = os.environ.get("DIGIGOV_LANG") or os.environ.get("LANG", "")
    return not lang.lower().startswith("zh")


def guarded(run: Callable[[], T]) -> T:
    """Run a command body; a DigigovError becomes a message and its exit code, never a traceback."""
    try:
        return run()
    except ValidationError as error:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) + f" ({e['msg']})" for e in error.errors())
        errors.print(f"[red]error:[/red] invalid {fields}")
        raise typer.Exit(Invalid.exit_code) from None
    except DigigovError as error:
        errors.print(f"[red]error:[/red] {error.message if english() else error.message_zh}")
        raise typer.Exit(error.exit_code) from None


def engine_for(settings: Settings) -> Engine:
    """The metadata store of a data home (creating the home folder if needed)."""
    settings.home.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.resolved_database_url())


@contextmanager
def ready(settings: Settings) -> Iterator[Session]:
    """One unit of work on a migrated metadata store; refuses a store that needs `digigov init`."""
    engine = engine_for(settings)
    migrate.require_current(engine)
    with unit_of_work(engine) as session:
        yield session


def operator() -> Actor:
    """CLI commands act as the system, named after the operating-system user who ran them."""
    name = os.environ.get("USER") or os.environ.get("USERNAME") or "operator"
    return Actor(user_id=None, username=f"cli:{name}", department_id=None, roles=SYSTEM.roles)
