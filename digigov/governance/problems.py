"""Problem data (问题数据): a closed-loop work item to the source department that ends only on a verified fix.

    raise ──▶ open ──fixed in version N──▶ verified? ──yes──▶ closed
                │                              └──no───▶ accepted (the reason shown; answer again)
                ├──rejected with a reason──▶ returned
                ├──extend (once, to 10 working days from raising, before the deadline)
                └──past due and unanswered──▶ escalated to the platform (once)

The work item (`digigov.core.workflow`, kind `governance.problem`, owned by this module) holds the
state, the department and the deadline; `ProblemReport` holds the data and the answer. The same
problem raised again while it is still being handled reuses the item and records one more raise.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.catalog import get_resource
from digigov.catalog.models import Resource
from digigov.core import audit, workdays, workflow
from digigov.core.auth import Actor, Role, declare, require
from digigov.core.db import utcnow
from digigov.core.errors import IllegalTransition, Invalid, NotFound
from digigov.core.workflow import OwnedKind, WorkItem, WorkState
from digigov.datastore import MaskedField, Version, latest_version, parquet_path, reads_clear
from digigov.governance import problem_checks as checks
from digigov.governance.masking import Mask, mask_value
from digigov.governance.models import ProblemRaise, ProblemReport
from digigov.governance.problem_events import (
    ProblemEscalated,
    ProblemExtended,
    ProblemFixAnswered,
    ProblemRaised,
    ProblemRejected,
    ProblemRepeated,
)
from digigov.governance.problem_queries import (
    AWAITING,
    VERIFIER_NAME,
    existing_raises,
    get_problem,
    masked_quotes,
    masked_verdict,
    problem_item,
)
from digigov.governance.rows import Shown, class_masks

KIND = "governance.problem"
RESPOND_IN = 5  # working days from raising
EXTENDED_TO = 10  # working days from raising, once
SOURCES = ("consumer", "rule", "conflict")
S = WorkState
# Masks that leave a key readable enough to find its row by (the others name the row by number only).
READABLE_MASKS = {Mask.id_number, Mask.name, Mask.phone, Mask.email, Mask.show_last_4}
STAFF = {Role.platform_admin, Role.data_steward, Role.data_consumer, Role.reviewer, Role.auditor, Role.inspector}

declare(
    "governance.problem.raise",
    "Raise a problem-data report against a resource one may see.",
    "提出问题数据",
    STAFF,
    department_scoped=False,
)
declare(
    "governance.problem.read",
    "See problem-data reports one raised, those assigned to one's department (stewards), or all (platform).",
    "查看问题数据",
    STAFF,
)
declare(
    "governance.problem.answer",
    "Answer a problem-data report of one's department: fixed in a version, rejected, or extended.",
    "答复本部门问题数据",
    {Role.platform_admin, Role.data_steward},
)
declare(
    "governance.problem.verify",
    "Verify a fix against the named version (done by the platform, automatically).",
    "核验问题数据整改",
    {Role.platform_admin},
    department_scoped=False,
)
declare(
    "governance.problem.escalate",
    "Escalate overdue problem-data reports to the platform.",
    "问题数据超期升级",
    {Role.platform_admin},
    department_scoped=False,
)
workflow.own_kind(
    KIND,
    OwnedKind(
        owner=__name__,
        label="问题数据",
        open_action="governance.problem.raise",
        handle_action="governance.problem.answer",
        verify_action="governance.problem.verify",
        escalate_action="governance.problem.escalate",
    ),
)
# The automatic verification acts as the platform, under this name, in steps and the audit log.
VERIFIER = Actor(user_id=None, username=VERIFIER_NAME, department_id=None, roles=frozenset({Role.platform_admin}))


def raise_problem(
    session: Session,
    actor: Actor,
    *,
    resource_code: str,
    field: str,
    description: str,
    home: Path,
    key_field: str | None = None,
    key_value: str | None = None,
    observed: str | None = None,
    expected: str | None = None,
    validator: str | None = None,
    source: str = "consumer",
    rule_id: int | None = None,
    version_number: int | None = None,
    today: date | None = None,
) -> ProblemReport:
    """Raise a problem against a field (and a key's row) of a resource's version; due in 5 working days.

    The same problem still being handled (same resource, field, key, source and rule) is reused.
    """
    require(actor, "governance.problem.raise")
    resource = get_resource(session, actor, resource_code)
    _check_claim(field, description, key_field, key_value, expected, validator, source, rule_id)
    version = _raised_version(session, resource, version_number)
    clear = _sees_clear(session, actor, resource, version, field)
    guessed = source == "consumer"  # rules and conflict checks name rows and values the platform found
    if guessed:
        _refuse_masked_key(session, actor, resource, version, key_field)
        if not clear:
            _refuse_masked_observed(field, observed)
    claim = checks.Claim(field, key_field, _strip(key_value), observed, expected, validator)
    claim = _confirmed(home, version, claim, quote_values=clear, judge_hidden=clear or not guessed)
    existing = _open_duplicate(session, resource.id, claim, source, rule_id)
    if existing is not None:
        _add_raise(session, actor, existing)
        audit.record(
            session, actor, ProblemRepeated(existing.id, existing.item_id, len(existing_raises(session, existing)))
        )
        return existing
    today = today or workdays.china_today()
    item = workflow.open_item(
        session,
        actor,
        kind=KIND,
        subject=_subject(session, home, resource, version, claim),
        department_id=resource.department_id,
        due_in_working_days=RESPOND_IN,
        detail=_stored_text(_stored(session, version), claim, description.strip()),
        today=today,
        owner=__name__,
    )
    problem = ProblemReport(
        item_id=item.id,
        resource_id=resource.id,
        version_id=version.id,
        department_id=resource.department_id,
        field=field,
        key_field=key_field,
        key_value=claim.key_value,
        description=description.strip(),
        observed=claim.observed,
        expected=expected,
        validator=validator,
        source=source,
        rule_id=rule_id,
        raised_by=actor.username,
        raised_on=today,
    )
    session.add(problem)
    session.flush()
    _add_raise(session, actor, problem)
    audit.record(session, actor, ProblemRaised(problem.id, item.id, resource.code, version.number, field, source))
    return problem


def _strip(value: str | None) -> str | None:
    return value.strip() if value is not None else None


def _check_claim(
    field: str,
    description: str,
    key_field: str | None,
    key_value: str | None,
    expected: str | None,
    validator: str | None,
    source: str,
    rule_id: int | None,
) -> None:
    if not field.strip() or not description.strip():
        raise Invalid("A problem needs a field and a description.", "问题数据须填写数据项和问题描述。")
    if (key_field is None) != (key_value is None) or (key_value is not None and not key_value.strip()):
        raise Invalid(
            "Give both the key field and the key value, or neither for a whole-field problem.",
            "主键字段和主键值须同时填写；针对整个数据项的问题两者都不填。",
        )
    if expected is not None and key_field is None:
        raise Invalid("An expected value needs a key (one row).", "填写应有值时须指定主键（针对一条记录）。")
    if validator is not None and validator not in checks.VALIDATORS:
        raise Invalid(
            f"Unknown validator '{validator}'; use one of {', '.join(checks.VALIDATORS)}.",
            f"未知的校验规则“{validator}”，可用：{'、'.join(checks.VALIDATORS)}。",
        )
    if source not in SOURCES:
        raise Invalid(f"Source is one of {', '.join(SOURCES)}.", f"来源须为以下之一：{'、'.join(SOURCES)}。")
    if rule_id is not None and source != "rule":
        raise Invalid("A rule id goes with source 'rule'.", "只有来源为“规则”的问题才有规则编号。")


def _raised_version(session: Session, resource: Resource, number: int | None) -> Version:
    if number is None:
        found = latest_version(session, resource.id)
    else:
        found = session.scalar(select(Version).where(Version.resource_id == resource.id, Version.number == number))
    if found is None:
        raise NotFound(
            f"Resource {resource.code} has no version {number or ''} to raise a problem against.",
            f"数据资源 {resource.code} 没有可提出问题的数据版本{number or ''}。",
        )
    return found


def _confirmed(
    home: Path, version: Version, claim: checks.Claim, *, quote_values: bool, judge_hidden: bool = True
) -> checks.Claim:
    """The claim with the value the version really holds; refused when the version does not bear it out.

    A refusal quotes the value found only when `quote_values` (the raiser sees the rows in clear).
    Without `judge_hidden`, a claim is not refused for what only the clear value shows (it already
    is the expected value, it passes the claimed check): for a raiser who sees the field masked,
    the refusal would tell what the hidden value is, one guess at a time. The owner verifies.
    """
    columns = [c["name"] for c in version.columns]
    for name in (claim.field, claim.key_field):
        if name is not None and name not in columns:
            raise Invalid(
                f"Version {version.number} has no field '{name}'; fields are {', '.join(columns)}.",
                f"第 {version.number} 版没有数据项“{name}”，可选：{'、'.join(columns)}。",
            )
    if claim.key_field is None or claim.key_value is None:
        return claim
    values = checks.values_at_key(
        parquet_path(home, version), field=claim.field, key_field=claim.key_field, key_value=claim.key_value
    )
    key = f"{claim.key_field}={claim.key_value}"
    if not values:
        raise Invalid(
            f"Version {version.number} has no row with {key}.", f"第 {version.number} 版中没有 {key} 的记录。"
        )
    actual = values[0] or ""
    if claim.observed is not None and claim.observed.strip() != actual:
        found, found_zh = (f"is '{actual}'", f"为“{actual}”") if quote_values else ("is another", "为其他值")
        raise Invalid(
            f"The value at {key} {found}, not '{claim.observed.strip()}'.",
            f"{key} 的值{found_zh}，而不是“{claim.observed.strip()}”。",
        )
    if judge_hidden and claim.expected is not None and claim.expected.strip() == actual:
        raise Invalid(
            f"The value at {key} already is the expected value '{claim.expected.strip()}'.",
            f"{key} 的值已经是应有值“{claim.expected.strip()}”。",
        )
    if judge_hidden and claim.validator is not None and actual and checks.passes(claim.validator, actual):
        raise Invalid(
            f"The value at {key} passes the {claim.validator} check; describe what else is wrong without a validator.",
            f"{key} 的值通过了{checks.VALIDATOR_LABELS[claim.validator]}；如有其他问题请不选校验规则再描述。",
        )
    return checks.Claim(claim.field, claim.key_field, claim.key_value, actual, claim.expected, claim.validator)


def _sees_clear(session: Session, actor: Actor, resource: Resource, version: Version, field: str) -> bool:
    """Whether the raiser sees the field's values in clear (its department, the bureau, or a field clear by class)."""
    return reads_clear(actor, resource) or class_masks(session, version).get(field) is Mask.clear


def _refuse_masked_key(
    session: Session, actor: Actor, resource: Resource, version: Version, key_field: str | None
) -> None:
    """Refuse a row named by a field masked for the raiser, exactly as a filter on that field is refused.

    Whether a row with the key exists would tell the raiser whether the rows hold that value (the
    answer differs for an existing and a missing key), so the row is never looked up. A key field
    the version does not have is left to `_confirmed`, which names the fields there are.
    """
    if key_field is None or key_field not in {str(c["name"]) for c in version.columns}:
        return
    if _sees_clear(session, actor, resource, version, key_field):
        return
    raise MaskedField(
        f"Field {key_field} is masked for you; a problem cannot name its row by it. "
        "Name the row by a field shown in clear, or ask the owning department.",
        f"数据项 {key_field} 对您为脱敏数据，不能作为问题数据的主键；请改用明文数据项指定记录，或向数源部门申请。",
    )


def _refuse_masked_observed(field: str, observed: str | None) -> None:
    """Refuse an observed value quoted for a field masked for the raiser: comparing it with the row is an oracle.

    A raiser who sees the field masked cannot have observed its value, and "the value is another"
    would tell them whether a guess is right. The value they expect may still be given.
    """
    if observed is not None:
        raise MaskedField(
            f"Field {field} is masked for you; give the value it should have, not the one it has.",
            f"数据项 {field} 对您为脱敏数据，不能填写其现有值；可填写应有值或用文字描述问题。",
        )


def _stored(session: Session, version: Version) -> Shown:
    """The masks of texts the work item keeps: each field's class mask, as staff outside the department see it.

    A work item's subject and notes are one stored text shown to everyone who sees the item (the
    assignee department, the raiser's department, auditors, the audit log), most of whom see the rows
    masked, so they carry values only as the class masks them. A hash needs the platform's secret,
    which the service is not given, and an unsalted hash of an ID number is easily reversed, so a
    hashed field's value is kept redacted (Ranger's MASK: only the kind of each character is left).
    """
    masks: dict[str, Mask] = {n: Mask.redact if m is Mask.hash else m for n, m in class_masks(session, version).items()}
    return Shown(masks, {str(c["name"]): "string" for c in version.columns}, lambda: "")


def _stored_text(stored: Shown, claim: checks.Claim, text: str) -> str:
    """A person's text (a description, a reason) as the work item keeps it: the claim's values masked.

    The key, wherever it appears, and the field's observed and expected values, where quoted.
    """
    if claim.key_field and claim.key_value:
        key = stored.value(claim.key_field, claim.key_value)
        text = text.replace(claim.key_value, "" if key is None else str(key))
    return masked_quotes(stored, claim.field, (claim.observed, claim.expected), text)


def _subject(session: Session, home: Path, resource: Resource, version: Version, claim: checks.Claim) -> str:
    """The work item's subject: the resource, the row and the field, with no value the key's class masks.

    A key in clear by its class is quoted as it is (`统一社会信用代码=91330…`), as before. A masked key
    is quoted as staff outside the department see it (`公民身份号码=330102********123X`), followed by
    its row number: together they let the assignee find the row at once on the data page, while the
    raiser's department and auditors, who see the same subject, learn nothing the masked rows do not
    show them. A key whose mask keeps nothing readable (hash, null, year only) is named by its row
    number alone. The assignee sees the key in clear on the problem's own page.
    """
    where = "整列"
    if claim.key_field is not None and claim.key_value is not None:
        mask = class_masks(session, version).get(claim.key_field, Mask.hash)
        key = f"{claim.key_field}={claim.key_value}"
        if mask is not Mask.clear:
            row = checks.row_at_key(parquet_path(home, version), key_field=claim.key_field, key_value=claim.key_value)
            shown = mask_value(mask, claim.key_value, "string", "") if mask in READABLE_MASKS else None
            key = f"第 {row} 行" if shown is None else f"{claim.key_field}={shown}（第 {row} 行）"
        where = f"{key} 的"
    return f"{resource.title}：{where}“{claim.field}”有误"[:300]


def _open_duplicate(
    session: Session, resource_id: int, claim: checks.Claim, source: str, rule_id: int | None
) -> ProblemReport | None:
    stmt = (
        select(ProblemReport)
        .join(WorkItem, WorkItem.id == ProblemReport.item_id)
        .where(
            ProblemReport.resource_id == resource_id,
            ProblemReport.field == claim.field,
            ProblemReport.key_field.is_(None)
            if claim.key_field is None
            else ProblemReport.key_field == claim.key_field,
            ProblemReport.key_value.is_(None)
            if claim.key_value is None
            else ProblemReport.key_value == claim.key_value,
            ProblemReport.source == source,
            ProblemReport.rule_id.is_(None) if rule_id is None else ProblemReport.rule_id == rule_id,
            WorkItem.state.in_(AWAITING),
        )
        .limit(1)
    )
    return session.scalar(stmt)


def _add_raise(session: Session, actor: Actor, problem: ProblemReport) -> None:
    session.add(ProblemRaise(problem_id=problem.id, username=actor.username, department_id=actor.department_id))
    session.flush()


# ---- answering ------------------------------------------------------------------------------------


def _answerable(session: Session, actor: Actor, problem_id: int) -> tuple[ProblemReport, WorkItem]:
    problem = get_problem(session, actor, problem_id)
    item = problem_item(session, problem)
    require(actor, "governance.problem.answer", item)
    state = WorkState(item.state)
    if state not in AWAITING:
        raise IllegalTransition(
            f"Problem {problem.id} is {state.value}; it has its answer already.",
            f"问题数据 {problem.id} 当前状态为“{state.label}”，已答复，不能再答复。",
        )
    return problem, item


def answer_fixed(
    session: Session, actor: Actor, *, problem_id: int, version_number: int, home: Path, today: date | None = None
) -> ProblemReport:
    """Answer "fixed in version N"; the fix is verified against that version and only a verified fix closes."""
    problem, item = _answerable(session, actor, problem_id)
    raised = session.get_one(Version, problem.version_id)
    if version_number <= raised.number:
        raise Invalid(
            f"The fix must be in a version newer than {raised.number}, the one the problem was raised against.",
            f"整改须体现在比第 {raised.number} 版（提出问题时的版本）更新的版本中。",
        )
    version = session.scalar(
        select(Version).where(Version.resource_id == problem.resource_id, Version.number == version_number)
    )
    if version is None:
        raise NotFound(
            f"There is no version {version_number} yet; ingest the fixed file first.",
            f"尚无第 {version_number} 版，请先导入整改后的数据。",
        )
    today = today or workdays.china_today()
    if item.state == S.open:
        workflow.move_item(session, actor, item_id=item.id, action="accept", owner=__name__)
    workflow.move_item(
        session, actor, item_id=item.id, action="resolve", note=f"已在第 {version_number} 版整改", owner=__name__
    )
    verdict = checks.verify(
        parquet_path(home, version), [c["name"] for c in version.columns], version_number, _claim(problem)
    )
    problem.answer, problem.answer_reason = "fixed", ""
    problem.fixed_version_id, problem.answered_by, problem.answered_on = version.id, actor.username, today
    problem.verified, problem.verification = verdict.passed, verdict.as_json()
    action = "verify" if verdict.passed else "reject"
    stored = _stored(session, raised)
    note = masked_verdict(stored, problem, verdict.reason_zh)
    workflow.move_item(session, VERIFIER, item_id=item.id, action=action, note=note, owner=__name__)
    problem.closed_on = today if verdict.passed else None
    session.flush()
    audit.record(
        session,
        actor,
        ProblemFixAnswered(
            problem.id, item.id, version_number, verdict.passed, masked_verdict(stored, problem, verdict.reason)
        ),
    )
    return problem


def _claim(problem: ProblemReport) -> checks.Claim:
    return checks.Claim(
        problem.field, problem.key_field, problem.key_value, problem.observed, problem.expected, problem.validator
    )


def answer_rejected(
    session: Session, actor: Actor, *, problem_id: int, reason: str, today: date | None = None
) -> ProblemReport:
    """Answer that the data is right (or the problem is not the department's), with a reason; the item is returned."""
    problem, item = _answerable(session, actor, problem_id)
    if not reason.strip():
        raise Invalid("A rejection needs a reason.", "不予整改须说明理由。")
    raised = session.get_one(Version, problem.version_id)
    stored = _stored_text(_stored(session, raised), _claim(problem), reason.strip())
    workflow.move_item(session, actor, item_id=item.id, action="return", note=stored, owner=__name__)
    problem.answer, problem.answer_reason = "rejected", reason.strip()
    problem.answered_by, problem.answered_on = actor.username, today or workdays.china_today()
    session.flush()
    audit.record(session, actor, ProblemRejected(problem.id, item.id, reason.strip()))
    return problem


def extend_deadline(
    session: Session, actor: Actor, *, problem_id: int, reason: str, today: date | None = None
) -> ProblemReport:
    """Extend the deadline once, to 10 working days from raising; asked before the deadline passes."""
    problem, item = _answerable(session, actor, problem_id)
    today = today or workdays.china_today()
    if problem.extended:
        raise IllegalTransition(
            f"Problem {problem.id} was extended once already; a deadline is extended only once.",
            f"问题数据 {problem.id} 已延期一次，只能延期一次。",
        )
    if today > item.due_on:
        raise IllegalTransition(
            f"The deadline {item.due_on} has passed; an extension is asked before it.",
            f"办理期限 {item.due_on} 已过，须在期限内申请延期。",
        )
    workflow.extend_due(
        session,
        actor,
        item_id=item.id,
        start=problem.raised_on,
        due_in_working_days=EXTENDED_TO,
        reason=reason,
        owner=__name__,
    )
    problem.extended, problem.extension_reason = True, reason.strip()
    session.flush()
    audit.record(session, actor, ProblemExtended(problem.id, item.id, item.due_on.isoformat(), reason.strip()))
    return problem


def escalate_overdue(session: Session, actor: Actor, *, today: date) -> list[ProblemReport]:
    """Escalate every unanswered problem past its deadline that is not escalated yet (a daily platform job)."""
    require(actor, "governance.problem.escalate")
    stmt = (
        select(ProblemReport)
        .join(WorkItem, WorkItem.id == ProblemReport.item_id)
        .where(ProblemReport.escalated_at.is_(None), WorkItem.due_on < today, WorkItem.state.in_(AWAITING))
        .order_by(ProblemReport.id)
    )
    escalated = list(session.scalars(stmt))
    for problem in escalated:
        item = workflow.escalate_item(
            session,
            actor,
            item_id=problem.item_id,
            today=today,
            note=f"问题数据 {problem.id} 超期未答复，升级至平台督办",
            owner=__name__,
        )
        problem.escalated_at = utcnow()
        session.flush()
        audit.record(session, actor, ProblemEscalated(problem.id, item.id, item.due_on.isoformat()))
    return escalated


__all__ = [
    "KIND",
    "answer_fixed",
    "answer_rejected",
    "escalate_overdue",
    "extend_deadline",
    "raise_problem",
]
