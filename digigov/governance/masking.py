"""Masks (脱敏规则): how a shared field's values are hidden, as DuckDB SQL expressions.

Shared data leaves the platform masked unless a grant allows clear text. Masks run set-wise in the
engine: `mask_sql` gives an expression over a column that a SELECT applies to every row at once, so
masking a version costs one scan and no Python per value. The vocabulary is Apache Ranger's
(MASK, MASK_SHOW_LAST_4, MASK_HASH, MASK_NULL, MASK_DATE_SHOW_YEAR) plus the masks Chinese practice
expects for ID numbers, names, phone numbers, e-mail addresses and addresses. `default_mask` picks a
field's mask from its detected kind and its grade.

Every mask maps NULL to NULL; lengths count characters (code points), not bytes.

`mask_value` is the same masks for one value in Python, for the few rows of a keyed lookup, where
a query in the engine would cost more than the lookup itself. It gives exactly what `mask_sql`
gives for every field type the datastore stores (tests/governance/test_masking.py compares them).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from digigov.core.engine import sql_literal

__all__ = ["KIND_MASKS", "Mask", "default_mask", "mask_sql", "mask_value", "masks_for"]


class Mask(StrEnum):
    """A way of hiding a field's values; `clear` hides nothing."""

    clear = "clear"
    id_number = "id_number"
    name = "name"
    phone = "phone"
    email = "email"
    address = "address"
    date_year = "date_year"
    hash = "hash"
    show_last_4 = "show_last_4"
    redact = "redact"
    null = "null"

    @property
    def label(self) -> str:
        """The Chinese name."""
        return LABELS[self]


LABELS: dict[Mask, str] = {
    Mask.clear: "明文",
    Mask.id_number: "证件号脱敏",
    Mask.name: "姓名脱敏",
    Mask.phone: "电话脱敏",
    Mask.email: "邮箱脱敏",
    Mask.address: "地址保留到区县",
    Mask.date_year: "日期保留年份",
    Mask.hash: "哈希",
    Mask.show_last_4: "仅显示后四位",
    Mask.redact: "字符遮盖",
    Mask.null: "置空",
}

# The mask of each detected kind (see governance.detection); organisation codes are public by law.
KIND_MASKS: dict[str, Mask] = {
    "resident_id": Mask.id_number,
    "passport": Mask.show_last_4,
    "bank_card": Mask.show_last_4,
    "plate": Mask.show_last_4,
    "mobile": Mask.phone,
    "landline": Mask.phone,
    "email": Mask.email,
    "person_name": Mask.name,
    "address": Mask.address,
    "birth_date": Mask.date_year,
    "ip": Mask.hash,
    "coordinate": Mask.hash,
    "uscc": Mask.clear,
    "org_code": Mask.clear,
}
SENSITIVE_LEVELS = {"L3", "L4"}  # fields of no known kind are hashed from L3 up

# Leftmost-first alternatives: an autonomous region (自治区, whose 区 is not a district) then the
# district or the city; else the district (区, 县, 旗); else the city; else the first 3 characters.
ADDRESS_PREFIX = (
    "(?s)^(?:[^区县旗市]*自治区[^区县旗]*[区县旗]|[^区县旗市]*自治区[^市]*市|[^区县旗]*[区县旗]|[^市]*市|.{0,3})"
)
DATE_TYPES = {"date", "timestamp"}


def _stars(count: str) -> str:
    """SQL for `count` asterisks."""
    return f"repeat('*', {count})"


def _keep_ends(text: str, head: int, tail: int) -> str:
    """SQL: the first `head` and last `tail` characters, the rest as '*'; values no longer than that all '*'."""
    length = f"length({text})"
    kept = f"{_stars(f'{length} - {head + tail}')} || right({text}, {tail})"
    if head:
        kept = f"left({text}, {head}) || {kept}"
    return f"CASE WHEN {length} > {head + tail} THEN {kept} ELSE {_stars(length)} END"


def _id_number(text: str) -> str:
    """SQL: 330102199001011234 → 330102********1234; 10 characters or fewer all '*' (nothing left to hide)."""
    return _keep_ends(text, 6, 4)


def _phone(text: str) -> str:
    """SQL: 13812345678 → 138****5678; 7 characters or fewer all '*'."""
    return _keep_ends(text, 3, 4)


def _show_last_4(text: str) -> str:
    """SQL: all but the last 4 characters as '*'."""
    return _keep_ends(text, 0, 4)


def _name(text: str) -> str:
    """SQL: 欧阳娜娜 → 欧***; a one-character name → *."""
    length = f"length({text})"
    return f"CASE WHEN {length} >= 2 THEN left({text}, 1) || {_stars(f'{length} - 1')} ELSE {_stars(length)} END"


def _redact(text: str) -> str:
    """SQL: Ranger's MASK, upper-case letters as X, lower-case as x, digits as n, the rest as *."""
    masked = f"regexp_replace({text}, '[^A-Za-z0-9]', '*', 'g')"
    for pattern, letter in (("[A-Z]", "X"), ("[a-z]", "x"), ("[0-9]", "n")):  # n after x: n is lower case
        masked = f"regexp_replace({masked}, '{pattern}', '{letter}', 'g')"
    return masked


