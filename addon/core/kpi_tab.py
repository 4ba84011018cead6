"""The KPI tab (KPI汇总) as data: every figure of `Kpis` with its previous-window value, change and definition.

Pure layout: numbers are written exactly as `Kpis.to_json()` gives them (rates as fractions with a percent
format; first-response hours as days when the records only know dates, see `headline`), so the tab, the
JSON and the CLI never disagree; None is shown as "—". Charts reference blocks of
this tab by 0-based row/column offsets.
"""

from __future__ import annotations

import unicodedata
from datetime import date

from addon.core.fields import owned_tab_name, value_label
from addon.core.kpi import COUNT_KEYS, RATE_KEYS, SCALAR_KEYS, Kpis
from addon.i18n import format_date, text
from addon.model import ChartSpec, Dataset, OutCell, StyledCell, TabSpec

NONE = "—"
UNDER_FOLLOWED_ROWS = 200  # the full list is in `kpi --json`; the tab stays readable
CHART_COL = 9  # charts sit right of the widest block (leaderboard: columns 0-7)
CHART_ROWS = 18  # rows a default chart covers, so two charts never overlap

LABELS = {
    "title": ("KPI汇总（截至 {as_of}，统计窗口：近 {days} 天，{start} 至 {end}）",
              "KPI summary (as of {as_of}; window: last {days} days, {start} to {end})"),
    "subtitle": ("上期：{pstart} 至 {pend}。比率按百分比显示，变化为本期减上期；“—”表示无数据。只统计没有错误的行。",
                 "Previous window: {pstart} to {pend}. Change = current − previous; “—” = no data. "
                 "Rows with errors are left out."),
    "headline": ("核心指标", "Headline figures"),
    "points": ("{n:+.1f} 个百分点", "{n:+.1f} pp"),
    "see_all": ("完整的 KPI 在“KPI汇总”工作表中（运行 run 后），或用 kpi --json 查看。",
             "Every figure is on the KPI tab (after a run), or in `kpi --json`."),
    "figure": ("指标", "Figure"),
    "current": ("本期", "This window"),
    "previous": ("上期", "Previous window"),
    "change": ("变化", "Change"),
    "basis": ("依据", "Based on"),
    "definition": ("定义", "Definition"),
    "all_time": ("累计（截至 {as_of} 的全部记录）", "All time (every record up to {as_of})"),
    "value": ("数值", "Value"),
    "funnel": ("销售漏斗（当前阶段）", "Sales funnel (current stage)"),
    "stage": ("阶段", "Stage"),
    "customers": ("客户数", "Customers"),
    "amount": ("金额", "Value"),
    "conversion": ("阶段转化率", "Stage conversion"),
    "funnel_note": ("阶段转化率 = 处于该阶段或之后的客户 ÷ 处于上一阶段或之后的客户（不含流失、休眠）。",
                    "Stage conversion = customers at this stage or beyond ÷ at the previous stage or beyond "
                    "(lost and dormant excluded)."),
    "lost": ("流失（不计入漏斗）", "Lost (not in the funnel)"),
    "dormant": ("休眠（不计入漏斗）", "Dormant (not in the funnel)"),
    "leaderboard": ("业绩排行（本期）", "Leaderboard (this window)"),
    "owner": ("负责人", "Owner"),
    "followups": ("本期跟进", "Follow-ups"),
    "overdue": ("当前逾期", "Overdue now"),
    "on_time": ("跟进及时率", "On-time rate"),
    "won": ("本期成交", "Won"),
    "won_value": ("成交金额", "Won value"),
    "pool": ("建议退回公海", "Return to pool"),
    "leaderboard_note": ("跟进按跟进人统计；当前逾期 = 逾期 + 逾期升级；按及时率、成交金额排序。",
                         "Follow-ups count for whoever made them; overdue now = overdue + escalated; "
                         "sorted by on-time rate, then won value."),
    "unassigned": ("（未分配）", "(unassigned)"),
    "trend": ("近 {weeks} 周趋势", "Last {weeks} weeks"),
    "week": ("周", "Week"),
    "week_followups": ("跟进次数", "Follow-ups"),
    "new_customers": ("新客户", "New customers"),
    "week_won": ("成交", "Won"),
    "channels": ("跟进方式（本期）", "Channels (this window)"),
    "channel": ("方式", "Channel"),
    "count": ("跟进次数", "Follow-ups"),
    "share": ("占比", "Share"),
    "no_followups": ("本期没有跟进记录。", "No follow-ups in this window."),
    "under": ("过早放弃：跟进不超过 3 次、且超过两倍跟进间隔未联系的未成交客户（{count} 位）",
              "Given up too early: open customers with at most 3 follow-ups and no contact for over twice "
              "their interval ({count})"),
    "customer_id": ("客户编号", "Customer ID"),
    "name": ("客户名称", "Name"),
    "contacts": ("跟进次数", "Follow-ups"),
    "last_contact": ("最近跟进", "Last contact"),
    "silent_days": ("未联系天数", "Days since contact"),
    "none_under": ("没有过早放弃的客户。", "No customer was given up too early."),
    "more": ("……另有 {more} 位，完整列表见 `followup kpi --json`。", "… and {more} more; see `followup kpi --json`."),
    "chart_funnel": ("销售漏斗", "Sales funnel"),
    "chart_trend": ("每周趋势", "Weekly trend"),
    "hours": ("{h:g} 小时", "{h:g} h"),
}

