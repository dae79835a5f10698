"""Authorised operation (授权运营): licensed operators compute over data they cannot see row by row.

An operator, licensed by the platform over some resources, submits structured queries (group
by, aggregates, filters; never SQL). The platform runs them in the engine over the newest
version and keeps only the groups with at least `k` records (the licence's k, default 10); the
rest are suppressed and only counted. Sums and averages need numeric fields; minimum and maximum,
which are one record's value, are refused on fields graded L3 or above or holding personal kinds.
With `review_releases` (the default) a reviewer releases or holds each result before the operator
sees it. Every licence step, query and release is audited.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.catalog.models import Resource
from digigov.core import audit
from digigov.core.auth import Actor, Role, require
from digigov.core.codes import parse_uscc
from digigov.core.db import utcnow
from digigov.core.engine import cursor, json_value, quote_name
from digigov.core.errors import IllegalTransition, InvalidCode, NotFound
from digigov.datastore import latest_version, parquet_path
from digigov.governance.classification import field_levels
from digigov.identity.service import secret_digest
from digigov.sharing.errors import BadAnalysis, BadShareRequest, CredentialRejected, GrantClosed
from digigov.sharing.events import AnalysisReviewed, AnalysisRun, LicenceChanged, LicenceGranted
from digigov.sharing.models import Analysis, OperatorLicence
from digigov.sharing.schemas import AnalysisSpec, Condition, LicenceCreate

CREDENTIAL_PREFIX = "dgo_"
MAX_GROUPS = 10_000  # a query with more groups than this is refused: it is a listing, not an analysis
PERSONAL = {"resident_id", "passport", "mobile", "landline", "email", "bank_card", "person_name", "address",
            "plate", "ip", "coordinate", "birth_date"}  # fmt: skip
NUMERIC = {"integer", "decimal"}
OPERATORS = {"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def grant_licence(session: Session, actor: Actor, data: LicenceCreate, *, today: date) -> OperatorLicence:
    """License an operator (an enterprise named by its credit code) over published resources."""
    require(actor, "sharing.licence.manage")
    try:
        uscc = parse_uscc(data.operator_uscc)
    except InvalidCode as error:
        raise BadShareRequest(error.message, error.message_zh) from None
    known = {r.code: r for r in session.scalars(select(Resource).where(Resource.code.in_(data.resources)))}
    missing = [c for c in data.resources if c not in known or known[c].state != "published"]
    if missing:
        raise BadShareRequest(
            f"No published resource {', '.join(missing)}.", f"没有已发布的数据资源：{'、'.join(missing)}。"
        )
    starts_on = data.starts_on or today
    licence = OperatorLicence(
        operator=data.operator.strip(),
        operator_uscc=str(uscc),
        resources=list(dict.fromkeys(data.resources)),
        purpose=data.purpose.strip(),
        k=data.k,
        review_releases=data.review_releases,
        starts_on=starts_on,
        ends_on=starts_on + timedelta(days=data.days - 1),
        state="active",
        granted_by=actor.username,
    )
    session.add(licence)
    session.flush()
    audit.record(session, actor, LicenceGranted(licence.id, licence.operator, tuple(licence.resources), licence.k))
    return licence


def get_licence(session: Session, actor: Actor, licence_id: int) -> OperatorLicence:
    require(actor, "sharing.licence.manage")
    found = session.get(OperatorLicence, licence_id)
    if found is None:
        raise NotFound(f"Licence {licence_id} does not exist.", f"授权运营许可 {licence_id} 不存在。")
    return found


def list_licences(session: Session, actor: Actor) -> list[OperatorLicence]:
    require(actor, "sharing.licence.manage")
    return list(session.scalars(select(OperatorLicence).order_by(OperatorLicence.id.desc())))


def issue_licence_credential(session: Session, actor: Actor, *, licence_id: int) -> tuple[OperatorLicence, str]:
    """The licence's credential, shown once (issuing again replaces it), for the platform to hand over."""
    licence = get_licence(session, actor, licence_id)
    if licence.state != "active":
        raise GrantClosed(f"Licence {licence.id} is revoked.", f"授权运营许可 {licence.id} 已撤销。")
    secret = CREDENTIAL_PREFIX + secrets.token_urlsafe(32)
    licence.credential_prefix, licence.credential_hash = secret[:12], secret_digest(secret)
    session.flush()
    audit.record(session, actor, LicenceChanged(licence.id, "credential", licence.credential_prefix))
    return licence, secret


