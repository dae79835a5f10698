"""Policy API: the library, search, Q&A with citations, ratings, FAQs. Reading and asking are open to the public."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path, Query, UploadFile, status

from digigov.core.auth import require
from digigov.core.deps import ActorDep, PublicActorDep, SessionDep, SettingsDep
from digigov.core.errors import Invalid
from digigov.policy import answering, faqs, service
from digigov.policy.schemas import (
    AnswerRead,
    AskBody,
    DocumentList,
    DocumentRead,
    DocumentSummary,
    FaqImportRead,
    HitRead,
    ImportedRead,
    RatingBody,
    RebuildRead,
    UnansweredRead,
)

router = APIRouter(prefix="/policy", tags=["policy"])

Id = Annotated[int, Path(ge=1, le=2_147_483_647)]
Text = Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00-\x1f]*$")]
Status = Literal["in_force", "amended", "repealed"]
MAX_UPLOAD = 50 * 1024 * 1024


@router.get("/documents", response_model=DocumentList)
def list_documents(
    session: SessionDep,
    actor: PublicActorDep,
    issuer: Text = None,
    year: Annotated[int | None, Query(ge=1949, le=2100)] = None,
    status: Status | None = None,
    topic: Text = None,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> DocumentList:
    """Browse the library, newest first, filtered by issuer, year, status, topic and region."""
    documents, count = service.browse(
        session, actor, issuer=issuer, year=year, status=status, topic=topic, region=region, limit=limit, offset=offset
    )
    return DocumentList(count=count, documents=[DocumentSummary.model_validate(d) for d in documents])


@router.get("/documents/{document_id}", response_model=DocumentRead)
def get_document(document_id: Id, session: SessionDep, actor: PublicActorDep) -> DocumentRead:
    """A document with its metadata, clause tree and links both ways."""
    document = service.get_document(session, actor, document_id)
    outgoing, incoming = service.document_links(session, document)
    return DocumentRead.model_validate(
        {
            **DocumentSummary.model_validate(document).model_dump(),
            "recipients": document.recipients,
            "effective_date": document.effective_date,
            "expiry_date": document.expiry_date,
            "validity": document.validity,
            "replaced_by_id": document.replaced_by_id,
            "source": document.source,
            "updated_at": document.updated_at,
            "clauses": service.document_clauses(session, document),
            "cites": outgoing,
            "cited_by": incoming,
        }
    )


@router.post("/documents", response_model=ImportedRead, status_code=status.HTTP_201_CREATED)
def import_document(
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="Plain text, HTML, DOCX, PDF (text layer) or Markdown.")],
) -> dict[str, Any]:
    """Import one document; the same text again changes nothing, a changed one is a new revision."""
    require(actor, "policy.library.manage")
    data = file.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise Invalid("The file is larger than 50 MB.", "文件超过 50 MB。")
    name = file.filename or "upload"
    return service.import_bytes(session, actor, settings.home, data, name, source=name).as_json()


@router.get("/search", response_model=list[HitRead])
def search(
    session: SessionDep,
    actor: PublicActorDep,
    settings: SettingsDep,
    q: Annotated[str, Query(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]*$")],
    kind: Annotated[list[Literal["document", "clause", "faq"]] | None, Query(max_length=3)] = None,
    issuer: Text = None,
    year: Annotated[int | None, Query(ge=1949, le=2100)] = None,
    status: Annotated[list[Status] | None, Query(max_length=3)] = None,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    topic: Text = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> list[dict[str, Any]]:
    """Chinese full-text search; a 文号 or a "quoted phrase" is matched exactly."""
    return service.search(
        session,
        actor,
        settings.home,
        q,
        limit=limit,
        kinds=tuple(kind) if kind else None,
        issuer=issuer,
        year=year,
        status=tuple(status) if status else None,
        region=region,
        topic=topic,
    )


@router.post("/ask", response_model=AnswerRead)
def ask(body: AskBody, session: SessionDep, actor: PublicActorDep, settings: SettingsDep) -> dict[str, Any]:
    """Answer from the library's clauses with citations, or decline and list the closest documents."""
    return answering.ask(
        session,
        actor,
        settings.home,
        body.question,
        include_expired=body.include_expired,
        llm_url=settings.llm_url,
        llm_model=settings.llm_model,
        llm_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
    ).as_json()


@router.post("/questions/{question_id}/rating", status_code=status.HTTP_204_NO_CONTENT)
def rate(question_id: Id, body: RatingBody, session: SessionDep, actor: PublicActorDep) -> None:
    """Say whether an answer helped (1) or not (-1)."""
    answering.rate(session, actor, question_id, body.rating)


@router.get("/unanswered", response_model=list[UnansweredRead])
def unanswered(
    session: SessionDep, actor: ActorDep, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[dict[str, Any]]:
    """The most-asked questions the library could not answer or answered unhelpfully (民意 data)."""
    return answering.unanswered(session, actor, limit=limit)


@router.post("/faqs", response_model=FaqImportRead, status_code=status.HTTP_201_CREATED)
def import_faqs(
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="JSONL, CSV or XLSX with question/问题 and answer/答案 columns.")],
    department: Annotated[str | None, Form(max_length=200)] = None,
) -> faqs.FaqImport:
    """Import FAQ knowledge; the same pair twice is one FAQ."""
    require(actor, "policy.library.manage")
    data = file.file.read(MAX_UPLOAD + 1)
    return faqs.import_faqs(session, actor, settings.home, data, file.filename or "upload", department=department)


@router.post("/index/rebuild", response_model=RebuildRead)
def rebuild(session: SessionDep, actor: ActorDep, settings: SettingsDep) -> RebuildRead:
    """Rebuild the search index from the library and swap it in."""
    return RebuildRead(passages=service.rebuild_index(session, actor, settings.home))