FIGURES = {
    "on_time_rate": ("跟进及时率", "On-time rate"),
    "coverage": ("未逾期率", "Coverage (not overdue)"),
    "completion_rate": ("跟进完成率", "Completion rate"),
    "avg_followups": ("平均跟进次数", "Average follow-ups"),
    "followups_in_window": ("跟进次数", "Follow-ups"),
    "customers_contacted_in_window": ("被跟进客户数", "Customers contacted"),
    "first_response_median_hours": ("首次响应时间（小时，中位数）", "First response (median hours)"),
    "first_response_median_days": ("首次响应时间（天，中位数）", "First response (median days)"),
    "first_response_within_target": ("首次响应达标率", "First response within target"),
    "win_rate": ("赢单率", "Win rate"),
    "lead_conversion": ("转化率", "Lead conversion"),
    "deal_cycle_median_days": ("成交周期（天，中位数）", "Deal cycle (median days)"),
    "new_customers_in_window": ("新增客户", "New customers"),
    "won_in_window": ("成交客户", "Deals won"),
    "won_value_in_window": ("成交金额", "Won value"),
    "lost_in_window": ("流失客户", "Deals lost"),
}

DEFINITIONS = {
    "on_time_rate": (
        "窗口内有应跟进日期的跟进中，在应跟进日当天或之前完成的比例。应跟进日：上次跟进填写的下次跟进日期；未填写时为上次跟进日"
        "加上当时阶段（否则客户等级）的跟进间隔；首次跟进为创建时间加首次响应时限（{fr}），没有创建日期的不计入。",
        "Follow-ups in the window that had a due date and were made on or before it, ÷ such follow-ups. Due date: "
        "the previous contact's planned next date; else previous contact + the interval of the stage then (else the "
        "tier); first contact: created + first response ({fr}); without a created date it is not judged.",
    ),
    "coverage": (
        "截至今日，未关闭的客户中状态不是逾期、逾期升级或建议退回公海的比例（不含已关闭和数据有误的客户）。",
        "As of today: active customers (not closed, no data errors) whose status is not overdue, escalated or "
        "return-to-pool, ÷ active customers.",
    ),
    "completion_rate": (
        "计划的下次跟进日期落在窗口内的跟进中，该客户的下一次跟进在计划日当天或之前发生的比例。",
        "Follow-ups whose planned next date falls in the window and whose next contact with the same customer "
        "happened on or before that date, ÷ those planned.",
    ),
    "avg_followups": (
        "窗口内跟进次数 ÷ 窗口内被跟进的客户数。",
        "Follow-ups in the window ÷ customers contacted in the window.",
    ),
    "followups_in_window": ("窗口内的跟进记录条数。", "Follow-up records dated in the window."),
    "customers_contacted_in_window": ("窗口内至少跟进过一次的客户数。", "Customers with at least one follow-up in the window."),
    "first_response_median_hours": (
        "窗口内新建客户从创建到首次跟进的小时数的中位数；只有日期时按天数 × 24 计算。",
        "Median hours from created to first follow-up, customers created in the window; with dates only, days × 24.",
    ),
    "first_response_median_days": (
        "窗口内新建客户从创建日期到首次跟进日期的天数中位数（记录中只有日期，没有时间）。",
        "Median days from created to first follow-up, customers created in the window (the records carry dates, "
        "no times of day).",
    ),
    "first_response_within_target": (
        "窗口内新建客户中在 {fr} 内首次跟进的比例；尚未跟进但还未超时的客户不计入。",
        "Customers created in the window first contacted within {fr}, ÷ those contacted plus those past the "
        "deadline without a contact (customers still within it are left out).",
    ),
    "win_rate": (
        "成交 ÷（成交 + 流失），按成交或流失日期落在窗口内的客户统计。成交日期 = 首次标记成交的跟进日期，否则为最近跟进日期。",
        "Won ÷ (won + lost), customers whose won or lost date is in the window. Won date = the follow-up that "
        "first set a won stage, else the last contact.",
    ),
    "lead_conversion": (
        "窗口内新建的客户中现已成交的比例。",
        "Customers created in the window that are now won ÷ customers created in the window.",
    ),
    "deal_cycle_median_days": (
        "窗口内成交客户从创建日期到成交日期的天数中位数（没有创建日期的不计入）。",
        "Median days from created to won date, customers won in the window (without a created date: left out).",
    ),
    "new_customers_in_window": ("创建日期在窗口内的客户数。", "Customers whose created date is in the window."),
    "won_in_window": ("成交日期在窗口内的客户数。", "Customers whose won date is in the window."),
    "won_value_in_window": ("窗口内成交客户的预计金额合计。", "Summed value of customers won in the window."),
    "lost_in_window": ("流失日期在窗口内的客户数。", "Customers whose lost date is in the window."),
}

