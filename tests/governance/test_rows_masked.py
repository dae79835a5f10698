"""Rows of a published 无条件共享 resource: in clear for its department and the bureau, masked for other staff.

One resource of 杭州市市场监督管理局 (the steward's department) with an ID-number column, a name
column and two plain ones, read through every door (the rows API, CKAN `datastore_search`, the data
page, downloads, quality samples, problem items) by the consumer (another department), the steward
and a reviewer. The consumer never gets a clear ID number or name back, and cannot filter or sort
on them; plain fields work for everyone.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from digigov.catalog import service as catalog
from digigov.catalog.schemas import ResourceCreate
from digigov.core.auth import Actor
from digigov.core.config import Settings
from digigov.core.errors import Invalid
from digigov.datastore import MaskedField, versions
from digigov.governance import problem_queries, problems, reports
from digigov.governance.rows import Viewer
from tests.catalog.test_service import dept
from tests.conftest import actor_named, login

CODE = "hz-rkxx"
ROWS_URL = f"/api/v1/resources/{CODE}/versions/1/rows"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
DISTRICTS = ("上城区", "西湖区", "滨江区")
Headers = Callable[..., dict[str, str]]


def resident_id(n: int) -> str:
    """A valid GB 11643 number born in 上城区 (330102) in 1990."""
    body = f"3301021990{n % 12 + 1:02d}{n % 28 + 1:02d}{n % 1000:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


PEOPLE = [(resident_id(n), SURNAMES[n % 20] + "晓明", DISTRICTS[n % 3], n) for n in range(1, 41)]
ID, NAME = PEOPLE[6][0], PEOPLE[6][1]  # the row the tests look at: `_id` 7
CSV_TEXT = "公民身份号码,姓名,区县,人数\n" + "".join(f"{i},{name},{d},{n}\n" for i, name, d, n in PEOPLE)


def masked_id(value: str) -> str:
    return value[:6] + "*" * 8 + value[-4:]


@pytest.fixture
def people(session: Session, steward: Actor, reviewer: Actor, settings: Settings) -> versions.Version:
    """The CSV as version 1 of a published, unconditionally shared resource of the steward's department."""
    body = {
        "code": CODE,
        "title": "常住人口信息",
        "department_id": dept(session, "HZ-SJJ"),
        "share_type": "unconditional",
        "open_type": "prohibited",
    }
    catalog.create_resource(session, steward, ResourceCreate.model_validate(body))
    version = versions.ingest_file(
        session,
        steward,
        home=settings.home,
        resource_code=CODE,
        upload=io.BytesIO(CSV_TEXT.encode()),
        filename="rk.csv",
    )
    catalog.submit_resource(session, steward, code=CODE)
    catalog.publish_resource(session, reviewer, code=CODE)
    return version


def test_other_staff_get_masked_rows_the_owner_and_a_reviewer_clear(
    client: TestClient, token_for: Headers, people: versions.Version
) -> None:
    reply = client.get(ROWS_URL, params={"limit": 100}, headers=token_for("consumer"))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert ID not in reply.text and NAME not in reply.text
    row = next(r for r in body["records"] if r["_id"] == 7)
    assert row == {"_id": 7, "公民身份号码": masked_id(ID), "姓名": NAME[0] + "**", "区县": PEOPLE[6][2], "人数": 7}
    fields = {f["id"]: f for f in body["fields"]}
    assert fields["公民身份号码"] == {
        "id": "公民身份号码",
        "type": "string",
        "mask": "id_number",
        "mask_label": "证件号脱敏",
    }
    assert fields["姓名"]["mask"] == "name" and "mask" not in fields["区县"] and fields["人数"]["type"] == "integer"
    for owner in ("steward", "reviewer"):
        clear = client.get(ROWS_URL, params={"limit": 100}, headers=token_for(owner))
        assert ID in clear.text and NAME in clear.text
        assert next(r for r in clear.json()["records"] if r["_id"] == 7)["公民身份号码"] == ID
        assert not any("mask" in f for f in clear.json()["fields"])


