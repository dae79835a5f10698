"""智能化政策问答: answer a question from retrieved clauses and FAQs, quoting and citing them, or decline.

The answer is extractive by default: the sentences of the best passages that cover most of the
question's content terms, each cited (title, 文号, clause path, link). When the best passage
covers too little of the question the answer says it does not know and lists the closest
documents instead of guessing. Repealed or expired documents are left out unless asked for.
With `DIGIGOV_LLM_URL` set, an OpenAI-compatible model rewrites the answer from the cited
passages only; the citations stay the retrieved ones, and any failure falls back to extractive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import httpx
import jieba
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digigov.core import audit
from digigov.core.auth import Actor, require
from digigov.core.db import utcnow
from digigov.core.errors import Invalid, NotFound
from digigov.policy.events import AnswerRated, QuestionAsked
from digigov.policy.index import Hit
from digigov.policy.models import PolicyClause, PolicyDocument, PolicyFaq, PolicyQuestion, PolicyStatus
from digigov.policy.service import clause_offset, open_index
from digigov.policy.tokens import index_terms, normalize, synonym_words, synonyms_in

CONFIDENT = 0.5  # share of the question's content terms the best passage must cover
FAQ_MATCH = 0.6  # share of the question's terms an FAQ's question must share to answer by itself
MAX_QUESTION = 500
QUESTION_WORDS = re.compile(
    r"请问|请教|咨询|想问|想知道|一下|什么|怎么办|怎么样|怎么|怎样|如何|哪些|哪个|哪里|哪儿|多少|是否|能否|能不能|可不可以|"
    r"可以|有没有|有无|是不是|需要|需不需要|要不要|吗|呢|吧|啊|呀|我们|我|你们|您|的|了|是|有|在|和|与|及|或|"
    # how much and when: the answer type asks for these (a quote must hold an amount, a time, a number)
    r"多久|多长时间|几天|多少天|几年|多少年|几个月|多少钱|几块钱|多少元|什么时候|何时|几号|几点|"
    r"会不会|能不能|算不算|还能|能够|能|会|算|打算|想|想要|要|应该|必须|一般"
)
FUNCTION_CHARACTERS = set("对在给把被让向从到为以于就跟同与及或和的地得了着过吗呢吧啊呀么个些这那哪谁啥几多请")
PLACES = (
    "北京",
    "天津",
    "河北",
    "山西",
    "内蒙古",
    "辽宁",
    "吉林",
    "黑龙江",
    "上海",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "广西",
    "海南",
    "重庆",
    "四川",
    "贵州",
    "云南",
    "西藏",
    "陕西",
    "甘肃",
    "青海",
    "宁夏",
    "新疆",
    "香港",
    "澳门",
    "台湾",
    "杭州",
    "宁波",
    "温州",
    "嘉兴",
    "湖州",
    "绍兴",
    "金华",
    "衢州",
    "舟山",
    "台州",
    "丽水",
)
LEAD_IN_CHARS = 200  # a parent clause up to this long is a list's lead-in, counted with each item
QUOTE_CHARS = 150  # a quote runs on from its best sentence to about this length, within the passage
QUOTES = re.compile('["“”＂「」『』]')
TITLE_REFERENCE = re.compile(r"《[^》]{0,200}》")  # another document's name says nothing about this text
WORDLIKE = re.compile(r"[\u3400-\u9fffA-Za-z0-9]")
SENTENCE = re.compile(r"[^。！？；!?;\n]+[。！？；!?;]?")

# What kind of answer a question asks for. An amount of money, a length of time or a date, or a
# number: a quote without one does not answer "多少钱" however many of the question's words it has.
NUMERAL = (
    r"(?:[0-9０-９]+(?:[.．][0-9０-９]+)?"
    r"|[零〇一二两三四五六七八九十百千万亿半]+(?:点[零〇一二三四五六七八九]+)?)"
)
NUMBERING = re.compile(
    r"第[零〇一二两三四五六七八九十百千0-9]+[条章节款项编]|[（(][零〇一二三四五六七八九十0-9]+[）)]|"
    r"(?:^|\n)\s*[一二三四五六七八九十]+[、.．]|(?:^|\n)\s*[0-9]+[、.．]"
)
ANSWER_TYPES: tuple[tuple[str, re.Pattern[str], re.Pattern[str]], ...] = (
    (
        "money",
        re.compile(r"多少钱|几块钱|多少元|多少万|多少亿|几万|给多少|补多少|奖多少|领多少|发多少|赔多少|收多少|交多少"),
        re.compile(rf"{NUMERAL}\s*(?:多)?(?:元|块|万|亿|角)|免费|不收取|不得收取|免收|全额|百分之|{NUMERAL}\s*[%％倍]"),
    ),
    (
        "time",
        re.compile(
            r"几天|多少天|几日|多少日|几个月|多少个月|几年|多少年|多久|多长时间|什么时候|何时|哪天|几号|几点|截止"
        ),
        re.compile(
            rf"{NUMERAL}\s*个?(?:工作|自然)?(?:日|天|月|年|周|星期|小时|时|分钟)|[0-9]{{4}}\s*年|"
            r"即日|当日|当天|次日|次月|当月|之日起|届满"
        ),
    ),
    (
        "number",
        re.compile(r"多少|几个|几名|几人|几次|几倍|几成|几岁|多大|比例|多高|多远|多重|多长"),
        re.compile(rf"{NUMERAL}|[%％]"),
    ),
)


@dataclass(frozen=True)
class Citation:
    """Where a quoted sentence comes from: a clause of a document, or an FAQ."""

    kind: Literal["clause", "faq"]
    text: str
    title: str
    url: str
    source: str
    document_id: int | None = None
    doc_number: str | None = None
    clause: str = ""
    status: str = PolicyStatus.in_force
    faq_id: int | None = None
    department: str | None = None
    start: int | None = None  # offsets of `text` in the document's current revision
    end: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "title": self.title,
            "document_id": self.document_id,
            "doc_number": self.doc_number,
            "clause": self.clause,
            "text": self.text,
            "status": self.status,
            "url": self.url,
            "faq_id": self.faq_id,
            "department": self.department,
            "start": self.start,
            "end": self.end,
        }


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    abstained: bool
    confidence: float
    citations: list[Citation]
    closest: list[dict[str, Any]] = field(default_factory=list)
    question_id: int | None = None
    written_by: Literal["extract", "model"] = "extract"

    def as_json(self) -> dict[str, Any]:
        return {
            "question_id": self.question_id,
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "confidence": round(self.confidence, 3),
            "citations": [c.as_json() for c in self.citations],
            "closest": self.closest,
            "written_by": self.written_by,
        }


@dataclass(frozen=True)
class Concept:
    """A content word of the question and the words that may stand for it in formal text."""

    word: str
    alternatives: tuple[str, ...]
    weight: float


def concepts(question: str) -> list[Concept]:
    """The question's content words (jieba), without question words and particles, each with its synonyms."""
    found: dict[str, Concept] = {}
    text = normalize(question)
    for word in synonym_words(text):  # a word of the synonym table is one concept, however jieba would cut it
        found[word] = Concept(word, (word, *synonyms_in(word)), 1.0)
        text = text.replace(word, " ")
    for word in jieba.cut(text):
        word = word.strip()
        if not word or QUESTION_WORDS.fullmatch(word) or not WORDLIKE.search(word) or word in found:
            continue
        if len(word) == 1 and word in FUNCTION_CHARACTERS:
            continue
        found[word] = Concept(word, (word, *synonyms_in(word)), 0.5 if len(word) == 1 else 1.0)
    return list(found.values())


