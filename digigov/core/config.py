"""Typed settings: one object, declared, documented in docs/configuration.md, passed in.

Every option reads from an environment variable `DIGIGOV_<NAME>`.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from digigov.core.errors import NotReady


class Settings(BaseSettings):
    """Everything the platform can be told; defaults run the embedded demo."""

    model_config = SettingsConfigDict(env_prefix="DIGIGOV_", extra="ignore")

    home: Path = Field(
        Path("var"),
        description="Data home: the SQLite database, raw uploads, Parquet versions, indexes.",
    )
    database_url: str | None = Field(
        None,
        description="Metadata store, a SQLite or PostgreSQL URL; default: SQLite in the data home.",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Signs sessions and CSRF tokens; required outside demo mode (32+ characters).",
    )
    demo: bool = Field(
        False,
        description="Demo mode: allows a generated secret key kept in the data home.",
    )
    demo_enterprises: int = Field(
        2000, ge=1, description="Synthetic enterprises the demo catalog gets when it is first loaded."
    )
    demo_persons: int = Field(
        10000, ge=1, description="Synthetic persons the demo catalog gets when it is first loaded."
    )
    host: str = Field("127.0.0.1", description="Address the web server listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the web server listens on.")
    cookie_secure: bool = Field(
        True,
        description="Mark the session cookie Secure (browsers still send it to 127.0.0.1/localhost).",
    )
    session_idle_minutes: int = Field(30, ge=1, description="Web session idle timeout.")
    session_absolute_hours: int = Field(12, ge=1, description="Web session absolute lifetime.")
    login_max_failures: int = Field(5, ge=1, description="Failed logins in a row before the account is locked.")
    login_lock_minutes: int = Field(
        15, ge=1, description="How long an account stays locked after too many failed logins."
    )
    token_default_days: int = Field(90, ge=1, description="Default lifetime of a new API token.")
    token_max_days: int = Field(366, ge=1, description="Longest lifetime an API token may have.")
    open_daily_quota: int = Field(
        1000, ge=1, description="Calls a day each API key may make to the open-data portal's data API."
    )
    llm_url: str | None = Field(
        None,
        description="Base URL of an OpenAI-compatible endpoint (…/v1) that words policy answers from the "
        "cited clauses only; unset (the default), answers are the quoted clauses themselves.",
    )
    llm_model: str = Field("default", description="Model name sent to the LLM endpoint.")
    llm_api_key: SecretStr | None = Field(None, description="Bearer key for the LLM endpoint, if it needs one.")

    def resolved_database_url(self) -> str:
        """The configured metadata URL, or SQLite inside the data home."""
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
            return url
        return f"sqlite:///{(self.home / 'digigov.db').resolve()}"

    def secret(self) -> str:
        """The secret key; in demo mode one is generated once and kept in the data home."""
        if self.secret_key is not None:
            value = self.secret_key.get_secret_value()
            if len(value) < 32:
                raise NotReady(
                    "DIGIGOV_SECRET_KEY is shorter than 32 characters; set a long random value.",
                    "DIGIGOV_SECRET_KEY 少于 32 个字符，请设置足够长的随机值。",
                )
            return value
        if not self.demo:
            raise NotReady(
                "DIGIGOV_SECRET_KEY is not set. Set it to a long random value, "
                "or run in demo mode (DIGIGOV_DEMO=1 or `digigov up`).",
                "未设置 DIGIGOV_SECRET_KEY。请设置足够长的随机值，或以演示模式运行（DIGIGOV_DEMO=1 或 digigov up）。",
            )
        path = self.home / "secret_key"
        if not path.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(secrets.token_urlsafe(48))
            tmp.chmod(0o600)
            tmp.replace(path)
        return path.read_text().strip()


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (tests pass their own)."""
    return Settings(**overrides)  # type: ignore[arg-type]
