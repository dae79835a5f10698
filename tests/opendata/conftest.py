"""Fixtures of the open-data tests: classified resources of synthetic persons published by the steward's
department (杭州市市场监督管理局) with the open type each test sets, and registered portal users."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from digigov.catalog import service as catalog
from digigov.catalog.schemas import ResourceCreate
from digigov.core.auth import PUBLIC, Actor
from digigov.core.config import Settings
from digigov.datastore import versions
from digigov.identity import actor_for_user
from digigov.opendata import accounts
from digigov.opendata.schemas import RegistrationCreate
from tests.catalog.test_service import dept
from tests.sharing.conftest import PERSONS, persons_csv

OPEN, RESTRICTED, PROHIBITED = "rk-open", "rk-restricted", "rk-prohibited"
FIRST = PERSONS.slice(0, 1).to_pylist()[0]
ID, NAME, PHONE, BORN = "公民身份号码", "姓名", "手机号码", "出生日期"
USCC = "91330100MA2KD8GH9G"  # a credit code whose GB 32100 check character is right
PASSWORD = "portal-password-2026"
LABELS = {"unconditional": "无条件开放", "restricted": "受限开放", "prohibited": "禁止开放"}


def publish(session: Session, steward: Actor, reviewer: Actor, home: Path, *, code: str, open_type: str) -> None:
    """Synthetic persons as version 1 of a published resource with the given open type."""
    body = {
        "code": code,
        "title": f"人口基础信息（合成，{LABELS[open_type]}）",
        "abstract": "合成的浙江省人口基础信息，用于测试开放数据门户。",
        "keywords": ["人口", "户籍"],
        "department_id": dept(session, "HZ-SJJ"),
        "share_type": "conditional",
        "share_condition": "用于社保待遇核验",
        "open_type": open_type,
        "open_condition": "仅限科研与公益用途，须签署数据安全承诺" if open_type == "restricted" else "",
    }
    catalog.create_resource(session, steward, ResourceCreate.model_validate(body))
    versions.ingest_file(
        session, steward, home=home, resource_code=code, upload=io.BytesIO(persons_csv()), filename="persons.csv"
    )
    catalog.submit_resource(session, steward, code=code)
    catalog.publish_resource(session, reviewer, code=code)


@pytest.fixture
def opened(session: Session, steward: Actor, reviewer: Actor, settings: Settings) -> None:
    """One resource of each open type: rk-open, rk-restricted, rk-prohibited."""
    for code, open_type in ((OPEN, "unconditional"), (RESTRICTED, "restricted"), (PROHIBITED, "prohibited")):
        publish(session, steward, reviewer, settings.home, code=code, open_type=open_type)


def register(session: Session, username: str, *, kind: str = "enterprise", **change: object) -> Actor:
    """A registered portal user (an enterprise by default) as an actor."""
    body: dict[str, object] = {
        "username": username,
        "display_name": "王经理" if kind == "enterprise" else "李研究员",
        "password": PASSWORD,
        "kind": kind,
        "organisation": "杭州数智科技有限公司" if kind == "enterprise" else "浙江大学公共管理学院",
        "uscc": USCC if kind == "enterprise" else None,
    }
    user, _ = accounts.register(session, PUBLIC, RegistrationCreate.model_validate(body | change))
    return actor_for_user(session, user)


@pytest.fixture
def enterprise(session: Session) -> Actor:
    return register(session, "shuzhi")


@pytest.fixture
def researcher(session: Session) -> Actor:
    return register(session, "liyan", kind="researcher")
