"""Remove page furniture from scraped policy pages without touching the body text.

A line is furniture when it is made only of widget words (精确检索 开始检索, 打印本页 关闭窗口,
扫一扫在手机打开当前页 …), or is a footer, breadcrumb, editor credit, page-statistics or 加盟
advert line. A title repeated at the top of the page is kept once. Whitespace is normalised
(indentation and runs of spaces, entity debris like &nbsp;, at most one empty line in a row)
and ASCII punctuation that sits against Chinese text is written full-width (, : ; ? ! ( )),
which changes no meaning: "县(市、区)人民政府," becomes "县（市、区）人民政府，", while
"1,000" and "8:30" stay as they are. Full-width letters and digits become ASCII.
"""

from __future__ import annotations

import re

_HAN = r"\u3400-\u9fff\uf900-\ufaff"
_CJK_PUNCT = "，。、；：？！“”‘’（）《》〔〕【】〈〉「」『』…—"

_WIDGET_WORDS = (
    "扫一扫在手机打开当前页|在手机上打开当前页|在手机打开当前页|扫一扫|清除所有标记|精确检索|开始检索|高级检索|全文检索"
    "|站内搜索|站内检索|搜索|检索|打印本页|打印此页|打印正文|打印|关闭窗口|关闭本页|关闭|收藏本页|加入收藏|收藏"
    "|分享到|分享|返回顶部|回到顶部|返回首页|网站首页|首页|网站地图|联系我们|无障碍浏览|无障碍|适老化|长者模式"
    "|繁体版|简体版|繁體|简体|English|手机版|移动版|登录|注册|微信|微博|上一篇|下一篇|相关链接|相关文章|纠错"
    "|字号|字体|默认|视力保护色|保护视力色|大|中|小|请输入关键字|请输入关键词|关键词|关键字|查询|确定|重置"
)
_WIDGET_LINE = re.compile(rf"(?:\s|[|｜/\\·•:：>＞»›\[\]【】()（）]|{_WIDGET_WORDS})+")
_FONT_SIZE = re.compile(r"字[号体]")
_SIZE_WORDS = frozenset("大中小")

_FURNITURE_LINES = [
    re.compile(p)
    for p in (
        r"(?:加盟|招商|代理)\S{0,4}(?:电话|热线)\s*[:：]?\s*[\d(（]|微信同号|加盟.{0,12}\d{3}[-\s]?\d{4}",  # adverts
        r"^[\[【（(]?\s*(?:网络|责任|网站)?编辑\s*[:：].{0,40}$",
        r"^(?:当前位置|您现在的位置|你现在的位置|您的位置|你的位置|所在位置)\s*[:：]",
        r"^首页\s*[>＞»›/]",
        r"ICP\s*备|ICP证|公网安备|网站标识码|^版权所有|版权所有\s*[:：©(（]|Copyright|\(c\)\s*\d{4}|©",
        r"^(?:浏览次数|访问次数|阅读次数|点击次数|点击数|阅读数|浏览量)\s*[:：]",
        r"(?:分辨率|浏览器).{0,20}(?:浏览|访问)",
    )
]
# Widgets that one-line crawls (the NCP corpus) glue into the text; removed wherever they stand.
_INLINE_FURNITURE = re.compile(
    r"扫一扫在手机打开当前页|清除所有标记|清除选中的标记|错误类型\s*无错字\s*-?\s*写作（在线版）"
    r"|[\[【]\s*(?:网络编辑|责任编辑|信息审核|审核|校对)\s*[:：][^\]】\n]{0,20}[\]】]"
    r"|[\[【]\s*(?:打印本页|打印此页|打印|关闭窗口|关闭|收藏本页|收藏|返回顶部)\s*[\]】]"
    r"|(?:责任编辑|网络编辑)\s*[:：]\s*[\w·]{0,8}\s*$"
)
_LONG_LINE = 160  # footer and advert rules apply only to lines shorter than this
_PAGE_FIELDS = re.compile(r"(?:发布时间|发布日期|信息来源|来源|作者|浏览次数|点击数|访问量|字号)\s*[:：]")
_FOOTER_FIELDS = re.compile(
    r"(?:主办单位|承办单位|主办|承办|协办|技术支持|运维单位|网站维护|联系电话|地址|邮编)\s*[:：]"
)
_ENTITIES = re.compile(r"&(?:nbsp|ensp|emsp|thinsp|sp|amp;nbsp)(?:;|(?=\s|$))", re.I)
_SPACES = re.compile(r"[ \t\u00a0\u2002\u2003\u2009\u200b\u3000\ufeff]+")
_FULLWIDTH_ALNUM = re.compile(r"[０-９Ａ-Ｚａ-ｚ]")
_TO_FULLWIDTH = {",": "，", ":": "：", ";": "；", "?": "？", "!": "！"}
_ASCII_PUNCT = re.compile(r"(?<=[" + _HAN + _CJK_PUNCT + r"])[,:;?!]")
_PARENS = re.compile(r"(?<![(])\(([^()\n]{1,80})\)")
_CHINESE = re.compile("[" + _HAN + _CJK_PUNCT + "]")
_HEADER_LINES = 8  # a repeated title is looked for among the first lines only


