"""Fixtures of the sharing tests: a published, classified resource of synthetic persons owned by the
steward's department (杭州市市场监督管理局), and the consumer of 杭州市人力资源和社会保障局."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow.csv as pacsv
import pytest
from sqlalchemy.orm import Session

from digigov.catalog import service as catalog
from digigov.catalog.schemas import ResourceCreate
from digigov.core.auth import Actor
from digigov.core.config import Settings
from digigov.datastore import versions
from digigov.synth import synth_persons
from tests.catalog.test_service import dept

CODE = "rk-jcxx"
PERSONS = synth_persons(200, 7)


def persons_csv(table: object = PERSONS) -> bytes:
    out = io.BytesIO()
    pacsv.write_csv(table, out)  # type: ignore[arg-type]
    return out.getvalue()


def publish_persons(
    session: Session, steward: Actor, reviewer: Actor, home: Path, *, code: str = CODE, share_type: str = "conditional"
) -> versions.Version:
    """Synthetic persons as version 1 of a published resource of the steward's department."""
    body = {
        "code": code,
        "title": "人口基础信息（合成）",
        "department_id": dept(session, "HZ-SJJ"),
        "share_type": share_type,
        "share_condition": "用于社保待遇核验" if share_type == "conditional" else "",
        "share_basis": "《中华人民共和国个人信息保护法》第十三条" if share_type == "none" else "",
        "open_type": "prohibited",
    }
    catalog.create_resource(session, steward, ResourceCreate.model_validate(body))
    version = versions.ingest_file(
        session, steward, home=home, resource_code=code, upload=io.BytesIO(persons_csv()), filename="persons.csv"
    )
    catalog.submit_resource(session, steward, code=code)
    catalog.publish_resource(session, reviewer, code=code)
    return version


@pytest.fixture
def persons(session: Session, steward: Actor, reviewer: Actor, settings: Settings) -> versions.Version:
    return publish_persons(session, steward, reviewer, settings.home)
