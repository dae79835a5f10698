"""Policy pages (Chinese): library browse, search, a document with its clause tree, the Q&A chat, 民意 data.

Browsing, searching and asking are public: visitors who are not signed in act as 社会公众.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from digigov.core.auth import PUBLIC, Actor, allows
from digigov.core.deps import SessionDep, SettingsDep
from digigov.core.errors import DigigovError
from digigov.core.templating import render
from digigov.identity.pages import OptionalPageDep, Page, PageDep, check_csrf
from digigov.policy import answering, faqs, service
from digigov.policy.models import PolicyStatus

router = APIRouter(include_in_schema=False)

STATUS_LABELS = {s.value: s.label for s in PolicyStatus}
Short = Annotated[str, Query(max_length=200)]


def _actor(page: Page | None) -> Actor:
    return page.actor if page else PUBLIC


def _context(page: Page | None, **values: Any) -> dict[str, Any]:
    actor = _actor(page)
    return {
        "status_labels": STATUS_LABELS,
        "can_manage": allows(actor, "policy.library.manage"),
        "can_see_feedback": allows(actor, "policy.feedback.read"),
        **values,
    }


@router.get("/policy", response_class=HTMLResponse)
def library(
    request: Request,
    session: SessionDep,
    page: OptionalPageDep,
    issuer: Short = "",
    year: Annotated[int | None, Query(ge=1949, le=2100)] = None,
    status: Short = "",
    topic: Short = "",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    """The library: filters by issuer, year, status and topic; newest first."""
    chosen_status = status if status in STATUS_LABELS else None
    documents, count = service.browse(
        session,
        _actor(page),
        issuer=issuer or None,
        year=year,
        status=chosen_status,
        topic=topic or None,
        limit=20,
        offset=offset,
    )
    chosen = {"issuer": issuer, "year": str(year or ""), "status": chosen_status or "", "topic": topic}
    context = _context(
        page, documents=documents, count=count, facets=service.facets(session), chosen=chosen, offset=offset
    )
    return render(request, "policy/library.html", context)


@router.get("/policy/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    session: SessionDep,
    page: OptionalPageDep,
    settings: SettingsDep,
    q: Annotated[str, Query(max_length=200)] = "",
    kind: Short = "",
) -> Response:
    """Search results with highlighted snippets; clause hits link to the clause."""
    kinds = (kind,) if kind in {"document", "clause", "faq"} else None
    hits = service.search(session, _actor(page), settings.home, q, limit=30, kinds=kinds) if q.strip() else []
    return render(request, "policy/search.html", _context(page, q=q, kind=kind, hits=hits))


@router.get("/policy/documents/{document_id}", response_class=HTMLResponse)
def document_page(request: Request, document_id: int, session: SessionDep, page: OptionalPageDep) -> Response:
    """A document: metadata, its clause tree with anchors, what it cites and what cites it."""
    document = service.get_document(session, _actor(page), document_id)
    outgoing, incoming = service.document_links(session, document)
    titles = service.titles(session, {link.cited_id for link in outgoing} | {link.document_id for link in incoming})
    replaced_by = service.titles(session, {document.replaced_by_id}) if document.replaced_by_id else {}
    context = _context(
        page,
        d=document,
        clauses=service.document_clauses(session, document),
        cites=outgoing,
        cited_by=incoming,
        titles=titles,
        replaced_by=replaced_by,
    )
    return render(request, "policy/document.html", context)


@router.get("/policy/faqs/{faq_id}", response_class=HTMLResponse)
def faq_page(request: Request, faq_id: int, session: SessionDep, page: OptionalPageDep) -> Response:
    """One FAQ, as an answer cites it."""
    service.require_read(_actor(page))
    return render(request, "policy/faq.html", _context(page, faq=faqs.get_faq(session, faq_id)))


@router.get("/policy/ask", response_class=HTMLResponse)
def ask_page(request: Request, page: OptionalPageDep) -> Response:
    """The Q&A page."""
    return render(request, "policy/ask.html", _context(page, answer=None, question="", error=None))


@router.post("/policy/ask", response_class=HTMLResponse)
def ask(
    request: Request,
    session: SessionDep,
    page: OptionalPageDep,
    settings: SettingsDep,
    question: Annotated[str, Form(max_length=2000)] = "",
    include_expired: Annotated[bool, Form()] = False,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Answer with quoted, cited clauses, or say it does not know and list the closest documents."""
    if page:
        check_csrf(page, csrf)
    try:
        with session.begin_nested():
            answer = answering.ask(
                session,
                _actor(page),
                settings.home,
                question,
                include_expired=include_expired,
                llm_url=settings.llm_url,
                llm_model=settings.llm_model,
                llm_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
            )
    except DigigovError as refused:
        context = _context(page, answer=None, question=question, error=refused.message_zh)
        return render(request, "policy/ask.html", context, status=refused.status)
    context = _context(page, answer=answer, question=question, error=None, include_expired=include_expired)
    return render(request, "policy/ask.html", context)


@router.post("/policy/questions/{question_id}/rating", response_class=HTMLResponse)
def rate(
    request: Request,
    question_id: int,
    session: SessionDep,
    page: OptionalPageDep,
    rating: Annotated[int, Form()],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Thumbs up or down on an answer; htmx swaps in a thank-you."""
    if page:
        check_csrf(page, csrf)
    answering.rate(session, _actor(page), question_id, rating)
    return HTMLResponse('<span class="muted" id="rated">谢谢您的评价。</span>')


@router.get("/policy/unanswered", response_class=HTMLResponse)
def unanswered_page(request: Request, session: SessionDep, page: PageDep) -> Response:
    """The most-asked questions the library could not answer (for the policy office)."""
    rows = answering.unanswered(session, page.actor, limit=100)
    return render(request, "policy/unanswered.html", _context(page, rows=rows))


@router.post("/policy/import", response_class=HTMLResponse)
def import_upload(
    request: Request,
    session: SessionDep,
    page: PageDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File()],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Import one uploaded document and open its page; a refusal shows on the library page."""
    check_csrf(page, csrf)
    data = file.file.read(service.MAX_BYTES + 1)
    try:
        with session.begin_nested():
            if len(data) > service.MAX_BYTES:
                raise service.TooLarge(file.filename or "upload")
            imported = service.import_bytes(
                session, page.actor, settings.home, data, file.filename or "upload", source=file.filename or "upload"
            )
    except DigigovError as refused:
        documents, count = service.browse(session, page.actor, limit=20)
        context = _context(
            page,
            documents=documents,
            count=count,
            facets=service.facets(session),
            chosen={"issuer": "", "year": "", "status": "", "topic": ""},
            offset=0,
            error=refused.message_zh,
        )
        return render(request, "policy/library.html", context, status=refused.status)
    return RedirectResponse(f"/policy/documents/{imported.id}?imported={imported.outcome}", status_code=303)
