"""Realistic demo workbooks: a sales team, its customers and six months of follow-ups, in zh or en.

Used by `runner.py demo` (the first thing a new user runs), by tests and by the benchmark. The data
is planned backwards from `as_of`, so that on that day every status shows up (ok, due soon, due today,
overdue, escalated, pool, closed, invalid), with won customers and their after-won touch points, and
new leads not yet contacted; plus a handful of deliberately broken rows that validation must explain
(BROKEN_KINDS). Deterministic for (seed, as_of, lang, sizes); 50k customers / 500k follow-ups take
seconds to generate.

Counts are exact: the Customers tab holds `customers` non-blank data rows and FollowUps `followups`
(broken rows included; the title row, header rows and the one blank row in each are not).
Company names are bilingual in both languages; `lang` picks headers, tab names, vocabulary labels,
rep names (李娜 / Li Na) and free text.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from addon.core.fields import VALUE_LABELS
from addon.gc_pause import gc_paused
from addon.model import OutCell, StyledCell, TabSpec
from addon.templates import (
    TEAM_ROWS,
    column_layout,
    customer_validations,
    followup_validations,
    headers,
    lang_of,
    tab_name,
    team_validations,
)

HISTORY_DAYS = 180  # follow-ups start at most this long before as_of
MIN_CUSTOMERS = 40  # room for every profile plus the broken rows
MIN_REPS = 3
MAX_REPS = 600  # distinct names in the pools, with their managers

# Deliberate problems, each at a known row (Demo.broken): what validation must report.
BROKEN_KINDS: tuple[str, ...] = (
    "title_row",  # a title above the Customers header: the header need not be in row 1
    "blank_customer_row", "blank_followup_row",  # blank rows in the middle, ignored silently
    "duplicate_id",  # a second, different company with an existing customer ID
    "duplicate_phone",  # the same company entered again under a new ID, same phone written differently
    "bad_date",  # created = "YYYY/13/45"
    "bad_followup_date",  # a follow-up dated "YYYY/13/45"
    "bad_email", "bad_phone",
    "unknown_stage",  # a stage value that is not in the vocabulary
    "unknown_owner",  # an owner who is not in Team (a rep who left)
    "formula_name",  # a customer name starting with '=' that must stay text
    "numeric_id",  # IDs like 00123 stored as text (three rows; Demo.broken names the first)
    "orphan_followup",  # a follow-up for a customer that does not exist
    "future_followup",  # a follow-up dated after as_of
    "no_email_rep", "inactive_rep",  # in Team
)

# --- name pools (Chinese, pinyin) --------------------------------------------------------------

SURNAMES = (
    ("李", "li"), ("王", "wang"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"), ("黄", "huang"),
    ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"),
    ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"), ("罗", "luo"), ("高", "gao"), ("郑", "zheng"),
    ("梁", "liang"), ("谢", "xie"), ("宋", "song"), ("唐", "tang"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"),
    ("曹", "cao"), ("彭", "peng"),
)
GIVEN = (
    ("娜", "na"), ("伟", "wei"), ("芳", "fang"), ("敏", "min"), ("静", "jing"), ("强", "qiang"), ("磊", "lei"),
    ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("娟", "juan"), ("涛", "tao"),
    ("明", "ming"), ("超", "chao"), ("秀英", "xiuying"), ("霞", "xia"), ("平", "ping"), ("刚", "gang"),
    ("晨", "chen"), ("婷", "ting"), ("浩", "hao"), ("欣怡", "xinyi"), ("子涵", "zihan"), ("宇航", "yuhang"),
    ("思远", "siyuan"), ("佳琪", "jiaqi"), ("文博", "wenbo"), ("雨萱", "yuxuan"), ("建国", "jianguo"), ("海燕", "haiyan"),
)
FORMER_REP = (("赵", "zhao"), ("磊", "lei"))  # owns a customer but is not in Team

CITIES = (
    "上海", "北京", "深圳", "广州", "杭州", "苏州", "南京", "成都", "武汉", "天津", "重庆", "西安", "宁波", "青岛", "厦门",
    "合肥", "长沙", "郑州", "无锡", "东莞", "佛山", "济南", "福州", "大连", "沈阳", "昆明", "南昌", "常州", "温州", "珠海",
)
CORES = (
    ("云启", "yunqi"), ("华信", "huaxin"), ("博远", "boyuan"), ("恒通", "hengtong"), ("鼎盛", "dingsheng"), ("瑞丰", "ruifeng"),
    ("海纳", "haina"), ("金桥", "jinqiao"), ("天成", "tiancheng"), ("明达", "mingda"), ("中科", "zhongke"), ("新锐", "xinrui"),
    ("宏图", "hongtu"), ("益康", "yikang"), ("安泰", "antai"), ("卓越", "zhuoyue"), ("长风", "changfeng"), ("星河", "xinghe"),
    ("正和", "zhenghe"), ("嘉禾", "jiahe"), ("远航", "yuanhang"), ("景程", "jingcheng"), ("佳美", "jiamei"), ("凯旋", "kaixuan"),
    ("德润", "derun"), ("盛世", "shengshi"), ("万象", "wanxiang"), ("东方", "dongfang"), ("青禾", "qinghe"), ("思创", "sichuang"),
    ("优品", "youpin"), ("联拓", "liantuo"), ("锦程", "jincheng"), ("禾丰", "hefeng"), ("晶科", "jingke"), ("泰和", "taihe"),
    ("百川", "baichuan"), ("众合", "zhonghe"), ("启明", "qiming"), ("睿达", "ruida"), ("汇通", "huitong"), ("华业", "huaye"),
    ("永利", "yongli"), ("诚信", "chengxin"), ("和光", "heguang"), ("拓新", "tuoxin"), ("方圆", "fangyuan"), ("蓝海", "lanhai"),
    ("银河", "yinhe"), ("富源", "fuyuan"), ("志远", "zhiyuan"), ("恒瑞", "hengrui"), ("天合", "tianhe"), ("宝丰", "baofeng"),
    ("立信", "lixin"), ("鸿运", "hongyun"), ("君安", "junan"), ("嘉诚", "jiacheng"), ("赛维", "saiwei"), ("中盛", "zhongsheng"),
    ("朗科", "langke"), ("光大", "guangda"), ("科达", "keda"), ("美迪", "meidi"), ("尚品", "shangpin"), ("卓达", "zhuoda"),
    ("通达", "tongda"), ("精工", "jinggong"), ("鑫源", "xinyuan"), ("浩瀚", "haohan"), ("明润", "mingrun"), ("奥林", "aolin"),
    ("华泰", "huatai"), ("新元", "xinyuan2"), ("信和", "xinhe"), ("绿源", "lvyuan"), ("佳禾", "jiahe2"), ("腾达", "tengda"),
    ("万达通", "wandatong"), ("福瑞", "furui"),
)
INDUSTRIES = (
    ("科技", "tech"), ("电子", "elec"), ("贸易", "trade"), ("物流", "logistics"), ("医疗器械", "medical"), ("食品", "food"),
    ("新材料", "materials"), ("机械", "machinery"), ("环保科技", "enviro"), ("信息技术", "it"), ("生物医药", "bio"),
    ("建材", "build"), ("包装", "pack"), ("汽车零部件", "autoparts"), ("教育科技", "edu"), ("智能装备", "equip"),
    ("化工", "chem"), ("纺织", "textile"), ("家居", "home"), ("网络科技", "net"), ("供应链管理", "scm"), ("仪器仪表", "instr"),
    ("电气", "electric"), ("软件", "soft"),
)
CN_SUFFIXES = (("有限公司", 75), ("股份有限公司", 15), ("集团有限公司", 10))

EN_PREFIXES = (
    "Acme", "Globex", "Pioneer", "Summit", "Harbor", "Evergreen", "Northstar", "Bluewave", "Redwood", "Silverline",
    "Oakridge", "Brightpath", "Crestview", "Meridian", "Horizon", "Keystone", "Lakeside", "Sterling", "Vertex", "Atlas",
    "Orion", "Beacon", "Cascade", "Granite", "Highland", "Ironwood", "Juniper", "Kingsway", "Lumen", "Maplewood",
)
EN_NOUNS = (
    "Trading", "Logistics", "Technologies", "Electronics", "Foods", "Medical", "Materials", "Machinery", "Solutions",
    "Systems", "Industries", "Supply", "Packaging", "Instruments", "Labs",
)
EN_REGIONS = ("", " (Shanghai)", " (Shenzhen)", " (Suzhou)", " (Hong Kong)", " Asia", " China", " International", " Pacific", " Global")
EN_SUFFIXES = ("Ltd.", "Inc.", "Co., Ltd.", "Pte. Ltd.", "GmbH", "LLC")
EN_FIRST = ("John", "Emily", "Michael", "Sarah", "David", "Laura", "James", "Anna", "Robert", "Linda", "Peter", "Maria")
EN_LAST = ("Smith", "Johnson", "Brown", "Taylor", "Miller", "Wilson", "Moore", "Clark", "Lewis", "Walker", "Müller", "Tan")

MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "156", "157",
    "158", "159", "166", "173", "177", "180", "181", "182", "183", "185", "186", "187", "188", "189", "191", "198", "199",
)

SOURCES = (
    ("展会", "Trade show"), ("官网", "Website"), ("老客户介绍", "Referral"), ("电话营销", "Cold call"), ("线上广告", "Online ads"),
    ("百度推广", "Search ads"), ("抖音", "Douyin"), ("合作伙伴", "Partner"), ("行业协会", "Industry association"),
)
CHANNEL_WEIGHTS = (("phone", 35), ("wechat", 30), ("email", 12), ("visit", 12), ("meeting", 8), ("sms", 2), ("other", 1))

# Outcome / note texts per stage the contact was in: (zh, en).
OUTCOMES: dict[str, tuple[tuple[str, str], ...]] = {
    "new": (("已接通，初步介绍了产品", "Reached; gave a short intro"), ("未接通，稍后再联系", "No answer; will try again"),
            ("已添加微信", "Added on WeChat"), ("发送了公司介绍", "Sent our company profile")),
    "qualified": (("确认了采购需求和预算", "Need and budget confirmed"), ("约了线上演示", "Online demo booked"),
                  ("对接到技术负责人", "Connected with the technical lead")),
    "proposal": (("完成方案演示", "Demo done"), ("已发送解决方案", "Proposal sent"), ("客户内部评估中", "Under internal review")),
    "negotiation": (("已发送报价单", "Quote sent"), ("客户要求再降价5%", "Asked for another 5% off"),
                    ("合同条款沟通中", "Discussing contract terms")),
    "won": (("合同已签订", "Contract signed"), ("收到首付款", "Down payment received")),
    "after_sales": (("回访：使用顺利", "Check-in: all good"), ("安排了上线培训", "Onboarding training scheduled"),
                    ("反馈一个小问题，已转技术支持", "Minor issue; passed to support"), ("询问续费和增购", "Asked about renewal and upsell")),
    "lost": (("客户选择了竞争对手", "Chose a competitor"), ("预算取消，项目搁置", "Budget cut; project shelved"),
             ("价格无法达成一致", "Could not agree on price")),
    "dormant": (("多次联系无回应", "No response after several attempts"), ("客户表示明年再考虑", "Will reconsider next year")),
}
NOTES: dict[str, tuple[tuple[str, str], ...]] = {
    "new": (("客户在展会上留了名片，对自动化产线感兴趣", "Met at the trade show; interested in line automation"),
            ("前台转接采购部，下周再打", "Reception passed us to purchasing; call again next week"),
            ("客户主要关心价格和交付周期", "Mostly cares about price and lead time")),
    "qualified": (("年采购量约 200 万，决策人是采购总监", "About 2M a year; the purchasing director decides"),
                  ("现有供应商服务不满意，有替换意向", "Unhappy with the current supplier"),
                  ("需要先做小批量试用", "Wants a small pilot first")),
    "proposal": (("技术部门认可方案，等待商务评估", "Engineering likes it; waiting for the business review"),
                 ("客户要求补充案例和资质文件", "Asked for references and certificates"),
                 ("演示顺利，老板亲自参加", "Demo went well; the owner attended")),
    "negotiation": (("报价已发，客户在比价", "Quote sent; they are comparing offers"),
                    ("付款方式待定：客户希望月结 60 天", "Payment terms open: they want 60 days"),
                    ("法务在审合同", "Legal is reviewing the contract")),
    "won": (("签约，首批订单下周发货", "Signed; first order ships next week"), ("合同盖章完成", "Contract stamped and signed")),
    "after_sales": (("客户对交付速度满意", "Happy with delivery speed"), ("提出增加两个账号", "Wants two more seats"),
                    ("下季度有扩产计划，可跟进增购", "Expansion planned next quarter; upsell chance")),
    "lost": (("竞品报价低 15%", "Competitor was 15% cheaper"), ("项目取消", "Project cancelled")),
    "dormant": (("联系人已离职，需重新找对接人", "Contact left the company; find a new one"),
                ("客户业务调整，暂不采购", "Business is changing; no purchases for now")),
}
CUSTOMER_NOTES = (
    ("老客户转介绍，决策人是采购总监", "Referred by a customer; purchasing director decides"),
    ("对价格敏感", "Price-sensitive"), ("集团客户，需走招标流程", "Group company; tender process required"),
    ("只接受上午来电", "Call in the mornings only"), ("- 重点客户，季度回访", "- Key account, quarterly review"),
    ("+1 位联系人：财务部王会计", "+1 contact: Ms Wang in finance"),
)

OPEN = ("new", "qualified", "proposal", "negotiation")
TIER_DAYS = {"A": 7, "B": 14, "C": 30}
TIER_GAP = {"A": 6, "B": 10, "C": 16}  # typical days between contacts in the history

# Situations planned for as_of, with their share of customers.
PROFILES: dict[str, int] = {
    "ok": 26, "ok_tier": 6, "due_soon": 7, "due_today": 5, "overdue": 9, "escalated": 6, "protected_quiet": 3,
    "pool": 7, "won": 8, "after_sales": 5, "lost": 6, "dormant": 4, "new_lead": 5, "manual": 3,
}
_EXTRA_WEIGHT = {"pool": 0.35, "won": 1.6, "after_sales": 0.8, "lost": 0.7, "dormant": 0.5, "new_lead": 0.0,
                 "protected_quiet": 0.8, "escalated": 0.9}


@dataclass(frozen=True)
class Demo:
    """The demo tabs plus what was planned, so tests and docs can point at concrete rows."""

    tabs: list[TabSpec]
    profiles: dict[int, str]  # Customers sheet row (1-based) -> planned situation (PROFILES key, or duplicate_id/_phone)
    broken: dict[str, tuple[str, int]]  # BROKEN_KINDS entry -> (role, 1-based sheet row)


@dataclass
class _Rep:
    zh: str
    en: str
    email: str | None
    manager: int | None = None  # index into the managers list
    active: bool = True


@dataclass
class _Customer:
    profile: str
    tier: str
    owner: int | None  # rep index; None = unassigned
    stage: str
    created: date
    last: date | None = None  # planned last contact (None: never contacted)
    next: date | None = None  # planned next_date on the last contact
    won: date | None = None
    touches: tuple[date, ...] = ()
    manual: date | None = None
    protected: bool = False
    k: int = 0
    weight: float = 0.0
    id: str = ""
    name: str = ""
    running: str = "new"  # stage while writing its follow-ups in date order
    phone: str = ""
    row: int = 0


class _Dates:
    """Cached StyledCells: the same few hundred dates recur across 500k rows."""

    def __init__(self) -> None:
        self.cache: dict[object, StyledCell] = {}

    def __call__(self, value: date | datetime | None) -> OutCell:
        if value is None:
            return None
        cell = self.cache.get(value)
        if cell is None:
            style = "datetime" if isinstance(value, datetime) else "date"
            cell = self.cache[value] = StyledCell(value, style)
        return cell


_TIMES = tuple(time(h, m) for h in range(9, 18) for m in range(0, 60, 5))  # office hours, 5-minute steps
# A channel per follow-up from 100 slots (weights sum to 100): one random() instead of choices().
_CHANNEL_SLOTS = tuple(name for name, weight in CHANNEL_WEIGHTS for _ in range(weight))
assert len(_CHANNEL_SLOTS) == 100


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


# --- team --------------------------------------------------------------------------------------

def _team(rng: random.Random, reps: int) -> tuple[list[_Rep], list[_Rep]]:
    """Reps (the first is 李娜, one has no email, the last is inactive) and their managers."""
    combos = [(s, g) for s in SURNAMES for g in GIVEN if (s, g) != FORMER_REP]
    first = (SURNAMES[0], GIVEN[0])  # 李娜 li.na@example.com
    combos.remove(first)
    n_managers = max(1, reps // 4)
    picked = [first, *rng.sample(combos, reps + n_managers - 1)]
    used: set[str] = set()
    people: list[_Rep] = []
    for (sz, sp), (gz, gp) in picked:
        local = f"{sp}.{gp}"
        email = f"{local}@example.com" if local not in used else f"{local}{len(used)}@example.com"
        used.add(local)
        people.append(_Rep(zh=sz + gz, en=f"{sp.capitalize()} {gp.capitalize()}", email=email))
    staff, managers = people[:reps], people[reps:]
    for index, rep in enumerate(staff):
        rep.manager = index % n_managers
    staff[-2].email = None  # reminders cannot reach this rep: an Issue, copied to the admin
    staff[-1].active = False  # left the company; still owns a few old customers
    return staff, managers


# --- plans -------------------------------------------------------------------------------------

def _profiles(rng: random.Random, n: int) -> list[str]:
    """One of each situation, a dozen plain 'ok' ones (targets for the broken rows), then by share."""
    names = list(PROFILES)
    chosen = names + ["ok"] * 12
    chosen += rng.choices(names, weights=list(PROFILES.values()), k=n - len(chosen))
    rng.shuffle(chosen)
    return chosen


def _plan(rng: random.Random, profile: str, d: date, owners: list[int], inactive: int) -> _Customer:
    rd = rng.randint
    tier = rng.choices(("A", "B", "C"), weights=(20, 45, 35))[0]
    stage = rng.choices(OPEN, weights=(25, 30, 25, 20))[0]
    owner: int | None = rng.choice(owners)
    c = _Customer(profile=profile, tier=tier, owner=owner, stage=stage, created=d)
    if profile == "ok":
        c.last, c.next = d - timedelta(rd(1, 10)), d + timedelta(rd(3, 14))
    elif profile == "ok_tier":  # no planned date: tier interval decides, still comfortably ahead
        c.last = d - timedelta(rd(1, TIER_DAYS[tier] - 3))
    elif profile == "due_soon":
        c.next = d + timedelta(rd(1, 2))
        c.last = d - timedelta(rd(3, 14))
    elif profile == "due_today":
        c.next, c.last = d, d - timedelta(rd(2, 14))
    elif profile in ("overdue", "escalated"):
        c.next = d - timedelta(rd(1, 6) if profile == "overdue" else rd(7, 18))
        c.last = max(c.next - timedelta(rd(1, 12)), d - timedelta(28))  # quiet < pool_after (30d)
    elif profile == "protected_quiet":  # would be a pool candidate, but it is locked
        c.last = d - timedelta(rd(35, 90))
        c.next, c.protected = c.last + timedelta(rd(5, 14)), True
    elif profile == "pool":
        c.last = d - timedelta(rd(31, 120))
        c.next = c.last + timedelta(rd(5, 14)) if rng.random() < 0.6 else None
        if rng.random() < 0.2:
            c.owner, c.profile = None, "unassigned_quiet"  # in the public pool already: escalated, not "pool"
        elif rng.random() < 0.2:
            c.owner = inactive
    elif profile == "won":
        c.stage, c.won = "won", d - timedelta(rd(1, 45))
        touches = []
        for days in (3, 7, 30):
            day = c.won + timedelta(days + rd(0, 1))
            if day > d or rng.random() < 0.2:
                break
            touches.append(day)
        c.touches = tuple(touches)
    elif profile == "after_sales":
        c.stage, c.won = "after_sales", d - timedelta(rd(60, 160))
        touches = [c.won + timedelta(3), c.won + timedelta(7), c.won + timedelta(30)]
        while touches[-1] + timedelta(35) <= d - timedelta(3):
            touches.append(touches[-1] + timedelta(rd(25, 35)))
        c.touches = tuple(touches)
        c.next = touches[-1] + timedelta(30) if rng.random() < 0.5 else None
    elif profile == "lost":
        c.stage, c.last = "lost", d - timedelta(rd(5, 150))
        if rng.random() < 0.3:
            c.owner = inactive
    elif profile == "dormant":
        c.stage, c.last = "dormant", d - timedelta(rd(60, 170))
    elif profile == "new_lead":  # created in the last days, never contacted
        c.stage, c.created = "new", d - timedelta(rd(0, 3))
        if rng.random() < 0.2:
            c.owner = None
    elif profile == "manual":  # a date typed into the customer's next follow-up column
        c.last = d - timedelta(rd(3, 20))
        c.manual = d + timedelta(rd(0, 6))
    else:  # pragma: no cover - PROFILES and this function change together
        raise AssertionError(profile)
    if c.won is not None:
        c.last = c.touches[-1] if c.touches else c.won
    if profile not in ("protected_quiet", "pool", "new_lead") and rng.random() < 0.04:
        c.protected = True
    c.weight = _EXTRA_WEIGHT.get(profile, 1.0) * rng.uniform(0.3, 1.7)
    return c


def _minimum(c: _Customer) -> int:
    if c.profile == "new_lead":
        return 0
    return 1 + len(c.touches)


def _allocate(plans: list[_Customer], total: int) -> None:
    """Spread exactly `total` follow-ups over customers (largest remainder, so the sum is exact)."""
    mins = [_minimum(c) for c in plans]
    extra = total - sum(mins)
    weight = sum(c.weight for c in plans)
    shares = [extra * c.weight / weight for c in plans]
    counts = [int(s) for s in shares]
    left = extra - sum(counts)
    for index in sorted(range(len(plans)), key=lambda j: counts[j] - shares[j])[:left]:
        counts[index] += 1
    for c, low, more in zip(plans, mins, counts, strict=True):
        c.k = low + more


# --- names, phones -----------------------------------------------------------------------------

def _company_names(rng: random.Random, n: int) -> list[tuple[str, str, bool]]:
    """n distinct (name, email domain, is_english) in random order; about one in eight is English."""
    n_en = min(n // 8, len(EN_PREFIXES) * len(EN_NOUNS) * len(EN_REGIONS))
    n_cn = n - n_en
    space = len(CITIES) * len(CORES) * len(INDUSTRIES)
    names: list[tuple[str, str, bool]] = []
    for code in rng.sample(range(space), min(n_cn, space)):
        city, rest = divmod(code, len(CORES) * len(INDUSTRIES))
        core, industry = divmod(rest, len(INDUSTRIES))
        suffix = _weighted(rng, CN_SUFFIXES)
        prefix = CITIES[city] + ("市" if rng.random() < 0.4 else "")
        cz, cp = CORES[core]
        iz, ip = INDUSTRIES[industry]
        names.append((f"{prefix}{cz}{iz}{suffix}", f"{cp}-{ip}.example.com", False))
    for extra in range(n_cn - len(names)):  # beyond the pool: branches of existing names
        base, domain, _ = names[extra % space]
        names.append((f"{base}第{extra // space + 2}分公司", domain, False))
    en_space = len(EN_PREFIXES) * len(EN_NOUNS) * len(EN_REGIONS)
    for code in rng.sample(range(en_space), n_en):
        first, rest = divmod(code, len(EN_NOUNS) * len(EN_REGIONS))
        noun, region = divmod(rest, len(EN_REGIONS))
        p, w = EN_PREFIXES[first], EN_NOUNS[noun]
        names.append((f"{p} {w}{EN_REGIONS[region]} {rng.choice(EN_SUFFIXES)}", f"{p}{w}.example.com".lower(), True))
    rng.shuffle(names)
    return names


class _Phones:
    """Distinct CN mobiles, written the ways people write them (as text)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: set[str] = set()

    def digits(self) -> str:
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.seen:
                self.seen.add(number)
                return number

    def styled(self, number: str) -> str:
        roll = self.rng.random()
        if roll < 0.15:
            return f"+86 {number[:3]}-{number[3:7]}-{number[7:]}"
        if roll < 0.25:
            return f"{number[:3]} {number[3:7]} {number[7:]}"
        return number


