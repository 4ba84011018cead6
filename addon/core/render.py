"""What a run writes, as data: the owned columns of Customers and the owned tabs (pure; backends draw it).

Owned columns are found again by their header in either language, so a second run (or a switch of
locale) reuses them instead of adding a duplicate set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from addon.backends.base import STATUS_STYLE
from addon.core.fields import OWNED_COLUMNS, OWNED_TABS, lang_index, normalize, owned_tab_name, value_label
from addon.i18n import status_label, text
from addon.model import (
    STATUS_ORDER,
    Cell,
    ColumnsPatch,
    Customer,
    CustomerStatus,
    Dataset,
    Issue,
    OutCell,
    StyledCell,
    Table,
    TabSpec,
)

LABELS = {
    "status": ("跟进状态", "Status"),
    "days_overdue": ("逾期天数", "Days overdue"),
    "next_due": ("下次应跟进", "Next due"),
    "customer_id": ("客户编号", "Customer ID"),
    "name": ("客户名称", "Name"),
    "owner": ("负责人", "Owner"),
    "tier": ("等级", "Tier"),
    "stage": ("阶段", "Stage"),
    "last_contact": ("最近跟进", "Last contact"),
    "phone": ("电话", "Phone"),
    "rule": ("适用规则", "Rule"),
    "row": ("行号", "Row"),
    "severity": ("级别", "Severity"),
    "tab": ("工作表", "Tab"),
    "column": ("列", "Column"),
    "value": ("值", "Value"),
    "message": ("问题", "Problem"),
    "suggestion": ("建议", "Suggestion"),
    "error": ("错误", "Error"),
    "warning": ("警告", "Warning"),
    "overdue_title": ("待跟进客户（截至 {as_of}）：{count} 位", "Customers to follow up (as of {as_of}): {count}"),
    "issues_title": ("数据问题：{errors} 个错误，{warnings} 个警告（错误行不参与计算）", "Data issues: {errors} errors, {warnings} warnings (rows with errors are left out of the figures)"),
    "no_issues": ("没有发现数据问题。", "No data issues found."),
    "unassigned": ("（未分配）", "(unassigned)"),
    "runlog_title": ("运行记录（最近 {keep} 次）", "Run log (last {keep} runs)"),
    "started": ("开始时间", "Started"),
    "as_of": ("数据日期", "As of"),
    "mode": ("方式", "Mode"),
    "customers": ("客户数", "Customers"),
    "errors": ("错误", "Errors"),
    "warnings": ("警告", "Warnings"),
    "overdue": ("逾期", "Overdue"),
    "messages": ("提醒", "Messages"),
    "outcome": ("结果", "Outcome"),
    "duration": ("耗时(秒)", "Seconds"),
}

URGENT = ("pool", "escalated", "overdue", "due_today", "due_soon")


def _t(locale: str, key: str, **params: object) -> str:
    return text(LABELS, locale, key, **params)


OWNED_BLOCK_MIN = 4  # owned headers in our order, side by side, that make a block ours


def owned_block(header: Sequence[Cell]) -> dict[str, int]:
    """key -> 1-based column of the owned columns already in the header: the longest chain of owned headers
    in our order (Last contact, Follow-ups, … Rule), each at most one column from the previous, if it has
    at least OWNED_BLOCK_MIN of them. A team's own "Status" or "Last contact" column, alone or beside ours,
    is theirs: claiming it by its name alone would overwrite their data."""
    order = {normalize(pair[i]): n for n, pair in enumerate(OWNED_COLUMNS.values()) for i in (0, 1)}
    ranks = [order.get(normalize(cell)) if cell not in (None, "") else None for cell in header]
    seen = [(index + 1, rank) for index, rank in enumerate(ranks) if rank is not None]
    chains: list[list[tuple[int, int]]] = []
    for col, rank in seen:
        before = [chain for chain in chains if chain[-1][1] == rank - 1 and col - chain[-1][0] <= 2]
        chains.append([*max(before, key=len), (col, rank)] if before else [(col, rank)])
    best = max(chains, key=lambda chain: (len(chain), chain[-1][0]), default=[])
    if len(best) < OWNED_BLOCK_MIN:
        return {}
    keys = list(OWNED_COLUMNS)
    return {keys[rank]: col for col, rank in best}


def owned_column_positions(header: Sequence[Cell], used_width: int, found: dict[str, int] | None = None) -> list[int]:
    """1-based columns for the owned columns: where our block already is (`found`, else owned_block), the
    rest appended on the right."""
    found = owned_block(header) if found is None else found
    next_free = max([used_width, *found.values()]) + 1
    positions = []
    for key in OWNED_COLUMNS:
        if key in found:
            positions.append(found[key])
        else:
            positions.append(next_free)
            next_free += 1
    return positions


def used_width(rows: Sequence[Sequence[Cell]], ignore: set[int] | None = None) -> int:
    """Number of columns up to the last non-blank cell in any row (1-based count)."""
    width = 0
    ignore = ignore or set()
    for row in rows:
        for index in range(len(row) - 1, width - 1, -1):
            if row[index] not in (None, "") and (index + 1) not in ignore:
                width = index + 1
                break
    return width


def _date(value: date | None) -> OutCell:
    return StyledCell(value, "date") if value else None


def columns_patch(customers: Table, header_row: int, dataset: Dataset, statuses: Sequence[CustomerStatus], locale: str, rule_text) -> ColumnsPatch:
    """The six owned columns for every customer row; rows without a customer get nothing."""
    header_index = header_row - customers.first_row
    header = customers.rows[header_index] if 0 <= header_index < len(customers.rows) else []
    block = owned_block(header)
    positions = owned_column_positions(header, used_width(customers.rows, ignore=set(block.values())), block)
    lang = lang_index(locale)
    cells: dict[int, list[OutCell]] = {}
    for status in statuses:
        style = STATUS_STYLE.get(status.status)
        cells[status.row] = [
            _date(status.last_contact),
            status.followups,
            _date(status.next_due),
            status.days_overdue if status.status in ("overdue", "escalated", "pool") else 0,
            StyledCell(status_label(status.status, locale), style),
            rule_text(status.rule, locale),
        ]
    return ColumnsPatch(
        tab=customers.name,
        header_row=header_row,
        columns=positions,
        headers=[pair[lang] for pair in OWNED_COLUMNS.values()],
        cells=cells,
        widths=[12, 9, 12, 9, 12, 44],
    )


def urgency_key(status: CustomerStatus) -> tuple[int, int, date]:
    return (STATUS_ORDER.index(status.status), -status.days_overdue, status.next_due or date.max)


def overdue_tab(dataset: Dataset, statuses: Sequence[CustomerStatus], as_of: date, locale: str, rule_text) -> TabSpec:
    """Everyone who needs a contact now or soon, most urgent first."""
    by_key = {c.key: c for c in dataset.customers}
    urgent = sorted((s for s in statuses if s.status in URGENT), key=urgency_key)
    keys = ("status", "days_overdue", "next_due", "customer_id", "name", "owner", "tier", "stage", "last_contact", "phone", "rule")
    rows: list[list[OutCell]] = [
        [StyledCell(_t(locale, "overdue_title", as_of=as_of.isoformat(), count=len(urgent)), "title")],
        [StyledCell(_t(locale, k), "header") for k in keys],
    ]
    for status in urgent:
        customer: Customer = by_key[status.key]
        rows.append([
            StyledCell(status_label(status.status, locale), STATUS_STYLE[status.status]),
            status.days_overdue,
            _date(status.next_due),
            customer.customer_id,
            customer.name,
            customer.owner or _t(locale, "unassigned"),
            customer.tier,
            value_label("stage", customer.stage, locale),
            _date(status.last_contact),
            customer.phone,
            rule_text(status.rule, locale),
        ])
    return TabSpec(
        name=owned_tab_name("overdue", locale),
        rows=rows,
        widths={0: 12, 1: 9, 2: 12, 3: 12, 4: 28, 5: 12, 6: 6, 7: 12, 8: 12, 9: 15, 10: 50},
        freeze_rows=2,
        role="overdue",
    )


def issues_tab(issues: Sequence[Issue], locale: str) -> TabSpec:
    errors = sum(1 for i in issues if i.severity == "error")
    rows: list[list[OutCell]] = [
        [StyledCell(_t(locale, "issues_title", errors=errors, warnings=len(issues) - errors), "title")],
        [StyledCell(_t(locale, k), "header") for k in ("severity", "tab", "row", "column", "value", "message", "suggestion")],
    ]
    for issue in issues:
        rows.append([
            StyledCell(_t(locale, issue.severity), "overdue" if issue.severity == "error" else "due"),
            issue.tab,
            issue.row,
            issue.column,
            issue.value,
            issue.message,
            issue.suggestion,
        ])
    if not issues:
        rows.append([_t(locale, "no_issues")])
    return TabSpec(
        name=owned_tab_name("issues", locale),
        rows=rows,
        widths={0: 8, 1: 12, 2: 6, 3: 14, 4: 22, 5: 50, 6: 40},
        freeze_rows=2,
        role="issues",
    )


@dataclass(frozen=True)
class RunRecord:
    """One line of the Run log tab."""

    started: datetime
    as_of: date
    mode: str
    customers: int
    errors: int
    warnings: int
    overdue: int
    messages: int
    outcome: str
    seconds: float


RUNLOG_KEYS = ("started", "as_of", "mode", "customers", "errors", "warnings", "overdue", "messages", "outcome", "duration")


def runlog_tab(record: RunRecord, previous: Table | None, keep: int, locale: str) -> TabSpec:
    """The newest run first, then the previous runs read back from the tab, capped at `keep`."""
    old_rows: list[list[OutCell]] = []
    if previous is not None:
        header_at = next((i for i, row in enumerate(previous.rows) if row and normalize(row[0]) in {normalize(p) for p in LABELS["started"]}), None)
        if header_at is not None:
            for row in previous.rows[header_at + 1:]:
                if any(c not in (None, "") for c in row):
                    cells: list[OutCell] = list(row[: len(RUNLOG_KEYS)])
                    if isinstance(cells[0], datetime):
                        cells[0] = StyledCell(cells[0], "date")
                    if len(cells) > 1 and isinstance(cells[1], date):
                        cells[1] = StyledCell(cells[1], "date")
                    old_rows.append(cells)
    new_row: list[OutCell] = [
        record.started.strftime("%Y-%m-%d %H:%M:%S"),
        StyledCell(record.as_of, "date"),
        record.mode,
        record.customers,
        record.errors,
        record.warnings,
        record.overdue,
        record.messages,
        record.outcome,
        round(record.seconds, 2),
    ]
    rows: list[list[OutCell]] = [
        [StyledCell(_t(locale, "runlog_title", keep=keep), "title")],
        [StyledCell(_t(locale, k), "header") for k in RUNLOG_KEYS],
        new_row,
        *old_rows[: keep - 1],
    ]
    return TabSpec(
        name=owned_tab_name("runlog", locale),
        rows=rows,
        widths={0: 20, 1: 12, 2: 10, 8: 40},
        freeze_rows=2,
        role="runlog",
    )


def stale_tabs(sheet_names: Sequence[str], locale: str) -> list[str]:
    """Owned tabs left in the other language after a locale switch."""
    other = 1 - lang_index(locale)
    current = {pair[lang_index(locale)] for pair in OWNED_TABS.values()}
    return [pair[other] for pair in OWNED_TABS.values() if pair[other] in sheet_names and pair[other] not in current]
