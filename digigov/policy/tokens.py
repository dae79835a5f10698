"""Text analysis for policy search: normalisation, character n-grams, synonyms, 文号 and quoted phrases.

Chinese text is indexed as character bigrams of each CJK run (a one-character run stays a
unigram) plus whole ASCII words and numbers, and separately as single characters. On real policy
QA, bigrams beat jieba words (shared/research/policy-anchors.md §2.3), and neither jieba words
nor whole government terms from `terms.txt` added anything measurable on top of bigrams plus
characters (bench/policy_search.py), so they are not indexed. `TERMS` stays available as the
user dictionary for callers that segment words.

A query gets the same analysis plus the terms of its synonyms (`synonyms.txt`), so everyday words
find formal text: "老人坐公交" also searches for 老年人 and 乘坐公共交通.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from importlib import resources
from itertools import groupby

__all__ = [
    "RUN",
    "SYNONYMS",
    "QUESTION_WORDS",
    "TERMS",
    "QueryTerms",
    "analyze_query",
    "analyzed",
    "char_terms",
    "find_doc_numbers",
    "index_terms",
    "normalize",
    "normalize_doc_number",
    "query_terms",
    "quoted_phrases",
    "snippet",
    "synonym_words",
    "synonyms_in",
]

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
RUN = re.compile(f"[{CJK}]+|[a-z0-9]+")
MAX_QUERY_TERMS = 256  # a pasted page must not become a 10,000-clause query
# A synonym counts 0.3 of a word typed: enough to reach formal text, not to outrank what was typed.
SYNONYM_WEIGHT = 0.3


def _lines(name: str) -> list[str]:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


SYNONYMS: tuple[tuple[str, ...], ...] = tuple(tuple(line.split()) for line in _lines("synonyms.txt"))
TERMS: frozenset[str] = frozenset(_lines("terms.txt"))


_FULL_WIDTH = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u3000]")


def _half_width(match: re.Match[str]) -> str:
    char = match.group()
    return " " if char == "\u3000" else chr(ord(char) - 0xFEE0)


def normalize(text: str) -> str:
    """Full-width letters, digits and spaces to half-width, then lower case; one character per character.

    Full-width punctuation stays (terms skip it), so positions in the result are positions in `text`.

    >>> normalize("ＡＢＣ１２３　浙政发")
    'abc123 浙政发'
    """
    return _FULL_WIDTH.sub(_half_width, text).lower()


def _runs(text: str) -> list[str]:
    return RUN.findall(normalize(text))


def index_terms(text: str) -> list[str]:
    """The terms indexed for a text: bigrams of CJK runs, one-character runs, ASCII words and numbers.

    >>> index_terms("老年人乘坐公共交通，2022年 APP")
    ['老年', '年人', '人乘', '乘坐', '坐公', '公共', '共交', '交通', '2022', '年', 'app']
    """
    terms: list[str] = []
    for run in _runs(text):
        if len(run) == 1 or run[0] < "\u3400":
            terms.append(run)
        else:
            terms.extend(map(str.__add__, run, run[1:]))
    return terms


def analyzed(text: str) -> tuple[str, str]:
    """`index_terms` and `char_terms` of a text, each joined by spaces: what the index stores, built in one pass.

    >>> analyzed("老年人, app")
    ('老年 年人 app', '老 年 人')
    """
    bigrams: list[str] = []
    chars: list[str] = []
    for run in _runs(text):
        if run[0] < "\u3400":
            bigrams.append(run)
            continue
        bigrams.append(run if len(run) == 1 else " ".join(map(str.__add__, run, run[1:])))
        chars.append(" ".join(run))
    return " ".join(bigrams), " ".join(chars)


def char_terms(text: str) -> list[str]:
    """Single CJK characters of a text, indexed as a second field (finds one-character queries, reordered words).

    >>> char_terms("社保 app")
    ['社', '保']
    """
    return [char for run in _runs(text) if run[0] >= "\u3400" for char in run]


def synonyms_in(query: str) -> list[str]:
    """The synonyms of every everyday or formal word in a query that the query does not contain.

    Words are matched longest first, so 失业金 expands to 失业保险金 but its prefix 失业 does not.

    >>> synonyms_in("老人坐公交")
    ['老年人', '长者', '高龄老人', '乘坐公共交通', '乘公交', '乘坐公交车']
    >>> synonyms_in("失业金")
    ['失业保险金']
    """
    text = normalize(query)
    found: list[str] = []
    for word in dict.fromkeys(_SYNONYM_WORDS.findall(text)):
        for group in _GROUPS_OF[word]:
            found.extend(other for other in group if other not in text and other not in found)
    return found


def synonym_words(text: str) -> list[str]:
    """The words of the synonym table in a text, longest first where they overlap, once each.

    >>> synonym_words("老婆生孩子，老公能请几天陪产假？")
    ['老婆', '生孩子', '老公', '陪产假']
    """
    return list(dict.fromkeys(_SYNONYM_WORDS.findall(normalize(text))))


def _groups_of() -> dict[str, list[tuple[str, ...]]]:
    groups: dict[str, list[tuple[str, ...]]] = {}
    for group in SYNONYMS:
        for word in group:
            groups.setdefault(word, []).append(group)
    return groups


_GROUPS_OF = _groups_of()
_SYNONYM_WORDS = re.compile("|".join(map(re.escape, sorted(_GROUPS_OF, key=len, reverse=True))))


@dataclass(frozen=True)
class QueryTerms:
    """A query's weighted terms for the bigram field and for the character field."""

    bigrams: dict[str, float]
    chars: dict[str, float]


