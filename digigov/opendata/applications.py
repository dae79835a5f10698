"""Applications for 受限开放 data (开放申请): a registered enterprise or researcher applies, the source
department's steward decides, then the platform; an approved application opens the resource's masked
rows to its applicant until its end date.

    apply ──▶ pending_source ──steward──▶ pending_platform ──platform──▶ approved ─(end date)─▶ expired
                    └──────────────refused (with a reason)◀──────────────┘

Every step is audited. Who sees an application: its applicant, the source department, the bureau's
roles; to anyone else it does not exist (`not_found`).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from digigov.catalog.models import Resource
from digigov.catalog.vocabulary import OpenType
from digigov.core import audit
from digigov.core.auth import Actor, InDepartment, require
from digigov.core.db import utcnow
from digigov.core.errors import IllegalTransition, NotFound
from digigov.identity.models import User
from digigov.opendata.accounts import get_profile
from digigov.opendata.errors import BadApplication, ProfileNeeded
from digigov.opendata.events import ApplicationDecided, Applied
from digigov.opendata.models import Application
from digigov.opendata.schemas import ApplicationCreate, ApplicationRead, ApplicationState, Decision, ProfileKind
from digigov.opendata.service import get_open_resource

S = ApplicationState
OPEN = (S.pending_source.value, S.pending_platform.value, S.approved.value)


def apply(session: Session, actor: Actor, data: ApplicationCreate, *, today: date) -> Application:
    """Apply for a 受限开放 resource with a purpose, the security commitment and a period in days."""
    require(actor, "opendata.application.create")
    resource = get_open_resource(session, actor, data.resource_code)
    if get_profile(session, actor.user_id) is None or actor.user_id is None:
        raise ProfileNeeded(
            "Only a registered enterprise or researcher may apply; register on the portal first.",
            "只有注册的企业或科研用户可以申请受限开放数据，请先注册。",
        )
    if resource.open_type != OpenType.restricted.value:
        raise BadApplication(
            f"Resource {resource.code} is open to all; download it without applying.",
            f"数据资源 {resource.code} 为无条件开放，无需申请即可下载。",
        )
    if not data.commitment:
        raise BadApplication("An application needs the security commitment.", "请阅读并勾选数据安全承诺后再提交申请。")
    if open_application(session, actor.user_id, resource.id, today) is not None:
        raise BadApplication(
            f"You have an application for {resource.code} that is pending or running.",
            f"您对数据资源 {resource.code} 已有审核中或有效期内的申请。",
        )
    application = Application(
        resource_id=resource.id,
        source_department_id=resource.department_id,
        user_id=actor.user_id,
        purpose=data.purpose.strip(),
        commitment=True,
        days=data.days,
        state=S.pending_source.value,
    )
    session.add(application)
    session.flush()
    audit.record(session, actor, Applied(application.id, resource.code, application.purpose, application.days))
    return application


def open_application(session: Session, user_id: int, resource_id: int, today: date) -> Application | None:
    """The user's application for the resource that is pending or running, if any (one at a time)."""
    stmt = select(Application).where(
        Application.user_id == user_id, Application.resource_id == resource_id, Application.state.in_(OPEN)
    )
    return next((a for a in session.scalars(stmt) if effective_state(a, today) is not S.expired), None)


def decide_as_source(session: Session, actor: Actor, *, application_id: int, decision: Decision) -> Application:
    """The source department's steward approves (it goes on to the platform) or refuses, with a reason."""
    application = get_application(session, actor, application_id)
    require(actor, "opendata.application.approve_source", InDepartment(application.source_department_id))
    _expect(application, S.pending_source)
    application.source_decided_by, application.source_reason = actor.username, decision.reason.strip()
    _decide(session, actor, application, "source", decision)
    if decision.approve:
        application.state = S.pending_platform.value
    return application


