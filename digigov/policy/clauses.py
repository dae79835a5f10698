"""The clause tree of a policy text: 第X编/章/节/条 (regulations) and 一、/（一）/1./（1） (normative documents).

The clauses partition the text in reading order. Each clause holds its heading and its own text
up to the next heading of any level, so a clause with sub-clauses holds only its heading and
lead-in ("第六条 …履行下列职责："); `subtree_end` gives the end of a clause with its sub-clauses.
`text[clause.start:clause.end] == clause.text` always, and the text before the first heading is
a clause with path "" (序言). Nothing but whitespace between clauses is left out.

Path syntax, as shown to citizens after the 文号 ("浙政发〔2022〕20号 二(四)"): the markers from the
top down without their punctuation — 第三章, 第十二条, 二 (for 二、), (四) (for （四）), 3 (for 3.),
(2) (for （2）), 附件1 — separated by a space, except that a bracketed marker follows directly:
"二(四)", "二(四) 3(2)", "第三章 第十二条(一)".

Headings are found at the start of a line, or after a space in a text crawled as one line
(" 一、支持疫情防控物资供应 对生产…"). A list marker counts only in sequence (its family's
number 1, or one more than the last), a 第X条/章/节/编 only if its number grows, so cross
references and stray numbers stay in the body. Families nest in the order a document uses
them; 编 > 章 > 节 > 条 always.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from digigov.policy._chinese import CHINESE_NUMERALS, chinese_int


@dataclass(frozen=True)
class Clause:
    """One heading and its own text; `parent` and `level` place it in the tree (preamble: level 0)."""

    path: str
    heading: str
    text: str
    start: int
    end: int
    level: int
    parent: int | None


_N = f"[{CHINESE_NUMERALS}]"
_MARKER = re.compile(
    rf"(?P<hashes>#{{1,6}}[ \t]*)?(?:"
    rf"第(?P<law_n>{_N}{{1,7}}|\d{{1,4}})(?P<law>编|章|节|条)(?P<sub>之{_N}{{1,3}})?"
    rf"|(?P<cn_n>{_N}{{1,4}})、"
    rf"|[（(](?P<pcn_n>{_N}{{1,4}})[）)]"
    rf"|(?P<ar_n>\d{{1,3}})(?:[.．](?!\d)|、)"
    rf"|[（(](?P<par_n>\d{{1,3}})[）)]"
    rf"|(?P<annex>附件[ \t]*(?:\d{{1,2}}|[一二三四五六七八九十]{{1,3}})?)[ \t]*(?=\n|$)"
    rf")"
)
_LINE_START = re.compile(r"(?m)^[ \t\u3000]*")
_INLINE_START = re.compile(r"(?:^|(?<=\s))")
_REFERENCE_AFTER = re.compile(r"规定|[的所中至、和或及，。；：]")
_LAW_RANK = {"编": 0, "章": 1, "节": 2, "条": 3}
_TITLE_END = re.compile(r"[。：:；]")
_HEADING_TITLE = 50  # longest heading title kept after a list marker


@dataclass(frozen=True)
class _Heading:
    family: str
    number: int
    sub: int  # 之一 → 1
    label: str  # the path component: 第三章, 二, (四), 3, (2), 附件1
    heading: str
    start: int


def clause_tree(text: str) -> list[Clause]:
    """Split `text` into clauses under its headings, in reading order.

    >>> [(c.path, c.heading, c.level) for c in clause_tree("前言。\\n一、总体要求\\n（一）指导思想。正文\\n二、任务")]
    [('', '', 0), ('一', '一、总体要求', 1), ('一(一)', '（一）指导思想', 2), ('二', '二、任务', 1)]
    """
    headings = _find_headings(text)
    clauses: list[Clause] = []
    first = headings[0].start if headings else len(text)
    if text[:first].strip():
        clauses.append(_clause(text, "", "", _skip_space(text, 0), first, 0, None))
    stack: list[tuple[_Heading, int]] = []  # open headings and their clause indexes
    for index, heading in enumerate(headings):
        _close(stack, heading)
        parent = stack[-1][1] if stack else None
        end = headings[index + 1].start if index + 1 < len(headings) else len(text)
        path = _path([open_heading.label for open_heading, _ in stack] + [heading.label])
        clauses.append(_clause(text, path, heading.heading, heading.start, end, len(stack) + 1, parent))
        stack.append((heading, len(clauses) - 1))
    return clauses


def subtree_end(clauses: list[Clause], index: int) -> int:
    """Where the clause at `index` ends together with all its sub-clauses."""
    level = clauses[index].level
    following = (clause for clause in clauses[index + 1 :] if clause.level <= level)
    return next((clause.start for clause in following), clauses[-1].end)


def _clause(text: str, path: str, heading: str, start: int, end: int, level: int, parent: int | None) -> Clause:
    end = start + len(text[start:end].rstrip())
    return Clause(path, heading, text[start:end], start, end, level, parent)


def _skip_space(text: str, start: int) -> int:
    return start + len(text[start:]) - len(text[start:].lstrip())


def _path(labels: list[str]) -> str:
    path = ""
    for label in labels:
        path += label if not path or label.startswith("(") else f" {label}"
    return path


def _close(stack: list[tuple[_Heading, int]], heading: _Heading) -> None:
    """Pop the open headings that `heading` ends: its own family's, or for 编章节条 every lower rank."""
    if heading.family == "annex":
        stack.clear()
        return
    families = [open_heading.family for open_heading, _ in stack]
    if heading.family in families:
        del stack[families.index(heading.family) :]
    elif heading.family in _LAW_RANK:
        rank = _LAW_RANK[heading.family]
        while stack and _LAW_RANK.get(stack[-1][0].family, rank) >= rank:
            stack.pop()


