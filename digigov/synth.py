"""A deterministic synthetic population of Zhejiang: enterprises and persons for the demo and tests.

Nothing here describes a real person or firm. Names are drawn from lists of common surnames,
given-name characters and invented brand words (famous brand words are left out on purpose);
ID numbers, credit codes and mobile numbers are random but well formed. By chance a name or a
mobile number may belong to someone real, so never use the numbers to contact anyone.

- Credit codes (GB 32100): authority 9 (market regulation), type 1 company, 2 individual
  business, 3 farmers' cooperative; a current Zhejiang county code; a GB 11714 organisation code
  (8 digits before 2015-10, ``MA`` + 6 symbols after); the check character from python-stdnum.
- ID numbers (GB 11643): a current Zhejiang county code, the birth date, a sequence number odd
  for men and even for women, the check character from python-stdnum.
- Ages and founding dates are fixed relative to ``REFERENCE_DATE``, never today, so a seed
  always gives the same rows.
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from itertools import count
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from stdnum.cn import ric, uscc

from digigov.core.errors import Invalid
from digigov.core.industry import industry
from digigov.identity.regions import province_rows

REFERENCE_DATE = date(2025, 12, 31)
_REFERENCE_ORDINAL = REFERENCE_DATE.toordinal()
_REFERENCE_MONTH_DAY = REFERENCE_DATE.month * 100 + REFERENCE_DATE.day
PERSON_BATCH_ROWS = 100_000  # fixed: Parquet row groups follow it, so it is part of the output

ENTERPRISE_SCHEMA = pa.schema(
    [
        ("统一社会信用代码", pa.string()),
        ("企业名称", pa.string()),
        ("主体类型", pa.string()),
        ("行政区划代码", pa.string()),
        ("行业代码", pa.string()),
        ("行业门类", pa.string()),
        ("成立日期", pa.date32()),
        ("从业人数", pa.int32()),
        ("营业收入（万元）", pa.float64()),
        ("注册资本（万元）", pa.float64()),
        ("是否高新技术企业", pa.bool_()),
        ("企业规模", pa.string()),
    ]
)
PERSON_SCHEMA = pa.schema(
    [
        ("公民身份号码", pa.string()),
        ("姓名", pa.string()),
        ("性别", pa.string()),
        ("出生日期", pa.date32()),
        ("户籍地行政区划代码", pa.string()),
        ("手机号码", pa.string()),
        ("就业状态", pa.string()),
        ("就业单位统一社会信用代码", pa.string()),
        ("月缴社保月数", pa.int32()),  # months of contributions so far, not a monthly figure
        ("是否享受低保", pa.bool_()),
    ]
)


@dataclass(frozen=True)
class Population:
    """Enterprises and the persons who may work for them, from one seed."""

    enterprises: pa.Table
    persons: pa.Table


class PopulationFiles(NamedTuple):
    enterprises_parquet: Path
    persons_parquet: Path
    enterprises_csv: Path
    persons_csv: Path


# ---------------------------------------------------------------------------- weighted choice


class _Choice:
    """Values with weights; `pick` is one bisect on a cumulative table."""

    def __init__(self, weighted: Sequence[tuple[Any, float]]) -> None:
        self.values = [value for value, _ in weighted]
        self.cumulative: list[float] = []
        total = 0.0
        for _, weight in weighted:
            total += weight
            self.cumulative.append(total)
        self.total = total

    def pick(self, rng: random.Random) -> Any:
        return self.values[bisect(self.cumulative, rng.random() * self.total)]


def _tiered(tiers: dict[float, str]) -> _Choice:
    return _Choice([(char, weight) for weight, chars in tiers.items() for char in chars])


# ---------------------------------------------------------------------------- regions


@dataclass(frozen=True)
class _County:
    code: str
    full_name: str  # 杭州市西湖区, 义乌市, 安吉县: how a shop or cooperative name starts
    short_name: str  # 杭州, 义乌, 安吉: how a company name starts


def _short(name: str) -> str:
    """Drop the administrative suffix.

    >>> _short("景宁畲族自治县"), _short("杭州市"), _short("义乌市")
    ('景宁', '杭州', '义乌')
    """
    for suffix in ("畲族自治县", "市", "县", "区"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def current_counties() -> list[str]:
    """Codes of Zhejiang's current county-level divisions (districts, cities, counties)."""
    return [county.code for county, _ in _county_weights()]