def decide_as_platform(
    session: Session, actor: Actor, *, application_id: int, decision: Decision, today: date
) -> Application:
    """The platform approves (the period starts today) or refuses, with a reason."""
    application = get_application(session, actor, application_id)
    require(actor, "opendata.application.approve_platform")
    _expect(application, S.pending_platform)
    application.platform_decided_by, application.platform_reason = actor.username, decision.reason.strip()
    if decision.approve:
        application.state = S.approved.value
        application.starts_on, application.ends_on = today, today + timedelta(days=application.days - 1)
        application.decided_at = utcnow()
    _decide(session, actor, application, "platform", decision)
    return application


def _expect(application: Application, state: ApplicationState) -> None:
    if application.state != state.value:
        now = S(application.state)
        raise IllegalTransition(
            f"Application {application.id} is {now.value}, not {state.value}.",
            f"开放申请 {application.id} 当前状态为“{now.label}”，不能执行此操作。",
        )


def _decide(session: Session, actor: Actor, application: Application, stage: str, decision: Decision) -> None:
    if not decision.approve and not decision.reason.strip():
        raise BadApplication("A refusal needs its reason.", "驳回须说明理由。")
    if not decision.approve:
        application.state, application.decided_at = S.refused.value, utcnow()
    session.flush()
    resource = session.get_one(Resource, application.resource_id)
    ends = application.ends_on.isoformat() if application.ends_on else None
    event = ApplicationDecided(application.id, resource.code, stage, decision.approve, decision.reason.strip(), ends)
    audit.record(session, actor, event)


def effective_state(application: Application, today: date) -> ApplicationState:
    """The state as of `today`: an approved application past its end date is expired."""
    state = S(application.state)
    if state is S.approved and application.ends_on is not None and today > application.ends_on:
        return S.expired
    return state


# ---- reading --------------------------------------------------------------------------------------


def _visible(actor: Actor) -> Select[Application]:
    """Applications the actor may see: one's own, one's departments' resources', or all for platform roles."""
    require(actor, "opendata.application.read")
    stmt = select(Application)
    if any(role.platform_wide for role in actor.roles):
        return stmt
    mine = [Application.source_department_id.in_(list(actor.departments))] if actor.departments else []
    own = [Application.user_id == actor.user_id] if actor.user_id is not None else []
    return stmt.where(or_(*own, *mine)) if own or mine else stmt.where(Application.id.is_(None))


def get_application(session: Session, actor: Actor, application_id: int) -> Application:
    """An application the actor may see; the same NotFound otherwise."""
    found = session.scalar(_visible(actor).where(Application.id == application_id))
    if found is None:
        raise NotFound(f"Application {application_id} does not exist.", f"开放申请 {application_id} 不存在。")
    return found


def list_applications(
    session: Session,
    actor: Actor,
    *,
    today: date,
    state: ApplicationState | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Application]:
    """Applications the actor may see, newest first, optionally in one state as of `today`."""
    stmt = _visible(actor).order_by(Application.id.desc())
    if state is not None:
        stored = S.approved if state is S.expired else state
        stmt = stmt.where(Application.state == stored.value)
    found = session.scalars(stmt.limit(limit).offset(offset))
    return [a for a in found if state is None or effective_state(a, today) is state]


def application_read(session: Session, application: Application, today: date) -> ApplicationRead:
    """An application as the API and pages show it, with its state as of today."""
    resource = session.get_one(Resource, application.resource_id)
    user = session.get_one(User, application.user_id)
    profile = get_profile(session, user.id)
    state = effective_state(application, today)
    return ApplicationRead(
        id=application.id,
        resource=resource.code,
        title=resource.title,
        applicant=user.display_name,
        organisation=profile.organisation if profile else "",
        profile=ProfileKind(profile.kind).label if profile else "",
        purpose=application.purpose,
        commitment=application.commitment,
        days=application.days,
        state=state,
        state_label=state.label,
        source_reason=application.source_reason,
        platform_reason=application.platform_reason,
        starts_on=application.starts_on,
        ends_on=application.ends_on,
        created_at=application.created_at,
    )
