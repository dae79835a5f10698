"""Documents a policy text cites: by title in 《》 (with the 文号 in brackets after it, if given) or by 文号 alone."""

from __future__ import annotations

import re
from dataclasses import dataclass

from digigov.policy._docnumber import DocNumberMatch, iter_doc_numbers, normalise_doc_number


@dataclass(frozen=True)
class Citation:
    """A cited document; `text[start:end]` is the citation as written (title, then its 文号 if given)."""

    title: str | None
    doc_number: str | None
    start: int
    end: int


_TITLE = re.compile(r"《([^《》\n]{2,200})》")
_NUMBER_AFTER = re.compile(r"[ \t]*[（(]([^（）()\n]{1,80})[）)]")
_ALIAS = re.compile(r"(?:以下简称|下称|简称)\s*[“\"]?《([^《》\n]{1,30})》")


def find_citations(text: str, *, own_number: str | None = None) -> list[Citation]:
    """Every citation in order; aliases (以下简称《方案》) and the document's own 文号 are left out.

    >>> [(c.title, c.doc_number) for c in find_citations(
    ...     "根据《国务院关于加强数字政府建设的指导意见》（国发〔2022〕14号）和浙政办发[2021]5号，"
    ...     "本意见（浙政发〔2022〕20号）…", own_number="浙政发(2022)20号")]
    [('国务院关于加强数字政府建设的指导意见', '国发〔2022〕14号'), (None, '浙政办发〔2021〕5号')]
    """
    own = normalise_doc_number(own_number) if own_number else None
    numbers = list(iter_doc_numbers(text))
    aliases = {match.group(1) for match in _ALIAS.finditer(text)}
    citations = [citation for citation in _titled(text, numbers) if citation.title not in aliases]
    covered = [(citation.start, citation.end) for citation in citations]
    citations += [
        Citation(None, number.number, number.start, number.end)
        for number in numbers
        if not any(start <= number.start < end for start, end in covered)
    ]
    return sorted((c for c in citations if own is None or c.doc_number != own), key=lambda c: c.start)


def _titled(text: str, numbers: list[DocNumberMatch]) -> list[Citation]:
    citations: list[Citation] = []
    for match in _TITLE.finditer(text):
        title, end, number = match.group(1).strip(), match.end(), None
        inside = [found for found in numbers if match.start() < found.start < match.end()]
        after = _NUMBER_AFTER.match(text, match.end())
        following = [found for found in numbers if after and after.start(1) <= found.start < after.end(1)]
        if following and after:
            number, end = following[0].number, after.end()
        elif inside:
            number = inside[0].number
        citations.append(Citation(title, number, match.start(), end))
    return citations