def _county_weights() -> list[tuple[_County, float]]:
    rows = province_rows("33")
    cities = {row.code: row.name for row in rows if row.level == "city"}
    counties = []
    for row in rows:
        if row.level != "county" or row.valid_to is not None or row.name == "市辖区":
            continue
        city = cities[row.code[:4] + "00"]
        district = row.name.endswith("区")
        # Districts hold most firms and people; county-level cities more than counties.
        weight = 3.0 if district else 2.0 if row.name.endswith("市") else 1.0
        full = city + row.name if district else row.name
        counties.append((_County(row.code, full, _short(city) if district else _short(row.name)), weight))
    return counties


# ---------------------------------------------------------------------------- enterprises

_KINDS = _Choice([("1", 74.0), ("2", 23.0), ("3", 3.0)])
_KIND_LABELS = {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}

_COMPANY_DIVISIONS = _Choice(
    [(f"{code:02d}", weight) for code, weight in {
        1: 1.0, 2: 0.3, 3: 0.5, 4: 0.3, 5: 0.3, 10: 0.2,
        13: 0.6, 14: 0.5, 15: 0.3, 17: 2.0, 18: 2.0, 19: 1.0, 20: 0.5, 21: 0.8, 22: 0.5, 23: 0.6,
        24: 1.0, 26: 1.2, 27: 0.4, 28: 0.3, 29: 1.8, 30: 1.0, 31: 0.2, 32: 0.3, 33: 2.5, 34: 3.0,
        35: 2.0, 36: 0.8, 37: 0.5, 38: 2.5, 39: 1.5, 40: 0.6, 41: 0.4, 42: 0.2, 43: 0.3,
        44: 0.3, 45: 0.1, 46: 0.1, 47: 1.5, 48: 1.2, 49: 0.8, 50: 2.0, 51: 14.0, 52: 8.0,
        54: 2.0, 55: 0.3, 58: 1.0, 59: 0.8, 60: 0.2, 61: 0.5, 62: 1.5, 63: 0.2, 64: 1.5, 65: 5.0,
        67: 0.2, 69: 0.5, 70: 3.0, 71: 1.5, 72: 9.0, 73: 1.0, 74: 3.0, 75: 5.0, 77: 0.5, 78: 0.5,
        80: 1.0, 81: 0.8, 82: 1.0, 83: 0.5, 84: 0.3, 85: 0.1, 86: 0.2, 87: 0.5, 88: 0.5, 89: 0.3, 90: 0.5,
    }.items()]
)  # fmt: skip
_SHOP_DIVISIONS = _Choice([("52", 45.0), ("62", 20.0), ("80", 10.0), ("81", 8.0), ("51", 5.0), ("54", 5.0),
                           ("61", 2.0), ("82", 5.0)])  # fmt: skip
_COOP_DIVISIONS = _Choice([("01", 60.0), ("03", 20.0), ("04", 10.0), ("05", 10.0)])