def revoke_licence(session: Session, actor: Actor, *, licence_id: int, reason: str) -> OperatorLicence:
    licence = get_licence(session, actor, licence_id)
    if licence.state != "active":
        raise IllegalTransition(f"Licence {licence.id} is revoked already.", f"授权运营许可 {licence.id} 已撤销。")
    if not reason.strip():
        raise BadShareRequest("A revocation needs its reason.", "撤销须说明理由。")
    licence.state, licence.revoke_reason = "revoked", reason.strip()
    session.flush()
    audit.record(session, actor, LicenceChanged(licence.id, "revoked", licence.revoke_reason))
    return licence


def open_licence(session: Session, credential: str, *, today: date) -> OperatorLicence:
    """The licence a credential opens, if active and within its period."""
    licence = session.scalar(
        select(OperatorLicence).where(OperatorLicence.credential_hash == secret_digest(credential))
    )
    if licence is None:
        raise CredentialRejected("The licence credential is not known.", "授权运营凭证无效。")
    if licence.state != "active" or not licence.starts_on <= today <= licence.ends_on:
        raise GrantClosed(f"Licence {licence.id} is not in force.", f"授权运营许可 {licence.id} 已撤销或不在有效期内。")
    return licence


def submit_analysis(session: Session, home: Path, licence: OperatorLicence, spec: AnalysisSpec) -> Analysis:
    """Run a structured query over the newest version and keep the groups of at least k records."""
    if spec.resource_code not in licence.resources:
        raise BadAnalysis(
            f"Resource {spec.resource_code} is not under this licence.",
            f"数据资源 {spec.resource_code} 不在许可范围内。",
        )
    resource = session.scalar(select(Resource).where(Resource.code == spec.resource_code))
    version = latest_version(session, resource.id) if resource is not None else None
    if resource is None or version is None:
        raise NotFound(f"Resource {spec.resource_code} has no data.", f"数据资源 {spec.resource_code} 尚无数据。")
    types = {c["name"]: c["type"] for c in version.columns}
    levels = field_levels(session, version)
    sql, params, labels = _compile(spec, types, levels)
    try:
        with cursor() as con:
            found = con.execute(sql, [str(parquet_path(home, version)), *params]).fetchall()
    except (duckdb.ConversionException, duckdb.BinderException, duckdb.InvalidInputException) as error:
        raise BadAnalysis(f"A filter value does not fit its field: {error}", "筛选值与数据项类型不符。") from None
    if len(found) > MAX_GROUPS:
        raise BadAnalysis(
            f"The query makes over {MAX_GROUPS:,} groups; group by fewer or coarser fields.",
            f"分组超过 {MAX_GROUPS:,} 个，请减少或合并分组字段。",
        )
    released = [
        dict(zip(labels, map(_plain, row), strict=True)) for row in found if row[len(spec.group_by)] >= licence.k
    ]
    state = "pending" if licence.review_releases else "released"
    analysis = Analysis(
        licence_id=licence.id,
        resource_id=resource.id,
        version_number=version.number,
        spec=spec.model_dump(mode="json"),
        result=released,
        groups=len(found),
        suppressed=len(found) - len(released),
        state=state,
        released_at=None if licence.review_releases else utcnow(),
    )
    session.add(analysis)
    session.flush()
    spec_hash = hashlib.sha256(audit.canonical(analysis.spec).encode()).hexdigest()
    event = AnalysisRun(
        analysis.id, licence.id, resource.code, version.number, spec_hash, analysis.groups, analysis.suppressed, state
    )
    audit.record(session, _operator(licence), event)
    return analysis


def _compile(
    spec: AnalysisSpec, types: dict[str, str], levels: dict[str, tuple[str | None, Any]]
) -> tuple[str, list[Any], list[str]]:
    named = [*spec.group_by, *(a.field for a in spec.aggregates if a.field), *(c.field for c in spec.filters)]
    unknown = [n for n in named if n not in types]
    if unknown:
        raise BadAnalysis(f"No field {', '.join(unknown)}.", f"没有数据项：{'、'.join(dict.fromkeys(unknown))}。")
    terms, labels = [quote_name(g) for g in spec.group_by], list(spec.group_by)
    terms.append("count(*)")
    labels.append("记录数")
    for agg in spec.aggregates:
        if agg.fn == "count":
            if agg.field is None:
                continue  # the row count is always there
            terms.append(f"count({quote_name(agg.field)})")
        else:
            terms.append(_aggregate(agg.fn, agg.field, types, levels))
        labels.append(f"{agg.fn}({agg.field})" if agg.field else agg.fn)
    where, params = [], []
    for condition in spec.filters:
        clause, values = _condition(condition, types)
        where.append(clause)
        params.extend(values)
    groups = ", ".join(quote_name(g) for g in spec.group_by)
    sql = (
        f"SELECT {', '.join(terms)} FROM read_parquet(?)"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + (f" GROUP BY {groups} ORDER BY {groups}" if groups else "")
        + f" LIMIT {MAX_GROUPS + 1}"
    )
    return sql, params, labels