def test_a_token_without_datastore_read_reads_masked_even_for_the_owner(
    client: TestClient, token_for: Headers, people: versions.Version
) -> None:
    reply = client.get(ROWS_URL, headers=token_for("steward", ["catalog.*"]))
    assert reply.status_code == 200 and ID not in reply.text and masked_id(ID) in reply.text


def test_filters_and_sorts_on_masked_fields_are_refused_on_clear_fields_answered(
    client: TestClient, token_for: Headers, people: versions.Version
) -> None:
    headers = token_for("consumer")
    for params in (
        {"filters": json.dumps({"公民身份号码": ID})},
        {"filters": json.dumps({"姓名": {"ge": "张"}})},
        {"sort": "公民身份号码 desc"},
        {"filters": json.dumps({"区县": "西湖区"}), "sort": "区县, 姓名"},
    ):
        refused = client.get(ROWS_URL, params=params, headers=headers)
        assert refused.status_code == 403, params
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "masked_field" and "脱敏" in refused.json()["detail"]
        assert ID not in refused.text
    plain = client.get(
        ROWS_URL, params={"filters": json.dumps({"区县": "西湖区"}), "sort": "人数 desc"}, headers=headers
    )
    assert plain.status_code == 200
    assert plain.json()["total"] == sum(d == "西湖区" for _, _, d, _ in PEOPLE)
    assert [r["人数"] for r in plain.json()["records"]][:2] == sorted((n for *_, d, n in PEOPLE if d == "西湖区"))[
        :-3:-1
    ]
    assert ID not in plain.text and all("*" in r["公民身份号码"] for r in plain.json()["records"])
    owner = client.get(ROWS_URL, params={"filters": json.dumps({"公民身份号码": ID})}, headers=token_for("steward"))
    assert owner.status_code == 200 and [r["_id"] for r in owner.json()["records"]] == [7]


def test_text_search_looks_only_at_the_fields_shown_in_clear(
    client: TestClient, token_for: Headers, people: versions.Version
) -> None:
    by_name = client.get(ROWS_URL, params={"q": NAME}, headers=token_for("consumer")).json()
    assert by_name["total"] == 0 and by_name["records"] == []  # names are masked: not searched
    by_id = client.get(ROWS_URL, params={"q": ID[-6:]}, headers=token_for("consumer")).json()
    assert by_id["total"] == 0
    district = client.get(ROWS_URL, params={"q": "滨江"}, headers=token_for("consumer")).json()
    assert district["total"] == sum(d == "滨江区" for _, _, d, _ in PEOPLE)
    assert client.get(ROWS_URL, params={"q": NAME}, headers=token_for("steward")).json()["total"] >= 1


def test_ckan_datastore_search_masks_and_refuses_the_same(
    client: TestClient, token_for: Headers, people: versions.Version
) -> None:
    key = {"Authorization": token_for("consumer")["Authorization"].removeprefix("Bearer ")}
    url = "/api/3/action/datastore_search"
    found = client.post(url, json={"resource_id": f"{CODE}-v1", "limit": 100}, headers=key)
    assert found.status_code == 200 and ID not in found.text and NAME not in found.text
    result = found.json()["result"]
    assert next(r for r in result["records"] if r["_id"] == 7)["公民身份号码"] == masked_id(ID)
    assert {"id": "公民身份号码", "type": "text", "mask": "id_number", "mask_label": "证件号脱敏"} in result["fields"]
    for body in (
        {"filters": {"公民身份号码": ID}},
        {"filters": json.dumps({"姓名": NAME})},
        {"sort": "姓名 asc"},
    ):
        refused = client.post(url, json={"resource_id": CODE, **body}, headers=key)
        assert refused.status_code == 403 and refused.json()["success"] is False
        error = refused.json()["error"]
        assert (
            error["__type"] == "Authorization Error" and error["code"] == "masked_field" and "脱敏" in error["message"]
        )
    searched = client.post(url, json={"resource_id": CODE, "q": NAME}, headers=key).json()["result"]
    assert searched["total"] == 0
    plain = client.post(url, json={"resource_id": CODE, "filters": {"区县": "上城区"}}, headers=key).json()["result"]
    assert plain["total"] == sum(d == "上城区" for _, _, d, _ in PEOPLE) and ID not in json.dumps(plain)
    owner = {"Authorization": token_for("reviewer")["Authorization"].removeprefix("Bearer ")}
    clear = client.post(url, json={"resource_id": CODE, "filters": {"公民身份号码": ID}}, headers=owner)
    assert clear.status_code == 200 and clear.json()["result"]["records"][0]["姓名"] == NAME


