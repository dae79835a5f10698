"""Sharing shapes: the vocabularies (access kinds, states) and the API's bodies and replies."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from digigov.core.types import UtcDateTime

Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")]
Text = Annotated[str, Field(min_length=1, max_length=2000, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$")]
Value = Annotated[str, Field(max_length=200, pattern=r"^[^\x00-\x1f]*$")]
Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{1,63}$")]
MAX_DAYS = 3 * 366  # a grant lasts at most three years; renewal is a new request


class Access(StrEnum):
    """How the consumer will use the data."""

    lookup = "lookup"  # rows by a key value the consumer already holds
    verify = "verify"  # 核验: do these values belong together? yes or no, no data returned
    query = "query"  # rows by filters, a page at a time
    subscribe = "subscribe"  # each new version's changed rows

    @property
    def label(self) -> str:
        return {"lookup": "按键查询", "verify": "核验", "query": "批量查询", "subscribe": "订阅"}[self.value]


class RequestState(StrEnum):
    pending_source = "pending_source"
    pending_platform = "pending_platform"
    approved = "approved"
    refused = "refused"

    @property
    def label(self) -> str:
        return {
            "pending_source": "待数源部门审核",
            "pending_platform": "待平台审核",
            "approved": "已批准",
            "refused": "未批准",
        }[self.value]


class GrantState(StrEnum):
    approved = "approved"  # no credential yet
    provisioned = "provisioned"
    revoked = "revoked"
    expired = "expired"

    @property
    def label(self) -> str:
        return {"approved": "待领取凭证", "provisioned": "已开通", "revoked": "已撤销", "expired": "已到期"}[self.value]


class ShareRequestCreate(BaseModel):
    """What a consuming department asks for: fields, how it will use them, why, on what basis, how long."""

    resource_code: Code
    fields: Annotated[list[Name], Field(min_length=1, max_length=200)]
    access: Access
    purpose: Text
    legal_basis: Text
    key_field: Name | None = Field(None, description="The field lookups go by (needed for lookup access).")
    clear_fields: Annotated[list[Name], Field(max_length=200)] = Field(
        default_factory=list, description="Fields asked for in clear text instead of their mask."
    )
    starts_on: date | None = Field(None, description="Default: today.")
    days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = 365
    expected_daily_calls: Annotated[int, Field(ge=1, le=10_000_000)] = 1000

    @field_validator("fields", "clear_fields")
    @classmethod
    def _distinct(cls, names: list[str]) -> list[str]:
        return list(dict.fromkeys(n.strip() for n in names))


class Decision(BaseModel):
    """An approval or a refusal; a refusal needs its reason. The platform may set the limits."""

    approve: bool
    reason: Annotated[str, Field(max_length=2000, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$")] = ""
    allow_clear: list[Name] | None = Field(None, description="Source only: which asked-for clear fields it allows.")
    rate_per_minute: Annotated[int, Field(ge=1, le=100_000)] | None = None
    daily_quota: Annotated[int, Field(ge=1, le=10_000_000)] | None = None


class RevokeBody(BaseModel):
    reason: Text


class VerifyBody(BaseModel):
    """核验: the values to check together, by field; the answer is only whether one row holds them all."""

    values: Annotated[dict[Name, Value], Field(min_length=1, max_length=20)]


class ShareRequestRead(BaseModel):
    id: int
    resource: str
    source_department_id: int
    consumer_department_id: int
    requested_by: str
    fields: list[str]
    clear_fields: list[str]
    key_field: str | None
    access: str
    purpose: str
    legal_basis: str
    starts_on: date
    ends_on: date
    expected_daily_calls: int
    state: str
    state_label: str
    source_reason: str
    platform_reason: str
    refusal: str
    grant_id: int | None
    created_at: UtcDateTime


class GrantRead(BaseModel):
    id: int
    request_id: int
    resource: str
    source_department_id: int
    consumer_department_id: int
    fields: list[str]
    masks: dict[str, str]
    key_field: str | None
    access: str
    purpose: str
    starts_on: date
    ends_on: date
    rate_per_minute: int
    daily_quota: int
    state: str
    state_label: str
    credential_prefix: str | None
    revoke_reason: str


class CredentialRead(BaseModel):
    grant: GrantRead
    credential: str = Field(description="Shown once; send it as the X-Grant-Key header.")


class RowsRead(BaseModel):
    """Rows of the version served, masked as the grant says; `next` is the cursor of the following page."""

    version: int
    fields: list[str]
    masks: dict[str, str]
    rows: list[dict[str, Any]]
    next: int | None = None


class ChangesRead(BaseModel):
    """Changed rows of new versions (`_version`, `_change`, `_op` insert/update/delete, `_key`, the masked
    fields); pass `cursor` back to continue: nothing is missed or repeated."""

    version: int
    fields: list[str]
    masks: dict[str, str]
    rows: list[dict[str, Any]]
    cursor: str


class VerifyRead(BaseModel):
    version: int
    match: bool


class UsageRead(BaseModel):
    grant_id: int
    calls: int
    rows: int
    calls_today: int
    by_kind: dict[str, int]


class UsageBy(StrEnum):
    """What usage statistics are grouped by."""

    grant = "grant"
    department = "department"  # the consuming department
    resource = "resource"

    @property
    def label(self) -> str:
        return {"grant": "共享授权", "department": "需求部门", "resource": "数据资源"}[self.value]


CALL_LABELS = {"lookup": "按键查询", "verify": "核验", "query": "批量查询", "changes": "订阅变更", "export": "批量导出"}


class Tally(BaseModel):
    calls: int
    rows: int


class UsageGroupRead(BaseModel):
    """One grant, consuming department or resource: its calls and rows in the period, by kind of call and by day."""

    key: int = Field(description="The grant's, department's or resource's id.")
    code: str = Field(description="The resource's code (by grant and by resource) or the department's code.")
    name: str = Field(
        description="The consuming department's name (by grant and by department) or the resource's title."
    )
    calls: int
    rows: int
    by_kind: dict[str, Tally]
    by_day: dict[date, Tally] = Field(description="China's calendar days; days without calls are left out.")


class UsageStatsRead(BaseModel):
    """Calls under the grants the caller may see, in a period of China's days (both ends included)."""

    by: UsageBy
    since: date
    until: date
    calls: int
    rows: int
    by_day: dict[date, Tally]
    groups: list[UsageGroupRead] = Field(description="Most calls first.")