def answer_type(question: str) -> tuple[str, re.Pattern[str]] | None:
    """The kind of answer a question asks for ("money", "time", "number") and what a quote must contain."""
    for name, asks, says in ANSWER_TYPES:
        if asks.search(question):
            return name, says
    return None


def gives(kind: tuple[str, re.Pattern[str]] | None, text: str) -> bool:
    """Whether a text holds an answer of that kind; clause and list numbers do not count."""
    return kind is None or kind[1].search(NUMBERING.sub(" ", text)) is not None


def places(question: str) -> list[str]:
    """Provinces and Zhejiang cities the question names: an answer must be about the same place."""
    return [place for place in PLACES if place in question]


def coverage(wanted: list[Concept], *texts: str) -> float:
    """How much of the question a text speaks to: the weighted share of concepts it contains.

    A concept counts when the text holds the word or a synonym; a word of four or more
    characters counts half when most of its character pairs occur.
    """
    if not wanted:
        return 0.0
    text = normalize(TITLE_REFERENCE.sub("", "".join(texts)))
    pairs = set(index_terms(text))
    got = 0.0
    for concept in wanted:
        if any(alternative in text for alternative in concept.alternatives):
            got += concept.weight
        elif len(concept.word) >= 4:
            own = index_terms(concept.word)
            if own and sum(term in pairs for term in own) / len(own) >= 0.5:
                got += concept.weight / 2
    return got / sum(c.weight for c in wanted)