# Words after the brand word, by division.
_TRADE_WORDS = {
    "01": "农业开发 生态农业 农业科技", "02": "林业开发 苗木", "03": "畜牧 养殖", "04": "水产", "05": "农业服务",
    "10": "矿业", "13": "食品", "14": "食品 食品科技", "15": "茶业 饮品", "17": "纺织 织造 丝绸",
    "18": "服饰 制衣", "19": "鞋业 皮革", "20": "木业 竹木制品", "21": "家具 家居", "22": "纸业 包装",
    "23": "印刷 包装印刷", "24": "文具 工艺品 体育用品", "26": "化工 新材料", "27": "医药 生物医药",
    "28": "化纤", "29": "塑业 橡塑制品", "30": "建材 玻璃制品", "31": "钢业", "32": "铜业",
    "33": "五金 金属制品", "34": "机械 泵业 阀门 轴承", "35": "机械设备 智能装备", "36": "汽车零部件 汽配",
    "37": "车业 船舶", "38": "电器 电机 照明电器", "39": "电子 光电 通信设备", "40": "仪器仪表",
    "41": "工艺制品", "42": "再生资源", "43": "设备维修", "44": "能源 新能源", "45": "燃气", "46": "水务",
    "47": "建设 建筑工程", "48": "市政工程 路桥工程", "49": "安装工程 机电安装", "50": "装饰工程 建筑装饰",
    "51": "贸易 进出口 商贸 供应链", "52": "商贸 超市 百货", "54": "物流 运输", "55": "航运",
    "58": "国际货运代理 物流", "59": "仓储 物流", "60": "快递", "61": "酒店管理", "62": "餐饮管理 餐饮",
    "63": "通信技术", "64": "网络科技 信息技术", "65": "软件 信息技术 数字科技 科技", "67": "投资管理",
    "69": "资产管理", "70": "房地产开发 物业管理 置业", "71": "租赁 设备租赁",
    "72": "企业管理 商务咨询 人力资源 广告 会展服务", "73": "科技研发 生物科技", "74": "检测技术 工程设计",
    "75": "科技 技术服务 新能源科技", "77": "环保科技 环境工程", "78": "园林绿化 市政环卫",
    "80": "家政服务 保洁服务", "81": "汽车维修 家电维修", "82": "清洁服务 宠物服务", "83": "教育科技 培训",
    "84": "健康管理 医疗管理", "85": "养老服务", "86": "文化传媒", "87": "影视传媒", "88": "文化艺术 文化创意",
    "89": "体育发展 健身", "90": "文化娱乐",
}  # fmt: skip
_SHOP_WORDS = {
    "51": "商行 经营部", "52": "便利店 超市 服装店 五金店 烟酒店 商行", "54": "货运部", "61": "民宿 旅馆",
    "62": "小吃店 面馆 餐馆 饭店 奶茶店", "80": "理发店 美容店 家政服务部", "81": "汽车修理店 家电维修部 手机维修店",
    "82": "洗衣店 服务部",
}  # fmt: skip
_COOP_WORDS = {"01": "果蔬 茶叶 粮食 蔬菜 水果", "03": "生猪 家禽 养殖", "04": "水产养殖", "05": "农机"}

_BRAND_CHARS = (
    "瑞恒泰鑫达源宏兴隆丰汇盛佳和信诚优尚宸烨骏铭澜霖翔锦弘睿嘉朗启拓博卓凯润昊晟耀晨瀚禾沐澄岚璟琨炫熠筑智谷钧珩屹渊"
)
# Brand words of well-known Zhejiang firms: no synthetic name may contain one, even across words.
_FAMOUS_WORDS = frozenset({
    "阿里", "吉利", "海康", "大华", "网易", "正泰", "传化", "万向", "荣盛", "恒逸", "杉杉", "方太", "公牛", "舜宇",
    "海亮", "华立", "绿城", "宋城", "蚂蚁", "菜鸟", "恒生", "巨化", "万丰", "卧龙", "盾安", "天能", "超威", "森马",
    "海正", "华海", "士兰", "宇视", "老板", "娃哈哈", "雅戈尔", "奥克斯", "新和成",
})  # fmt: skip
_BRAND_WORDS = [a + b for a in _BRAND_CHARS for b in _BRAND_CHARS if a != b]

