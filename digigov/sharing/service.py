"""Share requests and grants (共享): request, the two approvals, the grant, its credential, revocation.

    request ──无条件──────────────────────────────▶ approved ─▶ grant (approved)
       │  ──有条件──▶ pending_source ──▶ pending_platform ──▶ approved ─▶ grant
       │  ──不予共享──▶ refused, with the resource's legal basis
    grant: approved ──credential──▶ provisioned ──▶ revoked | expired (on its end date)

Every step is audited. The data API that a provisioned grant opens is in `digigov.sharing.data`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from digigov.catalog import get_resource
from digigov.catalog.models import Field, Resource
from digigov.catalog.vocabulary import ShareType
from digigov.core import audit, workdays
from digigov.core.auth import Actor, InDepartment, require
from digigov.core.db import utcnow
from digigov.core.errors import IllegalTransition, NotFound
from digigov.datastore import Version, latest_version
from digigov.governance.classification import field_levels
from digigov.governance.masking import Mask, masks_for
from digigov.identity.service import secret_digest
from digigov.sharing import actions as _actions  # noqa: F401  (declares the permissions)
from digigov.sharing.errors import BadShareRequest, GrantClosed
from digigov.sharing.events import GrantEnded, GrantMade, GrantProvisioned, ShareDecided, ShareRequested
from digigov.sharing.models import Grant, GrantCall, ShareRequest
from digigov.sharing.schemas import Access, Decision, GrantState, RequestState, ShareRequestCreate

CREDENTIAL_PREFIX = "dgs_"
Owned = TypeVar("Owned", ShareRequest, Grant)
KEYED = (Access.lookup, Access.subscribe)  # access kinds that name rows by a key field, given in clear
RATE_PER_MINUTE = 600  # default limit of a grant; the platform may set another when it approves


def request_share(session: Session, actor: Actor, data: ShareRequestCreate, *, today: date) -> ShareRequest:
    """Record a department's request; unconditional resources are granted at once, 不予共享 refused."""
    require(actor, "sharing.request.create", InDepartment(actor.department_id))
    if actor.department_id is None:
        raise BadShareRequest("Share requests come from a department.", "共享申请须由部门提出。")
    resource = get_resource(session, actor, data.resource_code)
    _check_request(session, actor, resource, data)
    clear = list(data.clear_fields)
    if data.access in KEYED and data.key_field and data.key_field not in clear:
        clear.append(data.key_field)  # a lookup key is a value the consumer sends; a change names its row by it
    starts_on = data.starts_on or today
    request = ShareRequest(
        resource_id=resource.id,
        source_department_id=resource.department_id,
        consumer_department_id=actor.department_id,
        requested_by=actor.username,
        fields=list(data.fields),
        clear_fields=clear,
        key_field=data.key_field,
        access=data.access.value,
        purpose=data.purpose.strip(),
        legal_basis=data.legal_basis.strip(),
        starts_on=starts_on,
        ends_on=starts_on + timedelta(days=data.days - 1),
        expected_daily_calls=data.expected_daily_calls,
        state=RequestState.pending_source.value,
    )
    session.add(request)
    session.flush()
    audit.record(
        session,
        actor,
        ShareRequested(
            request.id, resource.code, actor.department_id, tuple(request.fields), request.access, request.purpose
        ),
    )
    share_type = ShareType(resource.share_type)
    if share_type is ShareType.none:
        basis = resource.share_basis or "该数据资源的共享类型为不予共享"
        _decide(session, actor, request, resource, "automatic", False, basis)
        request.refusal = basis
    elif share_type is ShareType.unconditional:
        _decide(session, actor, request, resource, "automatic", True, "无条件共享，自动批准")
        _make_grant(session, actor, request, resource, Decision(approve=True))
    return request


