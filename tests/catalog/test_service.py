"""Catalog: metadata rules, the review lifecycle, Chinese search, facets, completeness."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from digigov.catalog import search, service
from digigov.catalog.errors import MissingBasis, ResourceCodeTaken
from digigov.catalog.models import Resource
from digigov.catalog.schemas import FieldSpec, ResourceChanges, ResourceCreate
from digigov.catalog.vocabulary import ResourceState
from digigov.core.auth import SYSTEM, Actor
from digigov.core.errors import Forbidden, IllegalTransition, NotFound
from digigov.identity.models import Department
from tests.conftest import actor_named, database_state
from tests.helpers import last_event


def dept(session: Session, code: str) -> int:
    return session.scalars(select(Department.id).where(Department.code == code)).one()


def make(session: Session, actor: Actor, code: str, title: str, **extra: Any) -> Any:
    values: dict[str, Any] = {
        "code": code,
        "title": title,
        "department_id": dept(session, "HZ-SJJ"),
        "abstract": "杭州市市场监督管理局登记的企业基本信息，按月更新。",
        "share_type": "conditional",
        "share_condition": "用于行政审批与监管",
        "open_type": "restricted",
        "open_condition": "经审批后开放",
        "fields": [{"name": "uscc", "title": "统一社会信用代码", "type": "string", "is_key": True}],
    }
    values.update(extra)
    return service.create_resource(session, actor, ResourceCreate.model_validate(values))


def test_lifecycle_to_publication_and_back(session: Session, steward: Actor, reviewer: Actor) -> None:
    resource = make(session, steward, "hz-ssgs", "上市公司名录")
    assert resource.state == ResourceState.draft and last_event(session).kind == "catalog.resource_created"
    service.submit_resource(session, steward, code="hz-ssgs")
    service.return_resource(session, reviewer, code="hz-ssgs", reason="摘要不够具体")
    assert resource.state == "returned" and resource.return_reason == "摘要不够具体"
    service.edit_resource(
        session, steward, code="hz-ssgs", changes=ResourceChanges(abstract="更具体的摘要：上市公司分支机构名录")
    )
    service.submit_resource(session, steward, code="hz-ssgs")
    service.publish_resource(session, reviewer, code="hz-ssgs")
    assert resource.state == "published" and resource.published_on is not None
    service.withdraw_resource(session, steward, code="hz-ssgs", reason="数据源停止更新")
    assert resource.state == "withdrawn" and last_event(session).kind == "catalog.resource_withdrawn"


def test_changes_to_a_published_resource_wait_for_review(session: Session, steward: Actor, reviewer: Actor) -> None:
    make(session, steward, "hz-gxqy", "高新技术企业库")
    service.submit_resource(session, steward, code="hz-gxqy")
    resource = service.publish_resource(session, reviewer, code="hz-gxqy")
    service.edit_resource(session, steward, code="hz-gxqy", changes=ResourceChanges(title="高新技术企业名录"))
    assert resource.title == "高新技术企业库" and resource.pending_changes == {"title": "高新技术企业名录"}
    assert [r.code for r in service.review_queue(session, reviewer)] == ["hz-gxqy"]
    service.publish_resource(session, reviewer, code="hz-gxqy")
    assert resource.title == "高新技术企业名录" and resource.pending_changes is None
    service.edit_resource(session, steward, code="hz-gxqy", changes=ResourceChanges(update_cycle="monthly"))
    service.return_resource(session, reviewer, code="hz-gxqy", reason="更新周期与实际不符")
    assert resource.update_cycle == "irregular" and resource.pending_changes is None


def test_rules_and_refusals_change_nothing(session: Session, steward: Actor, reviewer: Actor) -> None:
    make(session, steward, "hz-a", "甲资源")
    before = database_state(session)
    with pytest.raises(ResourceCodeTaken):
        make(session, steward, "hz-a", "重复代码")
    with pytest.raises(MissingBasis):
        make(session, steward, "hz-b", "不予共享缺依据", share_type="none")
    with pytest.raises(Forbidden):
        make(session, actor_named(session, "consumer"), "hz-c", "无权编目")
    with pytest.raises(Forbidden):  # a steward of another department
        make(session, steward, "hz-d", "他部门资源", department_id=dept(session, "HZ-RSJ"))
    with pytest.raises(IllegalTransition):
        service.publish_resource(session, reviewer, code="hz-a")  # never submitted
    with pytest.raises(Forbidden):
        service.publish_resource(session, steward, code="hz-a")  # stewards do not review
    assert database_state(session) == before
    # A draft may lack its sharing conditions; submitting it for publication may not.
    service.edit_resource(session, steward, code="hz-a", changes=ResourceChanges(share_condition=""))
    edited = database_state(session)
    with pytest.raises(MissingBasis):
        service.submit_resource(session, steward, code="hz-a")
    assert database_state(session) == edited


def test_drafts_are_visible_only_to_their_department_and_reviewers(session: Session, steward: Actor) -> None:
    make(session, steward, "hz-draft", "草稿资源")
    consumer = actor_named(session, "consumer")
    with pytest.raises(NotFound):
        service.get_resource(session, consumer, "hz-draft")
    assert service.get_resource(session, actor_named(session, "reviewer"), "hz-draft")
    with pytest.raises(NotFound):  # the inspector has no cataloguing role
        service.get_resource(session, actor_named(session, "inspector"), "hz-draft")


@pytest.mark.parametrize("query", ["维修信息", "维修", "设备维修", "设备的维修信息", "设备 维修"])
def test_chinese_queries_find_the_resource(session: Session, steward: Actor, query: str) -> None:
    make(session, steward, "hz-sbwx", "设备维修信息")
    make(session, steward, "hz-other", "企业年报")
    found = search.search_resources(session, steward, q=query)
    assert [r.code for r in found.results] == ["hz-sbwx"]
    assert found.count == 1


def test_facets_count_the_whole_match(session: Session, steward: Actor, reviewer: Actor) -> None:
    for n in range(3):
        make(session, steward, f"hz-f{n}", f"企业信用信息{n}", share_type="unconditional")
    make(session, steward, "hz-f9", "企业信用评价", open_type="prohibited")
    found = search.search_resources(session, reviewer, q="企业信用", limit=2)
    assert found.count == 4 and len(found.results) == 2
    assert dict(found.facets["share_type"]) == {"unconditional": 3, "conditional": 1}
    assert dict(found.facets["open_type"]) == {"restricted": 3, "prohibited": 1}
    assert dict(found.facets["department"]) == {str(dept(session, "HZ-SJJ")): 4}
    narrowed = search.search_resources(session, reviewer, q="企业信用", filters={"open_type": ["prohibited"]})
    assert [r.code for r in narrowed.results] == ["hz-f9"]


def test_completeness_names_what_is_missing(session: Session, steward: Actor) -> None:
    bare = service.create_resource(
        session, steward, ResourceCreate(code="hz-bare", title="空资源", department_id=dept(session, "HZ-SJJ"))
    )
    score = search.completeness(bare)
    assert score.score < 50 and "摘要（至少 20 字）" in score.missing and "数据项" in score.missing
    full = make(
        session,
        steward,
        "hz-full",
        "完整资源",
        keywords=["企业"],
        format="CSV",
        contact="0571-00000000",
        published_on="2026-01-05",
    )
    assert search.completeness(full).score == 100


def test_fields_keep_order_and_unique_names(session: Session, steward: Actor) -> None:
    resource = make(session, steward, "hz-fields", "字段测试")
    specs = [FieldSpec(name="name", title="名称"), FieldSpec(name="uscc", title="统一社会信用代码", is_key=True)]
    service.edit_resource(session, steward, code="hz-fields", changes=ResourceChanges(fields=specs))
    assert [(f.position, f.name) for f in resource.fields] == [(1, "name"), (2, "uscc")]
    with pytest.raises(Exception, match="unique|重复"):
        service.edit_resource(
            session,
            steward,
            code="hz-fields",
            changes=ResourceChanges(fields=[FieldSpec(name="a"), FieldSpec(name="a")]),
        )


def test_every_code_list_value_has_its_own_label() -> None:
    from digigov.catalog import vocabulary as v

    lists = [v.Category, v.BaseType, v.UpdateCycle, v.ShareType, v.OpenType, v.Grade, v.ResourceState, v.FieldType]
    for code_list in lists:
        labels = [member.label for member in code_list]
        assert len(set(labels)) == len(labels), code_list
    assert (v.ShareType.unconditional.label, v.OpenType.unconditional.label) == ("无条件共享", "无条件开放")


def _rule(text: str, query: str) -> bool:
    """The documented match, in plain Python: each term a substring, or all the words jieba finds in it."""
    return all(term in text or (words and all(w in text for w in words)) for term, *words in search.terms(query))


def test_search_matches_the_documented_rule_over_many_queries(session: Session, reviewer: Actor) -> None:
    titles = ["设备维修信息", "企业信用评价", "杭州市企业登记名录", "a_b%c 代码", "婚姻登记统计", "社会保险参保明细"]
    for n, title in enumerate(titles):
        make(session, actor_named(session, "steward"), f"hz-rule-{n}", title, keywords=[f"k{n}", "年报"])
    texts = {code: text for code, text in session.execute(select(Resource.code, Resource.search_text))}
    queries = ["维修", "设备的维修信息", "企业 登记", "a_b", "b%", "%", "_", "信", "hz-rule", "HZ-RULE-3", "年报 k2"]
    queries += ["代码", "统计 婚姻", "社会保险 参保", "不存在", "企 业", "信用评价 企业", "rule-1"]
    for query in queries:
        found = search.search_resources(session, reviewer, q=query, limit=1000)
        expected = {code for code, text in texts.items() if _rule(text, query)}
        assert {r.code for r in found.results} == expected, query
        assert found.count == len(expected)


def test_a_search_without_text_pages_newest_first_then_by_id(session: Session, steward: Actor, reviewer: Actor) -> None:
    # Pairs of equal times, drafts of the steward's department and of another: the walk of
    # ix_resource_order pages as the ranked text search orders and shows each actor what it may see.
    made = [make(session, SYSTEM, f"hz-w{n}", f"浏览{n}") for n in range(4)]
    made += [make(session, SYSTEM, f"hz-w{n}", f"浏览{n}", department_id=dept(session, "HZ-RSJ")) for n in (4, 5)]
    for n, resource in enumerate(made):
        state = ResourceState.published if n % 3 else ResourceState.draft
        values = {"state": state, "updated_at": datetime(2030, 1, 1 + n // 2)}
        session.execute(update(Resource).where(Resource.id == resource.id).values(**values))
    session.expire_all()
    every = session.scalars(select(Resource).order_by(Resource.updated_at.desc(), Resource.id)).all()
    for actor in (steward, reviewer):
        mine = set(actor.departments) if actor is steward else {r.department_id for r in every}
        shown = [r for r in every if r.state == ResourceState.published or r.department_id in mine]
        pages = [search.match_resources(session, actor, limit=2, offset=i, facets=()).ids for i in (0, 2, 4)]
        assert sum(pages, []) == [r.id for r in shown[:6]]
        whole = search.match_resources(session, actor, limit=10**6, facets=(), columns=[Resource.__table__.c.code])
        assert whole.count == len(shown) and [row[0] for row in whole.rows] == [r.code for r in shown]
        ours = [i for i in whole.ids if i in {r.id for r in made}]
        assert ours == search.match_resources(session, actor, q="浏览", limit=10**6, facets=()).ids
        rsj = dept(session, "HZ-RSJ")  # filtered: the one-statement search, in the same order
        filtered = search.match_resources(session, actor, filters={"department": [str(rsj)]}, limit=10**6, facets=())
        assert filtered.ids == [r.id for r in shown if r.department_id == rsj]


def test_search_follows_edits_of_the_text(session: Session, steward: Actor) -> None:
    make(session, steward, "hz-edit", "设备维修信息")
    assert search.search_resources(session, steward, q="维修").count == 1
    service.edit_resource(session, steward, code="hz-edit", changes=ResourceChanges(title="企业年报"))
    assert search.search_resources(session, steward, q="维修").count == 0
    assert [r.code for r in search.search_resources(session, steward, q="年报").results] == ["hz-edit"]


def test_match_resources_pages_in_order_and_counts_only_the_facets_asked(session: Session, reviewer: Actor) -> None:
    for n in range(5):
        make(session, actor_named(session, "steward"), f"hz-p{n}", f"食品抽检{n}")
    whole = search.search_resources(session, reviewer, q="食品抽检", limit=5)
    page = search.match_resources(session, reviewer, q="食品抽检", limit=2, offset=1, facets=["open_type", "nope"])
    assert page.count == 5 and page.ids == [r.id for r in whole.results][1:3]
    assert page.facets == {"open_type": [("restricted", 5)]}
    assert search.match_resources(session, reviewer, q="食品抽检", limit=0, facets=()).ids == []
