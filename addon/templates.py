"""The Customers / FollowUps / Team tabs a new workbook starts from, in zh-CN or en.

Headers come straight from the field catalogue (addon.core.fields), so a template can never drift
from what header matching expects. Used by sheet_templates/build.py and by `init` (new workbooks,
or tabs added to an existing one).

Dropdowns: tier, stage, channel, protected and active are fixed lists in the template's language.
The owner dropdowns (Customers ▸ owner, FollowUps ▸ owner) point at the Team tab's name column
(`Validation.source_range`), so adding a rep to Team extends them; `options` carries the example
names as the fallback for writers that cannot express a range. All dropdowns warn rather than
block, because the engine also accepts synonyms (高价值, Closed Won, 微信…) typed by hand.
"""

from __future__ import annotations

from datetime import date, timedelta

from addon.core.fields import (
    CUSTOMER_FIELDS,
    FOLLOWUP_FIELDS,
    STAGES,
    TAB_NAMES,
    TEAM_FIELDS,
    TIERS,
    VALUE_LABELS,
    Field,
)
from addon.model import OutCell, StyledCell, TabSpec, Validation

# How far down the dropdowns and column formats reach (0-based last row).
CUSTOMER_ROWS = 9_999
FOLLOWUP_ROWS = 49_999
TEAM_ROWS = 499

# Template channels shown in dropdowns (sms/other stay accepted but are not offered first).
TEMPLATE_CHANNELS: tuple[str, ...] = ("phone", "wechat", "email", "visit", "meeting", "sms", "other")
YES_NO: list[str] = ["Y", "N"]

# Column widths in characters, per field key (per tab where they differ).
_WIDTHS: dict[str, dict[str, float]] = {
    "customers": {
        "customer_id": 11, "name": 30, "owner": 10, "tier": 9, "stage": 12, "created": 12,
        "next_follow_up": 14, "value": 12, "protected": 8, "contact": 10, "phone": 17,
        "email": 28, "source": 12, "notes": 36,
    },
    "followups": {
        "customer_id": 11, "customer_name": 30, "date": 17, "owner": 10, "channel": 9,
        "outcome": 22, "notes": 44, "next_date": 14, "stage": 12,
    },
    "team": {"name": 12, "email": 28, "manager": 12, "manager_email": 28, "active": 8, "webhook": 40},
}

# Whole-column formats so what users type later is kept right (dates, text IDs and phones).
_COLUMN_STYLES: dict[str, dict[str, str]] = {
    "customers": {"customer_id": "text", "created": "date", "next_follow_up": "date", "value": "number", "phone": "text"},
    "followups": {"customer_id": "text", "date": "date", "next_date": "date"},
    "team": {},
}

_FIELDS: dict[str, tuple[Field, ...]] = {"customers": CUSTOMER_FIELDS, "followups": FOLLOWUP_FIELDS, "team": TEAM_FIELDS}


def lang_of(lang: str) -> int:
    """0 for zh / zh-CN / zh_CN, 1 for en / en-US; anything else is a caller error."""
    folded = lang.strip().lower().replace("_", "-")
    if folded in ("zh", "zh-cn", "zh-hans", "cn"):
        return 0
    if folded in ("en", "en-us", "en-gb"):
        return 1
    raise ValueError(f"unknown template language {lang!r}; use 'zh' (zh-CN) or 'en'")


def tab_name(role: str, lang: str) -> str:
    """The template tab name for a role in a language (the first two TAB_NAMES entries)."""
    return TAB_NAMES[role][lang_of(lang)]


def headers(role: str, lang: str) -> list[str]:
    index = lang_of(lang)
    return [(f.zh, f.en)[index] for f in _FIELDS[role]]


def labels(kind: str, lang: str, values: tuple[str, ...] | None = None) -> list[str]:
    """Dropdown labels of a vocabulary (stage/tier/channel) in a language, in canonical order."""
    index = lang_of(lang)
    table = VALUE_LABELS[kind]
    return [table[v][index] for v in (values or tuple(table))]


