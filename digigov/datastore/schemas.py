"""Pydantic shapes of versions in the API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from digigov.core.types import UtcDateTime


class VersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    number: int
    raw_name: str
    raw_sha256: str
    raw_bytes: int
    rows: int
    rejected: int
    blank_rows: int
    columns: list[dict[str, Any]]
    schema_change: dict[str, Any]
    report: dict[str, Any]
    created_by: str
    created_at: UtcDateTime


class RowsRead(BaseModel):
    fields: list[dict[str, str]]
    records: list[dict[str, Any]]
    total: int | None
    next_after: int | None
