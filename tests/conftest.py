"""Test fixtures: a real database (SQLite or PostgreSQL), per-test rollback, the app, actors.

Choose the database with `--db sqlite` (default) or `--db postgresql`; the PostgreSQL URL
comes from DIGIGOV_TEST_POSTGRES_URL. An unreachable PostgreSQL fails the run, loudly.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from digigov.app import create_app
from digigov.core import migrate
from digigov.core.auth import Actor
from digigov.core.config import Settings
from digigov.core.db import make_engine, unit_of_work
from digigov.demo import load_demo, load_reference_data
from digigov.identity import service as identity
from digigov.identity import tokens
from digigov.identity.models import User

DEMO_PASSWORD = "test-demo-password-2026"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", choices=["sqlite", "postgresql"], default="sqlite", help="Metadata store to test on.")


def pytest_report_header(config: pytest.Config) -> str:
    return f"digigov metadata store: {config.getoption('--db')}"


def _postgres_url() -> str:
    url = os.environ.get("DIGIGOV_TEST_POSTGRES_URL", DEFAULT_PG)
    return "postgresql+psycopg://" + url.split("://", 1)[1]


@pytest.fixture(scope="session")
def db_kind(pytestconfig: pytest.Config) -> str:
    return str(pytestconfig.getoption("--db"))


@pytest.fixture(scope="session")
def engine(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A freshly migrated database with reference data and the demo users, shared by the run."""
    if db_kind == "postgresql":
        engine = make_engine(_postgres_url())
        try:
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        except Exception as error:  # noqa: BLE001  (any connection failure ends the run with advice)
            pytest.exit(
                f"PostgreSQL is unreachable at {_postgres_url()} ({type(error).__name__}). Start it with\n"
                "  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"
                "or set DIGIGOV_TEST_POSTGRES_URL.",
                returncode=3,
            )
    else:
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}")
    migrate.upgrade(engine)
    with unit_of_work(engine) as session:
        load_reference_data(session)
        load_demo(session, password=DEMO_PASSWORD)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """One connection whose outer transaction is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        if outer.is_active:
            outer.rollback()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    """A session inside the test's transaction: services may flush and commit; nothing survives."""
    with Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False) as session:
        yield session


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, demo=True, cookie_secure=True)


@pytest.fixture
def app(settings: Settings, engine: Engine, connection: Connection) -> FastAPI:
    """The real app; its sessions join the test's transaction."""
    application = create_app(settings, engine=engine)
    application.state.sessionmaker = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    # https: the session cookie is Secure, and the test client honours that like a browser.
    with TestClient(app, base_url="https://testserver") as client:
        yield client


def actor_named(session: Session, username: str) -> Actor:
    """The actor of a demo user."""
    user = session.query(User).filter_by(username=username).one()
    return identity.actor_for_user(session, user)


@pytest.fixture
def admin(session: Session) -> Actor:
    return actor_named(session, "admin")


@pytest.fixture
def steward(session: Session) -> Actor:
    return actor_named(session, "steward")


@pytest.fixture
def auditor(session: Session) -> Actor:
    return actor_named(session, "auditor")


@pytest.fixture
def reviewer(session: Session) -> Actor:
    return actor_named(session, "reviewer")


@pytest.fixture
def consumer(session: Session) -> Actor:
    return actor_named(session, "consumer")


@pytest.fixture
def token_for(session: Session, settings: Settings):  # type: ignore[no-untyped-def]
    """Make a bearer-token header for a demo user, optionally with narrower scopes."""

    def make(username: str, scopes: list[str] | None = None, days: int | None = None) -> dict[str, str]:
        actor = actor_named(session, username)
        _, secret = tokens.create_token(session, actor, settings, name="test", scopes=scopes or ["*"], days=days)
        return {"Authorization": f"Bearer {secret}"}

    return make


def login(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> object:
    """Sign in through the real login form, CSRF token included."""
    form = client.get("/login")
    token = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    return client.post(
        "/login", data={"username": username, "password": password, "csrf": token, "next": "/"}, follow_redirects=False
    )


def database_state(session: Session) -> dict[str, str]:
    """A fingerprint of every table, to prove that a refused request changed nothing."""
    import hashlib

    from digigov.core.db import Base

    session.flush()
    state = {}
    for table in Base.metadata.sorted_tables:
        rows = session.execute(table.select().order_by(*table.primary_key.columns)).all()
        state[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return state
