"""A labelled set of columns for classification: real Beijing columns labelled by hand, and generated ones.

The generated columns hold every kind the detector knows, under telling names and under
neutral ones (`字段7`), masked as publishers mask them, and decoys that fooled other tools:
years, random 18-character strings, 16-digit serial numbers with no Luhn check, 25-digit
registration numbers, a yes/no column named after e-mail, district and park names.
`bench/detection.py` reports precision and recall over it; the tests hold them to a floor.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
from stdnum.cn import uscc as stdnum_uscc

from tests.conftest import SHARED_DATA

BEIJING = SHARED_DATA / "real" / "opendata" / "beijing"

# file → {column: kind}; every column not named here is labelled None (holds no sensitive kind).
REAL_LABELS: dict[str, dict[str, str]] = {
    "内资企业设立登记公告数据 (1).csv": {"统一社会信用代码": "uscc"},
    "北京市制造业创新中心清单.csv": {"建设单位统一社会信用代码": "uscc"},
    "北京市密云区建筑业企业资质证书信息.csv": {"详细地址": "address", "法定代表人姓名": "person_name"},
    "市交通委-汽车租赁企业信用评价结果数据.csv": {"统一社会信用代码": "uscc"},
    "市住房城乡建设委-北京市建筑起重机械登记编号信息.csv": {"产权单位统一社会信用代码": "uscc"},
    "市市场监督管理局-上市公司名录.csv": {"统一社会信用代码": "uscc"},
    "当年北京市企业上市名单.csv": {"组织机构代码或统一社会信用代码": "uscc"},
    "房地产开发企业二级及以下资质核定.csv": {"行政相对人代码": "uscc"},
    "海淀区中关村高新技术企业库（截止2023年7月）.csv": {"统一社会信用代码": "uscc", "法人代码": "org_code"},
    "科技型中小企业.csv": {"统一社会信用代码": "uscc"},
    "12315绿色通道.csv": {},
    "中关村新三板企业名单.csv": {},
    "境内上市公司清单.csv": {},
    "密云区应急管理局执法检查信息.csv": {},
    "市市场监督管理局-食品安全监督抽检信息.csv": {},
    "建设工程规划许可证（建筑类）.csv": {},
    "瞪羚企业名单信息.csv": {},
    "经营异常企业信息.csv": {},
}

RIC_WEIGHTS, RIC_CHECKS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2), "10X98765432"
COUNTIES = ["330102", "330106", "330108", "330110", "330113", "330205", "330302", "330402", "330502", "330602"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌浩宇晨欣怡子涵梓轩"
STREETS = ["文三路", "天目山路", "解放路", "延安路", "中山北路", "学院路", "江南大道", "钱江路", "湖墅南路"]
DISTRICTS = ["上城区", "西湖区", "拱墅区", "滨江区", "萧山区", "余杭区", "临平区", "钱塘区"]


def resident_id(rng: random.Random) -> str:
    born = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 80 * 365))
    body = f"{rng.choice(COUNTIES)}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + RIC_CHECKS[sum(int(c) * w for c, w in zip(body, RIC_WEIGHTS, strict=True)) % 11]


def credit_code(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "91" + rng.choice(COUNTIES) + "".join(rng.choice(alphabet) for _ in range(9))
    return body + stdnum_uscc.calc_check_digit(body)


def org_code(rng: random.Random) -> str:
    body = "".join(rng.choice(string.digits + "ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    values = [int(ch) if ch.isdigit() else ord(ch) - 55 for ch in body]
    check = 11 - sum(v * w for v, w in zip(values, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    return body + "-" + {10: "X", 11: "0"}.get(check, str(check))


def luhn_complete(body: str) -> str:
    total = 0
    for k, ch in enumerate(reversed(body)):
        d = int(ch)
        if k % 2 == 0:
            d = d * 2 - 9 if d >= 5 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def address(rng: random.Random) -> str:
    return f"浙江省杭州市{rng.choice(DISTRICTS)}{rng.choice(STREETS)}{rng.randrange(1, 999)}号"


Maker = Callable[[random.Random], str | None]

# (column name, kind or None, value maker)
GENERATED: list[tuple[str, str | None, Maker]] = [
    ("公民身份号码", "resident_id", resident_id),
    ("字段1", "resident_id", resident_id),
    ("证件号码", "resident_id", lambda r: (v := resident_id(r))[:6] + "********" + v[14:]),
    ("统一社会信用代码", "uscc", credit_code),
    ("字段2", "uscc", credit_code),
    ("组织机构代码", "org_code", org_code),
    ("手机号码", "mobile", lambda r: f"1{r.choice('3456789')}{r.randrange(10**9):09d}"),
    ("字段3", "mobile", lambda r: f"1{r.choice('3589')}{r.randrange(10**9):09d}"),
    ("联系电话", "mobile", lambda r: (v := f"13{r.randrange(10**9):09d}")[:3] + "****" + v[7:]),
    ("办公电话", "landline", lambda r: f"0571-{r.randrange(2, 9)}{r.randrange(10**7):07d}"),
    ("电子邮箱", "email", lambda r: f"{''.join(r.choice(string.ascii_lowercase) for _ in range(7))}@example.cn"),
    ("字段4", "email", lambda r: f"user{r.randrange(10**5)}@mail.zj.gov.cn"),
    ("银行卡号", "bank_card", lambda r: luhn_complete("6222" + "".join(r.choice(string.digits) for _ in range(11)))),
    ("字段5", "bank_card", lambda r: luhn_complete("6217" + "".join(r.choice(string.digits) for _ in range(14)))),
    ("姓名", "person_name", person_name),
    ("法定代表人", "person_name", lambda r: (v := person_name(r))[0] + "*" * (len(v) - 1)),
    ("字段6", "person_name", person_name),
    ("住址", "address", address),
    ("字段7", "address", address),
    ("车牌号码", "plate", lambda r: "浙" + r.choice("ABCDEFGHJ") + "".join(r.choice("0123456789") for _ in range(5))),
    ("护照号码", "passport", lambda r: f"E{r.randrange(10**8):08d}"),
    ("登录IP", "ip", lambda r: ".".join(str(r.randrange(1, 255)) for _ in range(4))),
    ("坐标", "coordinate", lambda r: f"{r.uniform(118, 123):.6f},{r.uniform(27, 31):.6f}"),
    # decoys: nothing sensitive in them
    ("年度", None, lambda r: str(r.randrange(1990, 2024))),
    ("编号", None, lambda r: "".join(r.choice(string.digits + "X") for _ in range(18))),
    ("流水号", None, lambda r: "".join(r.choice(string.digits) for _ in range(16))),
    ("卡号校验前", None, lambda r: "".join(r.choice(string.digits) for _ in range(19))),
    ("注册号", None, lambda r: "".join(r.choice(string.digits) for _ in range(25))),
    ("证券代码", None, lambda r: f"{r.randrange(600000, 900000)}.{r.choice(['SH', 'SZ', 'BJ'])}"),
    ("邮箱已验证", None, lambda r: r.choice(["是", "否"])),
    ("所属区县", None, lambda r: r.choice(DISTRICTS)),
    ("企业名称", None, lambda r: f"杭州{r.choice(GIVEN)}{r.choice(GIVEN)}科技有限公司"),
    ("金额", None, lambda r: f"{r.uniform(0, 10**6):.2f}"),
    ("产品编码", None, lambda r: f"SP{r.randrange(2015, 2024)}{r.randrange(10**4):04d}"),
    ("检查结果", None, lambda r: r.choice(["合格", "不合格", "责令整改", "未发现问题"])),
    ("序号", None, lambda r: str(r.randrange(1, 10**6))),
    ("备注", None, lambda r: r.choice([None, "", "无", "已整改到位，复查合格"])),
]


def generated_table(rows: int, seed: int = 1) -> tuple[pa.Table, dict[str, str | None]]:
    """A table of the generated columns and their labels; about 3 % of values are left empty."""
    rng = random.Random(seed)
    data: dict[str, list[str | None]] = {}
    for name, _, make in GENERATED:
        data[name] = [None if rng.random() < 0.03 else make(rng) for _ in range(rows)]
    table = pa.table({name: pa.array(values, pa.string()) for name, values in data.items()})
    return table, {name: kind for name, kind, _ in GENERATED}


def write_generated_csv(path: Path, rows: int, seed: int = 1) -> dict[str, str | None]:
    """Write the generated columns as a UTF-8 CSV (as a steward would upload it); return the labels."""
    import pyarrow.csv as pacsv

    table, labels = generated_table(rows, seed)
    pacsv.write_csv(table, path)
    return labels


def score(pairs: list[tuple[str | None, str | None]]) -> tuple[float, float, int, int]:
    """Precision and recall of (label, predicted) pairs over sensitive kinds, and how many of each there were.

    >>> score([("uscc", "uscc"), (None, "mobile"), ("email", None), (None, None)])
    (0.5, 0.5, 2, 2)
    """
    predicted = [(label, guess) for label, guess in pairs if guess is not None]
    labelled = [(label, guess) for label, guess in pairs if label is not None]
    right = sum(1 for label, guess in predicted if label == guess)
    precision = right / len(predicted) if predicted else 1.0
    recall = sum(1 for label, guess in labelled if label == guess) / len(labelled) if labelled else 1.0
    return precision, recall, len(predicted), len(labelled)
