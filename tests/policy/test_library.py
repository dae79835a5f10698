"""The policy library through its API and pages: import, revisions, repeal, links, search, Q&A, FAQs, ratings."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digigov.core.audit import AuditRecord
from digigov.policy.models import PolicyDocument, PolicyFaq, PolicyQuestion, PolicyRevision
from tests.conftest import SHARED_DATA
from tests.helpers import flash_error, signed_in

SEED = SHARED_DATA.parent / "seed" / "zhejiang-digital-government-2022-20.txt"

OLD = """浙江省人民政府关于老年人乘坐公共交通优待的通知
浙政发〔2018〕5号
各市、县（市、区）人民政府，省政府直属各单位：
为弘扬敬老传统，现就老年人乘坐公共交通优待事项通知如下。
一、优待对象
年满70周岁的老年人凭老年人优待证免费乘坐市区公交车。
二、实施时间
本通知自2018年3月1日起施行。
浙江省人民政府
2018年2月1日
"""

NEW = """浙江省人民政府关于进一步做好老年人优待工作的通知
浙政发〔2023〕9号
各市、县（市、区）人民政府，省政府直属各单位：
为落实积极应对人口老龄化国家战略，现就老年人优待工作通知如下。
一、交通出行
年满65周岁的老年人凭身份证或社保卡免费乘坐城市公共汽车和城市轨道交通。
二、其他事项
本通知自2023年7月1日起施行。《浙江省人民政府关于老年人乘坐公共交通优待的通知》（浙政发〔2018〕5号）同时废止。
浙江省人民政府
2023年6月1日
"""


def upload(client: TestClient, headers: dict[str, str], name: str, text: str | bytes) -> dict:  # type: ignore[type-arg]
    body = text.encode() if isinstance(text, str) else text
    reply = client.post("/api/v1/policy/documents", files={"file": (name, io.BytesIO(body))}, headers=headers)
    assert reply.status_code in (201, 422, 403), reply.text
    return reply.json()  # type: ignore[no-any-return]


def counts(session: Session) -> tuple[int, int, int]:
    return (
        session.scalar(select(func.count()).select_from(PolicyDocument)) or 0,
        session.scalar(select(func.count()).select_from(PolicyRevision)) or 0,
        session.scalar(select(func.count()).select_from(AuditRecord)) or 0,
    )


def test_import_is_idempotent_and_a_changed_text_is_a_new_revision(
    client: TestClient, token_for, session: Session
) -> None:  # type: ignore[no-untyped-def]
    admin = token_for("admin")
    first = upload(client, admin, "old.txt", OLD)
    assert first["outcome"] == "created" and first["doc_number"] == "浙政发〔2018〕5号"
    assert first["issuer"] == "浙江省人民政府" and first["issue_date"] == "2018-02-01"
    before = counts(session)
    assert upload(client, admin, "again.txt", OLD)["outcome"] == "unchanged"
    assert counts(session) == before, "the same text twice is one document and writes nothing"
    changed = upload(client, admin, "old-v2.txt", OLD.replace("70周岁", "65周岁"))
    assert changed["outcome"] == "revised" and changed["id"] == first["id"] and changed["revision"] == 2
    texts = session.scalars(
        select(PolicyRevision.text).where(PolicyRevision.document_id == first["id"]).order_by(PolicyRevision.number)
    ).all()
    assert "70周岁" in texts[0] and "65周岁" in texts[1], "the first revision is kept as it was"
    page = client.get(f"/api/v1/policy/documents/{first['id']}").json()
    assert "65周岁" in "".join(c["text"] for c in page["clauses"])
    assert [c["path"] for c in page["clauses"] if c["path"]][:2] == ["一", "二"]


@pytest.mark.parametrize("order", ["old first", "new first"])
def test_a_repealing_document_marks_the_old_one_and_links_both_ways(client: TestClient, token_for, order: str) -> None:  # type: ignore[no-untyped-def]
    admin = token_for("admin")
    files = [("old.txt", OLD), ("new.txt", NEW)]
    done = {name: upload(client, admin, name, text) for name, text in (files if order == "old first" else files[::-1])}
    old = client.get(f"/api/v1/policy/documents/{done['old.txt']['id']}").json()
    new = client.get(f"/api/v1/policy/documents/{done['new.txt']['id']}").json()
    assert old["status"] == "repealed" and old["replaced_by_id"] == new["id"]
    assert [link["document_id"] for link in old["cited_by"]] == [new["id"]]
    assert any(link["cited_id"] == old["id"] and link["kind"] == "repeals" for link in new["cites"])
    page = client.get(f"/policy/documents/{old['id']}")
    assert "此文件已废止" in page.text and f"/policy/documents/{new['id']}" in page.text


def test_questions_are_answered_from_clauses_in_force_with_citations(
    client: TestClient, token_for, session: Session
) -> None:  # type: ignore[no-untyped-def]
    admin = token_for("admin")
    old = upload(client, admin, "old.txt", OLD)
    new = upload(client, admin, "new.txt", NEW)
    reply = client.post("/api/v1/policy/ask", json={"question": "老人坐公交有没有优惠？"})
    assert reply.status_code == 200, reply.text
    answer = reply.json()
    assert answer["abstained"] is False
    assert answer["citations"][0]["document_id"] == new["id"], "the repealed notice is not used"
    assert answer["citations"][0]["doc_number"] == "浙政发〔2023〕9号" and answer["citations"][0]["clause"] == "一"
    assert "65周岁" in answer["citations"][0]["text"] and "65周岁" in answer["answer"]
    text = session.scalars(select(PolicyRevision.text).where(PolicyRevision.document_id == new["id"])).one()
    cited = answer["citations"][0]
    assert text[cited["start"] : cited["end"]] == cited["text"], "offsets point at the quoted text"
    with_old = client.post("/api/v1/policy/ask", json={"question": "老人坐公交有没有优惠？", "include_expired": True})
    assert old["id"] in {c["document_id"] for c in with_old.json()["citations"]} | {
        d["id"] for d in with_old.json()["closest"]
    }
    unknown = client.post("/api/v1/policy/ask", json={"question": "火星移民需要办理什么签证？"}).json()
    assert unknown["abstained"] is True and unknown["citations"] == []
    assert "未在政策文件库中找到" in unknown["answer"]
    asked = session.scalars(select(PolicyQuestion).order_by(PolicyQuestion.id)).all()
    assert [q.abstained for q in asked][-1] is True


SUBSIDY = """杭州市人力资源和社会保障局关于高校毕业生创业补贴的通知
杭人社发〔2023〕12号
各区、县（市）人力资源和社会保障局：
为鼓励高校毕业生自主创业，现就有关事项通知如下。
一、补贴对象
在杭州市创办企业的高校毕业生，可以申请一次性创业补贴。
二、申请方式
符合条件的高校毕业生通过浙江政务服务网提出申请，人力社保部门自受理之日起十个工作日内完成审核。
杭州市人力资源和社会保障局
2023年3月1日
"""


def test_a_question_asking_for_an_amount_is_not_answered_by_a_clause_without_one(client: TestClient, token_for) -> None:  # type: ignore[no-untyped-def]
    upload(client, token_for("admin"), "subsidy.txt", SUBSIDY)
    how_much = client.post("/api/v1/policy/ask", json={"question": "高校毕业生在杭州创业，一次性创业补贴能领多少钱？"})
    assert how_much.status_code == 200, how_much.text
    declined = how_much.json()
    assert declined["abstained"] is True and declined["citations"] == []
    assert "具体金额" in declined["answer"], "it says what the clauses lack"
    assert declined["closest"][0]["title"].startswith("杭州市人力资源和社会保障局关于高校毕业生创业补贴")
    how_long = client.post("/api/v1/policy/ask", json={"question": "高校毕业生申请一次性创业补贴，审核要多久？"}).json()
    assert how_long["abstained"] is False
    assert how_long["citations"][0]["clause"] == "二" and "十个工作日" in how_long["citations"][0]["text"]


FAMILY = """浙江省人口与计划生育条例
第一章　总则
第一条　为了实现人口与经济、社会、资源、环境的协调发展，制定本条例。
第二章　奖励与保障
第二条　符合法律、法规规定生育子女的夫妻，可以获得下列福利待遇：
（一）女方在享受国家规定产假的基础上，一孩延长产假六十天，二孩、三孩延长产假九十天；
（二）男方享受十五天护理假，护理假期间的工资、奖金和其他福利待遇由用人单位照发；
（三）在子女三周岁内，夫妻双方每年各享受十天育儿假。
第三条　独生子女家庭父母一方年满六十周岁的，独生子女每年享受五天陪护父母假。
"""


def test_an_everyday_question_finds_the_list_item_that_answers_it(client: TestClient, token_for) -> None:  # type: ignore[no-untyped-def]
    upload(client, token_for("admin"), "family.txt", FAMILY)
    answer = client.post("/api/v1/policy/ask", json={"question": "老婆生孩子，老公能请几天陪产假？"}).json()
    assert answer["abstained"] is False, answer["answer"]
    cited = answer["citations"][0]
    assert cited["clause"].endswith("第二条(二)"), "陪产假 is 护理假, 老公 is 男方, and the lead-in says 生育"
    assert "十五天护理假" in cited["text"]


def test_ratings_and_the_unanswered_list_for_the_policy_office(client: TestClient, token_for) -> None:  # type: ignore[no-untyped-def]
    for _ in range(2):
        declined = client.post("/api/v1/policy/ask", json={"question": "宠物狗可以坐地铁吗？"}).json()
        assert declined["abstained"] is True
    rated = client.post(f"/api/v1/policy/questions/{declined['question_id']}/rating", json={"rating": -1})
    assert rated.status_code == 204
    assert (
        client.post(f"/api/v1/policy/questions/{declined['question_id']}/rating", json={"rating": 5}).status_code == 422
    )
    assert client.get("/api/v1/policy/unanswered").status_code == 401
    assert client.get("/api/v1/policy/unanswered", headers=token_for("consumer")).status_code == 403
    top = client.get("/api/v1/policy/unanswered", headers=token_for("admin")).json()
    assert top[0]["question"] == "宠物狗可以坐地铁吗？" and top[0]["asked"] == 2 and top[0]["rating"] == -1


def test_faqs_answer_matching_questions_and_are_cited_as_faqs(client: TestClient, token_for, session: Session) -> None:  # type: ignore[no-untyped-def]
    admin = token_for("admin")
    csv = "问题,答案,部门\n新生儿如何办理医保参保？,新生儿可在出生后凭出生医学证明在线办理医保参保登记。,医保局\n"
    first = client.post(
        "/api/v1/policy/faqs", files={"file": ("faq.csv", io.BytesIO(csv.encode()))}, headers=admin
    ).json()
    assert first == {"added": 1, "unchanged": 0, "source": "faq.csv"}
    again = client.post("/api/v1/policy/faqs", files={"file": ("faq.csv", io.BytesIO(csv.encode()))}, headers=admin)
    assert again.json()["unchanged"] == 1 and session.scalar(select(func.count()).select_from(PolicyFaq)) == 1
    answer = client.post("/api/v1/policy/ask", json={"question": "新生儿怎么办理医保参保"}).json()
    assert answer["abstained"] is False and answer["citations"][0]["kind"] == "faq"
    assert answer["citations"][0]["department"] == "医保局" and "出生医学证明" in answer["answer"]
    broken = client.post("/api/v1/policy/faqs", files={"file": ("faq.csv", io.BytesIO(b"a,b\n1,2\n"))}, headers=admin)
    assert broken.status_code == 422 and "问题" in broken.json()["detail"]
    carriage = client.post(
        "/api/v1/policy/faqs", files={"file": ("faq.csv", io.BytesIO(b"question,answer\na\rb,c\x00\n"))}, headers=admin
    )
    assert carriage.status_code == 422, carriage.text


def test_search_is_public_exact_on_a_doc_number_and_filtered(client: TestClient, token_for) -> None:  # type: ignore[no-untyped-def]
    admin = token_for("admin")
    old = upload(client, admin, "old.txt", OLD)
    new = upload(client, admin, "new.txt", NEW)
    for form in ("浙政发〔2023〕9号", "浙政发[2023]9号", "浙政发（2023）9号"):
        hits = client.get("/api/v1/policy/search", params={"q": form}).json()
        assert hits[0]["document"]["id"] == new["id"], form
    everyday = client.get("/api/v1/policy/search", params={"q": "老人坐公交", "status": "in_force"}).json()
    assert everyday and {h["document"]["id"] for h in everyday} == {new["id"]}
    repealed = client.get("/api/v1/policy/search", params={"q": "老年人", "status": "repealed"}).json()
    assert {h["document"]["id"] for h in repealed} == {old["id"]}
    assert client.get("/api/v1/policy/search", params={"q": ""}).status_code == 422
    listing = client.get("/api/v1/policy/documents", params={"status": "in_force"}).json()
    assert [d["id"] for d in listing["documents"]] == [new["id"]] and listing["count"] == 1


def test_bad_uploads_are_refused_and_change_nothing(client: TestClient, token_for, session: Session) -> None:  # type: ignore[no-untyped-def]
    consumer = token_for("consumer")
    admin = token_for("admin")
    before = counts(session)
    assert upload(client, consumer, "old.txt", OLD)["code"] == "forbidden"
    assert (
        client.post("/api/v1/policy/documents", files={"file": ("a.txt", io.BytesIO(OLD.encode()))}).status_code == 401
    )
    for name, body in [("empty.txt", b""), ("garbage.pdf", bytes(range(256)) * 40), ("fake.docx", b"PK\x03\x04broken")]:
        refused = upload(client, admin, name, body)
        assert refused["status"] == 422 and refused["detail"], name
    assert counts(session) == before


def test_pages_serve_visitors_and_the_office(client: TestClient, token_for) -> None:  # type: ignore[no-untyped-def]
    new = upload(client, token_for("admin"), "new.txt", NEW)
    library = client.get("/policy")
    assert library.status_code == 200 and "政策文件库" in library.text and "浙政发〔2023〕9号" in library.text
    found = client.get("/policy/search", params={"q": "老年人 公交"})
    assert "<mark>" in found.text and f"/policy/documents/{new['id']}" in found.text
    document = client.get(f"/policy/documents/{new['id']}")
    assert "条款目录" in document.text and "浙政发〔2018〕5号" in document.text
    answer = client.post("/policy/ask", data={"question": "老人坐公交免费吗"})
    assert answer.status_code == 200 and "依据" in answer.text and "浙政发〔2023〕9号" in answer.text
    empty = client.post("/policy/ask", data={"question": "   "})
    assert empty.status_code == 422 and "请输入问题" in flash_error(empty.text)
    assert client.get("/policy/unanswered", follow_redirects=False).status_code == 303
    signed_in(client, "admin", "/policy")
    assert client.get("/policy/unanswered").status_code == 200


@pytest.mark.skipif(not SEED.is_file(), reason=f"{SEED} is absent: the seed text is not beside the checkout")
def test_the_seed_page_imports_clean_and_answers_about_itself(client: TestClient, token_for) -> None:  # type: ignore[no-untyped-def]
    seed = upload(client, token_for("admin"), SEED.name, SEED.read_bytes())
    assert seed["doc_number"] == "浙政发〔2022〕20号" and seed["issuer"] == "浙江省人民政府"
    document = client.get(f"/api/v1/policy/documents/{seed['id']}").json()
    body = "".join(c["text"] for c in document["clauses"])
    assert "精确检索" not in body and "加盟电话" not in body
    assert any(c["path"] == "二(四)" for c in document["clauses"])
    answer = client.post("/api/v1/policy/ask", json={"question": "浙江数字政府建设到2025年要实现什么目标？"}).json()
    assert answer["abstained"] is False and answer["citations"][0]["doc_number"] == "浙政发〔2022〕20号"