def _check_request(session: Session, actor: Actor, resource: Resource, data: ShareRequestCreate) -> None:
    if resource.state != "published":
        raise BadShareRequest(
            f"Resource {resource.code} is not published; only published resources are shared.",
            f"数据资源 {resource.code} 尚未发布，只有已发布的资源可以申请共享。",
        )
    if resource.department_id in actor.departments:
        raise BadShareRequest(
            "A department uses its own data without a share request.", "本部门的数据无需申请共享即可使用。"
        )
    # the catalog's fields, and the columns of the newest version (ingestion does not rewrite the catalog)
    known = set(session.scalars(select(Field.name).where(Field.resource_id == resource.id)))
    latest = latest_version(session, resource.id)
    known |= {c["name"] for c in latest.columns} if latest is not None else set()
    unknown = [f for f in [*data.fields, *data.clear_fields] if f not in known]
    if unknown:
        raise BadShareRequest(
            f"Resource {resource.code} has no field {', '.join(unknown)}.",
            f"数据资源 {resource.code} 没有数据项：{'、'.join(unknown)}。",
        )
    outside = [f for f in data.clear_fields if f not in data.fields]
    if data.key_field is not None and data.key_field not in data.fields:
        outside.append(data.key_field)
    if outside:
        raise BadShareRequest(
            f"Field {', '.join(outside)} must also be among the requested fields.",
            f"数据项 {'、'.join(outside)} 须在申请的数据项之中。",
        )
    if data.access in KEYED and data.key_field is None:
        raise BadShareRequest(
            "Lookup and subscription access need a key_field.", "按键查询和订阅须指定查询键（key_field）。"
        )


def decide_as_source(session: Session, actor: Actor, *, request_id: int, decision: Decision) -> ShareRequest:
    """The source department approves (it may deny clear text) or refuses, with a reason."""
    request = get_request(session, actor, request_id)
    require(actor, "sharing.request.approve_source", InDepartment(request.source_department_id))
    _expect(request, RequestState.pending_source)
    resource = session.get_one(Resource, request.resource_id)
    if decision.allow_clear is not None:
        allowed = [f for f in request.clear_fields if f in decision.allow_clear]
        if Access(request.access) in KEYED and request.key_field not in allowed:
            raise BadShareRequest(
                "A lookup or subscription grant needs its key in clear text; refuse the request instead.",
                "按键查询和订阅须以明文提供查询键；如不同意，请驳回申请。",
            )
        request.clear_fields = allowed
    request.source_decided_by = actor.username
    request.source_reason = decision.reason.strip()
    _decide(session, actor, request, resource, "source", decision.approve, decision.reason)
    if decision.approve:
        request.state = RequestState.pending_platform.value
    return request


def decide_as_platform(session: Session, actor: Actor, *, request_id: int, decision: Decision) -> ShareRequest:
    """The platform approves (and the grant is made, with the limits it sets) or refuses, with a reason."""
    request = get_request(session, actor, request_id)
    require(actor, "sharing.request.approve_platform")
    _expect(request, RequestState.pending_platform)
    resource = session.get_one(Resource, request.resource_id)
    request.platform_decided_by = actor.username
    request.platform_reason = decision.reason.strip()
    _decide(session, actor, request, resource, "platform", decision.approve, decision.reason)
    if decision.approve:
        _make_grant(session, actor, request, resource, decision)
    return request


def _expect(request: ShareRequest, state: RequestState) -> None:
    if request.state != state.value:
        now = RequestState(request.state)
        raise IllegalTransition(
            f"Share request {request.id} is {now.value}, not {state.value}.",
            f"共享申请 {request.id} 当前状态为“{now.label}”，不能执行此操作。",
        )


def _decide(
    session: Session, actor: Actor, request: ShareRequest, resource: Resource, stage: str, approve: bool, reason: str
) -> None:
    if not approve and not reason.strip():
        raise BadShareRequest("A refusal needs its reason.", "驳回须说明理由。")
    if not approve:
        request.state = RequestState.refused.value
        request.refusal = reason.strip()
        request.decided_at = utcnow()
    audit.record(session, actor, ShareDecided(request.id, resource.code, stage, approve, reason.strip()))