def _aggregate(fn: str, field: str | None, types: dict[str, str], levels: dict[str, tuple[str | None, Any]]) -> str:
    if field is None:
        raise BadAnalysis(f"{fn} needs a field.", f"{fn} 须指定数据项。")
    kind, level = levels.get(field, (None, None))
    if fn in {"sum", "avg"} and types[field] not in NUMERIC:
        raise BadAnalysis(f"{fn} needs a numeric field; {field} is not.", f"{fn} 须用于数值型数据项，“{field}”不是。")
    if fn in {"min", "max"} and (kind in PERSONAL or (level is not None and str(level) in {"L3", "L4"})):
        raise BadAnalysis(
            f"{fn} of {field} would release one person's value; use count, sum or avg.",
            f"对“{field}”取{fn}会公开单个记录的值，请改用 count、sum 或 avg。",
        )
    return f"{fn}({quote_name(field)})"


def _condition(condition: Condition, types: dict[str, str]) -> tuple[str, list[Any]]:
    column, kind = quote_name(condition.field), types[condition.field]
    values = condition.value if isinstance(condition.value, list) else [condition.value]
    cast = {"integer": "BIGINT", "decimal": "DOUBLE", "date": "DATE", "timestamp": "TIMESTAMP"}.get(kind)
    target = f"CAST(? AS {cast})" if cast else "?"
    if condition.op == "in":
        return f"{column} IN ({', '.join(target for _ in values)})", list(values)
    if len(values) != 1:
        raise BadAnalysis(f"{condition.op} takes one value.", f"{condition.op} 只接受一个值。")
    return f"{column} {OPERATORS[condition.op]} {target}", values


def _plain(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else json_value(value)


def operator_analysis(session: Session, licence: OperatorLicence, analysis_id: int) -> Analysis:
    """An analysis of this licence; another licence's is the same NotFound as none."""
    found = session.get(Analysis, analysis_id)
    if found is None or found.licence_id != licence.id:
        raise NotFound(f"Analysis {analysis_id} does not exist.", f"分析任务 {analysis_id} 不存在。")
    return found


def pending_analyses(session: Session, actor: Actor, *, state: str = "pending") -> list[Analysis]:
    """Analyses waiting for a reviewer (or in another state), oldest first."""
    require(actor, "sharing.release.review")
    return list(session.scalars(select(Analysis).where(Analysis.state == state).order_by(Analysis.id)))


def get_analysis(session: Session, actor: Actor, analysis_id: int) -> Analysis:
    """An analysis with the groups it would release, for a reviewer."""
    require(actor, "sharing.release.review")
    found = session.get(Analysis, analysis_id)
    if found is None:
        raise NotFound(f"Analysis {analysis_id} does not exist.", f"分析任务 {analysis_id} 不存在。")
    return found


def review_analysis(session: Session, actor: Actor, *, analysis_id: int, release: bool, reason: str = "") -> Analysis:
    """Release a pending analysis's aggregates to its operator, or hold them with a reason."""
    analysis = get_analysis(session, actor, analysis_id)
    if analysis.state != "pending":
        raise IllegalTransition(
            f"Analysis {analysis.id} is {analysis.state}.", f"分析任务 {analysis.id} 已处理（{analysis.state}）。"
        )
    if not release and not reason.strip():
        raise BadAnalysis("Holding a release needs its reason.", "暂缓发布须说明理由。")
    analysis.state = "released" if release else "held"
    analysis.reviewed_by, analysis.hold_reason = actor.username, reason.strip()
    analysis.released_at = utcnow() if release else None
    session.flush()
    audit.record(
        session, actor, AnalysisReviewed(analysis.id, analysis.licence_id, analysis.state, analysis.hold_reason)
    )
    return analysis


def _operator(licence: OperatorLicence) -> Actor:
    """The licensed operator as the audit log's actor."""
    return Actor(
        user_id=None, username=f"operator:{licence.id}"[:100], department_id=None, roles=frozenset({Role.public})
    )
