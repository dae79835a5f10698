"""Reference data every install needs, and the demo: departments and one user per role."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.catalog import service as catalog
from digigov.catalog.models import Resource
from digigov.catalog.schemas import FieldSpec, ResourceChanges, ResourceCreate
from digigov.catalog.vocabulary import OpenType, ShareType, UpdateCycle
from digigov.core import audit, workdays
from digigov.core.auth import SYSTEM, Role
from digigov.core.errors import DigigovError
from digigov.datastore.versions import ingest_file
from digigov.identity import service as identity
from digigov.identity.events import RegionsLoaded
from digigov.identity.models import Department, Region, User
from digigov.identity.regions import load_regions


def load_reference_data(session: Session) -> dict[str, int]:
    """Regions of Zhejiang and the holiday calendar; safe to run again."""
    known = set(session.scalars(select(Region.code)))
    regions = load_regions(session)
    if len(known) != regions:
        audit.record(session, SYSTEM, RegionsLoaded(province="33", count=regions))
    years = workdays.seed_from_chinese_calendar(session, SYSTEM)
    return {"regions": regions, "calendar_years": len(years)}


@dataclass(frozen=True)
class DemoDepartment:
    code: str
    name: str
    region: str
    parent: str | None = None


DEPARTMENTS = [
    DemoDepartment("ZJ-DSJ", "浙江省大数据发展管理局", "330000"),
    DemoDepartment("HZ-SJZY", "杭州市数据资源管理局", "330100"),
    DemoDepartment("HZ-SJJ", "杭州市市场监督管理局", "330100"),
    DemoDepartment("HZ-RSJ", "杭州市人力资源和社会保障局", "330100"),
    DemoDepartment("HZ-XH-SJJ", "杭州市西湖区市场监督管理局", "330106", parent="HZ-SJJ"),
    DemoDepartment("HZ-LP-SJJ", "杭州市临平区市场监督管理局", "330113", parent="HZ-SJJ"),
    DemoDepartment("WZ-MZJ", "温州市民政局", "330300"),
]

# username, display name, department code, role
USERS = [
    ("admin", "平台管理员", "ZJ-DSJ", Role.platform_admin),
    ("reviewer", "李强", "ZJ-DSJ", Role.reviewer),
    ("auditor", "赵敏", "ZJ-DSJ", Role.auditor),
    ("steward", "王芳", "HZ-SJJ", Role.data_steward),
    ("consumer", "陈静", "HZ-RSJ", Role.data_consumer),
    ("inspector", "刘洋", "HZ-XH-SJJ", Role.inspector),
    ("citizen", "张三", None, Role.public),
]


def load_demo(session: Session, *, password: str) -> list[str]:
    """Create the demo departments and users that do not exist yet; returns the new usernames."""
    ids = {code: dept_id for code, dept_id in session.execute(select(Department.code, Department.id))}
    for dept in DEPARTMENTS:
        if dept.code not in ids:
            parent = ids[dept.parent] if dept.parent else None
            created = identity.create_department(
                session, SYSTEM, code=dept.code, name=dept.name, region_code=dept.region, parent_id=parent
            )
            ids[dept.code] = created.id
    existing = set(session.scalars(select(User.username)))
    added = []
    for username, display, dept_code, role in USERS:
        if username in existing:
            continue
        identity.create_user(
            session,
            SYSTEM,
            username=username,
            display_name=display,
            password=password,
            department_id=ids[dept_code] if dept_code else None,
            roles=[role],
        )
        added.append(username)
    return added


@dataclass(frozen=True)
class DemoFile:
    """A file ingested into the demo catalog."""

    path: Path
    code: str
    title: str
    department: str


def beijing_files(shared: Path) -> list[DemoFile]:
    """The Beijing open-data files in `shared` (../shared/data/real), each under a plausible department."""
    folder = shared / "opendata" / "beijing"
    if not folder.is_dir():
        return []
    files = []
    for path in sorted(folder.iterdir()):
        if not path.is_file():
            continue
        title = path.stem.split("-", 1)[-1].replace(" (1)", "").strip()
        department = "HZ-SJJ" if any(w in path.name for w in ("市场", "企业", "公司", "12315", "食品")) else "HZ-SJZY"
        code = "bj-" + hashlib.sha1(path.name.encode()).hexdigest()[:8]
        files.append(DemoFile(path, code, title, department))
    return files


def load_demo_catalog(session: Session, *, home: Path, files: list[DemoFile], report: Callable[[str], None]) -> int:
    """Ingest and publish each demo file whose resource has no version yet; returns how many were added."""
    ids = {code: dept_id for code, dept_id in session.execute(select(Department.code, Department.id))}
    added = 0
    for demo in files:
        if session.scalar(select(Resource.id).where(Resource.code == demo.code)) is not None:
            continue
        try:
            with session.begin_nested():
                _publish_file(session, home, demo, ids[demo.department])
            added += 1
        except DigigovError as error:
            report(f"skipped {demo.path.name}: {error.message}")
    return added


def _publish_file(session: Session, home: Path, demo: DemoFile, department_id: int) -> None:
    open_data = {
        "share_type": ShareType.unconditional,
        "open_type": OpenType.unconditional,
        "update_cycle": UpdateCycle.irregular,
        "format": "CSV",
        "keywords": ["北京", "公共数据开放"],
        "abstract": f"北京市公共数据开放平台发布的“{demo.title}”，演示用。",
        "contact": "演示数据，来源 data.beijing.gov.cn",
    }
    catalog.create_resource(
        session, SYSTEM, ResourceCreate(code=demo.code, title=demo.title, department_id=department_id, **open_data)
    )
    with demo.path.open("rb") as raw:
        version = ingest_file(session, SYSTEM, home=home, resource_code=demo.code, upload=raw, filename=demo.path.name)
    fields = [FieldSpec(name=c["name"], title=c["name"], type=c["type"]) for c in version.columns]
    catalog.edit_resource(session, SYSTEM, code=demo.code, changes=ResourceChanges(fields=fields))
    catalog.submit_resource(session, SYSTEM, code=demo.code)
    catalog.publish_resource(session, SYSTEM, code=demo.code)