def test_downloads_are_masked_as_the_rows_are(
    client: TestClient, token_for: Headers, people: versions.Version, tmp_path_factory: pytest.TempPathFactory
) -> None:
    base = f"/api/v1/resources/{CODE}/versions/1/download"
    headers = token_for("consumer")
    for fmt in ("csv", "json", "xlsx"):
        reply = client.get(base, params={"format": fmt}, headers=headers)
        assert reply.status_code == 200 and ID.encode() not in reply.content and NAME.encode() not in reply.content
    text = client.get(base, params={"format": "csv"}, headers=headers).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[6] == {"公民身份号码": masked_id(ID), "姓名": NAME[0] + "**", "区县": PEOPLE[6][2], "人数": "7"}
    parquet = client.get(base, params={"format": "parquet"}, headers=headers)
    path = tmp_path_factory.mktemp("download") / "masked.parquet"
    path.write_bytes(parquet.content)
    table = pq.read_table(path)
    assert table.column("公民身份号码")[6].as_py() == masked_id(ID) and table.num_rows == len(PEOPLE)
    own = client.get(base, params={"format": "csv"}, headers=token_for("steward"))
    assert ID.encode() in own.content
    package = client.get(f"/api/v1/resources/{CODE}/versions/1/datapackage.json", headers=headers).json()
    types = {f["name"]: f["type"] for f in package["resources"][0]["schema"]["fields"]}
    assert types == {"公民身份号码": "string", "姓名": "string", "区县": "string", "人数": "integer"}


def test_the_data_page_previews_masked_rows_to_other_staff(client: TestClient, people: versions.Version) -> None:
    login(client, "consumer")
    page = client.get(f"/catalog/{CODE}/data")
    assert page.status_code == 200
    assert ID not in page.text and NAME not in page.text and masked_id(ID) in page.text
    assert 'id="masked-note"' in page.text and "证件号脱敏" in page.text


def test_the_data_page_shows_the_owner_clear_rows(client: TestClient, people: versions.Version) -> None:
    login(client, "steward")
    page = client.get(f"/catalog/{CODE}/data")
    assert ID in page.text and NAME in page.text and 'id="masked-note"' not in page.text


def test_quality_samples_are_masked_for_other_staff(
    session: Session, consumer: Actor, steward: Actor, settings: Settings
) -> None:
    bad = resident_id(7)[:17] + ("0" if resident_id(7)[-1] != "0" else "1")  # a wrong check character
    body = {
        "code": "hz-rkq",
        "title": "人口核查",
        "department_id": dept(session, "HZ-SJJ"),
        "share_type": "unconditional",
        "open_type": "prohibited",
    }
    catalog.create_resource(session, steward, ResourceCreate.model_validate(body))
    text = CSV_TEXT.replace(resident_id(7), bad)
    versions.ingest_file(
        session, steward, home=settings.home, resource_code="hz-rkq", upload=io.BytesIO(text.encode()), filename="q.csv"
    )
    catalog.submit_resource(session, steward, code="hz-rkq")
    catalog.publish_resource(session, actor_named(session, "reviewer"), code="hz-rkq")
    own = reports.quality_report(session, steward, resource_code="hz-rkq", settings=settings)
    samples = [s for rows in own.samples.values() for s in rows]
    assert any(s.get("公民身份号码") == bad for s in samples) and not own.samples_masked
    other = reports.quality_report(session, consumer, resource_code="hz-rkq", settings=settings)
    shown = [s for rows in other.samples.values() for s in rows]
    assert other.samples_shown and other.samples_masked and shown
    assert bad not in json.dumps(shown, ensure_ascii=False) and masked_id(bad) in json.dumps(shown, ensure_ascii=False)
    assert {s["_id"] for s in shown} == {s["_id"] for s in samples}  # row numbers are not masked