# Revenue per employee in 万元 a year, median, by section (wholesale by division).
_REVENUE_PER_HEAD = {
    "A": 20, "B": 80, "C": 60, "D": 300, "E": 40, "F": 40, "G": 50, "H": 15, "I": 50, "J": 200,
    "K": 150, "L": 40, "M": 35, "N": 30, "O": 15, "P": 15, "Q": 20, "R": 25, "51": 250,
}  # fmt: skip
_HIGH_TECH_ODDS = {"C": 0.07, "I": 0.12, "M": 0.12}
_CAPITAL_STEPS = (1, 3, 5, 10, 20, 30, 50, 100, 200, 300, 500, 800, 1000, 2000, 3000, 5000, 8000, 10000, 20000, 50000)
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_MA_SINCE = date(2015, 10, 1).toordinal()

# 统计上大中小微型企业划分办法（2017）, simplified: (staff floors, revenue floors in 万元) for
# 大型, 中型, 小型; None where the 办法 uses a measure we do not model (total assets) or none.
_SIZE_RULES: dict[str, tuple[tuple[int, int, int] | None, tuple[int, int, int] | None]] = {
    "agriculture": (None, (20000, 500, 50)),
    "industry": ((1000, 300, 20), (40000, 2000, 300)),
    "construction": (None, (80000, 6000, 300)),
    "wholesale": ((200, 20, 5), (40000, 5000, 1000)),
    "retail": ((300, 50, 10), (20000, 500, 100)),
    "transport": ((1000, 300, 20), (30000, 3000, 200)),
    "warehousing": ((200, 100, 20), (30000, 1000, 100)),
    "postal": ((1000, 300, 20), (30000, 2000, 100)),
    "hospitality": ((300, 100, 10), (10000, 2000, 100)),
    "telecom": ((2000, 100, 10), (100000, 1000, 100)),
    "software": ((300, 100, 10), (10000, 1000, 50)),
    "real_estate": (None, (200000, 1000, 100)),
    "other": ((300, 100, 10), None),
}
_SIZE_BY_SECTION = {"A": "agriculture", "B": "industry", "C": "industry", "D": "industry", "E": "construction",
                    "H": "hospitality", "K": "real_estate"}  # fmt: skip
_SIZE_BY_DIVISION = {"51": "wholesale", "52": "retail", "59": "warehousing", "60": "postal", "63": "telecom",
                     "64": "telecom", "65": "software"} | {f"{d}": "transport" for d in range(53, 59)}  # fmt: skip
SIZES = ("大型", "中型", "小型", "微型")


def enterprise_size(division: str, staff: int, revenue: float) -> str:
    """大型/中型/小型/微型 by the 2017 statistical rule: a tier needs every floor its industry lists.

    A firm that misses any floor drops a tier, and 微型 is what misses the 小型 floors (the
    rule's "须同时满足所列指标的下限，否则下划一档"). Total assets, used for construction,
    real estate and leasing, are not modelled, so those use the other measure alone.

    >>> enterprise_size("34", 350, 5000.0), enterprise_size("34", 350, 1500.0), enterprise_size("65", 8, 900.0)
    ('中型', '小型', '微型')
    """
    section = industry(division).section
    staff_floors, revenue_floors = _SIZE_RULES[
        _SIZE_BY_DIVISION.get(division) or _SIZE_BY_SECTION.get(section, "other")
    ]
    for tier in range(3):
        if (staff_floors is None or staff >= staff_floors[tier]) and (
            revenue_floors is None or revenue >= revenue_floors[tier]
        ):
            return SIZES[tier]
    return SIZES[3]