# Words that make a question but match nothing useful; dropping them measured +0.006 passage R@5
# on NCP and +0.008 FAQ R@1 on MSGABench. Single characters such as 的/是/有 stay: they occur
# inside real words (目的, 是否, 有限).
QUESTION_WORDS = re.compile(
    "请问|请教|想问|想知道|一下|什么|怎么办|怎么样|怎么|怎样|如何|哪些|哪个|哪里|哪儿|多少|是否|能否|能不能"
    "|可不可以|有没有|是不是|需不需要|要不要|吗|呢|吧"
)
DROP_QUESTION_WORDS = True


def analyze_query(query: str) -> QueryTerms:
    """Weighted terms of a query without its question words: typed terms by repetition, synonyms at SYNONYM_WEIGHT."""
    if DROP_QUESTION_WORDS:
        content = QUESTION_WORDS.sub(" ", query)
        query = content if RUN.search(content) else query
    bigrams = _capped(Counter(index_terms(query)))
    chars = _capped(Counter(char_terms(query)))
    for word in synonyms_in(query):
        for term in index_terms(word):
            bigrams.setdefault(term, SYNONYM_WEIGHT)
        for term in char_terms(word):
            chars.setdefault(term, SYNONYM_WEIGHT)
    return QueryTerms(bigrams=bigrams, chars=chars)


def _capped(counts: Counter[str]) -> dict[str, float]:
    return {term: float(n) for term, n in list(counts.items())[:MAX_QUERY_TERMS]}


def query_terms(query: str) -> list[str]:
    """The query's index terms (question words dropped) followed by its synonyms' terms, each once.

    >>> query_terms("失业金")
    ['失业', '业金', '业保', '保险', '险金']
    """
    return list(analyze_query(query).bigrams)


_DOC_NUMBER = re.compile(
    rf"([{CJK}]{{1,20}}?)\s*[〔\[(【（［﹝]\s*(\d{{4}})\s*[〕\])】）］﹞]\s*第?\s*0*(\d{{1,5}})\s*号"
    rf"|([{CJK}]{{0,19}}令)\s*第\s*0*(\d{{1,5}})\s*号"
)


def _doc_number(match: re.Match[str]) -> str:
    if match.group(1):
        return f"{match.group(1)}〔{match.group(2)}〕{match.group(3)}号"
    return f"{match.group(4)}第{match.group(5)}号"