def strip_furniture(text: str) -> str:
    """The text without page furniture, one paragraph per line, punctuation normalised.

    >>> strip_furniture("加盟电话:152-6623-5191\\n精确检索 开始检索\\n关于X的通知\\n\\n关于X的通知\\n县(市、区)政府:")
    '关于X的通知\\n\\n县（市、区）政府：'
    """
    raw = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = [(_normalise_line(line), bool(line.strip())) for line in raw]
    kept = [line for line, had_text in lines if not is_furniture(line) and (line or not had_text)]
    return "\n".join(_squeeze_blank_lines(_drop_repeated_title(kept))).strip("\n")


def is_furniture(line: str) -> bool:
    """Whether a (normalised) line is page furniture rather than document text.

    >>> is_furniture("【打印本页】【关闭窗口】"), is_furniture("[网络编辑：张三]"), is_furniture("一、总体要求")
    (True, True, False)
    """
    if not line:
        return False
    if _WIDGET_LINE.fullmatch(line) and not _lone_size_words(line):
        return True
    if len(line) >= _LONG_LINE:
        return False
    if any(pattern.search(line) for pattern in _FURNITURE_LINES):
        return True
    return len(_PAGE_FIELDS.findall(line)) >= 2 or len(_FOOTER_FIELDS.findall(line)) >= 2


def _lone_size_words(line: str) -> bool:
    """A line of only 大/中/小 with no 字号 next to it is text (a table cell), not the font widget."""
    return not _FONT_SIZE.search(line) and any(char in _SIZE_WORDS for char in line)


def _normalise_line(line: str) -> str:
    line = _INLINE_FURNITURE.sub(" ", _ENTITIES.sub(" ", line))
    line = _SPACES.sub(" ", line).strip()
    line = _FULLWIDTH_ALNUM.sub(lambda match: chr(ord(match.group()) - 0xFEE0), line)
    line = _PARENS.sub(lambda match: _widen_parens(line, match), line)
    return _ASCII_PUNCT.sub(lambda match: _TO_FULLWIDTH[match.group()], line)


def _widen_parens(line: str, match: re.Match[str]) -> str:
    """（…） for a pair that holds or touches Chinese text: "县(市、区)", "浙政发(2022)20号"; not "(1)" alone."""
    before = line[match.start() - 1 : match.start()]
    after = line[match.end() : match.end() + 1]
    if _CHINESE.search(match.group(1)) or _CHINESE.match(before) or _CHINESE.match(after):
        return f"（{match.group(1)}）"
    return match.group()


def _drop_repeated_title(lines: list[str]) -> list[str]:
    """Scraped pages often print the title twice (page header, then document); keep the first."""
    seen: set[str] = set()
    kept: list[str] = []
    content = 0
    for line in lines:
        if line and content < _HEADER_LINES:
            content += 1
            if line in seen:
                continue
            seen.add(line)
        kept.append(line)
    return kept


def _squeeze_blank_lines(lines: list[str]) -> list[str]:
    squeezed: list[str] = []
    for line in lines:
        if line or (squeezed and squeezed[-1]):
            squeezed.append(line)
    return squeezed