def owner_range(lang: str, last_row: int = TEAM_ROWS) -> str:
    """The Team tab's name column as an absolute, always-quoted range reference."""
    name = tab_name("team", lang).replace("'", "''")
    return f"'{name}'!$A$2:$A${last_row + 1}"


def _col(role: str, key: str) -> int:
    return next(i for i, f in enumerate(_FIELDS[role]) if f.key == key)


def column_layout(role: str) -> tuple[dict[int, float], dict[int, str]]:
    """(widths, whole-column styles) of a role's tab, by 0-based column."""
    widths = {_col(role, k): w for k, w in _WIDTHS[role].items()}
    styles = {_col(role, k): s for k, s in _COLUMN_STYLES[role].items()}
    return widths, styles


def _header_row(role: str, lang: str) -> list[OutCell]:
    return [StyledCell(h, "header") for h in headers(role, lang)]


def _d(value: date) -> StyledCell:
    return StyledCell(value, "date")


# --- example rows: a small, realistic team and three customers, in both languages -------------

_BASE = date(2025, 1, 6)  # fixed so rebuilt templates are identical; `init` dates a new workbook's examples from today
EXAMPLE_SPAN = 14  # days from the first example date to the day the examples are made "as of"

# (zh name, en name, email, manager index or None)
_TEAM = (
    ("李娜", "Li Na", "li.na@example.com", 2),
    ("王强", "Wang Qiang", "wang.qiang@example.com", 2),
    ("陈静", "Chen Jing", "chen.jing@example.com", None),
)


def _team_rows(i: int, base: date = _BASE) -> list[list[OutCell]]:
    rows: list[list[OutCell]] = []
    for zh, en, email, manager in _TEAM:
        boss = _TEAM[manager] if manager is not None else None
        rows.append([
            (zh, en)[i], email,
            (boss[0], boss[1])[i] if boss else None,
            boss[2] if boss else None,
            "Y", None,
        ])
    return rows


def _stage(key: str, i: int) -> str:
    return VALUE_LABELS["stage"][key][i]


def _channel(key: str, i: int) -> str:
    return VALUE_LABELS["channel"][key][i]


def _customer_rows(i: int, base: date = _BASE) -> list[list[OutCell]]:
    li, wang = _TEAM[0][i], _TEAM[1][i]
    note = ("示例数据，可删除", "Example row - delete me")[i]
    return [
        ["C0001", "上海云启科技有限公司", li, "A", _stage("negotiation", i), _d(base), None,
         StyledCell(380000, "number"), "Y", ("张伟", "Zhang Wei")[i], "13800138001",
         "zhang.wei@yunqi.example.com", ("展会", "Trade show")[i], note],
        ["C0002", "Acme Trading Ltd.", wang, "B", _stage("proposal", i), _d(base + timedelta(days=2)), None,
         StyledCell(120000, "number"), "N", "John Smith", "+86 139-0013-9002",
         "john.smith@acme.example.com", ("官网", "Website")[i], note],
        ["C0003", "深圳市华信电子有限公司", None, "C", _stage("new", i), _d(base + timedelta(days=4)),
         _d(base + timedelta(days=5)), StyledCell(30000, "number"), "N", ("刘洋", "Liu Yang")[i],
         "137 0013 7003", None, ("老客户介绍", "Referral")[i],
         ("负责人为空 = 公海客户", "Blank owner = in the public pool")[i]],
    ]


