"""Plain data that flows one way: read (Table) → validate (records, Issue) → compute (CustomerStatus).

Everything here is immutable and free of I/O so the core can be tested with literals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cached_property
from operator import attrgetter
from typing import Literal

# A cell as a backend hands it over: what the user sees, typed where the sheet knows the type.
Cell = str | int | float | bool | date | datetime | time | None

Severity = Literal["error", "warning"]

# Canonical status values, ordered from most to least urgent (SPEC §5).
STATUS_ORDER: tuple[str, ...] = ("pool", "escalated", "overdue", "due_today", "due_soon", "ok", "closed", "invalid")
Status = Literal["pool", "escalated", "overdue", "due_today", "due_soon", "ok", "closed", "invalid"]


@dataclass(frozen=True)
class Table:
    """One tab as rows of cells. `first_row` is the sheet row number (1-based) of rows[0]."""

    name: str
    rows: list[list[Cell]]
    first_row: int = 1


@dataclass(frozen=True)
class Issue:
    """A problem found in the user's data, located as the user sees it."""

    tab: str
    row: int | None  # sheet row number; None for tab-level problems (missing tab/header)
    column: str  # the header as written in the sheet ("" when not tied to a column)
    value: str  # the offending value as the user sees it
    severity: Severity
    message: str
    suggestion: str = ""
    code: str = ""  # stable machine key, e.g. "date.unparseable"


@dataclass(frozen=True)
class Customer:
    key: str  # join key: customer_id, else the normalized name
    row: int
    name: str
    customer_id: str | None = None
    owner: str | None = None  # None = unassigned (public pool)
    tier: str = "B"  # canonical tier after defaults
    stage: str = "new"  # canonical stage
    created: datetime | None = None
    next_follow_up: date | None = None
    value: float | None = None
    protected: bool = False
    contact: str | None = None
    phone: str | None = None
    email: str | None = None
    source: str | None = None
    notes: str | None = None
    valid: bool = True  # False when the row has an error-severity issue
    tier_given: bool = True  # False when the tier came from defaults


@dataclass(frozen=True)
class FollowUp:
    row: int
    customer_key: str
    at: datetime  # midnight when only a date is known (see has_time)
    has_time: bool = False
    owner: str | None = None
    channel: str | None = None  # canonical channel
    outcome: str | None = None
    notes: str | None = None
    next_date: date | None = None
    stage: str | None = None  # canonical stage after this contact

    @property
    def day(self) -> date:
        return self.at.date()


@dataclass(frozen=True)
class Member:
    name: str
    email: str | None = None
    manager: str | None = None
    manager_email: str | None = None
    active: bool = True
    webhook: str | None = None
    row: int | None = None


@dataclass(frozen=True)
class Dataset:
    """Validated records: only rows usable by cadence/KPIs carry valid=True."""

    customers: list[Customer]
    followups: list[FollowUp]  # valid follow-ups only, for known customers
    team: list[Member]
    issues: list[Issue]
    tabs: dict[str, str] = field(default_factory=dict)  # role -> actual tab name
    header_rows: dict[str, int] = field(default_factory=dict)  # role -> sheet row (1-based) of the header
    # `followups` already grouped by customer, oldest first, when the maker has it (kpi.book_as_of);
    # a dataclasses.replace that changes `followups` must set it again (or to None).
    grouped: dict[str, list[FollowUp]] | None = field(default=None, repr=False, compare=False)

    def error_count(self) -> int:
        return sum(1 for i in self.issues if i.severity == "error")

    @cached_property
    def histories(self) -> dict[str, list[FollowUp]]:
        """Follow-ups per customer key, oldest first: grouped once, shared by cadence, KPIs and
        reminders (at 500,000 follow-ups grouping costs about half a second). Read-only."""
        return self.grouped if self.grouped is not None else group_by_customer(self.followups)


CHRONOLOGICAL = attrgetter("at", "row")  # sort key of a contact history: oldest first, ties in sheet order


def group_by_customer(followups: Iterable[FollowUp]) -> dict[str, list[FollowUp]]:
    """Follow-ups per customer key, oldest first (ties keep sheet order)."""
    grouped: dict[str, list[FollowUp]] = defaultdict(list)
    for item in sorted(followups, key=CHRONOLOGICAL):  # one sort of a mostly sorted log beats 50,000 small ones
        grouped[item.customer_key].append(item)
    return dict(grouped)


@dataclass(frozen=True)
class Rule:
    """Why a due date was chosen; rendered to words by addon.i18n.rule_text."""

    code: str  # manual | planned | first_response | no_created | after_won | after_sales | stage | tier | closed | invalid
    params: dict[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True)
class CustomerStatus:
    key: str
    row: int
    status: Status
    next_due: date | None
    days_overdue: int
    last_contact: date | None
    followups: int
    rule: Rule
    won_date: date | None = None
    days_since_contact: int | None = None


@dataclass(frozen=True)
class DueDate:
    """A due date with the rule that produced it."""

    due: date
    rule: Rule


@dataclass(frozen=True)
class StyledCell:
    """A value to write with a named style (see addon.backends.base.STYLES)."""

    value: Cell
    style: str | None = None


# What a writer accepts in a cell.
OutCell = Cell | StyledCell


@dataclass(frozen=True)
class ChartSpec:
    """A native chart over a block of an owned tab (0-based offsets inside the tab's rows)."""

    kind: Literal["bar", "line", "column"]
    title: str
    header_row: int  # row index (0-based) of the block's header; data follows until the first empty row
    category_col: int  # 0-based column of the categories
    value_cols: list[int]  # 0-based columns of the series (header cell = series name)
    data_rows: int  # number of data rows after header_row
    anchor_row: int  # 0-based row where the chart's top-left sits
    anchor_col: int


@dataclass(frozen=True)
class Validation:
    """A dropdown list on a column of a tab (used by templates)."""

    col: int  # 0-based
    options: list[str]
    first_row: int = 1  # 0-based first data row
    last_row: int = 1000
    # Optional: take the list from a range instead (e.g. "'团队'!$A$2:$A$500"), so adding a rep to
    # Team extends the dropdown. Writers that can't use ranges fall back to `options`.
    source_range: str | None = None


@dataclass(frozen=True)
class TabSpec:
    """An owned tab (or a template tab), written whole."""

    name: str
    rows: list[list[OutCell]]
    widths: dict[int, float] = field(default_factory=dict)  # 0-based col -> width in characters
    freeze_rows: int = 1
    charts: list[ChartSpec] = field(default_factory=list)
    validations: list[Validation] = field(default_factory=list)
    role: str = ""  # kpi | overdue | issues | runlog | customers | followups | team
    # Whole-column named styles (0-based col -> STYLES key), so values typed later into a template
    # look right: dates as dates, IDs/phones as text (keeps leading zeros).
    column_styles: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ColumnsPatch:
    """The owned columns of the Customers tab: the writer owns these columns from header_row down."""

    tab: str
    header_row: int  # 1-based sheet row of the header
    columns: list[int]  # 1-based column numbers, in the order of headers
    headers: list[str]
    cells: dict[int, list[OutCell]]  # sheet row -> one value per owned column
    widths: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class WriteSet:
    """Everything a run writes. Backends replace owned tabs whole and own the patched columns."""

    columns: ColumnsPatch | None
    tabs: list[TabSpec]
    stale_tabs: list[str] = field(default_factory=list)  # owned tabs in the other language to remove
