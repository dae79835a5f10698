"""Subscriptions (数据高铁): each new version's changed rows by key, pulled with a cursor that loses nothing."""

from __future__ import annotations

import io
from datetime import date

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from digigov.core.auth import Actor
from digigov.core.config import Settings
from digigov.core.db import utcnow
from digigov.core.errors import Invalid
from digigov.datastore import versions
from digigov.sharing import data, service
from digigov.sharing.changes import delta_path
from digigov.sharing.models import Grant
from digigov.sharing.schemas import Decision, ShareRequestCreate
from digigov.synth import synth_persons
from tests.sharing.conftest import CODE, PERSONS, persons_csv

ID, NAME, PHONE = "公民身份号码", "姓名", "手机号码"
TODAY = date(2026, 3, 2)
CALLER = data.Caller("rsj-system")


def subscribed(session: Session, consumer: Actor, steward: Actor, admin: Actor) -> Grant:
    body = {
        "resource_code": CODE,
        "fields": [ID, NAME, PHONE],
        "access": "subscribe",
        "key_field": ID,
        "purpose": "同步参保人员的身份与联系方式变更",
        "legal_basis": "《社会保险法》第七十四条",
        "starts_on": TODAY,
    }
    request = service.request_share(session, consumer, ShareRequestCreate.model_validate(body), today=TODAY)
    service.decide_as_source(session, steward, request_id=request.id, decision=Decision(approve=True))
    service.decide_as_platform(session, admin, request_id=request.id, decision=Decision(approve=True))
    grant = service.grant_of(session, request)
    assert grant is not None
    service.issue_credential(session, consumer, grant_id=grant.id, today=TODAY)
    return grant


def changed_persons() -> tuple[pa.Table, set[str], set[str], set[str]]:
    """Version 2: rows 0-1 deleted, the phone of rows 2-4 changed, two new persons at the end."""
    rows = PERSONS.to_pylist()
    deleted = {r[ID] for r in rows[:2]}
    updated = {r[ID] for r in rows[2:5]}
    for row in rows[2:5]:
        row[PHONE] = "13900000000"
    newcomers = synth_persons(2, 99).to_pylist()
    table = pa.Table.from_pylist(rows[2:] + newcomers, schema=PERSONS.schema)
    return table, deleted, updated, {r[ID] for r in newcomers}


def ingest(session: Session, steward: Actor, home: object, table: pa.Table, name: str) -> versions.Version:
    upload = io.BytesIO(persons_csv(table))
    return versions.ingest_file(session, steward, home=home, resource_code=CODE, upload=upload, filename=name)  # type: ignore[arg-type]


def pull(session: Session, settings: Settings, grant: Grant, cursor: str | None, limit: int = 100) -> data.Served:
    return data.changes(session, settings.home, grant, cursor_text=cursor, limit=limit, caller=CALLER, now=utcnow())


@pytest.mark.usefixtures("persons")
def test_a_new_version_delivers_its_inserted_updated_and_deleted_rows_once(
    session: Session, consumer: Actor, steward: Actor, admin: Actor, settings: Settings
) -> None:
    grant = subscribed(session, consumer, steward, admin)
    nothing = pull(session, settings, grant, None)
    assert (nothing.rows, nothing.cursor) == ([], "2:0")  # version 1 was there before the grant
    table, deleted, updated, inserted = changed_persons()
    ingest(session, steward, settings.home, table, "v2.csv")
    whole = pull(session, settings, grant, nothing.cursor)
    by_op: dict[str, set[str]] = {}
    for row in whole.rows:
        by_op.setdefault(row["_op"], set()).add(row["_key"])
    assert by_op == {"delete": deleted, "update": updated, "insert": inserted}
    assert [r["_change"] for r in whole.rows] == list(range(7)) and whole.cursor == "3:0"
    gone = next(r for r in whole.rows if r["_op"] == "delete")
    assert (gone[NAME], gone[PHONE]) == (None, None)  # a deletion names its key only
    changed = next(r for r in whole.rows if r["_op"] == "update")
    assert changed[PHONE] == "139****0000" and changed[NAME].endswith("*")  # masked as the grant says
    assert pull(session, settings, grant, whole.cursor).rows == []  # caught up: nothing twice


@pytest.mark.usefixtures("persons")
def test_pages_of_any_size_add_up_to_the_same_changes(
    session: Session, consumer: Actor, steward: Actor, admin: Actor, settings: Settings
) -> None:
    grant = subscribed(session, consumer, steward, admin)
    table, *_ = changed_persons()
    v2 = ingest(session, steward, settings.home, table, "v2.csv")
    v3 = ingest(session, steward, settings.home, table.slice(1), "v3.csv")  # one more deletion
    whole = pull(session, settings, grant, None)
    assert [(r["_version"], r["_op"]) for r in whole.rows][-1] == (3, "delete") and len(whole.rows) == 8
    paged, cursor = [], None
    for _ in range(20):
        page = pull(session, settings, grant, cursor, limit=3)
        paged.extend(page.rows)
        if not page.rows:
            break
        cursor = page.cursor
    assert paged == whole.rows
    # the change files are immutable and whole: asking again (as after a restart) reads the same rows
    assert delta_path(settings.home, v2, 0).is_file() and delta_path(settings.home, v3, 0).is_file()
    assert pull(session, settings, grant, "2:0").rows == whole.rows


@pytest.mark.usefixtures("persons")
def test_a_bad_cursor_or_another_kind_of_grant_is_refused(
    session: Session, consumer: Actor, steward: Actor, admin: Actor, settings: Settings, client: TestClient
) -> None:
    grant = subscribed(session, consumer, steward, admin)
    with pytest.raises(Invalid):
        pull(session, settings, grant, "x:1")
    _, secret = service.issue_credential(session, consumer, grant_id=grant.id, today=TODAY)
    reply = client.get("/api/v1/share/changes", params={"cursor": "2:0"}, headers={"X-Grant-Key": secret})
    assert reply.status_code == 200 and reply.json()["cursor"] == "2:0"
    assert (
        client.get("/api/v1/share/changes", params={"cursor": "2;0"}, headers={"X-Grant-Key": secret}).status_code
        == 422
    )
    lookup = client.get("/api/v1/share/lookup", params={"key": PERSONS[ID][0].as_py()}, headers={"X-Grant-Key": secret})
    assert (lookup.status_code, lookup.json()["code"]) == (403, "not_granted")