def organisation_check(body: str) -> str:
    """GB 11714 check character of an 8-symbol organisation code body.

    >>> organisation_check("60003734"), organisation_check("MAC7TTNR")
    ('1', 'X')
    """
    total = sum(int(char, 36) * weight for char, weight in zip(body, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def _split_words(table: dict[str, str]) -> dict[str, list[str]]:
    return {key: words.split() for key, words in table.items()}


class _EnterpriseMaker:
    """Draws one enterprise at a time; remembers codes and names so both stay unique."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"digigov-synth/enterprises/{seed}")
        self.counties = _Choice(_county_weights())
        self.years = _Choice([(year, math.exp(0.09 * (year - 1995))) for year in range(1995, 2026)])
        self.trade = _split_words(_TRADE_WORDS)
        self.shop = _split_words(_SHOP_WORDS)
        self.coop = _split_words(_COOP_WORDS)
        self.org_codes: set[str] = set()
        self.names: set[str] = set()

    def row(self) -> tuple[Any, ...]:
        rng = self.rng
        kind: str = _KINDS.pick(rng)
        county: _County = self.counties.pick(rng)
        divisions = {"1": _COMPANY_DIVISIONS, "2": _SHOP_DIVISIONS, "3": _COOP_DIVISIONS}[kind]
        division: str = divisions.pick(rng)
        section = industry(division).section
        founded = self._founded()
        staff = self._staff(kind)
        per_head = _REVENUE_PER_HEAD.get(division) or _REVENUE_PER_HEAD[section]
        revenue = round(staff * per_head * rng.lognormvariate(0.0, 0.8), 2)
        capital = self._capital(kind, staff)
        old_enough = founded <= _REFERENCE_ORDINAL - 365  # 高新 needs a year of registration
        high_tech = kind == "1" and old_enough and rng.random() < _HIGH_TECH_ODDS.get(section, 0.005)
        code = self._credit_code(kind, county.code, founded)
        name = self._name(kind, county, division, staff)
        size = enterprise_size(division, staff, revenue)
        return (code, name, _KIND_LABELS[kind], county.code, division, section, date.fromordinal(founded),
                staff, revenue, float(capital), high_tech, size)  # fmt: skip

    def _founded(self) -> int:
        year: int = self.years.pick(self.rng)
        start = date(year, 1, 1).toordinal()
        return start + self.rng.randrange(date(year + 1, 1, 1).toordinal() - start)

    def _staff(self, kind: str) -> int:
        if kind == "2":
            return 1 + int(self.rng.expovariate(0.6))
        return 1 + int(self.rng.lognormvariate(1.8, 1.5))

    def _capital(self, kind: str, staff: int) -> int:
        scale = {"1": 8.0, "2": 1.0, "3": 20.0}[kind]
        wanted = staff * scale * self.rng.lognormvariate(0.0, 1.0)
        return next((step for step in _CAPITAL_STEPS if step >= wanted), _CAPITAL_STEPS[-1])

    def _credit_code(self, kind: str, county: str, founded: int) -> str:
        while True:
            if kind == "1" and founded < _MA_SINCE:
                body = str(self.rng.randrange(10_000_000, 100_000_000))
            else:
                body = "MA" + "".join(self.rng.choices(_USCC_ALPHABET, k=6))
            org = body + organisation_check(body)
            if org not in self.org_codes:
                self.org_codes.add(org)
                break
        head = f"9{kind}{county}{org}"
        return head + uscc.calc_check_digit(head)

    def _name(self, kind: str, county: _County, division: str, staff: int) -> str:
        rng = self.rng
        for attempt in count():
            word = rng.choice(_BRAND_WORDS) + (rng.choice(_BRAND_CHARS) if attempt >= 10 else "")
            if kind == "2":
                name = county.full_name + word + rng.choice(self.shop[division])
            elif kind == "3":
                name = county.full_name + word + rng.choice(self.coop[division]) + "专业合作社"
            elif staff >= 300 and rng.random() < 0.5:
                name = "浙江" + word + rng.choice(self.trade[division]) + "股份有限公司"
            else:
                name = county.short_name + word + rng.choice(self.trade[division]) + "有限公司"
            if name not in self.names and not any(famous in name for famous in _FAMOUS_WORDS):
                self.names.add(name)
                return name
        raise AssertionError("unreachable")  # pragma: no cover


def _check_count(what: str, what_zh: str, n: int) -> None:
    if n < 0:
        raise Invalid(f"The number of {what} must be 0 or more, not {n}.", f"{what_zh}数量应不小于 0，而不是 {n}。")


def synth_enterprises(n: int, seed: int) -> pa.Table:
    """`n` synthetic Zhejiang enterprises; the same seed always gives the same table."""
    _check_count("enterprises", "企业", n)
    maker = _EnterpriseMaker(seed)
    rows = [maker.row() for _ in range(n)]
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in ENTERPRISE_SCHEMA]
    return pa.Table.from_arrays(
        [pa.array(column, type=field.type) for column, field in zip(columns, ENTERPRISE_SCHEMA, strict=True)],
        schema=ENTERPRISE_SCHEMA,
    )


# ---------------------------------------------------------------------------- persons

_SURNAMES = _tiered(
    {
        5.0: "陈王张李吴",
        3.0: "徐周杨金朱林刘黄胡沈叶郑",
        2.0: "方应俞钱孙何赵潘蒋郭许施楼邵汪马章余程",
        1.0: "傅戴丁毛姚陆范高蔡谢袁韩邱池项严宋唐冯顾梁鲍卢江任吕夏屠洪孔钟曹童虞葛翁石罗汤",
    }
)
_MALE_CHARS = "伟强磊军洋勇杰涛明超斌浩鹏俊鑫宇辉刚健峰建国华志平东海林波亮成龙飞阳凯晨宁锋毅哲睿轩航"
_FEMALE_CHARS = "芳娜敏静丽艳娟霞燕玲婷雪慧颖倩琳洁丹萍红梅莉晶欣怡佳悦雯琪璐蕾薇瑶萱妍琴露"
_SHARED_CHARS = "晓一子文思嘉雨天立新家梓心可安云春"
# Five-year age bands 0-4 … 95-99, roughly Zhejiang's 2020 census pyramid.
_AGE_BANDS = _Choice(
    list(
        enumerate([4.5, 5.5, 5.0, 4.5, 5.5, 7.0, 9.0, 8.0, 7.0, 8.0, 8.5, 7.5, 5.5, 5.5, 4.0, 2.5, 1.6, 0.9, 0.3, 0.1])
    )
)
_MOBILE_PREFIXES = [*range(130, 140), *range(150, 154), *range(155, 160), 166, 173, *range(175, 179),
                    *range(180, 190), 191, 193, 195, 198, 199]  # fmt: skip
_RETIREMENT_AGE = {"男": 60, "女": 55}  # the long-standing ages; the 2025 gradual rise is not modelled
_WORKING = _Choice([("在职", 72.0), ("灵活就业", 10.0), ("无业", 18.0)])
_MINIMUM_LIVING_ODDS = {"无业": 0.06, "灵活就业": 0.02, "退休": 0.005, "在校": 0.015, "学龄前": 0.015}
_CONTRIBUTING_SHARE = {"在职": (0.6, 1.0), "灵活就业": (0.3, 0.9), "无业": (0.0, 0.5)}  # of months since 18
_ENTERPRISE_JOB_SHARE = 0.88  # the rest of 在职 work for public bodies, which are not in the table
_SAME_CITY_SHARE = 0.8


@dataclass(frozen=True)
class _Day:
    digits: str  # YYYYMMDD
    year: int
    month_day: int  # MMDD as a number, to compare birthdays
    value: date


class _Employers:
    """Draws an employer weighted by staff, mostly in the person's own city."""

    def __init__(self, enterprises: pa.Table) -> None:
        codes = enterprises.column("统一社会信用代码").to_pylist()
        staff = enterprises.column("从业人数").to_pylist()
        regions = enterprises.column("行政区划代码").to_pylist()
        self.anywhere = _Choice(list(zip(codes, staff, strict=True)))
        by_city: dict[str, list[tuple[str, float]]] = {}
        for code, people, region in zip(codes, staff, regions, strict=True):
            by_city.setdefault(region[:4], []).append((code, people))
        self.by_city = {city: _Choice(weighted) for city, weighted in by_city.items()}

    def pick(self, rng: random.Random, region: str) -> str:
        local = self.by_city.get(region[:4])
        choice = local if local is not None and rng.random() < _SAME_CITY_SHARE else self.anywhere
        return str(choice.pick(rng))


class _PersonMaker:
    """Draws one person at a time; remembers ID and mobile numbers so both stay unique.

    Employers come from a second random stream, so the other columns do not depend on
    whether enterprises were given.
    """

    def __init__(self, seed: int, employers: pa.Table | None) -> None:
        self.rng = random.Random(f"digigov-synth/persons/{seed}")
        self.jobs = random.Random(f"digigov-synth/jobs/{seed}")
        self.employers = _Employers(employers) if employers is not None and employers.num_rows else None
        self.counties = _Choice([(county.code, weight) for county, weight in _county_weights()])
        self.days: dict[int, _Day] = {}
        self.ids: set[int] = set()
        self.mobiles: set[int] = set()

    def row(self) -> tuple[Any, ...]:
        rng = self.rng
        sex = "男" if rng.random() < 0.512 else "女"
        band: int = _AGE_BANDS.pick(rng)
        day = self._day(_REFERENCE_ORDINAL - int((band * 5 + rng.random() * 5) * 365.2425))
        age = REFERENCE_DATE.year - day.year - (day.month_day > _REFERENCE_MONTH_DAY)
        county: str = self.counties.pick(rng)
        number = self._id_number(county, day.digits, sex)
        name = _SURNAMES.pick(rng) + self._given_name(sex)
        status = self._status(age, sex)
        employer = self._employer(status, county)
        months = self._contribution_months(age, sex, status)
        minimum_living = rng.random() < _MINIMUM_LIVING_ODDS.get(status, 0.0)
        mobile = self._mobile() if age >= 12 and rng.random() < 0.97 else None
        return (number, name, sex, day.value, county, mobile, status, employer, months, minimum_living)

    def _day(self, ordinal: int) -> _Day:
        found = self.days.get(ordinal)
        if found is None:
            value = date.fromordinal(ordinal)
            found = _Day(f"{value:%Y%m%d}", value.year, value.month * 100 + value.day, value)
            self.days[ordinal] = found
        return found

    def _id_number(self, county: str, birth: str, sex: str) -> str:
        while True:
            sequence = 2 + 2 * int(self.rng.random() * 499) - (sex == "男")  # odd for men, 001-998
            body = f"{county}{birth}{sequence:03d}"
            if int(body) not in self.ids:
                self.ids.add(int(body))
                return body + ric.calc_check_digit(body + "0")  # stdnum ignores the last character

    def _given_name(self, sex: str) -> str:
        random = self.rng.random
        own = _MALE_CHARS if sex == "男" else _FEMALE_CHARS
        last = own[int(random() * len(own))]
        if random() < 0.25:
            return last
        first = _SHARED_CHARS if random() < 0.4 else own
        return first[int(random() * len(first))] + last

    def _status(self, age: int, sex: str) -> str:
        if age < 6:
            return "学龄前"
        if age < 16 or (age < 19 and self.rng.random() < 0.9) or (age < 23 and self.rng.random() < 0.55):
            return "在校"
        if age >= _RETIREMENT_AGE[sex]:
            return "退休" if self.rng.random() < 0.85 else "无业"  # 无业: never in the employee pension
        return str(_WORKING.pick(self.rng))

    def _employer(self, status: str, county: str) -> str | None:
        if status != "在职" or self.employers is None or self.jobs.random() >= _ENTERPRISE_JOB_SHARE:
            return None
        return self.employers.pick(self.jobs, county)

    def _contribution_months(self, age: int, sex: str, status: str) -> int:
        working_months = max(0, min(age, _RETIREMENT_AGE[sex]) - 18) * 12
        if status == "退休":
            return max(180, int(working_months * self.rng.uniform(0.6, 1.0)))  # a pension needs 15 years
        share = _CONTRIBUTING_SHARE.get(status)
        if share is None:
            return 0
        months = int(working_months * self.rng.uniform(*share))
        return min(months, 179) if age >= _RETIREMENT_AGE[sex] else months  # past the age without a pension

    def _mobile(self) -> str:
        while True:
            prefix = _MOBILE_PREFIXES[int(self.rng.random() * len(_MOBILE_PREFIXES))]
            number = prefix * 100_000_000 + int(self.rng.random() * 100_000_000)
            if number not in self.mobiles:
                self.mobiles.add(number)
                return str(number)


def _person_batch(rows: list[tuple[Any, ...]]) -> pa.RecordBatch:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in PERSON_SCHEMA]
    arrays = [pa.array(column, type=field.type) for column, field in zip(columns, PERSON_SCHEMA, strict=True)]
    return pa.RecordBatch.from_arrays(arrays, schema=PERSON_SCHEMA)


def iter_persons(n: int, seed: int, *, employers: pa.Table | None = None) -> Iterator[pa.RecordBatch]:
    """`n` synthetic persons in record batches of PERSON_BATCH_ROWS, for streaming large counts.

    With `employers` (a table from `synth_enterprises`), most 在职 persons get an employer from
    it, weighted by staff and mostly in their own city; without, 就业单位统一社会信用代码 is empty.
    """
    _check_count("persons", "人员", n)
    maker = _PersonMaker(seed, employers)
    for start in range(0, n, PERSON_BATCH_ROWS):
        yield _person_batch([maker.row() for _ in range(min(PERSON_BATCH_ROWS, n - start))])


def synth_persons(n: int, seed: int, *, employers: pa.Table | None = None) -> pa.Table:
    """`n` synthetic Zhejiang residents in one table; see `iter_persons`."""
    return pa.Table.from_batches(list(iter_persons(n, seed, employers=employers)), schema=PERSON_SCHEMA)


def synth_population(*, enterprises: int, persons: int, seed: int) -> Population:
    """Enterprises, and persons whose employers are among them, from one seed."""
    firms = synth_enterprises(enterprises, seed)
    return Population(firms, synth_persons(persons, seed, employers=firms))


# ---------------------------------------------------------------------------- files


def write_population(out_dir: Path, *, enterprises: int, persons: int, seed: int) -> PopulationFiles:
    """Write enterprises and persons as Parquet and as UTF-8 CSV with BOM; persons are streamed."""
    _check_count("enterprises", "企业", enterprises)
    _check_count("persons", "人员", persons)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = PopulationFiles(*(out_dir / name for name in (
        "enterprises.parquet", "persons.parquet", "enterprises.csv", "persons.csv")))  # fmt: skip
    firms = synth_enterprises(enterprises, seed)
    pq.write_table(firms, files.enterprises_parquet, compression="zstd")
    with _csv_writer(files.enterprises_csv, ENTERPRISE_SCHEMA) as writer:
        writer.write_table(firms)
    with (
        pq.ParquetWriter(files.persons_parquet, PERSON_SCHEMA, compression="zstd") as parquet,
        _csv_writer(files.persons_csv, PERSON_SCHEMA) as csv,
    ):
        for batch in iter_persons(persons, seed, employers=firms):
            parquet.write_batch(batch)
            csv.write_batch(batch)
    return files


@contextmanager
def _csv_writer(path: Path, schema: pa.Schema) -> Iterator[Any]:
    """A pyarrow CSV writer on a file that starts with a UTF-8 BOM, so Excel reads the Chinese."""
    with path.open("wb") as handle:
        handle.write(b"\xef\xbb\xbf")
        writer = pacsv.CSVWriter(handle, schema)
        try:
            yield writer
        finally:
            writer.close()