def test_problem_items_mask_their_values_for_a_viewer_without_clear_text(
    client: TestClient, token_for: Headers, session: Session, consumer: Actor, steward: Actor, settings: Settings,
    people: versions.Version,
) -> None:  # fmt: skip
    raised = client.post(
        "/api/v1/governance/problems",
        json={
            "resource_code": CODE,
            "field": "姓名",
            "key_field": "人数",  # a key masked for the consumer is refused (test_problem_masked_keys.py)
            "key_value": "7",
            "expected": "张三",
            "description": "姓名登记有误",
        },
        headers=token_for("consumer"),
    )
    assert raised.status_code == 201, raised.text
    problem = raised.json()
    assert ID not in raised.text and NAME not in raised.text
    assert problem["key_value"] == "7" and problem["observed"] == NAME[0] + "**"
    assert problem["expected"] == "张*"
    for owner in ("steward", "reviewer"):
        clear = client.get(f"/api/v1/governance/problems/{problem['id']}", headers=token_for(owner)).json()
        assert (clear["key_value"], clear["observed"], clear["expected"]) == ("7", NAME, "张三")
    # the fix does not change the name: the verdict quotes the value it found
    unchanged = CSV_TEXT + f"{resident_id(99)},{SURNAMES[1]}新,上城区,99\n"
    versions.ingest_file(
        session,
        steward,
        home=settings.home,
        resource_code=CODE,
        upload=io.BytesIO(unchanged.encode()),
        filename="v2.csv",
    )
    answered = problems.answer_fixed(session, steward, problem_id=problem["id"], version_number=2, home=settings.home)
    assert not answered.verified and NAME in answered.verification["reason_zh"]
    seen = client.get(f"/api/v1/governance/problems/{problem['id']}", headers=token_for("consumer"))
    steps = client.get(f"/api/v1/governance/problems/{problem['id']}/steps", headers=token_for("consumer"))
    for reply in (seen, steps):
        assert reply.status_code == 200 and ID not in reply.text and NAME not in reply.text
    assert seen.json()["verification"]["sample"] == NAME[0] + "**"
    assert f"“{NAME[0]}**”" in seen.json()["verification"]["reason_zh"]
    login(client, "consumer")
    page = client.get(f"/governance/problems/{problem['id']}")
    assert page.status_code == 200 and ID not in page.text and NAME not in page.text and NAME[0] + "**" in page.text
    listed = client.get("/governance/problems")
    assert ID not in listed.text
    found = problem_queries.get_problem(session, steward, problem["id"])
    own = problem_queries.describe(session, found, viewer=Viewer(steward, settings))
    assert own["verification"]["sample"] == NAME and own["key_value"] == "7"


def test_a_refused_problem_does_not_quote_the_value_to_a_raiser_without_clear_text(
    session: Session, consumer: Actor, steward: Actor, settings: Settings, people: versions.Version
) -> None:
    claim = {"resource_code": CODE, "field": "姓名", "key_field": "人数", "key_value": "7"}
    for guess in ("李四", NAME):  # a guess at a masked value is refused alike, right or wrong, before any look
        with pytest.raises(MaskedField) as refused:
            problems.raise_problem(session, consumer, home=settings.home, description="x", observed=guess, **claim)  # type: ignore[arg-type]
        assert NAME not in refused.value.message_zh and NAME not in refused.value.message
    # nor does the expected value or a check tell: "already is" and "passes" are not answered to them
    expected = problems.raise_problem(session, consumer, home=settings.home, description="x", expected=NAME, **claim)  # type: ignore[arg-type]
    assert expected.id and expected.expected == NAME
    with pytest.raises(Invalid) as told:
        problems.raise_problem(session, steward, home=settings.home, description="x", observed="李四", **claim)  # type: ignore[arg-type]
    assert NAME in told.value.message_zh
