"""Identity over HTTP: bearer tokens, problem+json errors in two languages, nothing changed on refusal."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.core.db import utcnow
from digigov.identity.models import ApiToken, Department
from tests.conftest import database_state


def test_no_token_is_401_problem_json(client: TestClient) -> None:
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["code"] == "not_authenticated" and "令牌" in body["detail"]
    english = client.get("/api/v1/me", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "bearer token" in english.json()["detail"]


def test_me_reflects_the_token(client: TestClient, token_for) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/v1/me", headers=token_for("steward", ["identity.*"])).json()
    assert body["username"] == "steward" and body["roles"] == ["data_steward"]
    assert body["token_scopes"] == ["identity.*"]


def test_expired_and_revoked_tokens_are_refused(client: TestClient, token_for, session: Session) -> None:  # type: ignore[no-untyped-def]
    headers = token_for("admin")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    token = session.scalars(select(ApiToken).order_by(ApiToken.id.desc())).first()
    assert token is not None
    token.expires_at = utcnow() - timedelta(minutes=1)
    session.flush()
    expired = client.get("/api/v1/me", headers=headers)
    assert expired.status_code == 401 and expired.json()["code"] == "token_rejected"
    assert "过期" in expired.json()["detail"]
    token.expires_at = utcnow() + timedelta(days=1)
    session.flush()
    revoked = client.delete(f"/api/v1/tokens/{token.id}", headers=headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    after = client.get("/api/v1/me", headers=headers)
    assert after.status_code == 401 and "吊销" in after.json()["detail"]
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer dg_nonsense"}).status_code == 401


def test_scope_narrows_what_a_token_may_do(client: TestClient, token_for) -> None:  # type: ignore[no-untyped-def]
    headers = token_for("admin", ["identity.region.read"])
    assert (
        client.get("/api/v1/regions", params={"parent": "330100", "current": True}, headers=headers).status_code == 200
    )
    refused = client.get("/api/v1/departments", headers=headers)
    assert refused.status_code == 403 and "identity.department.read" in refused.json()["detail"]


def test_regions_api(client: TestClient, token_for) -> None:  # type: ignore[no-untyped-def]
    headers = token_for("citizen")
    hangzhou = client.get("/api/v1/regions", params={"parent": "330100", "current": True}, headers=headers).json()
    names = {r["name"] for r in hangzhou}
    assert {"临平区", "钱塘区", "上城区"} <= names and "下城区" not in names
    assert client.get("/api/v1/regions/330114", headers=headers).json()["valid_from"] == 2021
    bad = client.get("/api/v1/regions/33011x", headers=headers)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_code"
    assert client.get("/api/v1/regions/110105", headers=headers).status_code == 404


def test_admin_creates_department_and_user(client: TestClient, token_for, session: Session) -> None:  # type: ignore[no-untyped-def]
    headers = token_for("admin")
    created = client.post(
        "/api/v1/departments",
        json={"code": "HZ-LP-MZJ", "name": "临平区民政局", "region_code": "330113"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    dept_id = created.json()["id"]
    user = client.post(
        "/api/v1/users",
        json={
            "username": "lp_steward",
            "display_name": "周敏",
            "password": "a-long-secret-42",
            "department_id": dept_id,
            "roles": ["data_steward"],
        },
        headers=headers,
    )
    assert user.status_code == 201 and user.json()["role_names"] == ["data_steward"]
    assert "password" not in user.text and "argon2" not in user.text


def test_refusals_change_nothing(client: TestClient, token_for, session: Session) -> None:  # type: ignore[no-untyped-def]
    steward, admin = token_for("steward"), token_for("admin")
    before = database_state(session)
    cases = [
        ("post", "/api/v1/departments", steward, {"code": "X", "name": "越权", "region_code": "330106"}, 403),
        ("post", "/api/v1/departments", admin, {"code": "X", "name": "坏区划", "region_code": "339999"}, 422),
        ("post", "/api/v1/departments", admin, {"code": "HZ-SJJ", "name": "重复", "region_code": "330100"}, 409),
        (
            "post",
            "/api/v1/users",
            admin,
            {"username": "u1", "display_name": "x", "password": "short", "department_id": 1, "roles": ["public"]},
            422,
        ),
        (
            "post",
            "/api/v1/users",
            admin,
            {
                "username": "admin",
                "display_name": "x",
                "password": "long enough pw 1",
                "department_id": 1,
                "roles": ["auditor"],
            },
            409,
        ),
        ("put", "/api/v1/users/1/active", steward, {"active": False}, 403),
        ("delete", "/api/v1/tokens/2147483647", steward, None, 404),
    ]
    for method, url, headers, body, status in cases:
        response = client.request(method, url, json=body, headers=headers)
        assert response.status_code == status, (url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    # Authenticating stamps the tokens' last use; the refused requests changed nothing else.
    after = database_state(session)
    assert {k for k in before if before[k] != after[k]} <= {"api_token"}


def test_steward_sees_only_own_department_users(client: TestClient, token_for, session: Session) -> None:  # type: ignore[no-untyped-def]
    users = client.get("/api/v1/users", headers=token_for("steward")).json()
    own = {
        d.id
        for d in session.scalars(select(Department).where(Department.code.in_(["HZ-SJJ", "HZ-XH-SJJ", "HZ-LP-SJJ"])))
    }
    assert users and {u["department_id"] for u in users} <= own
    assert "inspector" in {u["username"] for u in users}  # the child department is covered
    everyone = client.get("/api/v1/users", headers=token_for("admin")).json()
    assert len(everyone) > len(users)
