"""The quality-rule language (质量规则): rules as data, validated with Pydantic, compiled to engine SQL.

A rule names a check (`check`), the field or fields it looks at, and its parameters. Names follow
SodaCL and OpenMetadata where they fit. Each check belongs to one quality dimension:

completeness  not_null, not_blank
uniqueness    unique (one field or a composite key)
validity      pattern, check_digit, code_table, range, date_bounds
consistency   id_consistency (within a row), foreign_key (across resources)
timeliness    freshness

Row-wise checks compile to a pair of SQL predicates (`RowCheck`): which rows the rule looks at and
which of those fail. The service runs every row-wise rule of a version in one aggregate query with
FILTER clauses; unique, foreign_key and freshness need queries of their own.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from digigov.core.engine import quote_name, sql_literal
from digigov.core.industry import INDUSTRIES
from digigov.governance.validators import DIVISIONS, compact, validity_parts

# No control characters: names and values end up in SQL literals and in the metadata store.
FieldName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")]
Value = Annotated[str, Field(max_length=200, pattern=r"^[^\x00-\x1f]*$")]
DIMENSIONS = ("completeness", "uniqueness", "validity", "consistency", "timeliness")
DIMENSION_LABELS = {
    "completeness": "完整性",
    "uniqueness": "唯一性",
    "validity": "有效性",
    "consistency": "一致性",
    "timeliness": "及时性",
}
# GB/T 2261.1-2003 人的性别代码
SEX_CODES = {"0": "未知的性别", "1": "男性", "2": "女性", "9": "未说明的性别"}
MALE = ("1", "男", "男性", "M", "m", "male")
FEMALE = ("2", "女", "女性", "F", "f", "female")


class Rule(BaseModel):
    """What every rule has: a check, an optional name (else one is made from the check and fields)."""

    model_config = ConfigDict(extra="forbid")
    dimension: ClassVar[str]
    row_wise: ClassVar[bool] = True

    name: str | None = Field(None, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")
    enabled: bool = True

    @model_validator(mode="after")
    def _unicode_text(self) -> Rule:
        for value in self.model_dump().values():
            for text in value if isinstance(value, list) else [value]:
                if isinstance(text, str):
                    try:
                        text.encode()
                    except UnicodeEncodeError:
                        raise ValueError("text must be Unicode (no lone surrogates)") from None
        return self

    def target_fields(self) -> list[str]:
        """The fields of the checked resource the rule reads."""
        field = getattr(self, "field", None)
        return [field] if field else []

    def params(self) -> dict[str, Any]:
        """The parameters as stored with the rule (everything but check, name and fields)."""
        return self.model_dump(mode="json", exclude={"check", "name", "enabled", "field", "fields"}, exclude_none=True)

    def rule_name(self) -> str:
        """The rule's name: given, or the check and its fields, e.g. `not_null:统一社会信用代码`."""
        check: str = getattr(self, "check")  # noqa: B009  (each subclass declares its literal)
        fields = self.target_fields()
        return self.name or (f"{check}:{'+'.join(fields)}" if fields else check)


class NotNull(Rule):
    """Every row has a value."""

    dimension = "completeness"
    check: Literal["not_null"]
    field: FieldName


class NotBlank(Rule):
    """Every row has a value that is not only spaces."""

    dimension = "completeness"
    check: Literal["not_blank"]
    field: FieldName


class Unique(Rule):
    """No two rows share the value of the field, or of all fields of a composite key."""

    dimension = "uniqueness"
    row_wise = False
    check: Literal["unique"]
    fields: list[FieldName] = Field(min_length=1, max_length=10)

    @model_validator(mode="before")
    @classmethod
    def _one_field(cls, data: Any) -> Any:
        if isinstance(data, dict) and "field" in data and "fields" not in data:
            data = {**data, "fields": [data["field"]]}
            del data["field"]
        return data

    def target_fields(self) -> list[str]:
        return list(self.fields)


