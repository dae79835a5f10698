"""Sensitivity levels (DB33/T 2351-2021) and data categories of detected kinds, and what a grade allows.

The standard grades data L1 不敏感 … L4 敏感 but lists no field types; this mapping is the
platform's reading of it, in line with GB/T 35273's personal sensitive information: identity
documents and financial accounts are L4, other personal information L3, organisation
phone numbers L2, codes that identify organisations (published by law) L1. Values the
publisher has already masked count one level lower, never below L2.
"""

from __future__ import annotations

from digigov.catalog.vocabulary import Grade, OpenType

LEVELS: dict[str | None, tuple[Grade, str]] = {
    "resident_id": (Grade.L4, "个人信息/身份证件"),
    "passport": (Grade.L4, "个人信息/身份证件"),
    "bank_card": (Grade.L4, "个人信息/财产信息"),
    "mobile": (Grade.L3, "个人信息/联系方式"),
    "email": (Grade.L3, "个人信息/联系方式"),
    "person_name": (Grade.L3, "个人信息/基本信息"),
    "birth_date": (Grade.L3, "个人信息/基本信息"),
    "address": (Grade.L3, "位置信息/地址"),
    "coordinate": (Grade.L3, "位置信息/坐标"),
    "plate": (Grade.L3, "个人信息/车辆信息"),
    "ip": (Grade.L3, "个人信息/网络标识"),
    "landline": (Grade.L2, "联系信息/固定电话"),
    "uscc": (Grade.L1, "法人信息/身份标识"),
    "org_code": (Grade.L1, "法人信息/身份标识"),
    None: (Grade.L1, "一般数据"),
}
ORDER = [Grade.L1, Grade.L2, Grade.L3, Grade.L4]
MASKED = 0.95  # share of matching values already masked for a field to count as masked


def level_of(kind: str | None, *, masked_share: float = 0.0) -> tuple[Grade, str]:
    """The level and category of a detected kind; a field masked by its publisher counts one level lower.

    >>> level_of("resident_id")
    (<Grade.L4: 'L4'>, '个人信息/身份证件')
    >>> level_of("person_name", masked_share=1.0)[0]
    <Grade.L2: 'L2'>
    """
    level, category = LEVELS[kind]
    if masked_share >= MASKED and level in (Grade.L3, Grade.L4):
        level = ORDER[ORDER.index(level) - 1]
    return level, category


def highest(levels: list[str]) -> Grade:
    """A resource's grade: the highest of its fields' levels (L1 when it has none).

    >>> highest(["L1", "L3", "L2"])
    <Grade.L3: 'L3'>
    """
    return max((Grade(level) for level in levels), key=ORDER.index, default=Grade.L1)


def proposed_open_type(grade: Grade) -> OpenType:
    """The open type a grade proposes: L1 无条件开放, L2 and L3 受限开放, L4 禁止开放.

    >>> proposed_open_type(Grade.L2).value
    'restricted'
    """
    if grade == Grade.L1:
        return OpenType.unconditional
    return OpenType.prohibited if grade == Grade.L4 else OpenType.restricted


def opens_wider(open_type: OpenType, grade: Grade) -> bool:
    """Does a resource's open type go beyond what its grade allows (e.g. 无条件开放 for L3)?

    >>> opens_wider(OpenType.unconditional, Grade.L3), opens_wider(OpenType.prohibited, Grade.L1)
    (True, False)
    """
    wide = [OpenType.prohibited, OpenType.restricted, OpenType.unconditional]
    return wide.index(open_type) > wide.index(proposed_open_type(grade))