def ask(
    session: Session,
    actor: Actor,
    home: Path,
    question: str,
    *,
    include_expired: bool = False,
    llm_url: str | None = None,
    llm_model: str = "default",
    llm_key: str | None = None,
    today: date | None = None,
    record: bool = True,
) -> Answer:
    """Answer a question with cited clauses, or decline; the question is kept for the policy office."""
    require(actor, "policy.library.read")
    question = " ".join(question.split())
    if not question:
        raise Invalid("Ask a question.", "请输入问题。")
    if len(question) > MAX_QUESTION:
        raise Invalid(f"A question may be at most {MAX_QUESTION} characters.", f"问题最多 {MAX_QUESTION} 个字。")
    answer = _answer(session, home, question, include_expired=include_expired, today=today or date.today())
    if llm_url and not answer.abstained:
        answer = _rewrite(answer, llm_url, llm_model, llm_key)
    if not record:
        return answer
    row = PolicyQuestion(
        question=question,
        normalised=_normalise(question),
        asked_by=actor.username if actor.user_id is not None else None,
        abstained=answer.abstained,
        answer=answer.answer,
        citations=[c.as_json() for c in answer.citations],
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, QuestionAsked(question_id=row.id, abstained=answer.abstained))
    return replace(answer, question_id=row.id)


def _answer(session: Session, home: Path, question: str, *, include_expired: bool, today: date) -> Answer:
    wanted = concepts(question)
    statuses = None if include_expired else (PolicyStatus.in_force.value, PolicyStatus.amended.value)
    unquoted = QUOTES.sub(" ", question)  # a question quoting a name is not a phrase search
    hits = open_index(home).search(unquoted, limit=20, kinds=("clause", "faq"), status=statuses)
    documents = _documents(session, hits)
    leads = _lead_ins(session, hits)
    named = places(question)
    usable: list[tuple[float, Hit]] = []
    for hit in hits:
        document = documents.get(hit.passage.document_id)
        if hit.passage.kind == "clause" and document is None:
            continue  # the index is ahead of a rolled-back import
        if document is not None and not include_expired and _expired(document, today):
            continue
        score = coverage(wanted, hit.passage.text, hit.passage.title, leads.get(hit.passage.key, ""))
        about = f"{hit.passage.title}{hit.passage.issuer or ''}{hit.passage.text}"
        if any(place not in about for place in named):
            score /= 2  # a question about 上海 is not answered by a 浙江 rule
        usable.append((score, hit))
    closest = _closest(hits, documents)
    faq = _faq_answer(session, wanted, usable)
    if faq is not None:
        return Answer(question, faq[0], False, faq[1], [faq[2]], closest)
    ranked = sorted(usable, key=lambda pair: -pair[0])
    best = ranked[0][0] if ranked else 0.0
    if best < CONFIDENT:
        names = "、".join(f"《{d['title']}》" for d in closest[:3])
        text = "未在政策文件库中找到能回答这个问题的条款。" + (f"相关的文件可能有：{names}。" if names else "")
        return Answer(question, text, True, best, [], closest)
    kind = answer_type(question)
    quoted = [
        _quote(session, hit, wanted, documents, kind)
        for score, hit in ranked[:5]
        if score >= max(CONFIDENT, best * 0.8) and hit.passage.kind == "clause"
    ]
    citations = [c for c in quoted if c is not None][:2]
    if not citations:
        missing = {"money": "具体金额", "time": "具体期限或时间", "number": "具体数值"}.get(kind[0] if kind else "")
        text = (
            f"找到了相关条款，但其中没有这个问题要的{missing}，不能据此回答。"
            if missing
            else "未在政策文件库中找到能回答这个问题的条款。"
        )
        names = "、".join(f"《{d['title']}》" for d in closest[:3])
        return Answer(question, text + (f"相关的文件可能有：{names}。" if names else ""), True, best, [], closest)
    body = "\n".join(
        f"根据《{c.title}》{c.doc_number or ''}{(' ' + c.clause) if c.clause else ''}：“{c.text}”" for c in citations
    )
    return Answer(question, body, False, best, citations, closest)