def _followup_rows(i: int, base: date = _BASE) -> list[list[OutCell]]:
    li, wang = _TEAM[0][i], _TEAM[1][i]
    yq, acme = "上海云启科技有限公司", "Acme Trading Ltd."
    text = {
        "a": ("已接通，确认采购需求", "Reached; purchase need confirmed"),
        "a_n": ("客户关心交付周期和售后响应", "Asked about lead time and support response"),
        "b": ("现场演示完成", "On-site demo done"),
        "b_n": ("技术负责人参加，要求正式报价", "CTO attended; asked for a formal quote"),
        "c": ("已发送报价单", "Quote sent"),
        "c_n": ("报价 38 万，等待采购审批", "Quoted 380k; waiting for procurement"),
        "d": ("已发送产品资料", "Brochure sent"),
        "d_n": ("对方下周内部评估", "They review internally next week"),
    }
    t = {k: v[i] for k, v in text.items()}
    day = base
    return [
        ["C0001", yq, _d(day + timedelta(days=1)), li, _channel("phone", i), t["a"], t["a_n"],
         _d(day + timedelta(days=8)), _stage("qualified", i)],
        ["C0002", acme, _d(day + timedelta(days=3)), wang, _channel("email", i), t["d"], t["d_n"],
         _d(day + timedelta(days=10)), _stage("proposal", i)],
        ["C0001", yq, _d(day + timedelta(days=8)), li, _channel("visit", i), t["b"], t["b_n"],
         _d(day + timedelta(days=12)), _stage("proposal", i)],
        ["C0001", yq, _d(day + timedelta(days=12)), li, _channel("wechat", i), t["c"], t["c_n"],
         _d(day + timedelta(days=15)), _stage("negotiation", i)],
    ]


# --- the tabs ----------------------------------------------------------------------------------

def customer_validations(lang: str, first_row: int = 1, last_row: int = CUSTOMER_ROWS,
                         owners: list[str] | None = None) -> list[Validation]:
    """Dropdowns of the Customers tab; first_row is the 0-based first data row."""
    i = lang_of(lang)
    names = owners if owners is not None else [t[i] for t in _TEAM]
    return [
        Validation(_col("customers", "owner"), names, first_row, last_row, source_range=owner_range(lang)),
        Validation(_col("customers", "tier"), list(TIERS), first_row, last_row),
        Validation(_col("customers", "stage"), labels("stage", lang, STAGES), first_row, last_row),
        Validation(_col("customers", "protected"), YES_NO, first_row, last_row),
    ]


def followup_validations(lang: str, first_row: int = 1, last_row: int = FOLLOWUP_ROWS,
                         owners: list[str] | None = None) -> list[Validation]:
    i = lang_of(lang)
    names = owners if owners is not None else [t[i] for t in _TEAM]
    return [
        Validation(_col("followups", "owner"), names, first_row, last_row, source_range=owner_range(lang)),
        Validation(_col("followups", "channel"), labels("channel", lang, TEMPLATE_CHANNELS), first_row, last_row),
        Validation(_col("followups", "stage"), labels("stage", lang, STAGES), first_row, last_row),
    ]


def team_validations(lang: str, first_row: int = 1, last_row: int = TEAM_ROWS) -> list[Validation]:
    return [Validation(_col("team", "active"), YES_NO, first_row, last_row)]


def template_tabs(lang: str, examples: bool = True, as_of: date | None = None) -> list[TabSpec]:
    """Customers, FollowUps and Team, in that order, ready for write_new_workbook or the zero-loss writer.

    Row 1 is the header (style "header", frozen); with examples=True a few realistic rows follow, dated
    so that on `as_of` one customer is due soon, one overdue and one (without an owner) escalated; without
    it they keep the fixed dates of the shipped templates.
    """
    base = as_of - timedelta(days=EXAMPLE_SPAN) if as_of is not None else _BASE
    i = lang_of(lang)
    specs: list[TabSpec] = []
    bodies = {"customers": _customer_rows, "followups": _followup_rows, "team": _team_rows}
    checks = {"customers": customer_validations, "followups": followup_validations, "team": team_validations}
    for role in ("customers", "followups", "team"):
        widths, styles = column_layout(role)
        rows: list[list[OutCell]] = [_header_row(role, lang)]
        if examples:
            rows += bodies[role](i, base)
        specs.append(TabSpec(
            name=tab_name(role, lang),
            rows=rows,
            widths=widths,
            freeze_rows=1,
            validations=checks[role](lang),
            role=role,
            column_styles=styles,
        ))
    return specs