class Pattern(Rule):
    """Values match a regular expression (RE2, the whole value)."""

    dimension = "validity"
    check: Literal["pattern"]
    field: FieldName
    regex: str = Field(min_length=1, max_length=500, pattern=r"^[^\x00-\x1f]+$")


class CheckDigit(Rule):
    """Values pass a check-digit validator: resident ID (GB 11643), credit code (GB 32100), bank card (Luhn)."""

    dimension = "validity"
    check: Literal["check_digit"]
    field: FieldName
    validator: Literal["resident_id", "uscc", "bank_card"]


class CodeTable(Rule):
    """Values come from a named code table or an inline list."""

    dimension = "validity"
    check: Literal["code_table"]
    field: FieldName
    table: Literal["gb2260_division", "gb4754_industry", "gb2261_sex"] | None = None
    values: list[Value] | None = Field(None, min_length=1, max_length=10_000)

    @model_validator(mode="after")
    def _one_source(self) -> CodeTable:
        if (self.table is None) == (self.values is None):
            raise ValueError("give either a named table or a list of values, not both or neither")
        return self


class Range(Rule):
    """Numbers lie between min and max (inclusive); a value that is not a number fails."""

    dimension = "validity"
    check: Literal["range"]
    field: FieldName
    min: float | None = Field(None, allow_inf_nan=False)
    max: float | None = Field(None, allow_inf_nan=False)

    @model_validator(mode="after")
    def _a_bound(self) -> Range:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is above max")
        return self


class DateBounds(Rule):
    """Dates lie within bounds, or not in the future; a value that is not a date fails."""

    dimension = "validity"
    check: Literal["date_bounds"]
    field: FieldName
    not_before: date | None = None
    not_after: date | None = None
    not_in_future: bool = False

    @model_validator(mode="after")
    def _a_bound(self) -> DateBounds:
        if self.not_before is None and self.not_after is None and not self.not_in_future:
            raise ValueError("give not_before, not_after or not_in_future")
        return self


class IdConsistency(Rule):
    """A birth-date and/or sex field agrees with the resident ID (digits 7-14 the birth date, 17 odd = male)."""

    dimension = "consistency"
    check: Literal["id_consistency"]
    field: FieldName  # the resident ID
    birth_date: FieldName | None = None
    sex: FieldName | None = None

    @model_validator(mode="after")
    def _a_partner(self) -> IdConsistency:
        if self.birth_date is None and self.sex is None:
            raise ValueError("name a birth_date field, a sex field or both")
        return self

    def target_fields(self) -> list[str]:
        return [f for f in (self.field, self.birth_date, self.sex) if f]


class ForeignKey(Rule):
    """Values exist in a field of another resource's latest version (named by resource code)."""

    dimension = "consistency"
    row_wise = False
    check: Literal["foreign_key"]
    field: FieldName
    resource: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{1,63}$")
    to_field: FieldName | None = None  # the same name when not given

    def reference_field(self) -> str:
        """The field of the other resource that values must be found in."""
        return self.to_field or self.field


class Freshness(Rule):
    """The version is not older than the update cycle allows (or max_days); with a field, its newest value."""

    dimension = "timeliness"
    row_wise = False
    check: Literal["freshness"]
    field: FieldName | None = None
    max_days: int | None = Field(None, ge=1, le=36_600)


RuleSpec = Annotated[
    NotNull
    | NotBlank
    | Unique
    | Pattern
    | CheckDigit
    | CodeTable
    | Range
    | DateBounds
    | IdConsistency
    | ForeignKey
    | Freshness,
    Field(discriminator="check"),
]
CHECKS: tuple[str, ...] = ("not_null", "not_blank", "unique", "pattern", "check_digit", "code_table", "range")
CHECKS += ("date_bounds", "id_consistency", "foreign_key", "freshness")
_spec = TypeAdapter[RuleSpec](RuleSpec)


