"""Bulk export of a version through a `query` grant: the granted fields, masked, as CSV or Parquet.

The engine writes the file with COPY, each field's mask applied in the SELECT (as every data API
call does), into a temporary folder; the file's SHA-256 is taken as it is written. The call is then
recorded like any other (kind `export`, the rows written, the file's SHA-256 as the response hash)
before a byte of it is sent: so a consumer can check what it got with `sha256sum`, an auditor can
match a file found anywhere against the log, and a call that loses the race for the last of the
quota is a 429, not a cut-off download.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.core.engine import cursor, quote_name, sql_literal
from digigov.core.errors import NotFound
from digigov.datastore import Version, parquet_path
from digigov.governance.masking import Mask, mask_sql
from digigov.sharing import data
from digigov.sharing.errors import NotGranted
from digigov.sharing.models import Grant
from digigov.sharing.plans import served_fields
from digigov.sharing.schemas import Access

Format = Literal["csv", "parquet"]
KIND = "export"
ALLOWED = {Access.query.value}  # a bulk export is a bulk query in one call; lookups and verification name rows
MEDIA = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}
CHUNK = 1024 * 1024
BOM = "\ufeff".encode()  # Excel reads a CSV as UTF-8, and so its Chinese right, only with a BOM


@dataclass(frozen=True)
class Exported:
    """A written export: the file (in a temporary folder the caller removes), its name, rows and SHA-256."""

    path: Path
    folder: Path
    filename: str
    media_type: str
    version: int
    rows: int
    sha256: str


def export(
    session: Session,
    home: Path,
    grant: Grant,
    *,
    fmt: Format,
    number: int | None,
    caller: data.Caller,
    now: datetime,
) -> Exported:
    """The granted fields of a version (the newest by default), masked, as one file; the call is recorded."""
    _need_bulk(grant)
    plan = data.prepare(session, grant, "query", now)  # the limits and the newest version
    grant, newest, masks, types = plan.grant, plan.newest(), plan.masks, plan.types
    version = newest if number is None or number == newest.number else _numbered(session, grant, number)
    if version is not newest:  # masks follow the classification of the version served
        masks, types = served_fields(session, grant, version)
    folder = Path(tempfile.mkdtemp(prefix="digigov-share-export-"))
    try:
        path, rows, sha256 = _write(home, version, grant, masks, types, fmt, folder)
        request_hash = data.request_digest(grant, KIND, {"format": fmt, "version": number})
        # recorded as every call is, with the file's SHA-256 as the response hash, before it is sent
        called = data.Called(KIND, list(masks), rows, version.number, request_hash, sha256)
        data.record_call(session, grant, plan.code, called, caller, now)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    name = f"{plan.code}-v{version.number}-grant{grant.id}.{fmt}"
    return Exported(path, folder, name, MEDIA[fmt], version.number, rows, sha256)


def base64_digest(hex_digest: str) -> str:
    """A hex digest in base64, as `Repr-Digest` (RFC 9530) carries it.

    >>> base64_digest(hashlib.sha256(b"").hexdigest())
    '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='
    """
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def _need_bulk(grant: Grant) -> None:
    if grant.access not in ALLOWED:
        access = Access(grant.access)
        raise NotGranted(
            f"Grant {grant.id} allows {access.value}; only a query grant may export a version.",
            f"共享授权 {grant.id} 仅允许“{access.label}”，只有“批量查询”授权可以批量导出。",
        )


def _numbered(session: Session, grant: Grant, number: int) -> Version:
    found = session.scalar(select(Version).where(Version.resource_id == grant.resource_id, Version.number == number))
    if found is None:
        raise NotFound(
            f"The resource has no version {number}.", f"该数据资源没有第 {number} 版，请查看资源的版本列表。"
        )
    return found


def _write(
    home: Path,
    version: Version,
    grant: Grant,
    masks: dict[str, Mask],
    types: dict[str, str],
    fmt: Format,
    folder: Path,
) -> tuple[Path, int, str]:
    """Write the masked fields with COPY; returns the file, the rows written and the file's SHA-256."""
    columns = [f"{mask_sql(m, quote_name(n), types[n], grant.salt)} AS {quote_name(n)}" for n, m in masks.items()]
    select_sql = f"SELECT {', '.join(columns) or 'NULL AS _none'} FROM read_parquet(?)"  # in file order
    out = folder / f"data.{fmt}"
    body = out if fmt == "parquet" else folder / "body.csv"
    options = "FORMAT parquet, COMPRESSION zstd" if fmt == "parquet" else "FORMAT csv, HEADER true"
    with cursor() as con:
        written = con.execute(
            f"COPY ({select_sql}) TO {sql_literal(str(body))} ({options})", [str(parquet_path(home, version))]
        ).fetchone()
    rows = int(written[0]) if written else 0
    if fmt == "parquet":
        return out, rows, _sha256(out)
    return out, rows, _with_bom(body, out)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _with_bom(body: Path, out: Path) -> str:
    """Copy the CSV behind a BOM, hashing what is written; returns the SHA-256 of the file as sent."""
    digest = hashlib.sha256(BOM)
    with out.open("wb") as target, body.open("rb") as source:
        target.write(BOM)
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            target.write(chunk)
    body.unlink()
    return digest.hexdigest()