def _documents(session: Session, hits: list[Hit]) -> dict[int, PolicyDocument]:
    ids = {h.passage.document_id for h in hits if h.passage.kind != "faq"}
    if not ids:
        return {}
    return {d.id: d for d in session.scalars(select(PolicyDocument).where(PolicyDocument.id.in_(ids)))}


def _lead_ins(session: Session, hits: list[Hit]) -> dict[str, str]:
    """For a list item such as 第二十二条(二), its parent's lead-in ("生育子女的夫妻，可以获得下列福利待遇：").

    An item says what it grants but not to whom or when; the sentence that opens its list does.
    """
    ids = {key: located[0] for key, located in ((h.passage.key, clause_offset(h)) for h in hits) if located}
    if not ids:
        return {}
    clauses = {c.id: c for c in session.scalars(select(PolicyClause).where(PolicyClause.id.in_(set(ids.values()))))}
    wanted = {(c.revision_id, c.parent_ordinal) for c in clauses.values() if c.parent_ordinal is not None}
    if not wanted:
        return {}
    revisions = {revision for revision, _ in wanted}
    parents = {
        (c.revision_id, c.ordinal): c
        for c in session.scalars(
            select(PolicyClause).where(
                PolicyClause.revision_id.in_(revisions),
                PolicyClause.ordinal.in_({ordinal for _, ordinal in wanted}),
            )
        )
    }
    leads: dict[str, str] = {}
    for key, clause_id in ids.items():
        clause = clauses.get(clause_id)
        parent = None
        if clause is not None and clause.parent_ordinal is not None:
            parent = parents.get((clause.revision_id, clause.parent_ordinal))
        if parent is not None:
            leads[key] = parent.text if len(parent.text) <= LEAD_IN_CHARS else parent.heading
    return leads


def _expired(document: PolicyDocument, today: date) -> bool:
    return document.status == PolicyStatus.repealed or (
        document.expiry_date is not None and document.expiry_date < today
    )


def _closest(hits: list[Hit], documents: dict[int, PolicyDocument]) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    for hit in hits:
        document = documents.get(hit.passage.document_id)
        if document is None or any(d["id"] == document.id for d in seen):
            continue
        seen.append(
            {
                "id": document.id,
                "title": document.title,
                "doc_number": document.doc_number,
                "status": str(document.status),
                "url": f"/policy/documents/{document.id}",
            }
        )
    return seen[:5]


def _faq_answer(
    session: Session, wanted: list[Concept], usable: list[tuple[float, Hit]]
) -> tuple[str, float, Citation] | None:
    for _, hit in usable:
        if hit.passage.kind != "faq":
            continue
        match = coverage(wanted, hit.passage.title)
        if match < FAQ_MATCH:
            continue
        faq = session.get(PolicyFaq, int(hit.passage.key.partition(":")[2]))
        if faq is None:
            continue
        citation = Citation(
            kind="faq",
            text=faq.answer,
            title=faq.question,
            url=f"/policy/faqs/{faq.id}",
            source=faq.source,
            faq_id=faq.id,
            department=faq.department,
        )
        source = f"（{faq.department}常见问题）" if faq.department else "（常见问题）"
        return f"{faq.answer}{source}", match, citation
    return None


