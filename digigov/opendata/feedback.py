"""What the public says about open data: ratings (1-5, one per user and resource), comments, and data
requests (数据需求) that the platform answers in public."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from digigov.catalog.models import Resource
from digigov.core import audit
from digigov.core.auth import Actor, allows, require
from digigov.core.db import utcnow
from digigov.core.errors import IllegalTransition, NotFound
from digigov.identity import get_department
from digigov.opendata.errors import BadFeedback
from digigov.opendata.events import Commented, CommentHidden, DataRequestAnswered, DataRequested, ResourceRated
from digigov.opendata.models import Comment, DataRequest, Rating
from digigov.opendata.schemas import (
    COMMENT_CHARS,
    DataRequestAnswer,
    DataRequestCreate,
    DataRequestState,
)
from digigov.opendata.service import get_open_resource

COMMENTS_SHOWN = 200


def _signed_in(actor: Actor) -> int:
    require(actor, "opendata.feedback")
    if actor.user_id is None:
        raise BadFeedback("Sign in (or register) first.", "请先登录或注册。")
    return actor.user_id


def rate(session: Session, actor: Actor, *, code: str, stars: int) -> Rating:
    """Rate an open resource 1-5; rating it again changes the user's one rating."""
    user_id = _signed_in(actor)
    resource = get_open_resource(session, actor, code)
    if not 1 <= stars <= 5:
        raise BadFeedback("A rating is 1 to 5 stars.", "评分须为 1 至 5 星。")
    rating = session.scalar(select(Rating).where(Rating.resource_id == resource.id, Rating.user_id == user_id))
    if rating is None:
        rating = Rating(resource_id=resource.id, user_id=user_id, stars=stars)
        session.add(rating)
    else:
        rating.stars, rating.updated_at = stars, utcnow()
    session.flush()
    audit.record(session, actor, ResourceRated(resource.id, resource.code, stars))
    return rating


def my_rating(session: Session, actor: Actor, resource_id: int) -> int | None:
    """The stars the actor gave the resource, if any."""
    if actor.user_id is None:
        return None
    stmt = select(Rating.stars).where(Rating.resource_id == resource_id, Rating.user_id == actor.user_id)
    return session.scalar(stmt)


def add_comment(session: Session, actor: Actor, *, code: str, body: str) -> Comment:
    """A plain-text comment (at most 500 characters) on an open resource."""
    user_id = _signed_in(actor)
    resource = get_open_resource(session, actor, code)
    text = body.strip()
    if not text or len(text) > COMMENT_CHARS or any(ord(ch) < 32 and ch not in "\n\t" for ch in text):
        raise BadFeedback(
            f"A comment is plain text of 1 to {COMMENT_CHARS} characters.",
            f"评论须为 1 至 {COMMENT_CHARS} 字的纯文本。",
        )
    comment = Comment(resource_id=resource.id, user_id=user_id, body=text)
    session.add(comment)
    session.flush()
    audit.record(session, actor, Commented(comment.id, resource.code, len(text)))
    return comment


def list_comments(session: Session, actor: Actor, *, code: str) -> list[Comment]:
    """A resource's comments, newest first; hidden ones only for moderators."""
    resource = get_open_resource(session, actor, code)
    stmt = select(Comment).where(Comment.resource_id == resource.id)
    if not allows(actor, "opendata.feedback.moderate"):
        stmt = stmt.where(Comment.hidden_by.is_(None))
    return list(session.scalars(stmt.order_by(Comment.id.desc()).limit(COMMENTS_SHOWN)))


def hide_comment(session: Session, actor: Actor, *, comment_id: int, reason: str) -> Comment:
    """Hide a comment from the public, with a reason (moderators); the text is kept."""
    require(actor, "opendata.feedback.moderate")
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise NotFound(f"Comment {comment_id} does not exist.", f"评论 {comment_id} 不存在。")
    resource = get_open_resource(session, actor, _code_of(session, comment.resource_id))
    if not reason.strip():
        raise BadFeedback("Hiding a comment needs its reason.", "隐藏评论须说明理由。")
    comment.hidden_by, comment.hidden_reason = actor.username, reason.strip()
    session.flush()
    audit.record(session, actor, CommentHidden(comment.id, resource.code, comment.hidden_reason))
    return comment


def _code_of(session: Session, resource_id: int) -> str:
    return session.get_one(Resource, resource_id).code


# ---- data requests (数据需求) -----------------------------------------------------------------------


def request_data(session: Session, actor: Actor, data: DataRequestCreate) -> DataRequest:
    """Ask for data that is not open yet; it is listed in public and the platform answers it."""
    user_id = _signed_in(actor)
    if data.department_id is not None:
        get_department(session, data.department_id)
    request = DataRequest(
        user_id=user_id,
        title=data.title.strip(),
        description=data.description.strip(),
        department_id=data.department_id,
        state=DataRequestState.pending.value,
    )
    session.add(request)
    session.flush()
    audit.record(session, actor, DataRequested(request.id, data.department_id))
    return request


def list_data_requests(
    session: Session, actor: Actor, *, state: DataRequestState | None = None, limit: int = 50, offset: int = 0
) -> list[DataRequest]:
    """Data requests with their answers, newest first (public)."""
    require(actor, "opendata.portal.read")
    stmt = select(DataRequest).order_by(DataRequest.id.desc())
    if state is not None:
        stmt = stmt.where(DataRequest.state == state.value)
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def get_data_request(session: Session, actor: Actor, request_id: int) -> DataRequest:
    """One data request (public)."""
    require(actor, "opendata.portal.read")
    request = session.get(DataRequest, request_id)
    if request is None:
        raise NotFound(f"Data request {request_id} does not exist.", f"数据需求 {request_id} 不存在。")
    return request


def answer_data_request(session: Session, actor: Actor, *, request_id: int, answer: DataRequestAnswer) -> DataRequest:
    """The platform accepts (naming the open resource that answers it, if any) or declines, with a reason."""
    require(actor, "opendata.feedback.moderate")
    request = get_data_request(session, actor, request_id)
    if request.state != DataRequestState.pending.value:
        raise IllegalTransition(
            f"Data request {request.id} is answered already.", f"数据需求 {request.id} 已答复，不能再次答复。"
        )
    if not answer.reason.strip():
        raise BadFeedback("An answer needs its reason.", "答复须说明理由。")
    code = get_open_resource(session, actor, answer.resource_code).code if answer.resource_code else None
    request.state = (DataRequestState.accepted if answer.accept else DataRequestState.declined).value
    request.answer, request.resource_code = answer.reason.strip(), code
    request.answered_by, request.answered_at = actor.username, utcnow()
    session.flush()
    audit.record(session, actor, DataRequestAnswered(request.id, answer.accept, request.answer, code))
    return request