def _make_grant(session: Session, actor: Actor, request: ShareRequest, resource: Resource, decision: Decision) -> Grant:
    request.state = RequestState.approved.value
    request.decided_at = utcnow()
    latest = latest_version(session, resource.id)
    masks = {name: mask.value for name, mask in field_masks(session, request, latest).items()}
    grant = Grant(
        request_id=request.id,
        resource_id=resource.id,
        source_department_id=request.source_department_id,
        consumer_department_id=request.consumer_department_id,
        fields=list(request.fields),
        masks=masks,
        clear_fields=list(request.clear_fields),
        key_field=request.key_field,
        access=request.access,
        purpose=request.purpose,
        starts_on=request.starts_on,
        ends_on=request.ends_on,
        rate_per_minute=decision.rate_per_minute or RATE_PER_MINUTE,
        daily_quota=decision.daily_quota or request.expected_daily_calls,
        state=GrantState.approved.value,
        salt=secrets.token_hex(16),
    )
    session.add(grant)
    session.flush()
    audit.record(
        session,
        actor,
        GrantMade(
            grant.id, resource.code, tuple(grant.fields), tuple(sorted(masks.items())), grant.ends_on.isoformat()
        ),
    )
    return grant


def issue_credential(session: Session, actor: Actor, *, grant_id: int, today: date) -> tuple[Grant, str]:
    """Issue the grant's credential (shown once; a new one replaces the old), making the grant provisioned."""
    grant = get_grant(session, actor, grant_id)
    require(actor, "sharing.grant.credential", InDepartment(grant.consumer_department_id))
    state = effective_state(grant, today)
    if state not in {GrantState.approved, GrantState.provisioned}:
        raise GrantClosed(f"Grant {grant.id} is {state.value}.", f"共享授权 {grant.id} {state.label}。")
    secret = CREDENTIAL_PREFIX + secrets.token_urlsafe(32)
    grant.credential_prefix = secret[:12]
    grant.credential_hash = secret_digest(secret)
    grant.state = GrantState.provisioned.value
    grant.provisioned_at = utcnow()
    session.flush()
    resource = session.get_one(Resource, grant.resource_id)
    audit.record(session, actor, GrantProvisioned(grant.id, resource.code, grant.credential_prefix))
    return grant, secret


def revoke_grant(session: Session, actor: Actor, *, grant_id: int, reason: str) -> Grant:
    """Revoke a grant (source department or platform); the next call under it is refused."""
    grant = get_grant(session, actor, grant_id)
    require(actor, "sharing.grant.revoke", grant)
    if not reason.strip():
        raise BadShareRequest("A revocation needs its reason.", "撤销授权须说明理由。")
    if grant.state in {GrantState.revoked.value, GrantState.expired.value}:
        raise IllegalTransition(f"Grant {grant.id} has ended already.", f"共享授权 {grant.id} 已终止。")
    grant.state = GrantState.revoked.value
    grant.revoked_by = actor.username
    grant.revoke_reason = reason.strip()
    grant.ended_at = utcnow()
    session.flush()
    resource = session.get_one(Resource, grant.resource_id)
    audit.record(session, actor, GrantEnded(grant.id, resource.code, grant.state, grant.revoke_reason))
    return grant


def effective_state(grant: Grant, today: date) -> GrantState:
    """The grant's state as of `today`: a grant past its end date is expired whether or not a sweep wrote it."""
    state = GrantState(grant.state)
    if state in {GrantState.approved, GrantState.provisioned} and today > grant.ends_on:
        return GrantState.expired
    return state


