"""Code lists of the catalog (GB/T 21063 and Zhejiang practice) as string enums with Chinese labels.

Values are stable English keys for the API; `label` is what people read. Different systems number
these lists differently, so the platform never stores bare integers.
"""

from __future__ import annotations

from enum import StrEnum


class Labelled(StrEnum):
    """A string enum whose members carry a Chinese label."""

    @property
    def label(self) -> str:
        """The Chinese name."""
        return LABELS[(type(self).__name__, self.value)]


class Category(Labelled):
    """资源属性: base, thematic or department resource."""

    base = "base"
    thematic = "thematic"
    department = "department"


class BaseType(Labelled):
    """The five base resources (基础库)."""

    population = "population"
    legal_entity = "legal_entity"
    geospatial = "geospatial"
    credit = "credit"
    licence = "licence"


class UpdateCycle(Labelled):
    """更新周期."""

    realtime = "realtime"
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"
    quarterly = "quarterly"
    half_yearly = "half_yearly"
    yearly = "yearly"
    irregular = "irregular"

    @property
    def days(self) -> int | None:
        """How many days may pass between versions before the resource is stale."""
        return {
            "realtime": 1,
            "daily": 1,
            "weekly": 7,
            "monthly": 31,
            "quarterly": 92,
            "half_yearly": 183,
            "yearly": 366,
            "irregular": None,
        }[self.value]


class ShareType(Labelled):
    """共享类型 (国发〔2016〕51号; Zhejiang writes 有条件 as 受限)."""

    unconditional = "unconditional"
    conditional = "conditional"
    none = "none"


class OpenType(Labelled):
    """开放类型 (浙江省人民政府令第381号)."""

    unconditional = "unconditional"
    restricted = "restricted"
    prohibited = "prohibited"


class Grade(Labelled):
    """Sensitivity grade (DB33/T 2351-2021)."""

    L1 = "L1"
    L2 = "L2"
    L3 = "L3"
    L4 = "L4"


class ResourceState(Labelled):
    """Where a resource stands in its review lifecycle."""

    draft = "draft"
    submitted = "submitted"
    published = "published"
    returned = "returned"
    withdrawn = "withdrawn"


class FieldType(Labelled):
    """The type of a field (数据项)."""

    string = "string"
    integer = "integer"
    decimal = "decimal"
    date = "date"
    timestamp = "timestamp"
    boolean = "boolean"


# Keyed by (list, value): members of different lists compare equal as strings ("unconditional").
LABELS: dict[tuple[str, str], str] = {
    ("Category", "base"): "基础库",
    ("Category", "thematic"): "主题库",
    ("Category", "department"): "部门库",
    ("BaseType", "population"): "人口",
    ("BaseType", "legal_entity"): "法人单位",
    ("BaseType", "geospatial"): "自然资源和空间地理",
    ("BaseType", "credit"): "社会信用",
    ("BaseType", "licence"): "电子证照",
    ("UpdateCycle", "realtime"): "实时",
    ("UpdateCycle", "daily"): "每日",
    ("UpdateCycle", "weekly"): "每周",
    ("UpdateCycle", "monthly"): "每月",
    ("UpdateCycle", "quarterly"): "每季度",
    ("UpdateCycle", "half_yearly"): "每半年",
    ("UpdateCycle", "yearly"): "每年",
    ("UpdateCycle", "irregular"): "不定时",
    ("ShareType", "unconditional"): "无条件共享",
    ("ShareType", "conditional"): "有条件共享",
    ("ShareType", "none"): "不予共享",
    ("OpenType", "unconditional"): "无条件开放",
    ("OpenType", "restricted"): "受限开放",
    ("OpenType", "prohibited"): "禁止开放",
    ("Grade", "L1"): "L1 不敏感",
    ("Grade", "L2"): "L2 低敏感",
    ("Grade", "L3"): "L3 较敏感",
    ("Grade", "L4"): "L4 敏感",
    ("ResourceState", "draft"): "草稿",
    ("ResourceState", "submitted"): "待审核",
    ("ResourceState", "published"): "已发布",
    ("ResourceState", "returned"): "已退回",
    ("ResourceState", "withdrawn"): "已撤销",
    ("FieldType", "string"): "文本",
    ("FieldType", "integer"): "整数",
    ("FieldType", "decimal"): "小数",
    ("FieldType", "date"): "日期",
    ("FieldType", "timestamp"): "日期时间",
    ("FieldType", "boolean"): "是否",
}