class RuleSet(BaseModel):
    """A declaration of rules, as in a YAML file: the resource, an optional threshold, the rules."""

    model_config = ConfigDict(extra="forbid")

    resource: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{1,63}$")
    threshold: float | None = Field(None, ge=0, le=1)
    rules: list[RuleSpec] = Field(max_length=500)


def spec_of(kind: str, name: str, fields: list[str], params: dict[str, Any]) -> Rule:
    """Rebuild a rule's spec from its stored row."""
    where = {"fields": fields} if kind == "unique" else ({"field": fields[0]} if fields else {})
    return _spec.validate_python({"check": kind, "name": name, **where, **params})


class RowCheck(BaseModel):
    """A row-wise rule as SQL: `checked` says which rows it looks at, `failed` which of those fail.

    `layers` are helper columns computed once per row (a compacted ID number read by many terms),
    each layer a SELECT over the one before; `joins` are LEFT JOINs of engine tables (divisions,
    birth dates) added to the SELECT that reads the last layer, where `checked` and `failed` are
    read. Helper and join names start with the rule's alias, so rules can share one scan.
    """

    checked: str
    failed: str
    layers: list[dict[str, str]] = []
    joins: str = ""


# SQL quoting is the engine's: one way to quote, named here as the rule compiler reads it.
ident = quote_name
literal = sql_literal


def text_of(name: str, types: dict[str, str]) -> str:
    """SQL for a field's value as text."""
    return ident(name) if types[name] == "string" else f"CAST({ident(name)} AS VARCHAR)"


def present(name: str, types: dict[str, str]) -> str:
    """SQL: the field has a value (for text: not only spaces)."""
    if types[name] == "string":
        # A value starting with a printable ASCII character has something trim() keeps; only the
        # rest pay for trim(), which copies the value.
        column = ident(name)
        return f"({column} IS NOT NULL AND ({column} >= '!' AND {column} < chr(127) OR trim({column}) <> ''))"
    return f"({ident(name)} IS NOT NULL)"


def date_of(name: str, types: dict[str, str]) -> str:
    """SQL for a field's value as a date: dates, timestamps, and text as 2024-01-31 or 20240131."""
    kind, column = types[name], ident(name)
    if kind == "date":
        return column
    if kind == "timestamp":
        return f"CAST({column} AS DATE)"
    text = text_of(name, types)
    return f"coalesce(try_cast(trim({text}) AS DATE), CAST(try_strptime(trim({text}), '%Y%m%d') AS DATE))"


def number_of(name: str, types: dict[str, str]) -> str:
    """SQL for a field's value as a number; text that is not a number is NULL."""
    if types[name] in {"integer", "decimal"}:
        return ident(name)
    return f"try_cast(trim({text_of(name, types)}) AS DOUBLE)"


def compacted(text: str) -> str:
    """SQL for `validators.compact` of a value, skipping the rewrite when there is nothing to remove or raise.

    Most codes are already compact, and the engine inlines the expression into every term that
    reads it, so the cheap test pays for itself many times over.
    """
    return f"CASE WHEN regexp_matches({text}, '[\\s\\-a-z]') THEN {compact(text)} ELSE {text} END"


def code_values(table: str) -> list[str]:
    """The codes of a named code table held as a list (regions are an engine table, see `row_check`)."""
    if table == "gb2261_sex":
        return list(SEX_CODES)
    if table == "gb4754_industry":
        return [row.code for row in INDUSTRIES]
    raise ValueError(table)