def expire_grants(session: Session, actor: Actor, *, today: date) -> list[Grant]:
    """Write `expired` on every open grant past its end date (a daily platform job; calls do not wait for it)."""
    require(actor, "sharing.request.approve_platform")
    open_states = [GrantState.approved.value, GrantState.provisioned.value]
    stmt = select(Grant).where(Grant.state.in_(open_states), Grant.ends_on < today).order_by(Grant.id)
    ended = list(session.scalars(stmt))
    for grant in ended:
        grant.state = GrantState.expired.value
        grant.ended_at = utcnow()
        resource = session.get_one(Resource, grant.resource_id)
        audit.record(session, actor, GrantEnded(grant.id, resource.code, grant.state, f"到期（{grant.ends_on}）"))
    session.flush()
    return ended


# ---- reading --------------------------------------------------------------------------------------


def _visible(actor: Actor, model: type[Owned]) -> Select[Owned]:
    """Rows of `model` the actor may see: platform roles all; others those their departments made or received."""
    require(actor, "sharing.request.read")
    stmt = select(model)
    if any(role.platform_wide for role in actor.roles):
        return stmt
    mine = list(actor.departments)
    return stmt.where(or_(model.consumer_department_id.in_(mine), model.source_department_id.in_(mine)))


def get_request(session: Session, actor: Actor, request_id: int) -> ShareRequest:
    """A request the actor's department made or received; the same NotFound otherwise."""
    found = session.scalar(_visible(actor, ShareRequest).where(ShareRequest.id == request_id))
    if found is None:
        raise NotFound(f"Share request {request_id} does not exist.", f"共享申请 {request_id} 不存在。")
    return found


def list_requests(
    session: Session, actor: Actor, *, state: RequestState | None = None, limit: int = 100, offset: int = 0
) -> list[ShareRequest]:
    """Requests the actor may see, newest first."""
    stmt = _visible(actor, ShareRequest).order_by(ShareRequest.id.desc())
    if state is not None:
        stmt = stmt.where(ShareRequest.state == state.value)
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def get_grant(session: Session, actor: Actor, grant_id: int) -> Grant:
    """A grant the actor's department holds or gave; the same NotFound otherwise."""
    found = session.scalar(_visible(actor, Grant).where(Grant.id == grant_id))
    if found is None:
        raise NotFound(f"Grant {grant_id} does not exist.", f"共享授权 {grant_id} 不存在。")
    return found


def list_grants(session: Session, actor: Actor, *, limit: int = 100, offset: int = 0) -> list[Grant]:
    """Grants the actor may see, newest first."""
    stmt = _visible(actor, Grant).order_by(Grant.id.desc())
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def grant_of(session: Session, request: ShareRequest) -> Grant | None:
    """The grant an approved request became, if any."""
    return session.scalar(select(Grant).where(Grant.request_id == request.id))


@dataclass(frozen=True)
class Usage:
    """Calls and rows under one grant, in all and today, by kind of call."""

    grant_id: int
    calls: int
    rows: int
    calls_today: int
    by_kind: dict[str, int]


def grant_usage(session: Session, actor: Actor, *, grant_id: int, today: date) -> Usage:
    """Usage statistics of a grant, for the departments on either side and the platform."""
    grant = get_grant(session, actor, grant_id)
    of_grant = GrantCall.grant_id == grant.id
    calls, rows = session.execute(
        select(func.count(), func.coalesce(func.sum(GrantCall.rows), 0)).where(of_grant)
    ).one()
    start = workdays.china_day_start(today)
    today_calls = session.scalar(select(func.count()).where(of_grant, GrantCall.at >= start)) or 0
    kinds = session.execute(select(GrantCall.kind, func.count()).where(of_grant).group_by(GrantCall.kind)).all()
    return Usage(grant.id, int(calls), int(rows), int(today_calls), {k: int(n) for k, n in kinds})


def field_masks(session: Session, grant: Grant | ShareRequest, version: Version | None) -> dict[str, Mask]:
    """The mask of each granted field on `version`: clear where approved so, else what its class calls for.

    Read from the version's classification on every call, so a field that turns out to hold ID
    numbers in a later version is masked from then on; unclassified fields are hashed.
    """
    levels = field_levels(session, version) if version is not None else {}
    return masks_for(levels, grant.fields, grant.clear_fields)
