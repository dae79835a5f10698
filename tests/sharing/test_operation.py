"""Authorised operation (授权运营): licensed structured queries, k-anonymous releases, review, audit."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from stdnum.cn import uscc

from digigov.core.auth import Actor
from digigov.core.config import Settings
from digigov.core.errors import Forbidden, IllegalTransition, NotFound
from digigov.sharing import operation
from digigov.sharing.errors import BadAnalysis, BadShareRequest, CredentialRejected, GrantClosed
from digigov.sharing.schemas import AnalysisSpec, LicenceCreate
from tests.conftest import actor_named
from tests.sharing.conftest import CODE, PERSONS

TODAY = date(2026, 3, 2)


def uscc_with_check(body: str) -> str:
    return body + uscc.calc_check_digit(body)


def licence_body(**change: object) -> LicenceCreate:
    body: dict[str, object] = {
        "operator": "浙江某数据科技有限公司",
        "operator_uscc": uscc_with_check("91330100MA2B0QJX4"),
        "resources": [CODE],
        "purpose": "就业状态的区县分布分析",
        "starts_on": TODAY,
    }
    return LicenceCreate.model_validate(body | change)


def spec(**change: object) -> AnalysisSpec:
    body: dict[str, object] = {
        "resource_code": CODE,
        "group_by": ["就业状态"],
        "aggregates": [{"fn": "count"}, {"fn": "avg", "field": "月缴社保月数"}],
    }
    return AnalysisSpec.model_validate(body | change)


def expected_counts(field: str) -> dict[Any, int]:
    counts: dict[Any, int] = {}
    for value in PERSONS.column(field).to_pylist():
        counts[value] = counts.get(value, 0) + 1
    return counts


@pytest.mark.usefixtures("persons")
def test_groups_under_k_are_suppressed_and_the_rest_wait_for_a_reviewer(
    session: Session, admin: Actor, reviewer: Actor, settings: Settings
) -> None:
    licence = operation.grant_licence(session, admin, licence_body(k=10), today=TODAY)
    analysis = operation.submit_analysis(session, settings.home, licence, spec())
    counts = expected_counts("就业状态")
    big = {value for value, n in counts.items() if n >= 10}
    assert (analysis.state, analysis.groups, analysis.suppressed) == ("pending", len(counts), len(counts) - len(big))
    assert {row["就业状态"] for row in analysis.result} == big
    assert all(row["记录数"] >= 10 for row in analysis.result)
    assert {row["就业状态"]: row["记录数"] for row in analysis.result} == {v: counts[v] for v in big}
    with pytest.raises(BadAnalysis):  # holding needs a reason
        operation.review_analysis(session, reviewer, analysis_id=analysis.id, release=False)
    operation.review_analysis(session, reviewer, analysis_id=analysis.id, release=True)
    assert analysis.state == "released"
    with pytest.raises(IllegalTransition):
        operation.review_analysis(session, reviewer, analysis_id=analysis.id, release=False, reason="晚了")


@pytest.mark.usefixtures("persons")
def test_a_query_that_would_show_one_person_is_refused_or_suppressed(
    session: Session, admin: Actor, settings: Settings
) -> None:
    licence = operation.grant_licence(session, admin, licence_body(review_releases=False), today=TODAY)
    with pytest.raises(BadAnalysis):  # the maximum of a birth date is one person's birth date
        operation.submit_analysis(
            session, settings.home, licence, spec(aggregates=[{"fn": "max", "field": "出生日期"}])
        )
    with pytest.raises(BadAnalysis):  # sums need numbers
        operation.submit_analysis(session, settings.home, licence, spec(aggregates=[{"fn": "sum", "field": "姓名"}]))
    with pytest.raises(BadAnalysis):
        operation.submit_analysis(session, settings.home, licence, spec(group_by=["不存在"]))
    first = PERSONS.column("公民身份号码")[0].as_py()
    one = spec(group_by=[], filters=[{"field": "公民身份号码", "op": "eq", "value": first}])
    single = operation.submit_analysis(session, settings.home, licence, one)
    assert (single.state, single.result, single.suppressed) == ("released", [], 1)  # a group of one is not shown
    with pytest.raises(BadAnalysis):  # a filter value that does not fit its field
        operation.submit_analysis(
            session, settings.home, licence, spec(filters=[{"field": "月缴社保月数", "op": "gt", "value": "很多"}])
        )
    outside = spec(resource_code="other-code")
    with pytest.raises(BadAnalysis):
        operation.submit_analysis(session, settings.home, licence, outside)


@pytest.mark.usefixtures("persons")
def test_licences_are_the_platforms_and_their_credentials_open_only_while_in_force(
    session: Session, admin: Actor, steward: Actor, reviewer: Actor
) -> None:
    with pytest.raises(Forbidden):
        operation.grant_licence(session, steward, licence_body(), today=TODAY)
    with pytest.raises(BadShareRequest):  # a credit code with a wrong check character
        operation.grant_licence(session, admin, licence_body(operator_uscc="91330100MA2B0QJX4A"), today=TODAY)
    with pytest.raises(BadShareRequest):
        operation.grant_licence(session, admin, licence_body(resources=["no-such"]), today=TODAY)
    licence = operation.grant_licence(session, admin, licence_body(days=10), today=TODAY)
    _, secret = operation.issue_licence_credential(session, admin, licence_id=licence.id)
    assert operation.open_licence(session, secret, today=TODAY).id == licence.id
    with pytest.raises(GrantClosed):
        operation.open_licence(session, secret, today=date(2026, 3, 12))  # past its ten days
    with pytest.raises(CredentialRejected):
        operation.open_licence(session, "dgo_wrong", today=TODAY)
    operation.revoke_licence(session, admin, licence_id=licence.id, reason="合同终止")
    with pytest.raises(GrantClosed):
        operation.open_licence(session, secret, today=TODAY)
    with pytest.raises(Forbidden):
        operation.pending_analyses(session, steward)
    assert operation.pending_analyses(session, reviewer) == []


@pytest.mark.usefixtures("persons")
def test_the_operator_over_http(client: TestClient, token_for: Any, session: Session) -> None:
    body = licence_body().model_dump(mode="json")
    made = client.post("/api/v1/sharing/licences", json=body, headers=token_for("admin"))
    assert made.status_code == 201, made.text
    assert client.post("/api/v1/sharing/licences", json=body, headers=token_for("reviewer")).status_code == 403
    issued = client.post(f"/api/v1/sharing/licences/{made.json()['id']}/credential", headers=token_for("admin"))
    key = {"X-Licence-Key": issued.json()["credential"]}
    submitted = client.post("/api/v1/operate/analyses", json=spec().model_dump(mode="json"), headers=key)
    assert submitted.status_code == 201, submitted.text
    assert (submitted.json()["state"], submitted.json()["result"]) == ("pending", None)  # not before review
    analysis_id = submitted.json()["id"]
    queue = client.get("/api/v1/sharing/analyses", headers=token_for("reviewer")).json()
    assert [a["id"] for a in queue] == [analysis_id]
    released = client.post(f"/api/v1/sharing/analyses/{analysis_id}/release", headers=token_for("reviewer"))
    assert released.status_code == 200, released.text
    seen = client.get(f"/api/v1/operate/analyses/{analysis_id}", headers=key).json()
    assert seen["state"] == "released" and all(row["记录数"] >= 10 for row in seen["result"])
    assert client.get(f"/api/v1/operate/analyses/{analysis_id}", headers=token_for("admin")).status_code == 401
    assert client.post("/api/v1/operate/analyses", json={"resource_code": CODE}, headers=key).status_code == 422
    with pytest.raises(NotFound):
        other = operation.grant_licence(session, actor_named(session, "admin"), licence_body(), today=TODAY)
        operation.operator_analysis(session, other, analysis_id)  # another licence's analysis is not there