def row_check(rule: Rule, types: dict[str, str], alias: str) -> RowCheck:
    """Compile a row-wise rule for a version whose field types are `types`; `alias` starts its helper names."""
    field = rule.target_fields()[0]
    if isinstance(rule, NotNull):
        return RowCheck(checked="TRUE", failed=f"{ident(field)} IS NULL")
    if isinstance(rule, NotBlank):
        return RowCheck(checked="TRUE", failed=f"NOT {present(field, types)}")
    if isinstance(rule, Pattern):
        return RowCheck(
            checked=present(field, types),
            failed=f"NOT regexp_full_match({text_of(field, types)}, {literal(rule.regex)})",
        )
    if isinstance(rule, CheckDigit):
        parts = validity_parts(rule.validator, text_of(field, types), f"{alias}_")
        failed = f"NOT {parts.valid}"
        return RowCheck(checked=present(field, types), failed=failed, layers=parts.layers, joins=parts.joins)
    if isinstance(rule, CodeTable):
        value = f"trim({text_of(field, types)})"
        if rule.table == "gb2260_division":
            # a hash join: NOT IN (SELECT ...) costs several times more per row
            joins = f" LEFT JOIN {DIVISIONS} AS {alias}_r ON {alias}_r.code = {value}"
            return RowCheck(checked=present(field, types), failed=f"{alias}_r.code IS NULL", joins=joins)
        codes = rule.values if rule.values is not None else code_values(str(rule.table))
        listed = "[" + ", ".join(literal(v) for v in codes) + "]"
        return RowCheck(checked=present(field, types), failed=f"NOT list_contains({listed}, {value})")
    if isinstance(rule, Range):
        return _range(rule, field, types)
    if isinstance(rule, DateBounds):
        return _date_bounds(rule, field, types)
    if isinstance(rule, IdConsistency):
        return _id_consistency(rule, types, alias)
    raise TypeError(f"{type(rule).__name__} is not row-wise")


def _range(rule: Range, field: str, types: dict[str, str]) -> RowCheck:
    number = number_of(field, types)
    outside = [f"{number} IS NULL"]
    if rule.min is not None:
        outside.append(f"{number} < {rule.min!r}")
    if rule.max is not None:
        outside.append(f"{number} > {rule.max!r}")
    return RowCheck(checked=present(field, types), failed="(" + " OR ".join(outside) + ")")


def _date_bounds(rule: DateBounds, field: str, types: dict[str, str]) -> RowCheck:
    day = date_of(field, types)
    outside = [f"{day} IS NULL"]
    if rule.not_before is not None:
        outside.append(f"{day} < DATE '{rule.not_before.isoformat()}'")
    if rule.not_after is not None:
        outside.append(f"{day} > DATE '{rule.not_after.isoformat()}'")
    if rule.not_in_future:
        outside.append(f"{day} > current_date")
    return RowCheck(checked=present(field, types), failed="(" + " OR ".join(outside) + ")")


def _id_consistency(rule: IdConsistency, types: dict[str, str], alias: str) -> RowCheck:
    number = alias
    well_formed = (
        f"(regexp_full_match({number}, '[0-9]{{17}}[0-9X]')"
        f" AND try_strptime(substr({number}, 7, 8), '%Y%m%d') IS NOT NULL)"
    )
    looked_at, disagree = [], []
    if rule.birth_date is not None:
        born = f"CAST(try_strptime(substr({number}, 7, 8), '%Y%m%d') AS DATE)"
        looked_at.append(present(rule.birth_date, types))
        disagree.append(
            f"({present(rule.birth_date, types)} AND {date_of(rule.birth_date, types)} IS DISTINCT FROM {born})"
        )
    if rule.sex is not None:
        given = f"trim({text_of(rule.sex, types)})"
        sex = (
            f"CASE WHEN {given} IN ({', '.join(map(literal, MALE))}) THEN 1"
            f" WHEN {given} IN ({', '.join(map(literal, FEMALE))}) THEN 2 END"
        )
        from_id = f"CASE WHEN (ascii(substr({number}, 17, 1)) - 48) % 2 = 1 THEN 1 ELSE 2 END"
        looked_at.append(f"({sex}) IS NOT NULL")
        disagree.append(f"(({sex}) IS NOT NULL AND ({sex}) <> {from_id})")
    return RowCheck(
        checked=f"({well_formed} AND ({' OR '.join(looked_at)}))",
        failed="(" + " OR ".join(disagree) + ")",
        layers=[{alias: compacted(text_of(rule.field, types))}],
    )
