"""Reference data every install needs, and the demo: departments, one user per role, a catalog.

The demo catalog holds the real Beijing open-data files when they are present, and always a
synthetic population of Zhejiang (enterprises and persons, no real person's data) generated
into the data home and ingested like any upload.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.catalog import service as catalog
from digigov.catalog.models import Resource
from digigov.catalog.schemas import FieldSpec, ResourceChanges, ResourceCreate
from digigov.catalog.vocabulary import BaseType, Category, FieldType, OpenType, ShareType, UpdateCycle
from digigov.core import audit, workdays
from digigov.core.auth import SYSTEM, Role
from digigov.core.errors import DigigovError
from digigov.datastore.versions import ingest_file
from digigov.governance.codetables import load_code_tables
from digigov.governance.elements import get_element, load_starter_dictionary, set_authoritative_source
from digigov.identity import service as identity
from digigov.identity.events import RegionsLoaded
from digigov.identity.models import Department, Region, User
from digigov.identity.regions import load_regions
from digigov.policy import faqs as policy_faqs
from digigov.policy import service as policy
from digigov.policy.models import PolicyDocument


def load_reference_data(session: Session, *, real_data: Path | None = None) -> dict[str, int]:
    """Regions of Zhejiang, the holiday calendar, the standard code tables and the starter data-element
    dictionary; safe to run again. `real_data` (../shared/data/real) adds the finer GB/T 4754 levels."""
    known = set(session.scalars(select(Region.code)))
    regions = load_regions(session)
    if len(known) != regions:
        audit.record(session, SYSTEM, RegionsLoaded(province="33", count=regions))
    years = workdays.seed_from_chinese_calendar(session, SYSTEM)
    codes = load_code_tables(session, SYSTEM, real_data=real_data)
    load_starter_dictionary(session, SYSTEM)
    return {"regions": regions, "calendar_years": len(years), "codes": sum(codes.values())}


@dataclass(frozen=True)
class DemoDepartment:
    code: str
    name: str
    region: str
    parent: str | None = None


DEPARTMENTS = [
    DemoDepartment("ZJ-DSJ", "浙江省大数据发展管理局", "330000"),
    DemoDepartment("ZJ-SJJ", "浙江省市场监督管理局", "330000"),
    DemoDepartment("HZ-SJZY", "杭州市数据资源管理局", "330100"),
    DemoDepartment("HZ-SJJ", "杭州市市场监督管理局", "330100"),
    DemoDepartment("HZ-RSJ", "杭州市人力资源和社会保障局", "330100"),
    DemoDepartment("HZ-XH-SJJ", "杭州市西湖区市场监督管理局", "330106", parent="HZ-SJJ"),
    DemoDepartment("HZ-LP-SJJ", "杭州市临平区市场监督管理局", "330113", parent="HZ-SJJ"),
    DemoDepartment("WZ-MZJ", "温州市民政局", "330300"),
    DemoDepartment("ZJ-ZFB", "浙江省人民政府办公厅", "330000"),
]

# username, display name, department code, role
USERS = [
    ("admin", "平台管理员", "ZJ-DSJ", Role.platform_admin),
    ("reviewer", "李强", "ZJ-DSJ", Role.reviewer),
    ("auditor", "赵敏", "ZJ-DSJ", Role.auditor),
    ("steward", "王芳", "HZ-SJJ", Role.data_steward),
    ("consumer", "陈静", "HZ-RSJ", Role.data_consumer),
    ("inspector", "刘洋", "HZ-XH-SJJ", Role.inspector),
    ("policy", "孙丽", "ZJ-ZFB", Role.policy_officer),
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
    """A file ingested into the demo catalog, with the metadata of its resource."""

    path: Path
    code: str
    title: str
    department: str
    about: ResourceChanges
    fields: tuple[FieldSpec, ...] = ()  # titles, keys and descriptions by column name; types come from the file


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
        files.append(DemoFile(path, code, title, department, _beijing_metadata(title)))
    return files


def _beijing_metadata(title: str) -> ResourceChanges:
    return ResourceChanges(
        share_type=ShareType.unconditional,
        open_type=OpenType.unconditional,
        update_cycle=UpdateCycle.irregular,
        format="CSV",
        keywords=["北京", "公共数据开放"],
        abstract=f"北京市公共数据开放平台发布的“{title}”，演示用。",
        contact="演示数据，来源 data.beijing.gov.cn",
    )


def load_demo_catalog(session: Session, *, home: Path, files: list[DemoFile], report: Callable[[str], None]) -> int:
    """Ingest and publish each demo file whose resource does not exist yet; returns how many were added."""
    ids = {code: dept_id for code, dept_id in session.execute(select(Department.code, Department.id))}
    added = 0
    for demo in _missing_files(session, files):
        try:
            with session.begin_nested():
                _publish_file(session, home, demo, ids[demo.department])
            added += 1
        except DigigovError as error:
            report(f"skipped {demo.path.name}: {error.message}")
    return added


def _missing_files(session: Session, files: list[DemoFile]) -> list[DemoFile]:
    """The demo files whose resource is not in the catalog yet."""
    existing = _existing_codes(session, [demo.code for demo in files])
    return [demo for demo in files if demo.code not in existing]


def _existing_codes(session: Session, codes: list[str]) -> set[str]:
    return set(session.scalars(select(Resource.code).where(Resource.code.in_(codes))))


def _publish_file(session: Session, home: Path, demo: DemoFile, department_id: int) -> None:
    about = demo.about.model_dump(exclude_unset=True, exclude={"fields"})
    catalog.create_resource(
        session, SYSTEM, ResourceCreate(code=demo.code, title=demo.title, department_id=department_id, **about)
    )
    with demo.path.open("rb") as raw:
        version = ingest_file(session, SYSTEM, home=home, resource_code=demo.code, upload=raw, filename=demo.path.name)
    declared = {spec.name: spec for spec in demo.fields}
    fields = [_field_spec(declared, column) for column in version.columns]
    catalog.edit_resource(session, SYSTEM, code=demo.code, changes=ResourceChanges(fields=fields))
    catalog.submit_resource(session, SYSTEM, code=demo.code)
    catalog.publish_resource(session, SYSTEM, code=demo.code)


def _field_spec(declared: dict[str, FieldSpec], column: dict[str, Any]) -> FieldSpec:
    """The declared field of an ingested column, with the type the file showed; undeclared: titled by name."""
    spec = declared.get(column["name"]) or FieldSpec(name=column["name"], title=column["name"])
    return spec.model_copy(update={"type": FieldType(column["type"])})


# ---------------------------------------------------------------------------- synthetic population

POPULATION_SEED = 1
ENTERPRISES_CODE = "zj-qyfrjcxx"
PERSONS_CODE = "zj-rkjcxx"


class PopulationCsv(Protocol):
    """Where a population writer put its CSV files."""

    @property
    def enterprises_csv(self) -> Path: ...

    @property
    def persons_csv(self) -> Path: ...


class PopulationWriter(Protocol):
    """`digigov.synth.write_population`; handed in because demo and synth are sibling layers."""

    def __call__(self, out_dir: Path, /, *, enterprises: int, persons: int, seed: int) -> PopulationCsv: ...


def load_demo_population(
    session: Session,
    *,
    home: Path,
    write: PopulationWriter,
    enterprises: int,
    persons: int,
    seed: int = POPULATION_SEED,
    report: Callable[[str], None],
) -> int:
    """Generate the synthetic population in the data home and publish it, unless both resources exist.

    Returns how many resources were added. The files are written to a scratch folder in `home`
    and removed once ingested: each version keeps its own copy of the raw upload.
    """
    if _existing_codes(session, [ENTERPRISES_CODE, PERSONS_CODE]) == {ENTERPRISES_CODE, PERSONS_CODE}:
        load_demo_sources(session)
        return 0
    with tempfile.TemporaryDirectory(dir=home, prefix=".demo-population-") as scratch:
        written = write(Path(scratch), enterprises=enterprises, persons=persons, seed=seed)
        files = _population_files(
            written.enterprises_csv, written.persons_csv, enterprises=enterprises, persons=persons, seed=seed
        )
        added = load_demo_catalog(session, home=home, files=files, report=report)
    load_demo_sources(session)
    return added


# The base resources are the authoritative sources (一数一源) of the elements they register.
DEMO_SOURCES = {
    ENTERPRISES_CODE: {"DE0001": "统一社会信用代码", "DE0004": "企业名称", "DE0007": "行业代码"}
    | {"DE0011": "注册资本（万元）", "DE0012": "成立日期"},
    PERSONS_CODE: {"DE0002": "公民身份号码", "DE0014": "姓名", "DE0009": "出生日期", "DE0010": "手机号码"},
}


def load_demo_sources(session: Session) -> int:
    """Name the base resources as the sources of their elements, where an element has none yet; returns how many."""
    named = 0
    for code in _existing_codes(session, list(DEMO_SOURCES)):
        for identifier, field in DEMO_SOURCES[code].items():
            if get_element(session, SYSTEM, identifier).source_resource_id is None:
                set_authoritative_source(session, SYSTEM, element=identifier, resource_code=code, field=field)
                named += 1
    return named


def _population_files(
    enterprises_csv: Path, persons_csv: Path, *, enterprises: int, persons: int, seed: int
) -> list[DemoFile]:
    """The two synthetic files as base resources (法人, 人口) of provincial departments."""
    made = f"合成演示数据：digigov synth 以固定种子 {seed} 生成"
    return [
        DemoFile(
            enterprises_csv,
            ENTERPRISES_CODE,
            "企业法人基础信息",
            "ZJ-SJJ",
            _enterprise_metadata(f"{made}的 {enterprises} 个虚构市场主体，不对应任何真实企业。"),
            ENTERPRISE_FIELDS,
        ),
        DemoFile(
            persons_csv,
            PERSONS_CODE,
            "人口基础信息",
            "ZJ-DSJ",
            _person_metadata(f"{made}的 {persons} 名虚构人员，不含任何真实个人信息。"),
            PERSON_FIELDS,
        ),
    ]


def _enterprise_metadata(synthetic: str) -> ResourceChanges:
    return ResourceChanges(
        abstract="浙江省市场主体（企业、个体工商户、农民专业合作社）的登记信息与年度报告信息：统一社会信用代码、"
        "名称、主体类型、住所所在县级行政区划、国民经济行业（GB/T 4754-2017）、成立日期、从业人数、营业收入、"
        f"注册资本、高新技术企业标识与企业规模。{synthetic}",
        category=Category.base,
        base_type=BaseType.legal_entity,
        subjects=["市场监管", "经济运行"],
        keywords=["法人", "企业", "市场主体", "统一社会信用代码", "合成数据"],
        update_cycle=UpdateCycle.daily,
        share_type=ShareType.conditional,
        share_condition="登记信息可供各部门办理行政事项时核验；从业人数、营业收入等年度报告中企业选择不公示的内容，"
        "仅供履行市场监管、税收、统计和产业政策职责的部门按需使用。",
        share_basis="《企业信息公示暂行条例》；《浙江省公共数据条例》",
        open_type=OpenType.restricted,
        open_condition="登记信息经审核后依申请开放；年度报告中企业选择不公示的内容不予开放。",
        format="CSV",
        contact="浙江省市场监督管理局（演示数据，联系方式为虚构）",
    )


def _person_metadata(synthetic: str) -> ResourceChanges:
    return ResourceChanges(
        abstract="浙江省户籍人口的基础信息：公民身份号码、姓名、性别、出生日期、户籍地行政区划，汇聚公安（户籍）、"
        f"人力社保（就业与参保）和民政（最低生活保障）部门数据，由省大数据局统一归集。{synthetic}",
        category=Category.base,
        base_type=BaseType.population,
        subjects=["人口", "社会保障"],
        keywords=["人口", "户籍", "公民身份号码", "个人信息", "合成数据"],
        update_cycle=UpdateCycle.daily,
        share_type=ShareType.conditional,
        share_condition="仅供依法履行职责的部门在办理具体事项时按最小必要原则核验或调用，须说明用途与数据项并经数源部门审核；"
        "公民身份号码、手机号码等敏感数据项脱敏后共享。",
        share_basis="《中华人民共和国个人信息保护法》；《浙江省公共数据条例》",
        open_type=OpenType.prohibited,
        format="CSV",
        contact="浙江省大数据发展管理局（演示数据，联系方式为虚构）",
    )


def _field(name: str, description: str, *, title: str = "", element: str | None = None) -> FieldSpec:
    return FieldSpec(name=name, title=title or name, description=description, data_element=element)


ENTERPRISE_FIELDS = (
    FieldSpec(
        name="统一社会信用代码",
        title="统一社会信用代码",
        is_key=True,
        data_element="DE0001",
        description="18 位：登记管理部门、机构类别、登记机关行政区划、主体标识码（组织机构代码）和校验码。",
    ),
    _field("企业名称", "市场主体的登记名称。", title="市场主体名称", element="DE0004"),
    _field("主体类型", "企业、个体工商户或农民专业合作社。", title="市场主体类型"),
    _field("行政区划代码", "住所所在的浙江省现行县级行政区划。", title="住所行政区划代码", element="DE0006"),
    _field("行业代码", "国民经济行业分类的大类（两位数字）。", title="国民经济行业代码", element="DE0007"),
    _field("行业门类", "国民经济行业分类的门类（字母 A–T），与行业代码一致。", element="DE0007"),
    _field("成立日期", "营业执照载明的成立日期。", element="DE0012"),
    _field("从业人数", "年度报告填报的从业人数（人）。"),
    _field("营业收入（万元）", "年度报告填报的营业总收入（万元）。"),
    _field("注册资本（万元）", "登记的注册资本（万元）。", element="DE0011"),
    _field("是否高新技术企业", "是否为有效期内的高新技术企业。"),
    _field("企业规模", "按《统计上大中小微型企业划分办法（2017）》划分：大型、中型、小型或微型。"),
)

PERSON_FIELDS = (
    FieldSpec(
        name="公民身份号码",
        title="公民身份号码",
        is_key=True,
        data_element="DE0002",
        description="18 位：户籍地县级行政区划、出生日期、顺序码（男单女双）和校验码。",
    ),
    _field("姓名", "户籍登记的姓名。", element="DE0014"),
    _field("性别", "男或女，与公民身份号码的顺序码一致。"),
    _field("出生日期", "与公民身份号码第 7–14 位一致。", element="DE0009"),
    _field("户籍地行政区划代码", "户籍所在的浙江省现行县级行政区划，与公民身份号码前 6 位一致。", element="DE0006"),
    _field("手机号码", "本人登记的手机号码；未满 12 周岁者一般为空。", element="DE0010"),
    _field("就业状态", "在职、灵活就业、无业、退休、在校或学龄前。"),
    _field(
        "就业单位统一社会信用代码",
        "在职人员所在企业的统一社会信用代码，可关联“企业法人基础信息”；在机关事业单位就业或未就业者为空。",
        element="DE0001",
    ),
    _field("月缴社保月数", "截至数据基准日累计缴纳职工基本养老保险的月数。", title="累计缴纳社会保险月数"),
    _field("是否享受低保", "是否为最低生活保障对象。", title="是否享受最低生活保障"),
)


# --- the policy library -------------------------------------------------------------------------

SHIPPED_POLICIES = Path(__file__).parent / "policy" / "shipped"
# folder under ../shared/data/policy, file, id field, text field, source prefix, format
POLICY_COLLECTIONS = [
    ("govcn_state_council_docs", "docs.jsonl", "id", "text", "govcn", "txt"),
    ("lawrefbook_zhejiang_local_regulations", "docs.jsonl", "id", "markdown", "lawrefbook", "md"),
    ("ncp_covid_policy_qa", "corpus.jsonl", "docid", "text", "ncp", "txt"),
]
FAQ_COLLECTION = ("msgabench_gov_qa", "gov_qa.jsonl")


@dataclass(frozen=True)
class PolicyText:
    source: str
    text: str
    format: str


def policy_texts(shared: Path | None) -> list[PolicyText]:
    """The documents the demo library holds: those shipped with the platform, and the real collections if present."""
    texts = [
        PolicyText(f"shipped:{path.name}", path.read_text(encoding="utf-8"), "txt")
        for path in sorted(SHIPPED_POLICIES.glob("*.txt"))
    ]
    if shared is None or not shared.is_dir():
        return texts
    for folder, name, key, field, prefix, fmt in POLICY_COLLECTIONS:
        path = shared / folder / name
        if not path.is_file():
            continue
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                texts.append(PolicyText(f"{prefix}:{record[key]}", str(record[field]), fmt))
    return texts


def load_demo_policy(
    session: Session, *, home: Path, texts: list[PolicyText], faqs: Path | None, report: Callable[[str], None]
) -> tuple[int, int]:
    """Import the documents not imported before (by source) and the FAQ file; returns (documents, FAQs) added."""
    done = set(session.scalars(select(PolicyDocument.source)))
    added = 0
    with policy.index_batch(home):
        for item in texts:
            if item.source in done:
                continue
            try:
                with session.begin_nested():
                    imported = policy.import_bytes(
                        session, SYSTEM, home, item.text.encode(), f"document.{item.format}", source=item.source
                    )
            except DigigovError as refused:
                report(f"policy demo: {item.source} refused: {refused.message_zh}")
                continue
            done.add(item.source)
            added += imported.outcome != "unchanged"
    faq_added = 0
    if faqs is not None and faqs.is_file():
        faq_added = policy_faqs.import_faqs(session, SYSTEM, home, faqs.read_bytes(), faqs.name).added
    return added, faq_added