def _email(text: str) -> str:
    """SQL: zhang.san@example.com → z***@example.com (the domain after the last @); no @ → redact."""
    local = f"regexp_replace({text}, '^([^@]?)(?s:.*)@', '\\1***@')"
    return f"CASE WHEN contains({text}, '@') THEN {local} ELSE {_redact(text)} END"


def _address(text: str) -> str:
    """SQL: the address up to its district, e.g. 浙江省杭州市西湖区文三路90号 → 浙江省杭州市西湖区."""
    return f"regexp_extract({text}, {sql_literal(ADDRESS_PREFIX)}, 0)"


def _date_year(column: str, field_type: str) -> str:
    """SQL: the year of a date, or the leading 4 digits of text; NULL for other values."""
    if field_type in DATE_TYPES:
        return f"CAST(year({column}) AS VARCHAR)"
    if field_type == "string":
        return f"CASE WHEN regexp_matches({column}, '^[0-9]{{4}}') THEN left({column}, 4) END"
    return "CAST(NULL AS VARCHAR)"


TEXT_MASKS: dict[Mask, Callable[[str], str]] = {
    Mask.id_number: _id_number,
    Mask.name: _name,
    Mask.phone: _phone,
    Mask.email: _email,
    Mask.address: _address,
    Mask.show_last_4: _show_last_4,
    Mask.redact: _redact,
}


def mask_sql(mask: Mask, column: str, field_type: str, salt: str) -> str:
    """SQL for the masked value of `column` (quoted SQL): VARCHAR, except `clear`, which keeps the column.

    `field_type` is the field's type ("string", "integer", …); `salt` prefixes the value `hash` hashes.
    """
    mask = Mask(mask)
    if mask == Mask.clear:
        return column
    if mask == Mask.null:
        return "CAST(NULL AS VARCHAR)"
    if mask == Mask.date_year:
        return _date_year(column, field_type)
    text = column if field_type == "string" else f"CAST({column} AS VARCHAR)"
    if mask == Mask.hash:
        return f"sha256({sql_literal(salt)} || {text})"
    return TEXT_MASKS[mask](text)


# ---- the same masks for one value, in Python -------------------------------------------------------

ADDRESS_RE = re.compile(ADDRESS_PREFIX)
EMAIL_RE = re.compile(r"^([^@]?)(?s:.*)@")
YEAR_RE = re.compile(r"^[0-9]{4}")


def _kept(text: str, head: int, tail: int) -> str:
    if len(text) <= head + tail:
        return "*" * len(text)
    return text[:head] + "*" * (len(text) - head - tail) + (text[-tail:] if tail else "")


def _redacted(text: str) -> str:
    text = re.sub(r"[^A-Za-z0-9]", "*", text)
    return re.sub(r"[0-9]", "n", re.sub(r"[a-z]", "x", re.sub(r"[A-Z]", "X", text)))


def _as_text(value: Any) -> str:
    """The value as DuckDB's CAST(… AS VARCHAR) writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime) and value.microsecond:
        return str(value).rstrip("0")  # DuckDB writes 10:00:00.00012, without the trailing zeros
    return str(value)  # 2024-01-31 and 2024-01-31 10:00:00 as DuckDB writes them


TEXT_VALUE_MASKS: dict[Mask, Callable[[str], str]] = {
    Mask.id_number: lambda text: _kept(text, 6, 4),
    Mask.name: lambda text: text[:1] + "*" * (len(text) - 1) if len(text) >= 2 else "*" * len(text),
    Mask.phone: lambda text: _kept(text, 3, 4),
    Mask.email: lambda text: EMAIL_RE.sub(r"\1***@", text, count=1) if "@" in text else _redacted(text),
    Mask.address: lambda text: match.group(0) if (match := ADDRESS_RE.match(text)) else "",
    Mask.show_last_4: lambda text: _kept(text, 0, 4),
    Mask.redact: _redacted,
}


def mask_value(mask: Mask, value: Any, field_type: str, salt: str) -> Any:
    """`mask_sql` for one value as Python holds it (str, int, Decimal, date, datetime, bool or None)."""
    mask = Mask(mask)
    if mask == Mask.clear:
        return value
    if value is None or mask == Mask.null:
        return None
    if mask == Mask.date_year:
        if field_type in DATE_TYPES:
            return str(value.year)
        if field_type == "string":
            return value[:4] if YEAR_RE.match(value) else None
        return None
    text = _as_text(value)
    if mask == Mask.hash:
        return hashlib.sha256((salt + text).encode()).hexdigest()
    return TEXT_VALUE_MASKS[mask](text)


def masks_for(
    levels: Mapping[str, tuple[str | None, Any]], names: Iterable[str], clear: Iterable[str] = ()
) -> dict[str, Mask]:
    """The mask of each of `names`: clear if in `clear`, else what its (kind, level) calls for, else `hash`.

    `levels` is a version's classification (`governance.classification.field_levels`); a field it
    does not know was never classified and is hashed.
    """
    shown = set(clear)
    return {
        name: Mask.clear
        if name in shown
        else (default_mask(levels[name][0], str(levels[name][1])) if name in levels else Mask.hash)
        for name in names
    }


def default_mask(kind: str | None, level: str) -> Mask:
    """The mask a field gets unless a grant allows clear text: by its kind, else by its level (L1-L4)."""
    if kind in KIND_MASKS:
        return KIND_MASKS[kind]
    return Mask.hash if level in SENSITIVE_LEVELS else Mask.clear
