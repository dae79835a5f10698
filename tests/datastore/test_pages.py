"""The data page: upload through the form, the report and preview, and refusals shown in place.

The form works as a plain multipart post; the page's script posts the same form with htmx
(`HX-Request`) to show upload progress, and gets the page itself back instead of a redirect.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from digigov.catalog import service
from digigov.catalog.schemas import ResourceCreate
from tests.catalog.test_service import dept
from tests.conftest import actor_named, database_state, login
from tests.helpers import csrf_of, flash_error

HTMX = {"HX-Request": "true"}
CSV = "统一社会信用代码,名称,注册资本（万元）\n91110000600037341L,甲,100.5\n".encode("gb18030")


def _resource(session: Session, code: str = "hz-up") -> str:
    body = {"code": code, "title": "上传测试", "department_id": dept(session, "HZ-SJJ")}
    service.create_resource(session, actor_named(session, "steward"), ResourceCreate.model_validate(body))
    return f"/catalog/{code}/data"


def test_upload_report_and_preview(client: TestClient, session: Session) -> None:
    url = _resource(session)
    login(client, "steward")
    page = client.get(url)
    assert "还没有数据版本" in page.text and "上传新版本" in page.text
    done = client.post(
        url, data={"csrf": csrf_of(page.text)}, files={"file": ("名录.csv", CSV, "text/csv")}, follow_redirects=True
    )
    assert "已导入为第 1 版" in done.text and "gb18030" in done.text and "91110000600037341L" in done.text
    before = database_state(session)
    refused = client.post(url, data={"csrf": csrf_of(done.text)}, files={"file": ("e.csv", b"", "text/csv")})
    assert refused.status_code == 422 and "空" in flash_error(refused.text)
    assert database_state(session) == before
    assert client.post(url, data={"csrf": "x"}, files={"file": ("a.csv", CSV)}).status_code == 403


def test_plain_post_redirects_to_the_report(client: TestClient, session: Session) -> None:
    url = _resource(session)
    login(client, "steward")
    csrf = csrf_of(client.get(url).text)
    posted = client.post(url, data={"csrf": csrf}, files={"file": ("名录.csv", CSV)}, follow_redirects=False)
    assert posted.status_code == 303 and posted.headers["location"] == f"{url}?done=1"
    assert "hx-push-url" not in posted.headers


def test_the_form_posts_without_script_and_with_htmx(client: TestClient, session: Session) -> None:
    url = _resource(session)
    login(client, "steward")
    html = client.get(url).text
    form = html.split('<form method="post" action="/catalog/hz-up/data"', 1)[1].split("<input", 1)[0]
    assert 'enctype="multipart/form-data"' in form and f'hx-post="{url}"' in form
    assert 'hx-encoding="multipart/form-data"' in form and 'hx-disabled-elt="find button[type=submit]"' in form
    assert '<div class="upload-status" id="upload-status" role="status" aria-live="polite" hidden>' in html
    assert '<script src="/static/upload.js" defer></script>' in html
    assert client.get("/static/upload.js").status_code == 200
    assert client.get("/static/upload.css").status_code == 200


def test_htmx_upload_gets_the_report_page_and_its_address(client: TestClient, session: Session) -> None:
    url = _resource(session)
    login(client, "steward")
    csrf = csrf_of(client.get(url).text)
    posted = client.post(
        url, data={"csrf": csrf}, files={"file": ("名录.csv", CSV)}, headers=HTMX, follow_redirects=False
    )
    assert posted.status_code == 200 and posted.headers["hx-push-url"] == f"{url}?done=1"
    assert "已导入为第 1 版" in posted.text and "第 1 版导入报告" in posted.text
    assert "91110000600037341L" in posted.text and 'id="data-page"' in posted.text
    assert client.get(f"{url}?done=1").text.count("第 1 版导入报告") == 1


def test_htmx_refusal_shows_the_error_above_a_fresh_form_and_writes_nothing(
    client: TestClient, session: Session
) -> None:
    url = _resource(session)
    login(client, "steward")
    csrf = csrf_of(client.get(url).text)
    before = database_state(session)
    for name, content, words in [("e.csv", b"", "空"), ("x.csv", bytes(range(256)) * 64, "")]:
        refused = client.post(url, data={"csrf": csrf}, files={"file": (name, content)}, headers=HTMX)
        assert refused.status_code == 422, refused.text
        assert words in flash_error(refused.text) and "hx-push-url" not in refused.headers
        error_at, form_at = refused.text.index('class="flash error"'), refused.text.index('id="upload-form"')
        assert error_at < form_at and 'id="data-page"' in refused.text
    assert database_state(session) == before


def test_someone_elses_resource_is_refused_on_the_page(client: TestClient, session: Session) -> None:
    url = _resource(session)
    login(client, "reviewer")  # may see the draft to review it, may not change its data
    page = client.get(url)
    assert page.status_code == 200 and 'id="upload-form"' not in page.text
    before = database_state(session)
    refused = client.post(url, data={"csrf": csrf_of(page.text)}, files={"file": ("a.csv", CSV)}, headers=HTMX)
    assert refused.status_code == 403 and flash_error(refused.text)
    assert database_state(session) == before


def test_htmx_post_with_a_stale_token_is_refused(client: TestClient, session: Session) -> None:
    url = _resource(session)
    login(client, "steward")
    before = database_state(session)
    refused = client.post(url, data={"csrf": "stale"}, files={"file": ("a.csv", CSV)}, headers=HTMX)
    assert refused.status_code == 403 and "表单安全令牌" in refused.text
    assert database_state(session) == before
