"""Quality rules on every version (质量规则): declare, run, score and flag.

Score: a rule scores 1 - failed/checked; a dimension is the mean of its rules' scores; the version's
score is the mean of the dimensions that have one. Rules that could not run, or looked at no row,
are shown but not scored. A version scoring below its resource's threshold (DEFAULT_THRESHOLD
unless set) is flagged and audited; flagged versions stay visible like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.catalog import get_resource
from digigov.catalog.models import Resource
from digigov.catalog.vocabulary import UpdateCycle
from digigov.core import audit
from digigov.core.auth import Actor, require
from digigov.core.db import utcnow
from digigov.core.errors import Invalid, NotFound
from digigov.datastore import Version, get_version, latest_version, parquet_path
from digigov.governance import quality_events as _events
from digigov.governance.evaluate import Outcome, Reference, Timing, evaluate
from digigov.governance.models import QualityResult, QualityRule, QualityRun, QualityThreshold
from digigov.governance.rules import DIMENSIONS, ForeignKey, Pattern, Rule, RuleSet, spec_of
from digigov.governance.suggest import add_suggestions

DEFAULT_THRESHOLD = 0.9


def load_rules(session: Session, actor: Actor, *, resource_code: str, rule_set: RuleSet) -> list[QualityRule]:
    """Declare a resource's rules: add or replace them by name, disable declared rules left out; all or nothing."""
    resource = get_resource(session, actor, resource_code)
    require(actor, "governance.quality.manage", resource)
    if rule_set.resource is not None and rule_set.resource != resource.code:
        raise Invalid(
            f"The rules are declared for resource {rule_set.resource}, not {resource.code}.",
            f"这些规则声明的是数据资源 {rule_set.resource}，不是 {resource.code}。",
        )
    _check_declaration(session, actor, resource, rule_set.rules)
    existing = {rule.name: rule for rule in _rules(session, resource.id)}
    named = {spec.rule_name(): spec for spec in rule_set.rules}
    for name, spec in named.items():
        row = existing.get(name) or QualityRule(resource_id=resource.id, name=name, created_by=actor.username)
        _fill(row, spec, origin="declared")
        session.add(row)
    disabled = [r for name, r in existing.items() if r.origin == "declared" and r.enabled and name not in named]
    for row in disabled:
        row.enabled = False
    if rule_set.threshold is not None:
        _store_threshold(session, actor, resource, rule_set.threshold)
    session.flush()
    audit.record(
        session,
        actor,
        _events.QualityRulesLoaded(resource.id, resource.code, tuple(named), tuple(r.name for r in disabled)),
    )
    return _rules(session, resource.id)


def _fill(row: QualityRule, spec: Rule, *, origin: str) -> None:
    row.kind, row.dimension = getattr(spec, "check"), spec.dimension  # noqa: B009
    row.fields, row.params, row.origin, row.enabled = spec.target_fields(), spec.params(), origin, spec.enabled


def _check_declaration(session: Session, actor: Actor, resource: Resource, rules: Sequence[Rule]) -> None:
    """Refuse the whole declaration, naming the rule, if a name repeats, a field is unknown, a regex is bad."""
    types = field_types(session, resource)
    names = [spec.rule_name() for spec in rules]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise Invalid(f"Rule names repeat: {', '.join(twice)}; name them apart.", f"规则名称重复：{'、'.join(twice)}。")
    for spec, name in zip(rules, names, strict=True):
        unknown = [f for f in spec.target_fields() if f not in types]
        if unknown:
            raise Invalid(
                f"Rule {name}: resource {resource.code} has no field {', '.join(unknown)}.",
                f"规则 {name}：数据资源 {resource.code} 没有数据项 {'、'.join(unknown)}。",
            )
        if isinstance(spec, Pattern):
            _check_regex(name, spec.regex)
        if isinstance(spec, ForeignKey):
            _check_reference(session, actor, name, spec)


def field_types(session: Session, resource: Resource) -> dict[str, str]:
    """The resource's fields and types: its latest version's columns, else its catalog fields."""
    version = latest_version(session, resource.id)
    if version is not None:
        return {c["name"]: c["type"] for c in version.columns}
    return {f.name: f.type for f in resource.fields}


def _check_regex(name: str, regex: str) -> None:
    with duckdb.connect() as con:  # a throwaway: this only asks RE2 to compile the pattern
        try:
            con.execute("SELECT regexp_full_match('', ?)", [regex]).fetchall()
        except duckdb.Error as error:
            reason = str(error).split("Error: ", 1)[-1]
            raise Invalid(
                f"Rule {name}: the regular expression is not valid RE2 ({reason}).",
                f"规则 {name}：正则表达式不是有效的 RE2 表达式（{reason}）。",
            ) from None


def _check_reference(session: Session, actor: Actor, name: str, spec: ForeignKey) -> None:
    try:
        other = get_resource(session, actor, spec.resource)
    except NotFound:
        raise Invalid(
            f"Rule {name}: the referenced resource {spec.resource} does not exist.",
            f"规则 {name}：引用的数据资源 {spec.resource} 不存在。",
        ) from None
    types = field_types(session, other)
    if types and spec.reference_field() not in types:
        raise Invalid(
            f"Rule {name}: resource {spec.resource} has no field {spec.reference_field()}.",
            f"规则 {name}：数据资源 {spec.resource} 没有数据项 {spec.reference_field()}。",
        )


def _rules(session: Session, resource_id: int) -> list[QualityRule]:
    stmt = select(QualityRule).where(QualityRule.resource_id == resource_id).order_by(QualityRule.id)
    return list(session.scalars(stmt))


def list_rules(session: Session, actor: Actor, *, resource_code: str) -> list[QualityRule]:
    """A resource's rules, enabled or not, in the order they were added."""
    require(actor, "governance.quality.read")
    return _rules(session, get_resource(session, actor, resource_code).id)