# ---- authorised operation (授权运营) ----------------------------------------------------------------


class LicenceCreate(BaseModel):
    """A licence for an operator: who, over which resources, for what, with which k and period."""

    operator: Annotated[str, Field(min_length=2, max_length=200, pattern=r"^[^\x00-\x1f]+$")]
    operator_uscc: Annotated[str, Field(min_length=18, max_length=18)]
    resources: Annotated[list[Code], Field(min_length=1, max_length=50)]
    purpose: Text
    k: Annotated[int, Field(ge=2, le=10_000)] = 10
    review_releases: bool = True
    starts_on: date | None = None
    days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = 365


class LicenceRead(BaseModel):
    id: int
    operator: str
    operator_uscc: str
    resources: list[str]
    purpose: str
    k: int
    review_releases: bool
    starts_on: date
    ends_on: date
    state: str
    credential_prefix: str | None


class LicenceCredentialRead(BaseModel):
    licence: LicenceRead
    credential: str = Field(description="Shown once; send it as the X-Licence-Key header.")


class Aggregate(BaseModel):
    """One aggregate: `count` (of rows; `field` optional), or `sum`/`avg`/`min`/`max` of a field."""

    fn: Literal["count", "sum", "avg", "min", "max"]
    field: Name | None = None


class Condition(BaseModel):
    """A filter: a field compared with a value (or, for `in`, a list of values)."""

    field: Name
    op: Literal["eq", "ne", "lt", "le", "gt", "ge", "in"]
    value: Value | Annotated[list[Value], Field(min_length=1, max_length=100)]


class AnalysisSpec(BaseModel):
    """A structured query (no SQL): group by up to four fields, up to ten aggregates, filters."""

    resource_code: Code
    group_by: Annotated[list[Name], Field(max_length=4)] = Field(default_factory=list)
    aggregates: Annotated[list[Aggregate], Field(min_length=1, max_length=10)]
    filters: Annotated[list[Condition], Field(max_length=20)] = Field(default_factory=list)


class AnalysisState(StrEnum):
    """An analysis waits for a reviewer (pending), then is released to its operator or held."""

    pending = "pending"
    released = "released"
    held = "held"

    @property
    def label(self) -> str:
        return {"pending": "待审核", "released": "已发布", "held": "暂缓发布"}[self.value]


class AnalysisRead(BaseModel):
    id: int
    licence_id: int
    resource: str
    version: int
    spec: dict[str, Any]
    state: str
    groups: int
    suppressed: int
    k: int
    result: list[dict[str, Any]] | None = Field(description="The released groups; null until released.")
    hold_reason: str
    submitted_at: UtcDateTime


class HoldBody(BaseModel):
    reason: Text
