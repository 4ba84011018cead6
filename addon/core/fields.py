"""The vocabulary of the workbook: tabs, canonical fields, their header aliases and value synonyms.

One table here feeds header matching, templates and validation, so a new alias is added once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from addon.model import Cell

# Tab roles and the names we recognise for them (template names first: zh, en).
TAB_NAMES: dict[str, tuple[str, ...]] = {
    "customers": ("客户", "Customers", "客户列表", "客户信息", "Customer", "Clients", "Accounts"),
    "followups": ("跟进记录", "FollowUps", "Follow-ups", "Follow ups", "客户跟进记录", "跟进", "Activities", "Contacts log"),
    "team": ("团队", "Team", "销售团队", "Reps", "Staff"),
}

# Owned tabs: role -> (zh, en) name.
OWNED_TABS: dict[str, tuple[str, str]] = {
    "kpi": ("KPI汇总", "KPI"),
    "overdue": ("待跟进", "Overdue"),
    "issues": ("数据问题", "Issues"),
    "runlog": ("运行记录", "Run log"),
}

# Owned columns on the Customers tab: key -> (zh, en) header.
OWNED_COLUMNS: dict[str, tuple[str, str]] = {
    "last_contact": ("最近跟进", "Last contact"),
    "followups": ("跟进次数", "Follow-ups"),
    "next_due": ("下次应跟进", "Next due"),
    "days_overdue": ("逾期天数", "Days overdue"),
    "status": ("跟进状态", "Status"),
    "rule": ("适用规则", "Rule"),
}


@dataclass(frozen=True)
class Field:
    key: str
    zh: str  # template header (zh-CN)
    en: str  # template header (en)
    aliases: tuple[str, ...] = ()
    required: bool = False


CUSTOMER_FIELDS: tuple[Field, ...] = (
    Field("customer_id", "客户编号", "Customer ID", ("ID", "客户ID", "编号", "客户代码", "Customer No", "Account ID", "cust_id")),
    Field("name", "客户名称", "Name", ("Customer", "Customer Name", "客户", "客户名", "公司名称", "公司全称", "企业名称", "单位名称", "客户全称", "Company",
                                        "Company Name", "Account", "Account Name", "名称")),
    Field("owner", "负责人", "Owner", ("Sales Rep", "Rep", "销售", "销售员", "业务员", "销售代表", "所属销售", "负责销售", "销售负责人",
                                      "Account Owner", "归属人", "Salesperson")),
    Field("tier", "客户等级", "Tier", ("Level", "Grade", "等级", "级别", "客户级别", "Priority", "Class")),
    Field("stage", "阶段", "Stage", ("Pipeline Stage", "销售阶段", "客户阶段", "Deal Stage", "Sales Stage")),
    Field("created", "创建日期", "Created", ("Created Date", "Created On", "Date Created", "创建时间", "录入日期", "录入时间", "登记日期",
                                            "建档日期", "添加日期", "Lead Date")),
    Field("next_follow_up", "下次跟进日期", "Next follow-up", ("Next Follow Up", "Next Contact", "下次跟进", "下次跟进时间", "下次联系日期",
                                                            "下次联系时间", "计划跟进日期", "Next Date")),
    Field("value", "预计金额", "Value", ("Amount", "Deal Value", "Expected Value", "金额", "预计成交金额", "商机金额", "合同金额", "Deal Size")),
    Field("protected", "锁定", "Protected", ("Locked", "Lock", "保护", "不回收", "是否锁定")),
    Field("contact", "联系人", "Contact", ("Contact Person", "Contact Name", "对接人")),
    Field("phone", "电话", "Phone", ("Mobile", "Tel", "Telephone", "手机", "手机号", "联系电话", "电话号码", "联系人电话", "联系人手机")),
    Field("email", "邮箱", "Email", ("E-mail", "Mail", "电子邮件", "电子邮箱", "邮箱地址", "邮件", "Email Address")),
    Field("source", "来源", "Source", ("Lead Source", "客户来源", "线索来源", "渠道来源", "来源渠道")),
    Field("notes", "备注", "Notes", ("Note", "Remarks", "Comment", "Comments", "说明")),
)

FOLLOWUP_FIELDS: tuple[Field, ...] = (
    Field("customer_id", "客户编号", "Customer ID", ("ID", "客户ID", "编号", "Customer No", "Account ID", "cust_id")),
    Field("customer_name", "客户名称", "Customer", ("Customer Name", "Name", "客户", "客户名", "公司名称", "Company", "Account")),
    Field("date", "跟进日期", "Date", ("Follow-up Date", "Contact Date", "跟进时间", "联系日期", "联系时间", "沟通日期", "沟通时间",
                                               "拜访日期", "拜访时间", "日期", "时间", "Activity Date"), required=True),
    Field("owner", "跟进人", "Owner", ("Rep", "Sales Rep", "By", "负责人", "销售", "销售员", "业务员", "跟进人员")),
    Field("channel", "方式", "Channel", ("Method", "Type", "跟进方式", "沟通方式", "跟进形式", "联系方式", "渠道")),
    Field("outcome", "结果", "Outcome", ("Result", "跟进结果", "沟通结果")),
    Field("notes", "内容", "Notes", ("Note", "Content", "Summary", "跟进内容", "沟通内容", "沟通记录", "跟进情况", "跟进详情",
                                          "情况说明", "备注", "Details")),
    Field("next_date", "下次跟进日期", "Next date", ("Next Follow Up", "Next Follow-up", "Next Contact", "下次跟进", "下次跟进时间", "下次联系日期",
                                                     "下次联系时间", "计划下次跟进", "计划跟进日期")),
    Field("stage", "跟进后阶段", "Stage after", ("Stage", "New Stage", "阶段", "Stage After Contact", "当前阶段")),
)

TEAM_FIELDS: tuple[Field, ...] = (
    Field("name", "姓名", "Name", ("Owner", "Rep", "Sales Rep", "负责人", "销售", "销售员", "业务员", "成员", "Member"), required=True),
    Field("email", "邮箱", "Email", ("E-mail", "Mail", "电子邮件", "电子邮箱", "邮箱地址", "Email Address")),
    Field("manager", "上级", "Manager", ("经理", "主管", "Supervisor", "Team Lead")),
    Field("manager_email", "上级邮箱", "Manager email", ("Manager E-mail", "经理邮箱", "主管邮箱", "Supervisor Email")),
    Field("active", "在职", "Active", ("Enabled", "启用", "状态", "是否在职", "在职状态", "Status")),
    Field("webhook", "Webhook", "Webhook", ("机器人", "Bot")),
)

FIELDS: dict[str, tuple[Field, ...]] = {
    "customers": CUSTOMER_FIELDS,
    "followups": FOLLOWUP_FIELDS,
    "team": TEAM_FIELDS,
}

# Canonical values with built-in synonyms (matched after normalize()).
STAGES: tuple[str, ...] = ("new", "qualified", "proposal", "negotiation", "won", "after_sales", "lost", "dormant")
TIERS: tuple[str, ...] = ("A", "B", "C")
CHANNELS: tuple[str, ...] = ("phone", "wechat", "email", "visit", "meeting", "sms", "other")

VOCAB: dict[str, dict[str, tuple[str, ...]]] = {
    "stage": {
        "new": ("初次接触", "初步接触", "新线索", "新客户", "潜在客户", "新商机", "线索", "New", "Lead", "Prospect", "Prospecting",
                "新建", "Contacted"),
        "qualified": ("需求分析", "需求确认", "需求沟通", "已确认", "意向", "有意向", "意向客户", "Qualified", "Qualification",
                      "Needs Analysis", "Engaging", "Interested"),
        "proposal": ("方案演示", "方案", "演示", "方案报价", "方案阶段", "Proposal", "Demo", "Presentation", "Solution"),
        "negotiation": ("报价谈判", "谈判", "谈判中", "报价", "报价中", "已报价", "商务谈判", "洽谈", "洽谈中", "合同谈判",
                        "Negotiation", "Negotiating", "Quote", "Quoted", "Contract sent"),
        "won": ("成交", "赢单", "签约", "已签约", "签单", "已签单", "已成交", "合同签订", "下单", "已下单", "Won", "Closed Won",
                "Deal", "Signed"),
        "after_sales": ("售后服务", "售后", "回款", "已回款", "交付", "已交付", "实施中", "After Sales", "After-sales", "Customer",
                        "Onboarding", "Support"),
        "lost": ("流失", "已流失", "输单", "丢单", "无意向", "放弃", "Lost", "Closed Lost", "Churned", "Disqualified"),
        "dormant": ("休眠", "沉睡", "搁置", "暂停", "冻结", "Dormant", "Inactive", "On Hold", "Paused"),
    },
    "tier": {
        "A": ("高价值", "重要", "重要客户", "重点", "重点客户", "核心客户", "大客户", "VIP客户", "A类", "A类客户", "A级", "一级", "1级",
              "高", "High", "Key", "VIP", "Gold"),
        "B": ("普通", "普通客户", "一般", "一般客户", "B类", "B类客户", "B级", "二级", "2级", "中", "Medium", "Normal", "Standard",
              "Silver"),
        "C": ("潜在", "潜在客户", "小客户", "低", "C类", "C类客户", "C级", "三级", "3级", "Low", "Potential", "Bronze"),
    },
    "channel": {
        "phone": ("电话", "打电话", "电话沟通", "电话联系", "电话回访", "电联", "致电", "来电", "外呼", "Phone", "Call", "Telephone",
                  "Phone call", "Tel"),
        "wechat": ("微信", "微信沟通", "微信语音", "微信视频", "WeChat", "企业微信", "WeCom"),
        "email": ("邮件", "电子邮件", "邮件沟通", "发邮件", "Email", "E-mail", "Mail"),
        "visit": ("拜访", "拜访客户", "上门", "上门拜访", "登门拜访", "实地拜访", "面访", "面谈", "见面", "线下见面", "来访", "到访",
                  "Visit", "On-site", "Onsite", "In person"),
        "meeting": ("会议", "视频会议", "线上会议", "视频", "腾讯会议", "钉钉会议", "Meeting", "Video call", "Zoom", "Teams"),
        "sms": ("短信", "SMS", "Text"),
        "other": ("其他", "Other"),
    },
}

# Labels of canonical values for display: value -> (zh, en).
VALUE_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "stage": {
        "new": ("初次接触", "New"),
        "qualified": ("需求分析", "Qualified"),
        "proposal": ("方案演示", "Proposal"),
        "negotiation": ("报价谈判", "Negotiation"),
        "won": ("成交", "Won"),
        "after_sales": ("售后服务", "After sales"),
        "lost": ("流失", "Lost"),
        "dormant": ("休眠", "Dormant"),
    },
    "tier": {"A": ("A", "A"), "B": ("B", "B"), "C": ("C", "C")},
    "channel": {
        "phone": ("电话", "Phone"),
        "wechat": ("微信", "WeChat"),
        "email": ("邮件", "Email"),
        "visit": ("拜访", "Visit"),
        "meeting": ("会议", "Meeting"),
        "sms": ("短信", "SMS"),
        "other": ("其他", "Other"),
    },
}

TRUE_WORDS = frozenset({"y", "yes", "true", "1", "是", "锁定", "x", "✓", "✔", "on", "t", "对", "已锁定", "保护"})
FALSE_WORDS = frozenset({"n", "no", "false", "0", "否", "", "off", "f", "不", "未锁定", "离职", "停用"})

_SPACES = re.compile(r"[\s_\-./()（）:：]+")


def normalize(text: object) -> str:
    """Fold what users consider the same header or value: width, case, spaces, punctuation."""
    if text is None:
        return ""
    folded = unicodedata.normalize("NFKC", str(text)).casefold().strip()
    return _SPACES.sub("", folded)


@cache
def lang_index(locale: str) -> int:
    """0 for Chinese, 1 for English: the index into the (zh, en) pairs above."""
    return 0 if locale.lower().startswith("zh") else 1


def value_label(kind: str, value: str | None, locale: str) -> str:
    if value is None:
        return ""
    labels = VALUE_LABELS.get(kind, {}).get(value)
    return labels[lang_index(locale)] if labels else value


def header_aliases(tab: str, extra: Mapping[str, Sequence[str]] | None = None) -> dict[str, str]:
    """normalized alias -> field key, for one tab; config aliases win over built-in ones."""
    table: dict[str, str] = {}
    for f in FIELDS[tab]:
        for alias in (f.key, f.zh, f.en, *f.aliases):
            table.setdefault(normalize(alias), f.key)
    # Exact template headers must win over another field's alias (e.g. 阶段 on FollowUps).
    for f in FIELDS[tab]:
        table[normalize(f.zh)] = f.key
        table[normalize(f.en)] = f.key
        table[normalize(f.key)] = f.key
    for key, aliases in (extra or {}).items():
        for alias in aliases:
            table[normalize(alias)] = key
    return table


def match_headers(row: Sequence[Cell], aliases: Mapping[str, str]) -> dict[str, int]:
    """field key -> 0-based column index for one header row; the first column wins on repeats."""
    found: dict[str, int] = {}
    for index, cell in enumerate(row):
        key = aliases.get(normalize(cell))
        if key is not None and key not in found:
            found[key] = index
    return found


def find_header_row(rows: Sequence[Sequence[Cell]], aliases: Mapping[str, str], scan: int = 30) -> tuple[int, dict[str, int]]:
    """The row (0-based index into rows) that looks most like a header, skipping title rows above it."""
    best_index, best = 0, {}
    for index, row in enumerate(rows[:scan]):
        found = match_headers(row, aliases)
        if len(found) > len(best):
            best_index, best = index, found
    return best_index, best


def vocab_table(kind: str, extra: Mapping[str, Sequence[str]] | None = None) -> dict[str, str]:
    """normalized synonym -> canonical value for stage/tier/channel; config synonyms win."""
    table: dict[str, str] = {}
    for canonical, synonyms in VOCAB[kind].items():
        for word in (canonical, *synonyms):
            table.setdefault(normalize(word), canonical)
    for canonical, synonyms in (extra or {}).items():
        table[normalize(canonical)] = canonical
        for word in synonyms:
            table[normalize(word)] = canonical
    return table


# Columns a tab cannot do without: each inner tuple means "at least one of these".
REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "customers": (("name", "customer_id"),),
    "followups": (("date",), ("customer_id", "customer_name")),
    "team": (("name",),),
}

# Roles whose tab may be recognised by its headers when no tab has a known name. Never Team: a wrong guess
# there would address reminders to whoever is listed in that tab.
GUESSABLE: tuple[str, ...] = ("customers", "followups")


def guess_tabs(
    heads: Mapping[str, Sequence[Sequence[Cell]]], aliases: Mapping[str, Mapping[str, str]], wanted: Iterable[str]
) -> dict[str, tuple[str, list[str]]]:
    """role -> (tab, the headers that matched) for the `wanted` roles, which no tab is named after: the one
    tab among `heads` (tab -> its rows) whose headers name every column the role requires, and at least two
    known columns (a lone "Name" column could head anything). Each tab is judged against every role in
    `aliases` (role -> its header_aliases; Team included) and goes to the one it matches best: a follow-up
    log also has a customer-name column, a team list has names and e-mails, and neither is a customer list.
    A tie, or two tabs for one role, is no answer: better a "tab missing" issue that lists the tabs than a
    wrong guess."""
    claims: dict[str, list[tuple[str, list[str]]]] = {role: [] for role in wanted if role in GUESSABLE}
    for tab, rows in heads.items():
        scores: dict[str, tuple[int, list[str]]] = {}
        for role, role_aliases in aliases.items():
            index, found = find_header_row(rows, role_aliases)
            if len(found) >= 2 and all(any(key in found for key in group) for group in REQUIRED[role]):
                headers = [str(rows[index][col]).strip() for col in sorted(found.values())]  # matched headers are text
                scores[role] = (len(found), headers)
        best = max((count for count, _ in scores.values()), default=0)
        leaders = [role for role, (count, _) in scores.items() if count == best]
        if len(leaders) == 1 and leaders[0] in claims:
            claims[leaders[0]].append((tab, scores[leaders[0]][1]))
    return {role: found[0] for role, found in claims.items() if len(found) == 1}


def find_tab(names: Iterable[str], role: str, configured: str | None = None) -> str | None:
    """The actual tab name for a role: the configured name, else a known name in either language."""
    by_norm = {normalize(n): n for n in names}
    candidates = (configured,) if configured else TAB_NAMES[role]
    for candidate in candidates:
        if candidate and normalize(candidate) in by_norm:
            return by_norm[normalize(candidate)]
    return None


_CHINESE = re.compile(r"[\u4e00-\u9fff]")


def workbook_locale(names: Sequence[str], otherwise: str = "en") -> str:
    """The language a workbook speaks, judged by its tab names: zh-CN when its Customers or FollowUps
    tab (else any tab) has a Chinese name (客户, 跟进记录 …), else en; `otherwise` when nothing tells
    (no Customers or FollowUps tab by name and no Chinese tab name: "Sheet1")."""
    found = [tab for tab in (find_tab(names, "customers"), find_tab(names, "followups")) if tab]
    if any(_CHINESE.search(n) for n in found or names):
        return "zh-CN"
    return "en" if found else otherwise


_LATIN = re.compile(r"[A-Za-z]")


def headers_locale(headers: Iterable[object]) -> str | None:
    """The language of a tab's headers: zh-CN when one is Chinese, en when they are in Latin letters,
    None when they say nothing. For a workbook whose tab names are silent ("Sheet1", "Sheet2")."""
    texts = [h for h in headers if isinstance(h, str)]
    if any(_CHINESE.search(h) for h in texts):
        return "zh-CN"
    return "en" if any(_LATIN.search(h) for h in texts) else None


def owned_tab_name(role: str, locale: str) -> str:
    return OWNED_TABS[role][lang_index(locale)]


def owned_column_headers(locale: str) -> list[str]:
    return [pair[lang_index(locale)] for pair in OWNED_COLUMNS.values()]
