"""Suggested quality rules: from the data elements fields conform to, from what classification detected in the
latest version, and from key fields."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.catalog import get_resource
from digigov.catalog.models import Resource
from digigov.core import audit
from digigov.core.auth import Actor, require
from digigov.datastore import Version, latest_version
from digigov.governance import codetables
from digigov.governance import quality_events as _events
from digigov.governance.models import DataElement, FieldDetection, QualityRule
from digigov.governance.rules import (
    CheckDigit,
    CodeTable,
    DateBounds,
    IdConsistency,
    NotNull,
    Pattern,
    Rule,
    Unique,
)

# A pattern per detected kind that has no check digit (RE2, whole value).
PATTERNS = {
    "mobile": r"(\+?86)?1[3-9][0-9]{9}",
    "email": r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}",
    "landline": r"(0[0-9]{2,3}-?)?[0-9]{7,8}(-[0-9]{1,6})?",
    "org_code": r"[0-9A-Z]{8}-?[0-9X]",
    "ip": r"((25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])",
}
CHECK_DIGITS = {"resident_id": "resident_id", "uscc": "uscc", "bank_card": "bank_card"}
BIRTH_NAMES = ("出生日期", "出生年月", "生日", "birth")
SEX_NAMES = ("性别", "sex", "gender")
# The code tables an element can name (codetables loads these three), as a rule names them
NAMED_TABLES = {
    codetables.REGIONS: "gb2260_division",
    codetables.INDUSTRY: "gb4754_industry",
    codetables.SEX: "gb2261_sex",
}


def suggest_rules(session: Session, actor: Actor, *, resource_code: str) -> list[QualityRule]:
    """Add the rules suggested for a resource's latest version (origin `suggested`); those present are kept."""
    resource = get_resource(session, actor, resource_code)
    require(actor, "governance.quality.manage", resource)
    return add_suggestions(session, actor, resource, latest_version(session, resource.id))


def add_suggestions(session: Session, actor: Actor, resource: Resource, version: Version | None) -> list[QualityRule]:
    """Add what `suggestions` proposes under names the resource does not use yet; return the rules added."""
    taken = set(session.scalars(select(QualityRule.name).where(QualityRule.resource_id == resource.id)))
    added = []
    for spec in suggestions(session, resource, version):
        name = spec.rule_name()
        if name in taken:
            continue
        taken.add(name)
        check: str = getattr(spec, "check")  # noqa: B009
        row = QualityRule(
            resource_id=resource.id,
            name=name,
            dimension=spec.dimension,
            kind=check,
            fields=spec.target_fields(),
            params=spec.params(),
            origin="suggested",
            enabled=True,
            created_by=actor.username,
        )
        session.add(row)
        added.append(row)
    if added:
        session.flush()
        audit.record(
            session, actor, _events.QualityRulesSuggested(resource.id, resource.code, tuple(r.name for r in added))
        )
    return added


def suggestions(session: Session, resource: Resource, version: Version | None) -> list[Rule]:
    """Rules that fit the version's detected kinds and the resource's key fields."""
    columns = {c["name"]: c["type"] for c in version.columns} if version else {f.name: f.type for f in resource.fields}
    kinds: dict[str, str] = {}
    if version is not None:
        stmt = select(FieldDetection).where(FieldDetection.version_id == version.id, FieldDetection.kind.is_not(None))
        kinds = {d.field: str(d.kind) for d in session.scalars(stmt) if d.field in columns}
    found: list[Rule] = []
    conforming = {f.name: f.data_element for f in resource.fields if f.data_element and f.name in columns}
    elements = {
        e.identifier: e
        for e in session.scalars(select(DataElement).where(DataElement.identifier.in_(set(conforming.values()))))
    }
    for field, identifier in conforming.items():
        if identifier in elements:
            found += _for_element(field, elements[identifier], columns)
    for field, kind in kinds.items():
        found += _for_kind(field, kind, columns, kinds)
    keys = [f.name for f in resource.fields if f.is_key and f.name in columns]
    for key in keys:
        found.append(NotNull(check="not_null", field=key))
    if keys:
        found.append(Unique(check="unique", fields=keys))
    # an element and a detection can propose the same rule; the element's comes first and stays
    unique: dict[str, Rule] = {}
    for rule in found:
        unique.setdefault(rule.rule_name(), rule)
    return list(unique.values())


def _for_element(field: str, element: DataElement, columns: dict[str, str]) -> list[Rule]:
    """The element's standard as rules: its check digit, else its format; its code table."""
    rules: list[Rule] = []
    if element.validator in CHECK_DIGITS:
        rules.append(CheckDigit(check="check_digit", field=field, validator=CHECK_DIGITS[element.validator]))
    elif element.format and columns[field] == "string":
        rules.append(Pattern(check="pattern", field=field, regex=element.format))
    if element.code_table in NAMED_TABLES:
        rules.append(CodeTable(check="code_table", field=field, table=NAMED_TABLES[element.code_table]))
    return rules


def _for_kind(field: str, kind: str, columns: dict[str, str], kinds: dict[str, str]) -> list[Rule]:
    rules: list[Rule] = []
    if kind in CHECK_DIGITS:
        rules.append(CheckDigit(check="check_digit", field=field, validator=CHECK_DIGITS[kind]))
    if kind in PATTERNS and columns[field] == "string":
        rules.append(Pattern(check="pattern", field=field, regex=PATTERNS[kind]))
    if kind == "birth_date":
        rules.append(DateBounds(check="date_bounds", field=field, not_before=date(1880, 1, 1), not_in_future=True))
    if kind == "resident_id":
        birth = _partner(columns, kinds, "birth_date", BIRTH_NAMES)
        sex = _partner(columns, kinds, None, SEX_NAMES)
        if birth or sex:
            rules.append(IdConsistency(check="id_consistency", field=field, birth_date=birth, sex=sex))
    return rules


def _partner(columns: dict[str, str], kinds: dict[str, str], kind: str | None, names: tuple[str, ...]) -> str | None:
    """A field detected as `kind`, else one whose name says what it holds."""
    for field in columns:
        if kind is not None and kinds.get(field) == kind:
            return field
    for field in columns:
        if any(n in field.lower() for n in names):
            return field
    return None