# --- follow-up history -------------------------------------------------------------------------

# A contact's moment as one int: day ordinal * _SLOT + index into _TIMES (cheap to sort and cache).
_SLOT = 128
_EVENT = 1 << 24  # event sort key = moment * _EVENT + sequence number


def _days_before(rng: random.Random, anchor: int, count: int, tier: str, earliest: int) -> list[int]:
    """`count` contact days (ordinals) before anchor, spaced like a rep working this tier."""
    if count <= 0:
        return []
    span = min(int(count * TIER_GAP[tier] * rng.uniform(0.7, 1.3)), anchor - earliest)
    if span < 1:
        return [anchor] * count
    r = rng.random
    return [anchor - 1 - int(r() * span) for _ in range(count)]


def _stage_marks(rng: random.Random, k: int, path: tuple[str, ...]) -> dict[int, str]:
    """Which contacts (indexes < k) moved the stage, walking `path` in order; the last mark is path[-1]."""
    if not path or k <= 0:
        return {}
    positions = sorted(rng.sample(range(k), min(k, len(path))))
    steps = path[-len(positions):]
    return dict(zip(positions, steps, strict=True))


def _history(rng: random.Random, c: _Customer, d: date) -> list[tuple[int, bool, int | None, str | None]]:
    """(moment, date only?, planned next day ordinal, stage after) per contact, oldest first."""
    if c.k == 0 or c.last is None:
        return []
    earliest = d.toordinal() - HISTORY_DAYS
    if c.won is not None:
        pre = c.k - len(c.touches)
        won = c.won.toordinal()
        days = [*_days_before(rng, won, pre - 1, c.tier, earliest), won, *(t.toordinal() for t in c.touches)]
        marks = _stage_marks(rng, pre - 1, OPEN[1:][: rng.randint(1, 3)])
        marks[pre - 1] = "won"
        if c.stage == "after_sales":
            marks[pre + 2] = "after_sales"
    else:
        last_day = c.last.toordinal()
        days = [*_days_before(rng, last_day, c.k - 1, c.tier, earliest), last_day]
        if c.stage in OPEN:
            marks = _stage_marks(rng, c.k, OPEN[1 : OPEN.index(c.stage) + 1])
        else:  # lost / dormant: got somewhere first, then the last contact closed it
            marks = _stage_marks(rng, c.k - 1, OPEN[1 : rng.randint(1, 4)])
            marks[c.k - 1] = c.stage
    r = rng.random
    slots = len(_TIMES)
    moments = sorted(day * _SLOT + int(r() * slots) for day in days)
    out = []
    last = len(moments) - 1
    for index, moment in enumerate(moments):
        if index == last:
            planned = c.next.toordinal() if c.next is not None else None
        elif r() < 0.65:  # planned the next contact: mostly kept, sometimes late
            planned = max(moment // _SLOT + 1, moments[index + 1] // _SLOT + int(r() * 6) - 3)
        else:
            planned = None
        out.append((moment, r() < 0.12, planned, marks.get(index)))
    return out


def _created(rng: random.Random, first_contact: date) -> date:
    roll = rng.random()
    if roll < 0.55:
        return first_contact
    if roll < 0.8:
        return first_contact - timedelta(1)
    if roll < 0.95:
        return first_contact - timedelta(rng.randint(2, 6))
    return first_contact - timedelta(rng.randint(7, 30))


# --- the tabs ----------------------------------------------------------------------------------

def _labels(kind: str, i: int) -> dict[str, str]:
    return {key: pair[i] for key, pair in VALUE_LABELS[kind].items()}


_STAGE_SYNONYMS = ({"won": "赢单", "negotiation": "谈判", "lost": "丢单"}, {"won": "Closed Won", "lost": "Closed Lost", "proposal": "Demo"})
_TIER_SYNONYMS = ({"A": "高价值", "B": "普通", "C": "潜在"}, {"A": "High", "B": "Medium", "C": "Low"})


def demo_dataset(
    as_of: date,
    lang: str = "zh",
    seed: int = 7,
    customers: int = 200,
    followups: int = 1500,
    reps: int = 8,
) -> Demo:
    """The demo tabs (Customers, FollowUps, Team) and the plan behind them; see the module docstring."""
    with gc_paused():
        return _generate(as_of, lang, seed, customers, followups, reps)


def _generate(as_of: date, lang: str, seed: int, customers: int, followups: int, reps: int) -> Demo:
    i = lang_of(lang)
    if customers < MIN_CUSTOMERS:
        raise ValueError(f"customers={customers}: the demo needs at least {MIN_CUSTOMERS} to show every situation")
    if not MIN_REPS <= reps <= MAX_REPS:
        raise ValueError(f"reps={reps}: the demo needs {MIN_REPS} to {MAX_REPS} reps (one has no email, one is inactive)")
    d = as_of
    rng = random.Random(f"followup-demo:{seed}:{d.isoformat()}")
    staff, managers = _team(rng, reps)
    inactive = reps - 1
    owners = list(range(reps - 1))  # active reps, including the one without an email

    n_plain = customers - 2  # + the duplicate-ID row and the duplicate-by-phone row
    plans = [_plan(rng, p, d, owners, inactive) for p in _profiles(rng, n_plain)]
    floor = sum(_minimum(c) for c in plans) + 2
    if followups < floor:
        raise ValueError(f"followups={followups}: {customers} customers need at least {floor} follow-ups in this plan")
    _allocate(plans, followups - 2)  # + the orphan and the future-dated follow-up

    histories = []
    for c in plans:
        events = _history(rng, c, d)
        if events:
            c.created = _created(rng, date.fromordinal(events[0][0] // _SLOT))
        elif c.profile != "new_lead":  # pragma: no cover - every other profile has contacts
            raise AssertionError(c.profile)
        histories.append(events)

    order = sorted(range(n_plain), key=lambda j: (plans[j].created, j))
    width = max(4, len(str(customers)))
    names = _company_names(rng, customers)
    phones = _Phones(rng)
    emails: set[str] = set()
    for number, index in enumerate(order, start=1):
        c = plans[index]
        c.id = f"C{number:0{width}d}"
        c.name = names[number - 1][0]
        c.phone = phones.digits()
    spare = names[n_plain:]

    # Targets of the broken rows: plain 'ok' customers spread through the sheet.
    oks = [plans[j] for j in order if plans[j].profile == "ok"]
    taken: set[int] = set()

    def target(fraction: float) -> _Customer:
        at = int(len(oks) * fraction)
        while id(oks[at % len(oks)]) in taken:
            at += 1
        taken.add(id(oks[at % len(oks)]))
        return oks[at % len(oks)]

    t_dup_id, t_dup_phone, t_bad_date, t_email, t_phone, t_stage, t_formula, t_owner = (
        target(f) for f in (0.2, 0.4, 0.25, 0.3, 0.35, 0.45, 0.5, 0.55)
    )
    numeric = [target(f) for f in (0.1, 0.65, 0.9)]
    t_date = next((c for c in oks if c.k >= 3 and id(c) not in taken), None) or max(plans, key=lambda c: c.k)
    for c, code in zip(numeric, ("00123", "00456", "00789"), strict=True):
        c.id = code
    t_formula.name = '=HYPERLINK("http://x","click")'

    stage_label, tier_label, channel_label = _labels("stage", i), _labels("tier", i), _labels("channel", i)
    rep_names = [(r.zh, r.en)[i] for r in staff]
    former = (FORMER_REP[0][0] + FORMER_REP[1][0], f"{FORMER_REP[0][1].capitalize()} {FORMER_REP[1][1].capitalize()}")[i]
    dates = _Dates()

    # Customers rows, in created order.
    body: list[tuple[str | None, _Customer | None, list[OutCell]]] = []
    for index in order:
        c = plans[index]
        body.append((None, c, _customer_row(rng, c, i, rep_names, stage_label, tier_label, dates, phones, emails)))
    for c, kind in ((t_bad_date, "bad_date"), (t_email, "bad_email"), (t_phone, "bad_phone"),
                    (t_stage, "unknown_stage"), (t_owner, "unknown_owner"), (t_formula, "formula_name"),
                    (numeric[0], "numeric_id")):
        pos = next(j for j, item in enumerate(body) if item[1] is c)
        row = body[pos][2]
        if kind == "bad_date":
            row[5] = f"{d.year}/13/45"
        elif kind == "bad_email":
            row[11] = "wang.fang@@example"
        elif kind == "bad_phone":
            row[10] = "138-0013-800"
        elif kind == "unknown_stage":
            row[4] = ("观望中", "Wait and see")[i]  # not a stage
        elif kind == "unknown_owner":
            row[2] = former
        body[pos] = (kind, c, row)

    dup = _Customer(profile="duplicate_id", tier="B", owner=rng.choice(owners), stage="new", created=d - timedelta(rng.randint(10, 60)))
    dup.id, dup.name, dup.phone = t_dup_id.id, spare[0][0], phones.digits()
    twin = _Customer(profile="duplicate_phone", tier=t_dup_phone.tier, owner=rng.choice(owners), stage="new",
                     created=d - timedelta(rng.randint(1, 10)))
    twin.id = f"C{n_plain + 1:0{width}d}"
    twin.name = _short_name(t_dup_phone.name)
    twin.phone = t_dup_phone.phone
    twin_row = _customer_row(rng, twin, i, rep_names, stage_label, tier_label, dates, phones, emails)
    twin_row[10] = f"+86 {twin.phone[:3]} {twin.phone[3:7]} {twin.phone[7:]}"  # same number, written differently
    source_pos = next(j for j, item in enumerate(body) if item[1] is t_dup_phone)
    body[source_pos][2][10] = twin.phone
    body.insert(int(len(body) * 0.6), ("duplicate_id", dup, _customer_row(rng, dup, i, rep_names, stage_label, tier_label, dates, phones, emails)))
    body.insert(int(len(body) * 0.8), ("duplicate_phone", twin, twin_row))

    title = (f"客户列表（演示数据，截至 {d.isoformat()}）", f"Customers (demo data as of {d.isoformat()})")[i]
    customer_rows: list[list[OutCell]] = [[StyledCell(title, "title")], [StyledCell(h, "header") for h in headers("customers", lang)]]
    broken: dict[str, tuple[str, int]] = {"title_row": ("customers", 1)}
    profiles: dict[int, str] = {}
    blank_at = len(body) // 2
    for j, (kind, c, row) in enumerate(body):
        if j == blank_at:
            customer_rows.append([])
            broken["blank_customer_row"] = ("customers", len(customer_rows))
        customer_rows.append(row)
        assert c is not None
        c.row = len(customer_rows)
        profiles[c.row] = c.profile
        if kind is not None:
            broken.setdefault(kind, ("customers", c.row))

    # FollowUps rows, in date order.
    # (sort key, customer, date only?, planned next ordinal, stage after); keys are unique.
    events: list[tuple[int, _Customer | None, bool, int | None, str | None]] = []
    seq = 0
    for c, history in zip(plans, histories, strict=True):
        for moment, date_only, planned, mark in history:
            events.append((moment * _EVENT + seq, c, date_only, planned, mark))
            seq += 1
    d_ord = d.toordinal()
    afternoon = _TIMES.index(time(15, 20))
    events.append(((d_ord - 3) * _SLOT * _EVENT + afternoon * _EVENT + seq, None, False, d_ord + 4, None))
    events.append(((d_ord + 5) * _SLOT * _EVENT + 12 * _EVENT + seq + 1, t_email, False, None, None))
    events.sort()
    bad_followup = _second_contact(t_date, events)

    follow_rows: list[list[OutCell]] = [[StyledCell(h, "header") for h in headers("followups", lang)]]
    blank_follow = 1 + len(events) // 2
    channel_slots = [channel_label[name] for name in _CHANNEL_SLOTS]
    notes = {stage: [pair[i] for pair in pairs] for stage, pairs in NOTES.items()}
    outcomes = {stage: [pair[i] for pair in pairs] for stage, pairs in OUTCOMES.items()}
    r = rng.random
    moments: dict[tuple[int, bool], OutCell] = {}
    days: dict[int, OutCell] = {}
    for key, c, date_only, planned, mark in events:
        moment = key // _EVENT
        when = moments.get((moment, date_only))
        if when is None:
            day = date.fromordinal(moment // _SLOT)
            value = day if date_only else datetime.combine(day, _TIMES[moment % _SLOT])
            when = moments[(moment, date_only)] = dates(value)
        next_cell = None if planned is None else days.get(planned)
        if next_cell is None and planned is not None:
            next_cell = days[planned] = dates(date.fromordinal(planned))
        if len(follow_rows) == blank_follow:
            follow_rows.append([])
            broken["blank_followup_row"] = ("followups", len(follow_rows))
        if c is None:
            follow_rows.append([f"C{'9' * width}", ("杭州未来智造有限公司", "Nowhere Imports Ltd.")[i], when,
                                rep_names[0], channel_label["phone"], outcomes["new"][0], None, next_cell, None])
            broken["orphan_followup"] = ("followups", len(follow_rows))
            continue
        if mark is not None:
            c.running = mark
        texts, results = notes[c.running], outcomes[c.running]
        row: list[OutCell] = [
            c.id if (r() >= 0.02 or c is t_formula) else None,  # a few rows name the customer only
            c.name, when, _followup_owner(rng, c, rep_names, owners),
            channel_slots[int(r() * 100)],
            results[int(r() * len(results))] if r() < 0.9 else None,
            texts[int(r() * len(texts))] if r() < 0.85 else None,
            next_cell, stage_label[mark] if mark else None,
        ]
        if moment // _SLOT > d_ord:
            broken["future_followup"] = ("followups", len(follow_rows) + 1)
        if key == bad_followup:
            row[2] = f"{d.year}/13/45"
            broken["bad_followup_date"] = ("followups", len(follow_rows) + 1)
        follow_rows.append(row)

    team_rows: list[list[OutCell]] = [[StyledCell(h, "header") for h in headers("team", lang)]]
    for rep in staff:
        boss = managers[rep.manager or 0]
        team_rows.append([(rep.zh, rep.en)[i], rep.email, (boss.zh, boss.en)[i], boss.email, "Y" if rep.active else "N", None])
        if rep.email is None:
            broken["no_email_rep"] = ("team", len(team_rows))
        if not rep.active:
            broken["inactive_rep"] = ("team", len(team_rows))
    for boss in managers:
        team_rows.append([(boss.zh, boss.en)[i], boss.email, None, None, "Y", None])

    return Demo(tabs=_tabs(lang, customer_rows, follow_rows, team_rows, rep_names), profiles=profiles, broken=broken)


def _short_name(name: str) -> str:
    """How the same company gets typed a second time: without the legal suffix."""
    for suffix in ("集团有限公司", "股份有限公司", "有限公司", " Co., Ltd.", " Pte. Ltd.", " Ltd.", " Inc.", " GmbH", " LLC"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name + " "


def _second_contact(c: _Customer, events: list[tuple[int, _Customer | None, bool, int | None, str | None]]) -> int:
    """The key of a follow-up that is neither the customer's first nor last (its plan survives a bad date)."""
    mine = [e[0] for e in events if e[1] is c]
    if len(mine) >= 3:
        return mine[1]
    return mine[0] if len(mine) == 2 else -1


def _followup_owner(rng: random.Random, c: _Customer, rep_names: list[str], owners: list[int]) -> str | None:
    roll = rng.random()
    if roll < 0.04:
        return None  # blank: defaults to the customer's owner
    if c.owner is None or roll < 0.07:
        return rep_names[owners[int(rng.random() * len(owners))]]  # a colleague covering
    return rep_names[c.owner]


def _customer_row(
    rng: random.Random, c: _Customer, i: int, rep_names: list[str], stage_label: dict[str, str],
    tier_label: dict[str, str], dates: _Dates, phones: _Phones, emails: set[str],
) -> list[OutCell]:
    english = c.name.isascii()
    if english:
        first, last = rng.choice(EN_FIRST), rng.choice(EN_LAST)
        contact = f"{first} {last}"
        local = f"{first}.{last}".lower()
    else:
        (sz, sp), (gz, gp) = rng.choice(SURNAMES), rng.choice(GIVEN)
        title = rng.random()
        contact = sz + ("总" if title < 0.15 else "经理" if title < 0.3 else gz)
        local = f"{gp}.{sp}" if title >= 0.3 else sp
    domain = _domain(c.name)
    email = f"{local}@{domain}" if rng.random() < 0.6 else None
    if email is not None:  # one contact per company: a repeated address would be a (false) probable duplicate
        n = 1
        while email in emails:
            n += 1
            email = f"{local}{n}@{domain}"
        emails.add(email)
    roll = rng.random()
    if c.profile == "new_lead" and roll < 0.5:
        stage: str | None = None
    elif roll < 0.03:
        stage = _STAGE_SYNONYMS[i].get(c.stage, stage_label[c.stage])
    else:
        stage = stage_label[c.stage]
    roll = rng.random()
    tier: str | None = None if roll < 0.03 else _TIER_SYNONYMS[i][c.tier] if roll < 0.06 else tier_label[c.tier]
    low, high = {"A": (200, 2000), "B": (50, 300), "C": (5, 80)}[c.tier]
    value = rng.randint(low, high) * 1000 if (c.tier != "C" or rng.random() < 0.8) else None
    protected = "Y" if c.protected else ("N" if rng.random() < 0.5 else None)
    phone = phones.styled(c.phone) if rng.random() < 0.95 else None
    notes = CUSTOMER_NOTES[rng.randrange(len(CUSTOMER_NOTES))][i] if rng.random() < 0.2 else None
    return [
        c.id, c.name, rep_names[c.owner] if c.owner is not None else None, tier, stage, dates(c.created),
        dates(c.manual), value, protected, contact, phone, email, SOURCES[rng.randrange(len(SOURCES))][i], notes,
    ]


def _domain(name: str) -> str:
    """A plausible, reserved-domain email host for a company name."""
    if name.isascii():
        words = [w for w in name.replace(",", " ").replace(".", " ").split() if w.isalpha()][:2]
        return ("".join(words) or "company").lower() + ".example.com"
    for cz, cp in CORES:
        if cz in name:
            return f"{cp}.example.cn"
    return "company.example.cn"


def _tabs(lang: str, customer_rows: list[list[OutCell]], follow_rows: list[list[OutCell]],
          team_rows: list[list[OutCell]], rep_names: list[str]) -> list[TabSpec]:
    c_widths, c_styles = column_layout("customers")
    f_widths, f_styles = column_layout("followups")
    t_widths, t_styles = column_layout("team")
    f_styles = {**f_styles, 2: "datetime"}
    return [
        TabSpec(tab_name("customers", lang), customer_rows, c_widths, freeze_rows=2, role="customers",
                validations=customer_validations(lang, 2, max(9_999, len(customer_rows) + 1_000), rep_names),
                column_styles=c_styles),
        TabSpec(tab_name("followups", lang), follow_rows, f_widths, freeze_rows=1, role="followups",
                validations=followup_validations(lang, 1, max(49_999, len(follow_rows) + 10_000), rep_names),
                column_styles=f_styles),
        TabSpec(tab_name("team", lang), team_rows, t_widths, freeze_rows=1, role="team",
                validations=team_validations(lang, 1, max(TEAM_ROWS, len(team_rows) + 100)), column_styles=t_styles),
    ]


def demo_tabs(
    as_of: date,
    lang: str = "zh",
    seed: int = 7,
    customers: int = 200,
    followups: int = 1500,
    reps: int = 8,
) -> list[TabSpec]:
    """Customers, FollowUps and Team tabs of the demo workbook (see demo_dataset for the plan)."""
    return demo_dataset(as_of, lang, seed, customers, followups, reps).tabs


def write_demo_workbook(
    path: Path,
    as_of: date,
    lang: str = "zh",
    seed: int = 7,
    customers: int = 200,
    followups: int = 1500,
    reps: int = 8,
    *,
    constant_memory: bool = False,
) -> Demo:
    """Write the demo as a new .xlsx (refuses to overwrite); constant_memory for benchmark sizes."""
    from addon.backends.xlsx_new import write_new_workbook

    demo = demo_dataset(as_of, lang, seed, customers, followups, reps)
    title = ("跟进助手演示数据", "Follow-up Add-on demo data")[lang_of(lang)]
    created = datetime.combine(as_of, time(9, 0))
    write_new_workbook(Path(path), demo.tabs, constant_memory=constant_memory,
                       properties={"title": title, "author": "跟进助手 / Follow-up Add-on", "created": created})
    return demo
