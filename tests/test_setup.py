"""Start-up rules: migrations are linear and complete, and unsafe configurations are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from digigov.app import create_app
from digigov.core import migrate
from digigov.core.config import Settings
from digigov.core.db import Base, make_engine
from digigov.core.errors import NotReady
from digigov.migrations import all_models  # noqa: F401


def test_migration_history_is_linear() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1
    revisions = list(script.walk_revisions())
    assert all(len(r._all_down_revisions) <= 1 for r in revisions)


def test_migrations_build_exactly_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_app_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, demo=True)
    with pytest.raises(NotReady, match="digigov init"):
        create_app(settings, engine=make_engine(f"sqlite:///{tmp_path / 'empty.db'}"))


def test_missing_secret_is_refused_outside_demo(tmp_path: Path) -> None:
    with pytest.raises(NotReady, match="DIGIGOV_SECRET_KEY"):
        Settings(home=tmp_path, demo=False).secret()
    with pytest.raises(NotReady, match="32"):
        Settings(home=tmp_path, secret_key="short").secret()  # type: ignore[arg-type]
    assert Settings(home=tmp_path, secret_key="x" * 40).secret() == "x" * 40  # type: ignore[arg-type]


def test_demo_mode_keeps_one_generated_secret(tmp_path: Path) -> None:
    first = Settings(home=tmp_path, demo=True).secret()
    assert len(first) >= 32 and Settings(home=tmp_path, demo=True).secret() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_configures_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DIGIGOV_HOME", str(tmp_path))
    monkeypatch.setenv("DIGIGOV_PORT", "8123")
    monkeypatch.setenv("DIGIGOV_DATABASE_URL", "postgresql://u@h/db")
    settings = Settings()
    assert settings.port == 8123 and settings.home == tmp_path
    assert settings.resolved_database_url() == "postgresql+psycopg://u@h/db"
