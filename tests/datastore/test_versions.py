"""Versions: real files become immutable numbered versions; refusals leave nothing behind."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from digigov.catalog import service
from digigov.catalog.schemas import ResourceCreate
from digigov.core.auth import Actor
from digigov.core.config import Settings
from digigov.core.errors import Forbidden, Invalid, NotFound
from digigov.datastore import versions
from digigov.datastore.query import RowQuery
from tests.catalog.test_service import dept
from tests.conftest import SHARED_DATA, actor_named, database_state

BEIJING = SHARED_DATA / "real" / "opendata" / "beijing"
needs_shared = pytest.mark.skipif(
    not BEIJING.exists(), reason=f"{BEIJING} is absent: the real Beijing files are not here"
)


def _resource(session: Session, steward: Actor, code: str = "bj-ssgs") -> None:
    body = {
        "code": code,
        "title": "上市公司名录",
        "department_id": dept(session, "HZ-SJJ"),
        "share_type": "unconditional",
        "open_type": "unconditional",
    }
    service.create_resource(session, steward, ResourceCreate.model_validate(body))


def _ingest(session: Session, actor: Actor, home: Path, data: bytes, name: str, **kw: object) -> versions.Version:
    return versions.ingest_file(
        session,
        actor,
        home=home,
        resource_code=kw.pop("code", "bj-ssgs"),  # type: ignore[arg-type]
        upload=io.BytesIO(data),
        filename=name,
        **kw,
    )  # type: ignore[arg-type]


@needs_shared
def test_a_real_file_becomes_version_one(session: Session, steward: Actor, settings: Settings) -> None:
    _resource(session, steward)
    raw = (BEIJING / "市市场监督管理局-上市公司名录.csv").read_bytes()
    version = _ingest(session, steward, settings.home, raw, "市市场监督管理局-上市公司名录.csv")
    assert (version.number, version.rows, version.rejected) == (1, 6024, 0)
    folder = settings.home / version.path
    assert (folder / "raw" / "市市场监督管理局-上市公司名录.csv").read_bytes() == raw
    table = pq.read_table(folder / "data.parquet")
    assert table.num_rows == 6024 and str(table.schema.field("统一社会信用代码").type) == "string"
    assert {"name": "更新时间", "type": "timestamp"} in version.columns
    assert version.report["encoding"] == "utf-8-sig" and version.schema_change["compatible"]
    assert not any((settings.home / "staging").iterdir())


def test_versions_count_up_and_schema_changes_need_consent(
    session: Session, steward: Actor, settings: Settings
) -> None:
    _resource(session, steward)
    first = _ingest(session, steward, settings.home, "编号,数量\n001,1\n002,2\n".encode(), "a.csv")
    second = _ingest(session, steward, settings.home, "编号,数量,备注\n003,3,新\n".encode(), "b.csv")
    assert (first.number, second.number) == (1, 2) and second.schema_change["added"] == ["备注"]
    before = database_state(session)
    with pytest.raises(versions.SchemaChanged):
        _ingest(session, steward, settings.home, "编号,数量\n004,很多\n".encode(), "c.csv")
    assert database_state(session) == before
    third = _ingest(
        session, steward, settings.home, "编号,数量\n004,很多\n".encode(), "c.csv", allow_schema_change=True
    )
    assert third.number == 3 and third.schema_change["removed"] == ["备注"]
    assert [v.number for v in versions.list_versions(session, steward, "bj-ssgs")] == [3, 2, 1]
    assert (settings.home / first.path / "data.parquet").exists()  # older versions stay as they were


@pytest.mark.parametrize(
    ("data", "name", "error"),
    [
        (b"", "empty.csv", Invalid),
        (bytes(range(256)) * 64, "garbage.csv", Invalid),
        (b"\x50\x4b\x03\x04" + b"\x00" * 200, "broken.xlsx", Invalid),
        ("[" * 10_000 + "]" * 10_000, "deep.json", Invalid),
    ],
    ids=["zero-bytes", "binary-garbage", "broken-zip", "json-10000-deep"],
)
def test_refused_files_leave_nothing(
    session: Session, steward: Actor, settings: Settings, data: bytes | str, name: str, error: type[Exception]
) -> None:
    _resource(session, steward)
    _ingest(session, steward, settings.home, "编号\n001\n".encode(), "ok.csv")
    before = database_state(session)
    payload = data.encode() if isinstance(data, str) else data
    with pytest.raises(error):
        _ingest(session, steward, settings.home, payload, name)
    assert database_state(session) == before
    assert sorted(p.name for p in (settings.home / "versions").rglob("*") if p.is_dir() and p.parent.name != "raw")
    assert not any((settings.home / "staging").iterdir())
    assert len(list((settings.home / "versions").iterdir())) == 1


def test_path_traversal_names_stay_inside(session: Session, steward: Actor, settings: Settings) -> None:
    _resource(session, steward)
    version = _ingest(session, steward, settings.home, "编号\n001\n".encode(), "../../../../tmp/evil.csv")
    assert version.raw_name == "evil.csv"
    assert (settings.home / version.path / "raw" / "evil.csv").exists()


def test_only_the_owning_department_ingests(session: Session, settings: Settings) -> None:
    steward, consumer = actor_named(session, "steward"), actor_named(session, "consumer")
    _resource(session, steward)
    before = database_state(session)
    with pytest.raises(NotFound):  # another department's draft is invisible
        _ingest(session, consumer, settings.home, b"a\n1\n", "x.csv")
    service.submit_resource(session, steward, code="bj-ssgs")
    service.publish_resource(session, actor_named(session, "reviewer"), code="bj-ssgs")
    published = database_state(session)
    with pytest.raises(Forbidden):  # visible once published, but not theirs to change
        _ingest(session, consumer, settings.home, b"a\n1\n", "x.csv")
    assert database_state(session) == published != before
    assert not (settings.home / "versions").exists()


def test_ingest_over_http(client: TestClient, token_for, session: Session, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    _resource(session, actor_named(session, "steward"))
    headers = token_for("steward")
    files = {"file": ("名录.csv", "统一社会信用代码,名称\n91110000600037341L,甲公司\n".encode("gb18030"), "text/csv")}
    created = client.post("/api/v1/resources/bj-ssgs/versions", files=files, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["number"] == 1 and body["rows"] == 1 and body["report"]["encoding"] == "gb18030"
    assert client.get("/api/v1/resources/bj-ssgs/versions/1", headers=headers).json()["raw_name"] == "名录.csv"
    empty = client.post(
        "/api/v1/resources/bj-ssgs/versions", files={"file": ("e.csv", b"", "text/csv")}, headers=headers
    )
    assert empty.status_code == 422 and empty.headers["content-type"] == "application/problem+json"
    other = client.post("/api/v1/resources/bj-ssgs/versions", files=files, headers=token_for("consumer"))
    assert other.status_code == 404  # a draft of another department is not visible at all


def test_lookups_are_built_after_the_commit_and_change_no_answer(
    session: Session, steward: Actor, settings: Settings
) -> None:
    _resource(session, steward, code="zj-ids")
    ids = [f"{(n * 7919) % 120_000:08d}" for n in range(120_000)]
    text = "证件号码,金额\n" + "".join(f"{code},{n % 97}\n" for n, code in enumerate(ids))
    version = _ingest(session, steward, settings.home, text.encode(), "ids.csv", code="zj-ids")
    folder = settings.home / version.path
    query = RowQuery(filters={"证件号码": ids[77]})

    def answer() -> list[dict[str, object]]:
        found = versions.query_rows(session, steward, settings, resource_code="zj-ids", number=None, query=query)
        return found[1].records

    assert not (folder / "lookup").exists()  # the version is complete and answers without them
    before = answer()
    session.commit()
    versions.wait_for_lookups()
    assert sorted(p.name for p in (folder / "lookup").iterdir()) == ["0.parquet"]
    assert answer() == before == [{"_id": 78, "证件号码": ids[77], "金额": 77}]
    assert versions.build_lookups(settings.home, version) == []  # already there: nothing to do
