"""Schema migrations: Alembic with one linear history, run from code and from the CLI."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from digigov.core.errors import NotReady

SCRIPTS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config pointing at the package's migration scripts."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    if engine is not None:
        config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def head_revision() -> str:
    """The single head of the migration history."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migration history must be linear, found heads {heads}")
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None if it was never migrated."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the database to the head revision."""
    config = alembic_config(engine)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def require_current(engine: Engine) -> None:
    """Refuse to run on a database that is not at the head revision, saying how to fix it."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise NotReady(
            f"The database is at revision {current or 'none'}, the code needs {head}. "
            "Run `digigov init` (or `make run`) to migrate it.",
            f"数据库版本为 {current or '未初始化'}，程序需要 {head}。请运行 `digigov init`（或 `make run`）完成迁移。",
        )