ALL_TIME = {
    "customers": ("客户数", "Customers", "没有错误的客户行。", "Customer rows without errors."),
    "followups": ("跟进次数", "Follow-ups", "全部跟进记录。", "Every follow-up record."),
    "customers_contacted": ("跟进过的客户", "Customers contacted", "至少跟进过一次的客户。", "Customers with at least one follow-up."),
    "followups_per_customer": ("每客户平均跟进次数", "Follow-ups per customer", "跟进次数 ÷ 客户数。", "Follow-ups ÷ customers."),
    "won": ("成交客户", "Won", "当前处于成交阶段的客户。", "Customers now in a won stage."),
    "lost": ("流失客户", "Lost", "当前处于流失阶段的客户。", "Customers now in a lost stage."),
    "win_rate": ("赢单率", "Win rate", "成交 ÷（成交 + 流失）。", "Won ÷ (won + lost)."),
    "on_time_rate": ("跟进及时率", "On-time rate", "全部有应跟进日期的跟进中按时完成的比例。", "On-time follow-ups ÷ follow-ups with a due date, all time."),
    "followups_to_win_median": ("成交前跟进次数（中位数）", "Follow-ups to win (median)",
                                "成交客户在成交日期及之前的跟进次数的中位数。", "Median follow-ups up to the won date, won customers."),
}
ALL_TIME_RATES = frozenset({"win_rate", "on_time_rate"})
ALL_TIME_DECIMALS = frozenset({"followups_per_customer", "followups_to_win_median"})


def _t(locale: str, key: str, **params: object) -> str:
    return text(LABELS, locale, key, **params)


def _style(key: str) -> str:
    if key in RATE_KEYS:
        return "percent"
    if key in COUNT_KEYS or key == "won_value_in_window":
        return "number"
    return "decimal"


def _cell(value: float | int | None, style: str) -> OutCell:
    """A number with its format, or "—" for no data."""
    return NONE if value is None else StyledCell(value, style)


def _header(locale: str, keys: tuple[str, ...]) -> list[OutCell]:
    return [StyledCell(_t(locale, k), "header") for k in keys]


def _shown(value: float | int | None, style: str, locale: str, change: bool = False) -> str:
    """A figure as the tab's number format displays it."""
    if value is None:
        return NONE
    if style == "percent":
        return _t(locale, "points", n=value * 100) if change else f"{value * 100:.1f}%"
    sign = "+" if change else ""
    return f"{value:{sign},.0f}" if style == "number" else f"{value:{sign},.1f}"