# ---- finding headings ----------------------------------------------------------------------


def _find_headings(text: str) -> list[_Heading]:
    inline = "\n" not in text.strip()
    starts = _INLINE_START if inline else _LINE_START
    last: dict[str, tuple[int, int]] = {}
    headings: list[_Heading] = []
    for position in starts.finditer(text):
        match = _MARKER.match(text, position.end())
        heading = _heading(text, match, inline) if match else None
        if heading and _in_sequence(heading, last.get(heading.family)):
            last[heading.family] = (heading.number, heading.sub)
            headings.append(heading)
    return headings


def _in_sequence(heading: _Heading, last: tuple[int, int] | None) -> bool:
    if heading.family == "annex" or heading.number == 1 and not heading.sub:
        return True
    if last is None:
        return heading.family in ("条", "章")  # an excerpt of a regulation may start anywhere
    if heading.family in _LAW_RANK:
        return (heading.number, heading.sub) > last
    return heading.number == last[0] + 1


def _heading(text: str, match: re.Match[str], inline: bool) -> _Heading | None:
    groups = {name: value for name, value in match.groupdict().items() if value}
    rest = text[match.end() : _line_end(text, match.end())]
    if "annex" in groups:
        label = re.sub(r"\s", "", groups["annex"])
        return _Heading("annex", 1, 0, label, label, match.start())
    if "law" in groups:
        return _law_heading(match, groups, " ".join(rest.split()[:1]) if inline else rest)
    family = next(name for name in ("cn_n", "pcn_n", "ar_n", "par_n") if name in groups)
    number = chinese_int(groups[family])
    if number is None or (inline and family == "ar_n" and not rest[:1].strip()):
        return None
    label = {"cn_n": "{}", "pcn_n": "({})", "ar_n": "{}", "par_n": "({})"}[family].format(groups[family])
    marker = text[match.start() : match.end()].strip()
    return _Heading(family, number, 0, label, marker + _heading_title(rest, inline), match.start())


def _law_heading(match: re.Match[str], groups: dict[str, str], rest: str) -> _Heading | None:
    kind, number = groups["law"], chinese_int(groups["law_n"])
    if number is None or (kind == "条" and _REFERENCE_AFTER.match(rest)):  # 第十条规定的… is a reference
        return None
    sub = chinese_int(groups["sub"][1:]) if "sub" in groups else 0
    label = f"第{groups['law_n']}{kind}{groups.get('sub', '')}"
    heading = label if kind == "条" else " ".join(f"{label} {rest}".split())
    return _Heading(kind, number, sub or 0, label, heading, match.start())


def _heading_title(rest: str, inline: bool) -> str:
    """The words after a list marker that name the clause: up to 。 or ：, or the whole short line."""
    if inline:
        rest = rest.split(" ", 1)[0]
    end = _TITLE_END.search(rest)
    if end and end.start() <= _HEADING_TITLE:
        return rest[: end.start()].strip()
    return rest.strip() if len(rest.strip()) <= _HEADING_TITLE else ""


def _line_end(text: str, start: int) -> int:
    end = text.find("\n", start)
    return len(text) if end == -1 else end