def _quote(
    session: Session,
    hit: Hit,
    wanted: list[Concept],
    documents: dict[int, PolicyDocument],
    kind: tuple[str, re.Pattern[str]] | None,
) -> Citation | None:
    """The best sentence of a clause passage and those after it, about QUOTE_CHARS long, with offsets.

    When the question asks for an amount, a time or a number, only a quote that holds one answers.
    """
    located = clause_offset(hit)
    document = documents.get(hit.passage.document_id)
    if located is None or document is None:
        return None
    clause = session.get(PolicyClause, located[0])
    if clause is None:
        return None
    base = located[1]
    text = hit.passage.text
    sentences = [(m.start(), m.end()) for m in SENTENCE.finditer(text) if m.group().strip()]
    if not sentences:
        return None
    scored = [(coverage(wanted, _substance(text[s:e], document)), k) for k, (s, e) in enumerate(sentences)]
    best = max(score for score, _ in scored)
    if best == 0:
        return None
    for score, k in sorted(scored, key=lambda pair: (-pair[0], pair[1])):
        if score < best / 2:
            return None  # no sentence that speaks to the question holds what it asks for
        start, end = sentences[k]
        following = k + 1
        while following < len(sentences) and end - start < QUOTE_CHARS:
            end = sentences[following][1]
            following += 1
        if gives(kind, text[start:end]):
            break
    else:
        return None
    quote = text[start:end].strip()
    offset = base - clause.start  # the passage's start inside the clause text
    return Citation(
        kind="clause",
        text=quote,
        title=document.title,
        url=f"/policy/documents/{document.id}#c{clause.ordinal}",
        source=document.source,
        document_id=document.id,
        doc_number=document.doc_number,
        clause=clause.path,
        status=str(document.status),
        start=clause.start + offset + start + (len(text[start:end]) - len(text[start:end].lstrip())),
        end=clause.start + offset + end,
    )


def _substance(sentence: str, document: PolicyDocument) -> str:
    """A sentence without the document's own title and 文号: a heading line answers nothing."""
    for own in (document.title, document.doc_number):
        if own:
            sentence = sentence.replace(own, "")
    return sentence if len(WORDLIKE.findall(sentence)) >= 8 else ""


def _rewrite(answer: Answer, url: str, model: str, key: str | None) -> Answer:
    """Let an OpenAI-compatible model word the answer from the cited passages only."""
    numbered = "\n".join(
        f"[{k}] 《{c.title}》{c.doc_number or ''} {c.clause}：{c.text}" for k, c in enumerate(answer.citations, 1)
    )
    messages = [
        {
            "role": "system",
            "content": "你是政务政策问答助手。只能依据给出的编号条款回答，不得添加条款以外的内容；"
            "每句话后用[编号]注明依据；条款不足以回答时回答“无法根据现有条款回答”。",
        },
        {"role": "user", "content": f"条款：\n{numbered}\n\n问题：{answer.question}"},
    ]
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        reply = httpx.post(
            url.rstrip("/") + "/chat/completions",
            json={"model": model, "messages": messages, "temperature": 0},
            headers=headers,
            timeout=30,
        )
        reply.raise_for_status()
        text = str(reply.json()["choices"][0]["message"]["content"]).strip()
    except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError):
        return answer
    if not text:
        return answer
    return replace(answer, answer=text, written_by="model")


def _normalise(question: str) -> str:
    return re.sub(r"[\s，。！？、,.!?；;：:“”\"'（）()]+", "", question)[:500]


def rate(session: Session, actor: Actor, question_id: int, rating: int) -> PolicyQuestion:
    """Record whether an answer helped (1) or not (-1); the last rating counts."""
    require(actor, "policy.library.read")
    if rating not in (1, -1):
        raise Invalid("rating must be 1 (helpful) or -1 (not helpful).", "评价只能是 1（有帮助）或 -1（没有帮助）。")
    row = session.get(PolicyQuestion, question_id)
    if row is None:
        raise NotFound(f"Question {question_id} does not exist.", f"问题 {question_id} 不存在。")
    row.rating, row.rated_at = rating, utcnow()
    audit.record(session, actor, AnswerRated(question_id=question_id, rating=rating))
    return row


def unanswered(session: Session, actor: Actor, *, limit: int = 50) -> list[dict[str, Any]]:
    """The most-asked questions the library could not answer, or whose answer was rated unhelpful."""
    require(actor, "policy.feedback.read")
    missed = (PolicyQuestion.abstained.is_(True)) | (PolicyQuestion.rating == -1)
    rows = session.execute(
        select(
            PolicyQuestion.normalised,
            func.min(PolicyQuestion.question),
            func.count(),
            func.max(PolicyQuestion.asked_at),
            func.sum(func.coalesce(PolicyQuestion.rating, 0)),
        )
        .where(missed)
        .group_by(PolicyQuestion.normalised)
        .order_by(func.count().desc(), func.max(PolicyQuestion.asked_at).desc())
        .limit(limit)
    ).all()
    return [
        {"question": question, "asked": int(count), "last_asked": last, "rating": int(rating or 0)}
        for _, question, count, last, rating in rows
    ]