def _width(words: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in words)


def _title(kpis: Kpis, locale: str) -> str:
    """The tab's title line, also the first line of `kpi` on a terminal."""
    return _t(locale, "title", as_of=format_date(kpis.as_of, locale), days=kpis.window_days,
              start=format_date(kpis.window.start, locale), end=format_date(kpis.window.end, locale))


Figure = float | int | None


def headline(kpis: Kpis, key: str) -> tuple[str, tuple[Figure, Figure, Figure]]:
    """The label key of a headline figure and its (current, previous, change) as shown: first-response
    hours become days when the records only know dates (whole days × 24 read as "24 h" misleads)."""
    values = (kpis.current.get(key), kpis.previous.get(key), kpis.change(key))
    if key == "first_response_median_hours" and kpis.first_response_in_days:
        return "first_response_median_days", tuple(None if v is None else round(v / 24, 12) for v in values)  # type: ignore[return-value]
    return key, values


def headline_lines(kpis: Kpis, locale: str) -> list[str]:
    """The headline figures as text for a terminal: this window, the previous one and the change."""
    figures = [headline(kpis, key) for key in SCALAR_KEYS]
    labels = [text(FIGURES, locale, label) for label, _ in figures]
    pad = max(_width(label) for label in labels) + 2
    head = [_t(locale, k) for k in ("current", "previous", "change")]
    lines = [
        _title(kpis, locale),
        "  " + " " * pad + "".join(f"{h}{' ' * max(1, 16 - _width(h))}" for h in head).rstrip(),
    ]
    for key, label, (_, (now, before, change)) in zip(SCALAR_KEYS, labels, figures, strict=True):
        style = _style(key)
        cells = (_shown(now, style, locale), _shown(before, style, locale), _shown(change, style, locale, change=True))
        lines.append("  " + label + " " * (pad - _width(label)) + "".join(f"{c:<16}" for c in cells).rstrip())
    lines.append(_t(locale, "see_all"))
    return lines


