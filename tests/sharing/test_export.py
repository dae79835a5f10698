"""Bulk export of a version through a query grant, over HTTP: masked CSV and Parquet files, the call
recorded with the file's SHA-256 in the grant's usage and the audit chain, and every refusal."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.core import audit
from digigov.core.auth import Actor
from digigov.core.config import Settings
from digigov.datastore import versions
from digigov.sharing.export import base64_digest
from digigov.sharing.models import GrantCall
from tests.helpers import last_event
from tests.sharing.conftest import CODE, PERSONS, persons_csv
from tests.sharing.test_sharing_api import BASE, DATA, body, granted

ID, NAME, PHONE, BORN, STATUS, MONTHS = "公民身份号码", "姓名", "手机号码", "出生日期", "就业状态", "月缴社保月数"
FIELDS = [ID, NAME, PHONE, BORN, STATUS, MONTHS]
FIRST = PERSONS.slice(0, 1).to_pylist()[0]
CALLER = {"X-Grant-User": "chenjing", "X-Grant-Issue": "RSJ-2026-007"}


def query_grant(client: TestClient, token_for: Any, **limits: int) -> tuple[int, dict[str, str]]:
    """A query grant of six fields, the name in clear, through both approvals: (grant id, call headers)."""
    asked = {"access": "query", "key_field": None, "fields": FIELDS, "clear_fields": [NAME]}
    request = client.post(f"{BASE}/requests", json=body(**asked), headers=token_for("consumer")).json()
    url = f"{BASE}/requests/{request['id']}"
    client.post(f"{url}/source-decision", json={"approve": True}, headers=token_for("steward"))
    decided = client.post(
        f"{url}/platform-decision", json={"approve": True, **limits}, headers=token_for("reviewer")
    ).json()
    issued = client.post(f"{BASE}/grants/{decided['grant_id']}/credential", headers=token_for("consumer")).json()
    return decided["grant_id"], {"X-Grant-Key": issued["credential"], **CALLER}


def masked_id(value: str) -> str:
    return value[:6] + "********" + value[-4:]


@pytest.mark.usefixtures("persons")
def test_a_csv_export_is_masked_excel_ready_and_recorded_with_its_hash(
    client: TestClient, token_for: Any, session: Session
) -> None:
    grant_id, key = query_grant(client, token_for)
    reply = client.get(f"{DATA}/export", params={"format": "csv"}, headers=key)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="{CODE}-v1-grant{grant_id}.csv"' in reply.headers["content-disposition"]
    assert reply.content.startswith("\ufeff".encode())  # Excel reads the Chinese right only with a BOM
    rows = list(csv.DictReader(io.StringIO(reply.content.decode("utf-8-sig"))))
    assert len(rows) == len(PERSONS) and list(rows[0]) == FIELDS
    first = rows[0]
    assert first[ID] == masked_id(FIRST[ID]) and first[PHONE] == FIRST[PHONE][:3] + "****" + FIRST[PHONE][-4:]
    assert first[BORN] == str(FIRST[BORN].year)
    assert (first[NAME], first[STATUS], first[MONTHS]) == (FIRST[NAME], FIRST[STATUS], str(FIRST[MONTHS]))  # clear
    assert not any(p[ID] in reply.text for p in PERSONS.select([ID]).to_pylist())  # no ID number in clear

    sha256 = hashlib.sha256(reply.content).hexdigest()
    assert reply.headers["x-export-sha256"] == sha256 and reply.headers["x-export-rows"] == str(len(PERSONS))
    assert reply.headers["repr-digest"] == f"sha-256=:{base64_digest(sha256)}:"
    call = session.scalars(select(GrantCall).where(GrantCall.grant_id == grant_id)).one()
    assert (call.kind, call.rows, call.version_number, call.response_hash) == ("export", len(PERSONS), 1, sha256)
    assert (call.caller, call.issue, call.fields) == ("chenjing", "RSJ-2026-007", FIELDS)
    event = last_event(session)
    detail = json.loads(event.detail)
    assert (event.kind, event.target, detail["call"]) == ("sharing.data_called", f"share_grant:{grant_id}", "export")
    assert (detail["rows"], detail["response_hash"], detail["request_hash"]) == (
        len(PERSONS),
        sha256,
        call.request_hash,
    )
    assert FIRST[ID] not in event.detail and audit.verify_chain(session).ok
    usage = client.get(f"{BASE}/grants/{grant_id}/usage", headers=token_for("steward")).json()
    assert (usage["calls"], usage["rows"], usage["by_kind"]) == (1, len(PERSONS), {"export": 1})


@pytest.mark.usefixtures("persons")
def test_a_parquet_export_keeps_clear_fields_typed_and_masks_the_rest(
    client: TestClient, token_for: Any, session: Session
) -> None:
    grant_id, key = query_grant(client, token_for)
    reply = client.get(f"{DATA}/export", params={"format": "parquet"}, headers=key)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(reply.content))
    assert table.num_rows == len(PERSONS) and table.schema.names == FIELDS
    assert str(table.schema.field(MONTHS).type) == "int64" and str(table.schema.field(ID).type) == "string"
    first = table.slice(0, 1).to_pylist()[0]
    assert (first[ID], first[NAME], first[BORN], first[MONTHS]) == (
        masked_id(FIRST[ID]),
        FIRST[NAME],
        str(FIRST[BORN].year),
        FIRST[MONTHS],
    )
    with duckdb.connect() as con:  # the engine reads it back the same
        con.register("export", table)
        clear_ids = con.execute(f"SELECT count(*) FROM export WHERE \"{ID}\" NOT LIKE '%********%'").fetchone()
    assert clear_ids == (0,)
    call = session.scalars(select(GrantCall).where(GrantCall.grant_id == grant_id)).one()
    assert call.response_hash == hashlib.sha256(reply.content).hexdigest()


@pytest.mark.usefixtures("persons")
def test_an_older_version_may_be_asked_for_and_a_missing_one_is_404(
    client: TestClient, token_for: Any, session: Session, steward: Actor, settings: Settings
) -> None:
    grant_id, key = query_grant(client, token_for)
    upload = io.BytesIO(persons_csv(PERSONS.slice(0, 50)))
    versions.ingest_file(session, steward, home=settings.home, resource_code=CODE, upload=upload, filename="v2.csv")
    newest = client.get(f"{DATA}/export", headers=key)  # csv and the newest version by default
    assert (newest.status_code, newest.headers["x-export-rows"]) == (200, "50")
    assert f"{CODE}-v2-grant{grant_id}.csv" in newest.headers["content-disposition"]
    older = client.get(f"{DATA}/export", params={"version": 1, "format": "parquet"}, headers=key)
    assert older.status_code == 200 and pq.read_table(io.BytesIO(older.content)).num_rows == len(PERSONS)
    missing = client.get(f"{DATA}/export", params={"version": 9}, headers=key)
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    assert "没有第 9 版" in missing.json()["detail"]
    calls = session.scalars(select(GrantCall).where(GrantCall.grant_id == grant_id).order_by(GrantCall.id)).all()
    assert [(c.version_number, c.rows) for c in calls] == [(2, 50), (1, len(PERSONS))]  # the refusal is not a call


@pytest.mark.usefixtures("persons")
def test_only_an_open_query_grant_exports(client: TestClient, token_for: Any, session: Session) -> None:
    _, lookup_key = granted(client, token_for)  # a lookup grant
    refused = client.get(f"{DATA}/export", headers={"X-Grant-Key": lookup_key})
    assert (refused.status_code, refused.json()["code"]) == (403, "not_granted")
    assert "只有“批量查询”授权可以批量导出" in refused.json()["detail"]
    assert client.get(f"{DATA}/export", headers=token_for("admin")).status_code == 401  # a staff token does not open it
    assert client.get(f"{DATA}/export", headers={"X-Grant-Key": "dgs_nothing"}).status_code == 401

    grant_id, key = query_grant(client, token_for)
    bad = client.get(f"{DATA}/export", params={"format": "xlsx"}, headers=key)
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid")
    revoked = client.post(
        f"{BASE}/grants/{grant_id}/revoke", json={"reason": "项目结束"}, headers=token_for("reviewer")
    )
    assert revoked.json()["state"] == "revoked"
    closed = client.get(f"{DATA}/export", headers=key)
    assert (closed.status_code, closed.json()["code"]) == (403, "grant_closed") and "项目结束" in closed.json()[
        "detail"
    ]
    assert session.scalars(select(GrantCall).where(GrantCall.kind == "export")).all() == []


@pytest.mark.usefixtures("persons")
def test_an_export_counts_against_the_quota_like_any_call(client: TestClient, token_for: Any) -> None:
    _, key = query_grant(client, token_for, daily_quota=2)
    assert client.post(f"{DATA}/query", json={"limit": 1}, headers=key).status_code == 200
    assert client.get(f"{DATA}/export", headers=key).status_code == 200
    used_up = client.get(f"{DATA}/export", params={"format": "parquet"}, headers=key)
    assert (used_up.status_code, used_up.json()["code"]) == (429, "quota_exceeded")
    assert "上限 2 次" in used_up.json()["detail"]