def set_threshold(session: Session, actor: Actor, *, resource_code: str, threshold: float) -> QualityThreshold:
    """Set the score (0-1) below which the resource's versions are flagged."""
    resource = get_resource(session, actor, resource_code)
    require(actor, "governance.quality.manage", resource)
    if not 0 <= threshold <= 1:
        raise Invalid("A threshold is a score from 0 to 1.", "质量阈值应在 0 到 1 之间。")
    row = _store_threshold(session, actor, resource, threshold)
    session.flush()
    return row


def _store_threshold(session: Session, actor: Actor, resource: Resource, threshold: float) -> QualityThreshold:
    row = session.get(QualityThreshold, resource.id) or QualityThreshold(resource_id=resource.id)
    row.threshold, row.set_by, row.set_at = threshold, actor.username, utcnow()
    session.add(row)
    audit.record(session, actor, _events.QualityThresholdSet(resource.id, resource.code, threshold))
    return row


def threshold_of(session: Session, resource_id: int) -> float:
    """The resource's threshold, or the default."""
    row = session.get(QualityThreshold, resource_id)
    return row.threshold if row is not None else DEFAULT_THRESHOLD


def run_quality(
    session: Session, actor: Actor, *, home: Path, resource_code: str, number: int | None = None
) -> QualityRun:
    """Run a resource's enabled rules on a version (the newest by default) and store the scores."""
    resource = get_resource(session, actor, resource_code)
    require(actor, "governance.quality.manage", resource)
    return _run(session, actor, home, resource, get_version(session, actor, resource_code, number))


def check_quality(session: Session, actor: Actor, home: Path, version: Version) -> None:
    """The step on every new version: a resource without rules first gets the suggested ones, then all run."""
    resource = session.get(Resource, version.resource_id)
    assert resource is not None  # the version was just written for it
    if not _rules(session, resource.id):
        add_suggestions(session, actor, resource, version)
    _run(session, actor, home, resource, version)


def _run(session: Session, actor: Actor, home: Path, resource: Resource, version: Version) -> QualityRun:
    rows = [r for r in _rules(session, resource.id) if r.enabled]
    specs = [spec_of(r.kind, r.name, r.fields, r.params) for r in rows]
    timing = Timing(version.created_at, utcnow(), UpdateCycle(resource.update_cycle).days)
    references = {s.resource: _reference(session, home, s.resource) for s in specs if isinstance(s, ForeignKey)}
    types = {c["name"]: c["type"] for c in version.columns}
    outcomes = evaluate(parquet_path(home, version), types, specs, references=references, timing=timing)
    dimensions = dimension_scores(outcomes)
    score = overall_score(dimensions)
    threshold = threshold_of(session, resource.id)
    run = QualityRun(
        resource_id=resource.id,
        version_id=version.id,
        rows=version.rows,
        score=score,
        dimensions=dimensions,
        threshold=threshold,
        flagged=score is not None and score < threshold,
        created_by=actor.username,
    )
    session.add(run)
    session.flush()
    for rule, outcome in zip(rows, outcomes, strict=True):
        session.add(_result(run, rule, outcome))
    session.flush()
    audit.record(session, actor, _events.QualityChecked(resource.id, resource.code, version.number, score, run.flagged))
    if run.flagged and score is not None:
        flag = _events.QualityFlagged(resource.id, resource.code, version.number, score, threshold)
        audit.record(session, actor, flag)
    return run


def _result(run: QualityRun, rule: QualityRule, outcome: Outcome) -> QualityResult:
    return QualityResult(
        run_id=run.id,
        rule_id=rule.id,
        rule=rule.name,
        dimension=rule.dimension,
        checked_rows=outcome.checked_rows,
        failed_rows=outcome.failed_rows,
        sample=outcome.sample,
        error=outcome.error,
    )


def _reference(session: Session, home: Path, code: str) -> Reference:
    """Another resource's latest version for a foreign key (the rule, not the caller, decides what is read)."""
    other = session.scalar(select(Resource).where(Resource.code == code))
    version = latest_version(session, other.id) if other is not None else None
    if version is None:
        return Reference(None, {}, f"resource {code} has no version to compare with")
    return Reference(parquet_path(home, version), {c["name"]: c["type"] for c in version.columns})


def dimension_scores(outcomes: list[Outcome]) -> dict[str, float]:
    """Per dimension, the mean score of its rules that have one.

    >>> dimension_scores([Outcome("a", "validity", 10, 5), Outcome("b", "validity", 4, 0), Outcome("c", "uniqueness")])
    {'validity': 0.75}
    """
    scores: dict[str, list[float]] = {}
    for outcome in outcomes:
        if outcome.score is not None:
            scores.setdefault(outcome.dimension, []).append(outcome.score)
    return {d: sum(scores[d]) / len(scores[d]) for d in DIMENSIONS if d in scores}


def overall_score(dimensions: dict[str, float]) -> float | None:
    """The mean of the dimensions present; None without any.

    >>> overall_score({"validity": 0.75, "completeness": 1.0}), overall_score({})
    (0.875, None)
    """
    return sum(dimensions.values()) / len(dimensions) if dimensions else None


def latest_run(session: Session, version_id: int) -> QualityRun | None:
    """The newest quality run of a version."""
    stmt = select(QualityRun).where(QualityRun.version_id == version_id).order_by(QualityRun.id.desc()).limit(1)
    return session.scalar(stmt)


def run_results(session: Session, run_id: int) -> list[QualityResult]:
    """A run's results, in rule order."""
    stmt = select(QualityResult).where(QualityResult.run_id == run_id).order_by(QualityResult.id)
    return list(session.scalars(stmt))