def kpi_tab(kpis: Kpis, dataset: Dataset, locale: str) -> TabSpec:
    """The whole KPI tab: title, headline figures, all-time, funnel, leaderboard, trend, channels, under-followed."""
    def date_(day: date) -> str:
        return format_date(day, locale)

    fr = _t(locale, "hours", h=kpis.first_response_hours)
    rows: list[list[OutCell]] = [
        [StyledCell(_title(kpis, locale), "title")],
        [StyledCell(_t(locale, "subtitle", pstart=date_(kpis.previous_window.start),
                       pend=date_(kpis.previous_window.end)), "subtle")],
        [],
    ]

    # Headline figures.
    rows.append([StyledCell(_t(locale, "headline"), "bold")])
    rows.append(_header(locale, ("figure", "current", "previous", "change", "basis", "definition")))
    for key in SCALAR_KEYS:
        style = _style(key)
        basis = kpis.current.basis.get(key)
        label, (now, before, change) = headline(kpis, key)
        rows.append([
            text(FIGURES, locale, label),
            _cell(now, style),
            _cell(before, style),
            _cell(change, style),
            f"{basis[0]:,} / {basis[1]:,}" if basis else None,
            text(DEFINITIONS, locale, label, fr=fr),
        ])
    rows.append([])

    # All time.
    rows.append([StyledCell(_t(locale, "all_time", as_of=date_(kpis.as_of)), "bold")])
    rows.append(_header(locale, ("figure", "value", "definition")))
    lang = 0 if locale.lower().startswith("zh") else 1
    for key, labels in ALL_TIME.items():
        style = "percent" if key in ALL_TIME_RATES else "decimal" if key in ALL_TIME_DECIMALS else "number"
        rows.append([labels[lang], _cell(getattr(kpis.all_time, key), style), labels[2 + lang]])
    rows.append([])

    # Funnel, with lost and dormant apart (after a blank row, so the chart stops at the funnel).
    funnel_title = len(rows)
    rows.append([StyledCell(_t(locale, "funnel"), "bold")])
    funnel_header = len(rows)
    rows.append(_header(locale, ("stage", "customers", "amount", "conversion")))
    for item in kpis.funnel:
        rows.append([
            value_label("stage", item.stage, locale),
            StyledCell(item.customers, "number"),
            StyledCell(item.value, "number"),
            _cell(item.conversion, "percent"),
        ])
    rows.append([])
    rows.append([StyledCell(_t(locale, "funnel_note"), "subtle")])
    rows.append([_t(locale, "lost"), StyledCell(kpis.lost, "number")])
    rows.append([_t(locale, "dormant"), StyledCell(kpis.dormant, "number")])
    rows.append([])

    # Leaderboard.
    rows.append([StyledCell(_t(locale, "leaderboard"), "bold")])
    rows.append(_header(locale, ("owner", "customers", "followups", "overdue", "on_time", "won", "won_value", "pool")))
    for r in kpis.leaderboard:
        rows.append([
            r.owner if r.owner is not None else _t(locale, "unassigned"),
            StyledCell(r.customers, "number"),
            StyledCell(r.followups, "number"),
            StyledCell(r.overdue, "number"),
            _cell(r.on_time_rate, "percent"),
            StyledCell(r.won, "number"),
            StyledCell(r.won_value, "number"),
            StyledCell(r.pool, "number"),
        ])
    rows.append([StyledCell(_t(locale, "leaderboard_note"), "subtle")])
    rows.append([])

    # Weekly trend.
    trend_title = len(rows)
    rows.append([StyledCell(_t(locale, "trend", weeks=len(kpis.trend)), "bold")])
    trend_header = len(rows)
    rows.append(_header(locale, ("week", "week_followups", "new_customers", "week_won")))
    for w in kpis.trend:
        rows.append([w.week, StyledCell(w.followups, "number"), StyledCell(w.new_customers, "number"),
                     StyledCell(w.won, "number")])
    rows.append([])

    # Channel mix.
    rows.append([StyledCell(_t(locale, "channels"), "bold")])
    rows.append(_header(locale, ("channel", "count", "share")))
    total = sum(kpis.channel_mix.values())
    for channel, count in kpis.channel_mix.items():
        rows.append([value_label("channel", channel, locale), StyledCell(count, "number"),
                     StyledCell(count / total, "percent")])
    if not kpis.channel_mix:
        rows.append([StyledCell(_t(locale, "no_followups"), "subtle")])
    rows.append([])

    # Under-followed customers.
    ids = {c.key: c.customer_id for c in dataset.customers}
    rows.append([StyledCell(_t(locale, "under", count=len(kpis.under_followed)), "bold")])
    rows.append(_header(locale, ("name", "customer_id", "owner", "contacts", "last_contact", "silent_days")))
    for u in kpis.under_followed[:UNDER_FOLLOWED_ROWS]:
        rows.append([
            u.name,
            ids.get(u.key),
            u.owner if u.owner is not None else _t(locale, "unassigned"),
            StyledCell(u.followups, "number"),
            StyledCell(u.last_contact, "date"),
            StyledCell(u.days_since_contact, "number"),
        ])
    if not kpis.under_followed:
        rows.append([StyledCell(_t(locale, "none_under"), "subtle")])
    elif len(kpis.under_followed) > UNDER_FOLLOWED_ROWS:
        rows.append([StyledCell(_t(locale, "more", more=len(kpis.under_followed) - UNDER_FOLLOWED_ROWS), "subtle")])

    charts = [
        ChartSpec(kind="bar", title=_t(locale, "chart_funnel"), header_row=funnel_header, category_col=0,
                  value_cols=[1], data_rows=len(kpis.funnel), anchor_row=funnel_title, anchor_col=CHART_COL),
        ChartSpec(kind="line", title=_t(locale, "chart_trend"), header_row=trend_header, category_col=0,
                  value_cols=[1, 2, 3], data_rows=len(kpis.trend),
                  anchor_row=max(trend_title, funnel_title + CHART_ROWS), anchor_col=CHART_COL),
    ]
    return TabSpec(
        name=owned_tab_name("kpi", locale),
        rows=rows,
        widths={0: 28, 1: 14, 2: 14, 3: 12, 4: 13, 5: 14, 6: 13, 7: 13},
        freeze_rows=1,
        charts=charts,
        role="kpi",
    )