def normalize_doc_number(text: str) -> str | None:
    """The canonical form of a 文号 (brackets 〔〕, no spaces or leading zeros), or None if it is not one.

    >>> normalize_doc_number("浙政发[2022] 20号"), normalize_doc_number("国令第707号"), normalize_doc_number("通知")
    ('浙政发〔2022〕20号', '国令第707号', None)
    """
    match = _DOC_NUMBER.fullmatch(normalize(text).strip())
    return _doc_number(match) if match else None


def find_doc_numbers(text: str) -> list[str]:
    """Every 文号 in a text, canonical; a longer prefix also yields its shorter tails (根据浙政发… → 浙政发…).

    >>> find_doc_numbers("按浙政发（2022）20号办")
    ['按浙政发〔2022〕20号', '浙政发〔2022〕20号', '政发〔2022〕20号', '发〔2022〕20号']
    """
    found: list[str] = []
    for match in _DOC_NUMBER.finditer(normalize(text)):
        number = _doc_number(match)
        head = match.group(1) or match.group(4)
        tail = number[len(head) :]
        for start in range(len(head) - (0 if match.group(1) else 1)):
            found.append(head[start:] + tail)
    return list(dict.fromkeys(found))


_QUOTED = re.compile(r'["＂]([^"＂]+)["＂]|“([^”]+)”|「([^」]+)」|『([^』]+)』')


def quoted_phrases(query: str) -> list[str]:
    """The phrases a query puts in double quotes (ASCII, full-width, curly or corner), normalised.

    >>> quoted_phrases('“稳岗返还” 条件 ＂免申即享＂')
    ['稳岗返还', '免申即享']
    """
    phrases = (next(group for group in match.groups() if group) for match in _QUOTED.finditer(normalize(query)))
    return [phrase.strip() for phrase in phrases if RUN.search(phrase)]


def snippet(text: str, terms: Collection[str], width: int = 160) -> str:
    """The window of at most `width` characters with the most matched terms, HTML-escaped, matches in <mark>.

    >>> snippet("老年人<b>乘坐</b>公共交通免费", {"老年", "年人", "乘坐"})
    '<mark>老年人</mark>&lt;b&gt;<mark>乘坐</mark>&lt;/b&gt;公共交通免费'
    """
    marked = _marks(text, terms)
    if len(text) <= width:
        start, end = 0, len(text)
    else:
        start = _best_start(sorted(marked), len(text), width - 2)
        end = start + width - 2
        if start == 0:
            end = width - 1
    pieces = ["…" if start > 0 else ""]
    for is_mark, group in groupby(range(start, end), key=marked.__contains__):
        span = list(group)
        chunk = html.escape(text[span[0] : span[-1] + 1], quote=False)
        pieces.append(f"<mark>{chunk}</mark>" if is_mark else chunk)
    pieces.append("…" if end < len(text) else "")
    return "".join(pieces)


def _marks(text: str, terms: Collection[str]) -> set[int]:
    """Positions of the characters that belong to an occurrence of a term (ASCII terms as whole words)."""
    normal = normalize(text)
    marked: set[int] = set()
    for term in terms:
        at = normal.find(term)
        while at >= 0:
            end = at + len(term)
            if term[0] >= "\u3400" or not (_is_word(normal, at - 1) or _is_word(normal, end)):
                marked.update(range(at, end))
            at = normal.find(term, at + 1)
    return marked


def _is_word(text: str, at: int) -> bool:
    return 0 <= at < len(text) and ("a" <= text[at] <= "z" or "0" <= text[at] <= "9")


def _best_start(marks: list[int], length: int, width: int) -> int:
    """Start of the `width` window holding the most marked positions, centred on them."""
    best, first, last, low = 0, 0, -1, 0
    for high, position in enumerate(marks):
        while position - marks[low] >= width:
            low += 1
        if high - low + 1 > best:
            best, first, last = high - low + 1, marks[low], position
    if not best:
        return 0
    slack = width - (last - first + 1)
    return max(0, min(first - slack // 2, length - width))
