"""A second labelled column set, built by a helper agent without reading the detector or `labelled.py`.

Its first run against the detector (before any change made after seeing it) gave precision 1.000
and recall 0.893: six misses (mobiles stored as numbers, a mixed mobile/landline column, pinyin
jd/wd coordinates, birth dates written as text). The detector was then changed for those, so
this set is no longer held out; `bench/detection.py` reports it beside `labelled.py`.
heldout_table(rows, seed) -> (pyarrow.Table, {column: true kind or None}).
COLUMN_TYPES gives the digigov column type per column ("string"/"decimal"/"date").

Labels are what a careful human steward would say the column holds.
"""

from __future__ import annotations

import datetime as dt
import random
import string

import pyarrow as pa
from stdnum import luhn
from stdnum.cn import ric, uscc

# --------------------------------------------------------------------------- vocab
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = ["欧阳", "司马", "诸葛", "上官", "慕容", "东方"]
GIVEN_CHARS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志强文辉玉兰红梅海燕子涵浩然"
    "宇轩欣怡梓萱一诺思远雨桐佳怡俊杰晓东春生国庆建华丽萍永红立新振华淑珍桂芝秀珍"
)
MINORITY_NAMES = ["阿卜杜拉·买买提", "古丽娜尔·吐尔逊", "扎西多吉", "次仁卓玛", "阿依古丽", "巴特尔", "乌兰其其格"]
PINYIN = [
    "zhang",
    "wang",
    "li",
    "liu",
    "chen",
    "yang",
    "huang",
    "zhao",
    "wu",
    "zhou",
    "xu",
    "sun",
    "ma",
    "zhu",
    "hu",
    "guo",
    "lin",
    "luo",
    "xiaoming",
    "wei",
    "fang",
    "jun",
    "hua",
    "lei",
    "ting",
]
PROVINCE_ABBR = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I / O
# (province, city, [districts])
PLACES = [
    ("浙江省", "杭州市", ["上城区", "拱墅区", "西湖区", "滨江区", "萧山区", "余杭区"]),
    ("浙江省", "宁波市", ["海曙区", "江北区", "鄞州区", "北仑区"]),
    ("江苏省", "南京市", ["玄武区", "秦淮区", "鼓楼区", "江宁区"]),
    ("广东省", "广州市", ["天河区", "越秀区", "海珠区", "白云区"]),
    ("广东省", "深圳市", ["福田区", "南山区", "宝安区", "龙岗区"]),
    ("四川省", "成都市", ["锦江区", "青羊区", "武侯区", "成华区"]),
    ("湖北省", "武汉市", ["江岸区", "武昌区", "洪山区"]),
    ("山东省", "济南市", ["历下区", "市中区", "槐荫区"]),
    ("福建省", "厦门市", ["思明区", "湖里区", "集美区"]),
]
MUNICIPALITIES = [("北京市", ["东城区", "西城区", "朝阳区", "海淀区"]), ("上海市", ["黄浦区", "徐汇区", "浦东新区"])]
ROADS = [
    "文三路",
    "天目山路",
    "解放路",
    "人民路",
    "中山北路",
    "建设大道",
    "学院路",
    "滨江大道",
    "长江路",
    "和平街",
    "新华路",
    "东风路",
    "体育场路",
    "延安路",
    "工业园路",
    "创业大道",
]
STREETS = [
    "北山街道",
    "灵隐街道",
    "西溪街道",
    "文新街道",
    "长庆街道",
    "湖滨街道",
    "南星街道",
    "小营街道",
    "凯旋街道",
    "采荷街道",
    "闸弄口街道",
    "四季青街道",
    "翠苑街道",
    "古荡街道",
    "蒋村街道",
]
VILLAGES = ["东山村", "大路村", "上湾村", "桥头村", "新民村"]
TOWNS = ["良渚镇", "瓶窑镇", "临平镇", "塘栖镇", "崇贤镇"]
REGION_CODES = [
    "110101",
    "110102",
    "110105",
    "110108",
    "310101",
    "310104",
    "310115",
    "330102",
    "330105",
    "330106",
    "330109",
    "330203",
    "330212",
    "320102",
    "320106",
    "440103",
    "440106",
    "440304",
    "440305",
    "510104",
    "510107",
    "420102",
    "420106",
    "370102",
    "350203",
    "610113",
    "120101",
    "500103",
    "210102",
    "430102",
    "410105",
    "330302",
    "330402",
    "330521",
    "331002",
    "340104",
]
COMPANY_PREFIX = ["杭州", "宁波", "浙江", "温州", "绍兴", "嘉兴", "湖州", "金华", "台州", "南京", "深圳", "上海"]
COMPANY_CORE = [
    "恒达",
    "华信",
    "天成",
    "博远",
    "瑞丰",
    "鼎盛",
    "海纳",
    "星辰",
    "宏图",
    "安康",
    "众诚",
    "永泰",
    "明德",
    "睿智",
    "启航",
    "云帆",
    "金石",
    "绿源",
    "新锐",
    "汇通",
]
COMPANY_TRADE = [
    "科技",
    "网络科技",
    "贸易",
    "建筑工程",
    "食品",
    "医疗器械",
    "环保科技",
    "物流",
    "餐饮管理",
    "电子商务",
    "信息技术",
    "机械制造",
    "文化传媒",
    "农业开发",
]
COMPANY_SUFFIX = ["有限公司", "有限责任公司", "股份有限公司", "合伙企业（有限合伙）", "个体工商户"]
DEPARTMENTS = [
    "办公室",
    "政策法规处",
    "综合执法队",
    "市场监督管理局",
    "行政审批科",
    "财务处",
    "人事科",
    "信息中心",
    "统计科",
    "社会事务科",
    "城市管理局",
    "卫生健康委员会",
    "教育局基础教育科",
    "民政局养老服务处",
    "发展和改革委员会",
    "生态环境局执法支队",
]
BANKS = [
    "中国工商银行杭州分行",
    "中国建设银行浙江省分行",
    "中国农业银行宁波分行",
    "中国银行西湖支行",
    "招商银行杭州分行",
    "杭州银行科技支行",
    "浙江农商银行",
    "交通银行浙江省分行",
]
CARD_PREFIXES = [
    "622202",
    "621700",
    "622848",
    "621226",
    "622588",
    "621483",
    "622700",
    "436742",
    "622262",
    "621661",
    "623052",
    "625965",
    "524047",
    "622908",
]
AREA_CODES = [
    "010",
    "021",
    "022",
    "023",
    "020",
    "025",
    "027",
    "028",
    "0571",
    "0574",
    "0577",
    "0579",
    "0755",
    "0512",
    "0531",
    "0592",
    "0731",
    "0871",
]
MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "170",
    "173",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
]
EMAIL_DOMAINS = [
    "qq.com",
    "163.com",
    "126.com",
    "sina.com",
    "gmail.com",
    "hotmail.com",
    "zj.gov.cn",
    "hangzhou.gov.cn",
    "foxmail.com",
    "aliyun.com",
    "139.com",
    "sohu.com",
]
INDUSTRY_CODES = [
    "A0111",
    "C1311",
    "C3911",
    "C2710",
    "E4710",
    "F5123",
    "G5430",
    "I6510",
    "I6520",
    "K7010",
    "L7211",
    "M7320",
    "O8010",
    "P8331",
    "Q8411",
    "R8710",
    "H6210",
    "C3562",
]
REMARK_SNIPPETS = [
    "已核实",
    "材料齐全，同意办理",
    "需补充营业执照复印件",
    "逾期未整改，移交执法大队处理",
    "经现场核查，情况属实",
    "申请人已撤回申请",
    "按照《浙江省数字政府建设条例》相关规定执行",
    "该事项已纳入“一网通办”",
    "请于15个工作日内补正材料",
    "系统迁移数据，待复核",
    "2023年第二季度抽查合格",
    "退回原因：签字不清晰",
    "",
]
SCOPE = [
    "技术开发、技术服务、技术咨询",
    "食品经营（销售预包装食品）",
    "建设工程施工",
    "道路货物运输（不含危险货物）",
    "日用百货、五金交电的销售",
    "软件开发；信息系统集成服务",
    "餐饮服务",
    "医疗器械经营",
    "货物进出口；技术进出口",
    "物业管理；停车场服务",
]
DOC_TITLES = [
    "关于开展2023年度安全生产检查的通知",
    "政府信息公开申请表",
    "行政许可决定书",
    "营业执照副本",
    "整改报告",
    "项目验收意见",
    "数据共享申请",
    "会议纪要",
    "预算执行情况表",
    "现场检查照片",
]
DOC_EXTS = [".pdf", ".docx", ".xlsx", ".jpg", ".ofd", ".zip", ".doc"]

FULLWIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")


class Gen:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    # ---- helpers
    def digits(self, n: int) -> str:
        return "".join(self.r.choice(string.digits) for _ in range(n))

    def date_between(self, start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(days=self.r.randrange((end - start).days + 1))

    def birth(self) -> dt.date:
        return self.date_between(dt.date(1940, 1, 1), dt.date(2008, 12, 31))

    def blank(self, value, share: float = 0.03):
        """Replace value by a blank-ish placeholder with probability share."""
        if self.r.random() < share:
            return self.r.choice([None, None, "", " ", "无", "-", "/"])
        return value

    # ---- resident id
    def ric_valid(self) -> str:
        while True:
            body = self.r.choice(REGION_CODES) + self.birth().strftime("%Y%m%d") + self.digits(3)
            num = body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check digit
            if ric.is_valid(num):
                return num

    def ric_wrong_check(self) -> str:
        num = self.ric_valid()
        wrong = self.r.choice([c for c in "0123456789X" if c != num[-1]])
        return num[:-1] + wrong

    def ric_15(self) -> str:
        d = self.date_between(dt.date(1930, 1, 1), dt.date(1984, 12, 31))
        return self.r.choice(REGION_CODES) + d.strftime("%y%m%d") + self.digits(3)

    def ric_masked(self) -> str:
        n = self.ric_valid()
        style = self.r.random()
        if style < 0.6:
            return n[:6] + "********" + n[-4:]
        if style < 0.85:
            return n[:3] + "*" * 11 + n[-4:]
        return n[:1] + "*" * 16 + n[-1:]

    # ---- organisation codes
    @staticmethod
    def org_check(base8: str) -> str:
        weights = [3, 7, 9, 10, 5, 8, 4, 2]
        vals = [int(c) if c.isdigit() else ord(c) - 55 for c in base8]
        c = 11 - sum(w * v for w, v in zip(weights, vals, strict=True)) % 11
        return {10: "X", 11: "0"}.get(c, str(c))

    def org_base8(self) -> str:
        if self.r.random() < 0.5:  # post-2015 style MA + 6 alnum
            alpha = "0123456789ABCDEFGHJKLMNPQRTUWXY"
            return "MA" + "".join(self.r.choice(alpha) for _ in range(6))
        return self.digits(8)

    def org_code(self, hyphen: bool) -> str:
        b = self.org_base8()
        return b + ("-" if hyphen else "") + self.org_check(b)

    def uscc_valid(self) -> str:
        head = self.r.choice(["91", "91", "91", "91", "92", "93", "12", "11", "52", "51"])
        b = self.org_base8()
        body = head + self.r.choice(REGION_CODES) + b + self.org_check(b)
        return body + uscc.calc_check_digit(body)

    def uscc_wrong(self) -> str:
        n = self.uscc_valid()
        wrong = self.r.choice([c for c in uscc._alphabet if c != n[-1]])
        return n[:-1] + wrong

    # ---- phones
    def mobile_raw(self) -> str:
        return self.r.choice(MOBILE_PREFIXES) + self.digits(8)

    def mobile_messy(self) -> str:
        m = self.mobile_raw()
        s = self.r.random()
        if s < 0.45:
            return m
        if s < 0.6:
            return "+86 " + m
        if s < 0.68:
            return "+86-" + m
        if s < 0.75:
            return "86" + m
        if s < 0.85:
            return f"{m[:3]} {m[3:7]} {m[7:]}"
        if s < 0.95:
            return f"{m[:3]}-{m[3:7]}-{m[7:]}"
        return " " + m.translate(FULLWIDTH) + " "

    def mobile_masked(self) -> str:
        m = self.mobile_raw()
        return m[:3] + "****" + m[7:]

    def landline_raw(self) -> tuple[str, str]:
        area = self.r.choice(AREA_CODES)
        local_len = 8 if len(area) == 3 or self.r.random() < 0.8 else 7
        local = str(self.r.randint(2, 8)) + self.digits(local_len - 1)
        return area, local

    def landline_messy(self) -> str:
        area, local = self.landline_raw()
        s = self.r.random()
        if s < 0.40:
            out = f"{area}-{local}"
        elif s < 0.52:
            out = f"({area}){local}"
        elif s < 0.60:
            out = f"（{area}）{local}"
        elif s < 0.70:
            out = area + local
        elif s < 0.78:
            out = f"{area} {local[:4]} {local[4:]}"
        elif s < 0.88:
            out = local  # no area code
        else:
            out = f"+86-{area[1:]}-{local}"
        if self.r.random() < 0.12:
            out += self.r.choice(["-", "转", " ext.", "-", "—"]) + self.digits(self.r.choice([3, 4]))
        return out

    # ---- people, places
    def name(self) -> str:
        x = self.r.random()
        if x < 0.02:
            return self.r.choice(MINORITY_NAMES)
        sur = self.r.choice(COMPOUND_SURNAMES) if x < 0.04 else self.r.choice(SURNAMES)
        n = 1 if self.r.random() < 0.3 else 2
        return sur + "".join(self.r.choice(GIVEN_CHARS) for _ in range(n))

    def name_masked(self) -> str:
        n = self.name()
        if "·" in n:
            return n.split("·")[0][:1] + "**"
        s = self.r.random()
        if s < 0.5:
            return n[0] + "*" * (len(n) - 1)
        if s < 0.8 and len(n) == 3:
            return n[0] + "*" + n[2]
        return n[0] + "**"

    def address(self, style: str = "home") -> str:
        r = self.r
        if r.random() < 0.2:
            city, dists = r.choice(MUNICIPALITIES)
            prov = ""
        else:
            prov, city, dists = r.choice(PLACES)
        dist = r.choice(dists)
        if style == "hukou" and r.random() < 0.35:
            return f"{prov}{city}{dist}{r.choice(TOWNS)}{r.choice(VILLAGES)}{r.randint(1, 30)}组{r.randint(1, 120)}号"
        road = r.choice(ROADS)
        num = f"{r.randint(1, 999)}号"
        tail = ""
        if style == "home" and r.random() < 0.7:
            tail = f"{r.randint(1, 30)}幢{r.randint(1, 6)}单元{r.randint(1, 33)}{r.randint(1, 4):02d}室"
        elif style == "company" and r.random() < 0.6:
            tail = r.choice(
                [
                    f"{r.randint(1, 20)}楼{r.randint(1, 30):02d}室",
                    f"{r.randint(1, 9)}号楼{r.randint(101, 2399)}室",
                    f"创业大厦{r.randint(2, 28)}层",
                ]
            )
        drop_prov = r.random() < 0.3
        a = ("" if drop_prov else prov) + city + dist + road + num + tail
        if r.random() < 0.05:
            a = " " + a
        return a

    def company(self) -> str:
        r = self.r
        return r.choice(COMPANY_PREFIX) + r.choice(COMPANY_CORE) + r.choice(COMPANY_TRADE) + r.choice(COMPANY_SUFFIX)

    def plate(self) -> str:
        r = self.r
        prov = r.choice(PROVINCE_ABBR)
        city = r.choice(PLATE_LETTERS)
        alnum = "0123456789" * 3 + "ABCDEFGHJKLMNPQRSTUVWXYZ"
        if r.random() < 0.2:  # new energy
            tail = r.choice("DF") + self.digits(5) if r.random() < 0.7 else self.digits(5) + r.choice("DF")
        else:
            tail = "".join(r.choice(alnum) for _ in range(5))
            if r.random() < 0.03:
                tail = tail[:4] + r.choice("学警挂")
        sep = r.choice(["", "", "", "·", " ", "-"])
        return prov + city + sep + tail

    def passport(self) -> str:
        r = self.r
        s = r.random()
        if s < 0.55:
            return "E" + self.digits(8)
        if s < 0.8:
            return "E" + r.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") + self.digits(7)
        if s < 0.92:
            return "G" + self.digits(8)
        return r.choice("PSD") + self.digits(7)

    def ip(self) -> str:
        r = self.r
        s = r.random()
        if s < 0.25:
            return f"192.168.{r.randint(0, 255)}.{r.randint(1, 254)}"
        if s < 0.4:
            return f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
        first = r.choice(
            [
                36,
                39,
                42,
                58,
                59,
                60,
                61,
                101,
                106,
                110,
                111,
                112,
                113,
                114,
                115,
                116,
                117,
                118,
                119,
                120,
                121,
                122,
                123,
                124,
                125,
                175,
                180,
                182,
                183,
                202,
                210,
                211,
                218,
                219,
                220,
                221,
                222,
                223,
            ]
        )
        return f"{first}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"

    def email(self) -> str:
        r = self.r
        s = r.random()
        if s < 0.35:
            local = self.digits(r.randint(6, 10)).lstrip("0") or "12345"
        elif s < 0.7:
            local = (
                r.choice(PINYIN)
                + r.choice(["", ".", "_"])
                + r.choice(PINYIN)
                + r.choice(["", self.digits(r.randint(2, 4))])
            )
        else:
            local = r.choice(PINYIN) + self.digits(r.randint(2, 5))
        e = local + "@" + r.choice(EMAIL_DOMAINS)
        return e.upper() if r.random() < 0.03 else e

    def bank_card(self) -> str:
        pre = self.r.choice(CARD_PREFIXES)
        length = self.r.choice([16, 16, 19, 19, 19, 18, 17])
        body = pre + self.digits(length - 1 - len(pre))
        return body + luhn.calc_check_digit(body)

    def not_luhn(self, length: int, prefix: str = "") -> str:
        body = prefix + self.digits(length - len(prefix))
        if luhn.is_valid(body):
            body = body[:-1] + str((int(body[-1]) + 1) % 10)
        return body

    def version(self) -> str:
        r = self.r
        return f"{r.randint(1, 9)}.{r.randint(0, 12)}.{r.randint(0, 30)}.{r.randint(1, 3000)}"


def heldout_table(rows: int = 3000, seed: int = 11) -> tuple[pa.Table, dict[str, str | None]]:
    g = Gen(seed)
    r = g.r
    cols: dict[str, list] = {}
    labels: dict[str, str | None] = {}
    types: dict[str, str] = {}

    def add(name, kind, fn, typ="string"):
        cols[name] = [fn() for _ in range(rows)]
        labels[name] = kind
        types[name] = typ

    def mix(*pairs):
        """pairs of (share, fn); returns a fn choosing among them."""

        def f():
            x = r.random()
            acc = 0.0
            for share, fn in pairs:
                acc += share
                if x < acc:
                    return fn()
            return pairs[-1][1]()

        return f

    # ================================================================ resident_id (7)
    add("身份证号", "resident_id", lambda: g.blank(g.ric_valid(), 0.02))
    # 10% wrong check digit; valid X check digits written lower-case x
    add(
        "sfzh",
        "resident_id",
        lambda: g.blank(
            (g.ric_wrong_check() if r.random() < 0.10 else g.ric_valid()).replace(
                "X", "x" if r.random() < 0.6 else "X"
            ),
            0.03,
        ),
    )
    # 20% old 15-digit IDs, 80% valid 18-digit
    add("证件号码", "resident_id", lambda: g.blank(mix((0.2, g.ric_15), (0.8, g.ric_valid))(), 0.02))
    # masked as publishers write them (330102********1234 etc.), 100% masked
    add("身份证号（脱敏）", "resident_id", lambda: g.blank(g.ric_masked(), 0.02))
    # vague name; 8% full-width digits, 10% surrounding spaces, 5% wrong check digit
    add(
        "号码",
        "resident_id",
        lambda: (lambda v: (" " + v + " ") if r.random() < 0.1 else v)(
            (lambda v: v.translate(FULLWIDTH) if r.random() < 0.08 else v)(
                g.ric_wrong_check() if r.random() < 0.05 else g.ric_valid()
            )
        ),
    )
    add("列1", "resident_id", g.ric_valid)
    # formatted with spaces 6-8-4 as some forms print it
    add(
        "公民身份号码",
        "resident_id",
        lambda: (lambda v: f"{v[:6]} {v[6:14]} {v[14:]}" if r.random() < 0.5 else v)(g.ric_valid()),
    )

    # ================================================================ uscc (4)
    add("统一社会信用代码", "uscc", g.uscc_valid)
    add("tyshxydm", "uscc", lambda: g.blank(g.uscc_valid() if r.random() > 0.04 else g.uscc_valid().lower(), 0.05))
    # vague name; 8% wrong check char
    add("代码", "uscc", lambda: g.uscc_wrong() if r.random() < 0.08 else g.uscc_valid())
    # 12% placeholders like 无 / 暂无 / 个体户无代码
    add(
        "信用代码",
        "uscc",
        lambda: r.choice(["无", "暂无", "个体户无代码", ""]) if r.random() < 0.12 else g.uscc_valid(),
    )

    # ================================================================ org_code (3)
    add("组织机构代码", "org_code", lambda: g.blank(g.org_code(hyphen=True), 0.03))
    add("zzjgdm", "org_code", lambda: g.org_code(hyphen=False))
    # vague name, 70% hyphen, 10% wrong check char
    add(
        "机构代码",
        "org_code",
        lambda: (lambda c: c if r.random() > 0.1 else c[:-1] + r.choice([x for x in "0123456789X" if x != c[-1]]))(
            g.org_code(hyphen=r.random() < 0.7)
        ),
    )

    # ================================================================ mobile (6)
    add("手机号码", "mobile", lambda: g.blank(g.mobile_raw(), 0.02))
    add("lxdh", "mobile", lambda: g.blank(g.mobile_messy(), 0.04))
    # MIXED: 70% mobile, 30% landline -> labelled by majority kind: mobile
    add("联系方式", "mobile", lambda: g.blank(mix((0.7, g.mobile_messy), (0.3, g.landline_messy))(), 0.03))
    add("手机号（脱敏）", "mobile", g.mobile_masked)
    add("列2", "mobile", g.mobile_raw)
    # Excel export: mobile numbers stored as float (13812345678.0)
    add("手机", "mobile", lambda: float(g.mobile_raw()) if r.random() > 0.03 else None, "decimal")

    # ================================================================ landline (3)
    add("办公电话", "landline", lambda: g.blank(g.landline_messy(), 0.03))
    add("固定电话", "landline", lambda: (lambda a: a[0] + a[1])(g.landline_raw()))
    # MIXED: 65% landline, 35% mobile -> labelled by majority kind: landline
    add("联系电话", "landline", lambda: g.blank(mix((0.65, g.landline_messy), (0.35, g.mobile_raw))(), 0.03))

    # ================================================================ email (3)
    add("电子邮箱", "email", lambda: g.blank(g.email(), 0.05))
    add("email", "email", lambda: g.blank(g.email(), 0.15))  # sparse: 15% blank
    add("联系邮箱", "email", lambda: g.email() if r.random() > 0.05 else r.choice(["无", "未提供"]))

    # ================================================================ bank_card (3)
    add("银行卡号", "bank_card", g.bank_card)
    # printed in groups of 4
    add(
        "开户账号",
        "bank_card",
        lambda: (lambda c: " ".join(c[i : i + 4] for i in range(0, len(c), 4)) if r.random() < 0.5 else c)(
            g.bank_card()
        ),
    )
    # 10% fail Luhn (typos)
    add("yhkh", "bank_card", lambda: g.blank(g.bank_card() if r.random() > 0.1 else g.not_luhn(19, "6222"), 0.03))

    # ================================================================ person_name (6)
    add("姓名", "person_name", lambda: g.blank(g.name(), 0.01))
    add("xm", "person_name", g.name)
    add("联系人", "person_name", lambda: g.blank(g.name(), 0.05))
    add("法定代表人", "person_name", g.name)
    add("负责人（脱敏）", "person_name", g.name_masked)
    add("列3", "person_name", g.name)

    # ================================================================ address (5)
    add("住址", "address", lambda: g.blank(g.address("home"), 0.02))
    add("dz", "address", lambda: g.address("home"))
    add("通讯地址", "address", lambda: g.blank(g.address("home"), 0.04))
    add("户籍地址", "address", lambda: g.address("hukou"))
    add("注册地址", "address", lambda: g.address("company"))

    # ================================================================ plate (3)
    add("车牌号码", "plate", g.plate)
    add("hphm", "plate", lambda: g.blank(g.plate(), 0.03))
    add("车辆号牌", "plate", lambda: g.plate() if r.random() > 0.06 else "未上牌")

    # ================================================================ passport (2)
    add("护照号码", "passport", lambda: g.blank(g.passport(), 0.05))
    add("hzhm", "passport", g.passport)

    # ================================================================ ip (3)
    add("IP地址", "ip", g.ip)
    add("访问IP", "ip", lambda: g.blank(g.ip() + (":" + str(r.randint(1024, 65535)) if r.random() < 0.1 else ""), 0.02))
    # vague, misleading name containing 地址
    add("登录地址", "ip", g.ip)

    # ================================================================ coordinate (5)
    add("经度", "coordinate", lambda: round(r.uniform(118.0, 122.9), 6) if r.random() > 0.02 else None, "decimal")
    add("纬度", "coordinate", lambda: round(r.uniform(27.1, 31.2), 6) if r.random() > 0.02 else None, "decimal")
    add("坐标", "coordinate", lambda: f"{r.uniform(118.0, 122.9):.6f},{r.uniform(27.1, 31.2):.6f}")
    add("jd", "coordinate", lambda: round(r.uniform(102.0, 122.0), 5), "decimal")
    add("wd", "coordinate", lambda: round(r.uniform(22.0, 40.0), 5), "decimal")

    # ================================================================ birth_date (3)
    add("出生日期", "birth_date", lambda: g.birth() if r.random() > 0.02 else None, "date")
    add(
        "csrq",
        "birth_date",
        lambda: (lambda d: r.choice([d.strftime("%Y-%m-%d"), d.strftime("%Y%m%d"), f"{d.year}/{d.month}/{d.day}"]))(
            g.birth()
        ),
    )
    add("生日", "birth_date", lambda: (lambda d: f"{d.year}年{d.month:02d}月{d.day:02d}日")(g.birth()))

    # ================================================================ negatives (None)
    add("年度", None, lambda: str(r.randint(2015, 2024)))
    add("金额（元）", None, lambda: round(r.uniform(0, 500000), 2), "decimal")
    add("人数", None, lambda: str(r.randint(0, 5000)))
    add("序号", None, (lambda it: lambda: str(next(it)))(iter(range(1, rows + 1))))
    add(
        "产品批号",
        None,
        lambda: (
            g.date_between(dt.date(2020, 1, 1), dt.date(2024, 12, 31)).strftime("%Y%m%d")
            + r.choice("ABC")
            + g.digits(2)
        ),
    )
    add(
        "证书编号",
        None,
        lambda: r.choice(["ZJ", "JY", "SC", "浙食许"]) + str(r.randint(2015, 2024)) + "-" + g.digits(6),
    )
    add("股票代码", None, lambda: r.choice(["600", "601", "603", "000", "002", "300", "688"]) + g.digits(3))
    # 不动产单元号-like 25-digit numbers
    add("登记编号", None, lambda: r.choice(REGION_CODES) + g.digits(19))
    # random 18-character strings from the USCC alphabet (≈1/31 pass the MOD 31 check by chance)
    add("流水号", None, lambda: "".join(r.choice(string.digits + "ABCDEFGHJKLMNPQRTUWXY") for _ in range(18)))
    # random 16-19 digit serials, all forced to FAIL Luhn
    add("交易流水号", None, lambda: g.not_luhn(r.randint(16, 19), str(r.randint(1, 9))))
    add(
        "订单号",
        None,
        lambda: g.date_between(dt.date(2022, 1, 1), dt.date(2024, 12, 31)).strftime("%Y%m%d") + g.digits(12),
    )
    add("邮政编码", None, lambda: r.choice(["31", "10", "20", "51", "61", "43", "21", "36"]) + g.digits(4))
    add("行政区划代码", None, lambda: r.choice(REGION_CODES))
    add("行业代码", None, lambda: r.choice(INDUSTRY_CODES))
    add("登记日期", None, lambda: g.date_between(dt.date(2010, 1, 1), dt.date(2024, 12, 31)), "date")
    # founding dates overlap birth-date range — still not a birth date
    add("成立日期", None, lambda: g.date_between(dt.date(1985, 1, 1), dt.date(2023, 12, 31)), "date")
    add("统计日期", None, lambda: g.date_between(dt.date(2023, 1, 1), dt.date(2023, 12, 31)), "date")
    add(
        "操作时间",
        None,
        lambda: (dt.datetime(2023, 1, 1) + dt.timedelta(seconds=r.randrange(365 * 86400))).strftime(
            "%Y-%m-%d %H:%M:%S"
        ),
    )
    add("有效期至", None, lambda: g.date_between(dt.date(2024, 1, 1), dt.date(2030, 12, 31)).strftime("%Y-%m-%d"))
    add("企业名称", None, g.company)
    # person-sounding header, but all applicants are companies
    add("申请人", None, g.company)
    add("部门名称", None, lambda: r.choice(DEPARTMENTS))
    add("所属街道", None, lambda: r.choice(STREETS))
    add("所属区县", None, lambda: r.choice(r.choice(PLACES)[2]))
    add("是否有效", None, lambda: r.choice(["是", "否"]))
    add("状态", None, lambda: r.choice(["在营", "注销", "吊销", "迁出", "存续"]))
    add("性别", None, lambda: r.choice(["男", "女"]))
    add("民族", None, lambda: r.choice(["汉族"] * 9 + ["回族", "满族", "壮族", "畲族"]))
    add("备注", None, lambda: r.choice(REMARK_SNIPPETS))
    add("说明", None, lambda: "；".join(r.sample(REMARK_SNIPPETS[:-1], r.randint(1, 3))) + "。")
    add(
        "经营范围",
        None,
        lambda: (
            "；".join(r.sample(SCOPE, r.randint(2, 4))) + "（依法须经批准的项目，经相关部门批准后方可开展经营活动）"
        ),
    )
    add(
        "网址",
        None,
        lambda: (
            f"https://www.{r.choice(['zj', 'hangzhou', 'ningbo', 'beijing'])}.gov.cn"
            f"/art/{r.randint(2019, 2024)}/{r.randint(1, 12)}/{r.randint(1, 28)}/art_{g.digits(10)}_{g.digits(8)}.html"
        ),
    )
    add(
        "附件名称",
        None,
        lambda: r.choice(DOC_TITLES) + r.choice(["", "（盖章版）", "_v2", str(r.randint(1, 99))]) + r.choice(DOC_EXTS),
    )
    # dotted quads that are software versions, not IPs
    add("版本号", None, g.version)
    add("编码", None, lambda: r.choice(["XM", "SX", "ZC", "WZ"]) + "-" + str(r.randint(2018, 2024)) + "-" + g.digits(4))
    add("单价", None, lambda: round(r.uniform(0.5, 999), 2), "decimal")
    add("面积（平方米）", None, lambda: round(r.uniform(20, 3000), 2), "decimal")
    # 政务服务事项编码-like long codes
    add("事项编码", None, lambda: "3300" + g.digits(8) + r.choice(["A", "B", "C"]) + g.digits(14))
    add("合同编号", None, lambda: "HT-" + str(r.randint(2019, 2024)) + "-" + g.digits(4))
    add("发票代码", None, lambda: "0" + g.digits(11))
    add("发票号码", None, lambda: g.digits(8))
    add(
        "开户行行号",
        None,
        lambda: (
            r.choice(["102", "103", "104", "105", "308", "313"]) + r.choice(["331", "332", "100", "290"]) + g.digits(6)
        ),
    )
    add("银行名称", None, lambda: r.choice(BANKS))
    add("数据来源", None, lambda: r.choice(["省市场监管局", "市大数据局", "区民政局", "省公安厅（共享）", "自行采集"]))
    add("电话区号", None, lambda: r.choice(AREA_CODES))
    add("分机号", None, lambda: g.digits(4))
    # blood pressure values overlap the longitude range, weight overlaps latitude range
    add("收缩压（mmHg）", None, lambda: float(r.randint(90, 160)), "decimal")
    add("体重（kg）", None, lambda: round(r.uniform(40, 95), 1), "decimal")
    add("得分", None, lambda: round(r.uniform(55, 100), 2), "decimal")
    add("工号", None, lambda: r.choice(["E", "ZJ", "HZ"]) + g.digits(6))
    # VINs (17 chars) are not licence plates
    add("车架号", None, lambda: "L" + "".join(r.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(16)))
    add("商品条码", None, lambda: "69" + g.digits(11))
    add("学历", None, lambda: r.choice(["本科", "硕士研究生", "大专", "高中", "博士研究生"]))
    add("列4", None, lambda: r.choice(["A类", "B类", "C类", "待定"]))

    schema_types = {"string": pa.string(), "decimal": pa.float64(), "date": pa.date32()}
    table = pa.table({n: pa.array(v, type=schema_types[types[n]]) for n, v in cols.items()})
    global COLUMN_TYPES
    COLUMN_TYPES = dict(types)
    return table, labels


COLUMN_TYPES: dict[str, str] = {}
