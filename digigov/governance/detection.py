"""What each field of a version holds: sensitive kinds detected from the field's name and its values.

One aggregate query over the version (every row up to `SAMPLE_ROWS`, an even spread of rows
beyond) counts, per field, the values that match each kind: check digits for resident ID numbers,
credit codes, organisation codes and bank cards (so a column of years is not a card number and
random 18-character strings are not ID numbers), patterns for the rest. A name hint (身份证号,
手机, 地址 …) lowers the share of matching values a kind needs, but a name alone never decides:
a column named 邮箱 of yes/no flags is not an e-mail column.

Masked values as publishers write them (`张*`, `138****5678`, `330102********1234`) count for
their kind, and the share of them is kept, since a masked column is less sensitive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from digigov.core.engine import cursor, quote_name, sql_literal
from digigov.governance.validators import load_check_tables, luhn_valid, resident_id_valid, uscc_valid

SAMPLE_ROWS = 20_000  # beyond this, an even spread of rows: shares are estimates over `sampled` values
ACCEPT_BY_VALUES = 0.8  # share of non-empty values a kind needs when the name says nothing
ACCEPT_BY_NAME = 0.5  # ... when the field's name points at the kind
WEAK_BY_VALUES = 0.9  # kinds a pattern alone cannot pin down need more when the name says nothing

# The 300 most common surnames (and a few compound ones, checked on their first character).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季"
    "裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦"
    "戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻"
    "苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练"
    "廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿"
    "鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由欧司上"
)

# Field names that point at a kind (matched case-insensitively anywhere in the name).
NAME_HINTS: dict[str, str] = {
    "resident_id": r"身份证|公民身份号码|身份号码|证件号码|证件号|id_?card|id_?no\b|sfzh",
    "uscc": r"统一社会信用代码|社会信用代码|信用代码|uscc|credit_?code|tyshxydm",
    "org_code": r"组织机构代码|机构代码|法人代码|org_?code|jgdm",
    "mobile": r"手机|移动电话|联系电话|联系方式|电话|mobile|phone|cell",
    "landline": r"座机|固定电话|固话|办公电话|联系电话|电话|tel\b|phone",
    "email": r"邮箱|电子邮件|电子信箱|e-?mail|mail",
    "bank_card": r"银行卡|银行账号|卡号|账号|帐号|bank|card_?no|account",
    "person_name": r"姓名|名字|联系人|法定代表人|法人代表|负责人|申请人|经办人|户主|^name$|person",
    "address": r"地址|住址|住所|居住地|户籍地|经营场所|address|addr",
    "plate": r"车牌|号牌|plate",
    "passport": r"护照|passport",
    "ip": r"^ip$|ip地址|ip_?addr|_ip$|^ip_",
    "coordinate": r"经度|纬度|坐标|经纬|^lng$|^lon$|^lat$|^jd$|^wd$|longitude|latitude|gps",
    "birth_date": r"出生|生日|birth|dob|^csrq$",
}

# When two kinds match about as well, the more specific wins (check digits before patterns).
PRIORITY = [
    "resident_id",
    "uscc",
    "org_code",
    "bank_card",
    "passport",
    "mobile",
    "plate",
    "ip",
    "email",
    "coordinate",
    "landline",
    "birth_date",
    "address",
    "person_name",
]
WEAK = {"person_name", "landline", "passport", "address"}
NAMED_ONLY = {"birth_date"}  # a date is a birth date only where the name says so
NEAR_TIE = 0.02
MAX_CODE = 40  # longer values are never codes, numbers or plates: they are not compacted
MIN_VARIETY = 0.3  # distinct values per value a weak kind needs when the name says nothing ...
MIN_VALUES_FOR_VARIETY = 20  # ... in a field with at least this many values

# Cheap shapes that spare most values the check-digit arithmetic (CASE evaluates it only where they hold).
SHAPES = {
    "resident_id": "[0-9]{6}(?:[0-9]{8}|\\*{8})[0-9]{3}[0-9X]",
    "uscc": "[0-9A-Z]{18}",
    "org_code": "[0-9A-Z]{8}[0-9X]",
    "bank_card": "[0-9]{16,19}",
    "birth_date": "(?:18|19|20)[0-9]{2}(?:[0-9]{4}|/[0-9]{1,2}/[0-9]{1,2}|年[0-9]{1,2}月[0-9]{1,2}日)",
}

# Per kind: measured on the compacted value (else the trimmed one), and the lengths it allows.
LENGTHS: dict[str, tuple[bool, int, int]] = {
    "resident_id": (True, 18, 18),
    "uscc": (True, 18, 18),
    "org_code": (True, 9, 9),
    "mobile": (True, 11, 14),
    "landline": (False, 7, 20),
    "email": (False, 5, 100),
    "bank_card": (True, 16, 19),
    "person_name": (False, 2, 4),
    "address": (False, 6, 120),
    "plate": (True, 7, 8),
    "passport": (True, 8, 10),
    "ip": (False, 7, 39),
    "coordinate": (False, 9, 50),
    "birth_date": (False, 8, 11),
}

HAN = r"[\x{4e00}-\x{9fa5}]"
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"


@dataclass(frozen=True)
class Detection:
    """The verdict for one field: its kind (or None), how sure, and the share of values that matched."""

    field: str
    kind: str | None
    confidence: float
    match_share: float
    masked_share: float  # of the matching values, the share already masked by the publisher
    sampled: int  # non-empty values the shares were computed over
    by_name: bool


def hinted_kinds(name: str) -> set[str]:
    """The kinds a field's name points at.

    >>> sorted(hinted_kinds("联系电话"))
    ['landline', 'mobile']
    >>> sorted(hinted_kinds("企业名称"))
    []
    """
    lowered = name.lower()
    return {kind for kind, pattern in NAME_HINTS.items() if re.search(pattern, lowered)}


def _string_checks() -> dict[str, tuple[str, str | None]]:
    """Per kind: SQL that a value matches (clear or masked), and that it is masked, where masks exist.

    `s` is the trimmed value, `c` the compacted one (no spaces, hyphens or dots, upper case;
    empty for values too long to be a code). Each check starts with a length test, which
    DuckDB evaluates first and which spares most values the costly part.
    """
    s, c = "s", "c"
    surname = f"strpos({sql_literal(SURNAMES)}, left({s}, 1)) > 0"
    checks = {
        "resident_id": (
            f"({resident_id_valid(c)} OR regexp_full_match({c}, '[0-9]{{6}}\\*{{8}}[0-9]{{3}}[0-9X]'))",
            f"regexp_full_match({c}, '[0-9]{{6}}\\*{{8}}[0-9]{{3}}[0-9X]')",
        ),
        "uscc": (uscc_valid(c), None),
        "org_code": (_org_code_valid(c), None),
        "mobile": (
            f"regexp_full_match({c}, '(\\+?86)?1[3-9][0-9](?:[0-9]{{8}}|\\*{{4}}[0-9]{{4}})')",
            f"strpos({c}, '*') > 0",
        ),
        "landline": (
            f"regexp_full_match({s}, '(?:\\(?0[0-9]{{2,3}}\\)?[- ]?)[2-9][0-9]{{6,7}}(?:[-转#][0-9]{{1,6}})?')",
            None,
        ),
        "email": (
            f"regexp_full_match({s}, '[A-Za-z0-9._%+\\-]+@[A-Za-z0-9\\-]+(?:\\.[A-Za-z0-9\\-]+)*\\.[A-Za-z]{{2,}}')",
            None,
        ),
        "bank_card": (f"(length({c}) >= 16 AND {luhn_valid(c)})", None),
        "person_name": (
            f"({surname} AND (regexp_full_match({s}, '{HAN}{{2,4}}')"
            f" OR regexp_full_match({s}, '{HAN}[*＊]{{1,3}}{HAN}?')))",
            f"regexp_matches({s}, '[*＊]')",
        ),
        "address": (
            f"(length({s}) BETWEEN 6 AND 120"
            f" AND regexp_matches({s}, '(省|市|区|县|旗|镇|乡|街道).*"
            f"(路|街|道|巷|弄|号|村|组|幢|栋|楼|室|大厦|广场|园)')"
            f" AND NOT regexp_matches({s}, '(公司|集团|中心|委员会|协会|学校|医院)$'))",
            None,
        ),
        "plate": (
            f"regexp_full_match({c}, '[{PROVINCES}][A-HJ-NP-Z][A-HJ-NP-Z0-9]{{4,5}}[A-HJ-NP-Z0-9挂学警港澳]')",
            None,
        ),
        "passport": (f"regexp_full_match({c}, '(?:E[0-9]{{8}}|E[A-HJ-NP-Z][0-9]{{7}}|[GDSP]E?[0-9]{{7,8}})')", None),
        "ip": (
            f"regexp_full_match({s}, '(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{{2}}|[1-9]?[0-9])\\.){{3}}"
            f"(?:25[0-5]|2[0-4][0-9]|1[0-9]{{2}}|[1-9]?[0-9])|(?:[0-9A-Fa-f]{{1,4}}:){{7}}[0-9A-Fa-f]{{1,4}}')",
            None,
        ),
        "coordinate": (
            f"regexp_full_match({s}, '-?[0-9]{{1,3}}\\.[0-9]{{3,}}\\s*[,，]\\s*-?[0-9]{{1,3}}\\.[0-9]{{3,}}')",
            None,
        ),
        "birth_date": (
            f"(try_strptime({s}, ['%Y-%m-%d', '%Y%m%d', '%Y/%m/%d', '%Y年%m月%d日', '%Y.%m.%d'])"
            " BETWEEN TIMESTAMP '1900-01-01' AND current_date)",
            None,
        ),
    }
    guarded = {}
    for kind, (matches, masked) in checks.items():
        on_compact, low, high = LENGTHS[kind]
        guard = f"length({c if on_compact else s}) BETWEEN {low} AND {high}"
        if kind in SHAPES:
            guard += f" AND regexp_full_match({c}, '{SHAPES[kind]}')"
        guarded[kind] = (f"(CASE WHEN {guard} THEN {matches} ELSE false END)", masked)
    return guarded


def _org_code_valid(c: str) -> str:
    """SQL: is `c` an organisation code (GB 11714): 8 characters and a MOD 11 check character?"""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = " + ".join(f"{w} * (strpos('{alphabet}', substr({c}, {k + 1}, 1)) - 1)" for k, w in enumerate(weights))
    check = f"(11 - ({total}) % 11)"
    expected = f"CASE {check} WHEN 10 THEN 'X' WHEN 11 THEN '0' ELSE CAST({check} AS VARCHAR) END"
    return f"coalesce(regexp_full_match({c}, '[0-9A-Z]{{8}}[0-9X]') AND {expected} = substr({c}, 9, 1), false)"


def _typed_checks(column: str, field_type: str, name: str) -> dict[str, str]:
    """Checks for a number or date column: coordinates and birth dates, only where the name says so."""
    hints = hinted_kinds(name)
    if field_type in {"integer", "decimal"} and "mobile" in hints:
        # a spreadsheet saved the numbers as numbers (13812345678.0)
        return {"mobile": f"({column} BETWEEN 13000000000 AND 19999999999 AND {column} = floor({column}))"}
    if field_type == "decimal" and "coordinate" in hints:
        return {"coordinate": f"({column} BETWEEN -180 AND 180 AND {column} <> round({column}, 2))"}
    if field_type in {"date", "timestamp"} and "birth_date" in hints:
        return {"birth_date": f"(CAST({column} AS DATE) BETWEEN DATE '1900-01-01' AND current_date)"}
    return {}


@dataclass(frozen=True)
class _Counts:
    present: int
    distinct: int
    matches: dict[str, tuple[int, int]]  # per kind checked: values matching, of which masked


def detect_fields(parquet: Path, columns: list[dict[str, str]], *, rows: int) -> list[Detection]:
    """Detect what every field of a version holds, in one pass of the engine over (a spread of) its rows.

    Text fields are unpivoted into one long relation of (field, value), so the query has the
    same few aggregates however many fields there are.
    """
    step = max(1, -(-rows // SAMPLE_ROWS))
    source = f"read_parquet({sql_literal(str(parquet))}, file_row_number = true)"
    spread = f" WHERE file_row_number % {step} = 0" if step > 1 else ""
    texts = [c["name"] for c in columns if c["type"] == "string"]
    with cursor() as con:
        load_check_tables(con)
        counts = _count_texts(con, texts, source, spread) if texts else {}
        counts.update(_count_typed(con, columns, source, spread))
    empty = _Counts(0, 0, {})
    return [_decide(c["name"], counts.get(c["name"], empty)) for c in columns]


def _count_texts(con: duckdb.DuckDBPyConnection, names: list[str], source: str, spread: str) -> dict[str, _Counts]:
    checks = _string_checks()
    parts = ["count(*) FILTER (WHERE s <> '')", "approx_count_distinct(nullif(s, ''))"]
    for matches, masked in checks.values():
        parts.append(f"count(*) FILTER (WHERE {matches})")
        parts.append(f"count(*) FILTER (WHERE {matches} AND {masked})" if masked else "0")
    picked = ", ".join(quote_name(name) for name in names)
    sql = (
        f"SELECT name, {', '.join(parts)} FROM ("
        f"SELECT name, trim(v) AS s, CASE WHEN length(v) <= {MAX_CODE}"
        f" THEN upper(regexp_replace(v, '[\\s\\-·.]', '', 'g')) ELSE '' END AS c"
        f" FROM (UNPIVOT (SELECT {picked} FROM {source}{spread}) ON COLUMNS(*) INTO NAME name VALUE v)"
        f") GROUP BY name"
    )
    out: dict[str, _Counts] = {}
    for row in con.execute(sql).fetchall():
        values = [int(v) for v in row[1:]]
        found = {kind: (values[2 + 2 * k], values[3 + 2 * k]) for k, kind in enumerate(checks)}
        out[str(row[0])] = _Counts(values[0], values[1], found)
    return out


def _count_typed(
    con: duckdb.DuckDBPyConnection, columns: list[dict[str, str]], source: str, spread: str
) -> dict[str, _Counts]:
    out = {}
    for column in columns:
        if column["type"] == "string":
            continue
        raw = quote_name(column["name"])
        checks = _typed_checks(raw, column["type"], column["name"])
        parts = [f"count({raw})", f"approx_count_distinct({raw})"]
        parts += [f"count(*) FILTER (WHERE {check})" for check in checks.values()]
        found = con.execute(f"SELECT {', '.join(parts)} FROM {source}{spread}").fetchone() or ()
        values = [int(v) for v in found]
        out[column["name"]] = _Counts(values[0], values[1], {k: (values[2 + i], 0) for i, k in enumerate(checks)})
    return out


def _decide(name: str, counts: _Counts) -> Detection:
    """Pick the kind whose values match well enough (less is needed where the name agrees)."""
    hints = hinted_kinds(name)
    present = counts.present
    shares = (
        {
            k: (matched / present, masked / matched if matched else 0.0)
            for k, (matched, masked) in counts.matches.items()
        }
        if present
        else {}
    )
    varied = present < MIN_VALUES_FOR_VARIETY or counts.distinct / present >= MIN_VARIETY
    accepted = []
    for kind, (share, _) in shares.items():
        if kind in NAMED_ONLY and kind not in hints:
            continue
        if kind in hints:
            need = ACCEPT_BY_NAME
        elif kind in WEAK:
            if not varied:  # a handful of values repeated (园区, 区县) are categories, not names or addresses
                continue
            need = WEAK_BY_VALUES
        else:
            need = ACCEPT_BY_VALUES
        if share >= need and share > 0:
            accepted.append(kind)
    phones = ("mobile", "landline")
    if (  # a contact column holding both (联系电话): phone numbers as a whole, named after the more common
        not accepted
        and set(phones) <= hints.intersection(shares)
        and shares["mobile"][0] + shares["landline"][0] >= ACCEPT_BY_NAME
    ):
        accepted.append(max(phones, key=lambda k: shares[k][0]))
    if not accepted:
        best = max((share for share, _ in shares.values()), default=0.0)
        return Detection(name, None, 0.0, round(best, 4), 0.0, present, False)
    top = max(shares[k][0] for k in accepted)
    kind = min((k for k in accepted if shares[k][0] >= top - NEAR_TIE), key=PRIORITY.index)
    share, masked = shares[kind]
    by_name = kind in hints
    confidence = share * (0.85 if kind in WEAK else 1.0)
    confidence = min(1.0, confidence + 0.1) if by_name else confidence * 0.95
    return Detection(name, kind, round(confidence, 4), round(share, 4), round(masked, 4), present, by_name)
