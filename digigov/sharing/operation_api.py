"""Authorised operation API: licences and release review for staff (/api/v1/sharing/licences,
/api/v1/sharing/analyses), and the operator's structured queries (/api/v1/operate, X-Licence-Key)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, status
from sqlalchemy.orm import Session

from digigov.catalog.models import Resource
from digigov.core import workdays
from digigov.core.deps import ActorDep, Id, SessionDep, SettingsDep
from digigov.sharing import operation
from digigov.sharing.errors import CredentialRejected
from digigov.sharing.models import Analysis, OperatorLicence
from digigov.sharing.schemas import (
    AnalysisRead,
    AnalysisSpec,
    HoldBody,
    LicenceCreate,
    LicenceCredentialRead,
    LicenceRead,
    RevokeBody,
)

router = APIRouter(prefix="/sharing", tags=["authorised operation"])
operator_router = APIRouter(prefix="/operate", tags=["authorised operation"])


def licence_read(licence: OperatorLicence) -> LicenceRead:
    return LicenceRead(
        id=licence.id,
        operator=licence.operator,
        operator_uscc=licence.operator_uscc,
        resources=licence.resources,
        purpose=licence.purpose,
        k=licence.k,
        review_releases=licence.review_releases,
        starts_on=licence.starts_on,
        ends_on=licence.ends_on,
        state=licence.state,
        credential_prefix=licence.credential_prefix,
    )


def analysis_read(session: Session, analysis: Analysis) -> AnalysisRead:
    """An analysis; its groups only once released."""
    licence = session.get_one(OperatorLicence, analysis.licence_id)
    return AnalysisRead(
        id=analysis.id,
        licence_id=analysis.licence_id,
        resource=session.get_one(Resource, analysis.resource_id).code,
        version=analysis.version_number,
        spec=analysis.spec,
        state=analysis.state,
        groups=analysis.groups,
        suppressed=analysis.suppressed,
        k=licence.k,
        result=analysis.result if analysis.state == "released" else None,
        hold_reason=analysis.hold_reason,
        submitted_at=analysis.submitted_at,
    )


@router.post("/licences", response_model=LicenceRead, status_code=status.HTTP_201_CREATED)
def grant_licence(body: LicenceCreate, session: SessionDep, actor: ActorDep) -> LicenceRead:
    """License an operator over published resources (the platform)."""
    return licence_read(operation.grant_licence(session, actor, body, today=workdays.china_today()))


@router.get("/licences", response_model=list[LicenceRead])
def list_licences(session: SessionDep, actor: ActorDep) -> list[LicenceRead]:
    """Every licence, newest first (the platform)."""
    return [licence_read(licence) for licence in operation.list_licences(session, actor)]


@router.post("/licences/{licence_id}/credential", response_model=LicenceCredentialRead, status_code=201)
def issue_licence_credential(licence_id: Id, session: SessionDep, actor: ActorDep) -> LicenceCredentialRead:
    """The licence's credential, shown once (issuing again replaces it)."""
    licence, secret = operation.issue_licence_credential(session, actor, licence_id=licence_id)
    return LicenceCredentialRead(licence=licence_read(licence), credential=secret)


@router.post("/licences/{licence_id}/revoke", response_model=LicenceRead)
def revoke_licence(licence_id: Id, body: RevokeBody, session: SessionDep, actor: ActorDep) -> LicenceRead:
    """Revoke a licence; the operator's next query is refused."""
    return licence_read(operation.revoke_licence(session, actor, licence_id=licence_id, reason=body.reason))


@router.get("/analyses", response_model=list[AnalysisRead])
def list_analyses(
    session: SessionDep, actor: ActorDep, state: Literal["pending", "released", "held"] = "pending"
) -> list[AnalysisRead]:
    """Analyses in a state (pending: waiting for a reviewer), oldest first."""
    return [analysis_read(session, a) for a in operation.pending_analyses(session, actor, state=state)]


@router.post("/analyses/{analysis_id}/release", response_model=AnalysisRead)
def release_analysis(analysis_id: Id, session: SessionDep, actor: ActorDep) -> AnalysisRead:
    """Release a pending analysis's aggregates to its operator."""
    return analysis_read(session, operation.review_analysis(session, actor, analysis_id=analysis_id, release=True))


@router.post("/analyses/{analysis_id}/hold", response_model=AnalysisRead)
def hold_analysis(analysis_id: Id, body: HoldBody, session: SessionDep, actor: ActorDep) -> AnalysisRead:
    """Hold a pending analysis's aggregates, with the reason."""
    held = operation.review_analysis(session, actor, analysis_id=analysis_id, release=False, reason=body.reason)
    return analysis_read(session, held)


LicenceKey = Annotated[
    str | None, Header(alias="X-Licence-Key", max_length=200, description="The licence's credential.")
]


def _licensed(session: SessionDep, credential: LicenceKey = None) -> OperatorLicence:
    if not credential:
        raise CredentialRejected(
            "Send the licence's credential in X-Licence-Key.", "请在 X-Licence-Key 头中提供授权运营凭证。"
        )
    return operation.open_licence(session, credential, today=workdays.china_today())


Licensed = Annotated[OperatorLicence, Depends(_licensed)]


@operator_router.post("/analyses", response_model=AnalysisRead, status_code=status.HTTP_201_CREATED)
def submit_analysis(body: AnalysisSpec, session: SessionDep, settings: SettingsDep, licence: Licensed) -> AnalysisRead:
    """Run a structured query; groups under k are suppressed; the result shows once released."""
    return analysis_read(session, operation.submit_analysis(session, settings.home, licence, body))


@operator_router.get("/analyses/{analysis_id}", response_model=AnalysisRead)
def get_analysis(analysis_id: Id, session: SessionDep, licence: Licensed) -> AnalysisRead:
    """One of this licence's analyses, with its groups once released."""
    return analysis_read(session, operation.operator_analysis(session, licence, analysis_id))
