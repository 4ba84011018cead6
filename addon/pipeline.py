"""One pass over a workbook: read → validate → compute → send → write.

The library API and the CLI are twins: every command is a function here returning a RunResult.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from addon.backends import Backend, SourceUnavailable, open_backend
from addon.config import Config, default_locale
from addon.core import cadence, render
from addon.core.clock import today
from addon.core.fields import (
    GUESSABLE,
    OWNED_TABS,
    TAB_NAMES,
    find_header_row,
    find_tab,
    guess_tabs,
    header_aliases,
    headers_locale,
    lang_index,
    normalize,
    owned_tab_name,
    workbook_locale,
)
from addon.core.validate import validate
from addon.gc_pause import gc_paused
from addon.i18n import text
from addon.model import Cell, CustomerStatus, Dataset, Issue, Table, WriteSet

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

# Exit codes (SPEC §9): success, data errors, configuration error, source unavailable or locked, and
# reminders not delivered (the sheet was updated; those messages are owed to the next run). 4 outranks 1:
# a messy sheet exits 1 every day, and a mail server that stopped accepting must not hide behind it.
EXIT_OK, EXIT_DATA, EXIT_CONFIG, EXIT_SOURCE, EXIT_UNDELIVERED = 0, 1, 2, 3, 4


@dataclass
class RunResult:
    config: Config
    as_of: date
    mode: str
    location: str
    dataset: Dataset
    statuses: list[CustomerStatus] = field(default_factory=list)
    kpis: Any = None
    messages: list[Any] = field(default_factory=list)  # delivery outcomes (addon.notify.send.Outcome)
    written: bool = False
    blocked: list[Issue] = field(default_factory=list)  # setup errors that stopped cadence, KPIs and reminders
    reminders_skipped: str = ""  # why no reminder was planned today ("not_working_day"), else ""
    started: datetime = field(default_factory=datetime.now)
    seconds: float = 0.0
    foreign_tabs: dict[str, str] = field(default_factory=dict)  # tabs with one of our names that a team made: left alone

    @property
    def errors(self) -> int:
        return self.dataset.error_count()

    @property
    def undelivered(self) -> int:
        """Messages deferred, refused or failed in this pass (a dry run delivers nothing and fails nothing)."""
        return sum(1 for m in self.messages if not m.ok)

    @property
    def exit_code(self) -> int:
        if self.undelivered:
            return EXIT_UNDELIVERED
        return EXIT_DATA if self.errors else EXIT_OK

    def status_counts(self) -> Counter[str]:
        return Counter(s.status for s in self.statuses)

    def summary(self) -> dict[str, Any]:
        counts = self.status_counts()
        outcomes = Counter(getattr(m, "outcome", "") for m in self.messages)
        return {
            "mode": self.mode,
            "source": self.location,
            "as_of": self.as_of.isoformat(),
            "customers": len(self.dataset.customers),
            "followups": len(self.dataset.followups),
            "errors": self.errors,
            "warnings": len(self.dataset.issues) - self.errors,
            "statuses": dict(sorted(counts.items())),
            "overdue": counts["overdue"] + counts["escalated"] + counts["pool"],
            "messages": dict(sorted(outcomes.items())),
            "reminders_skipped": self.reminders_skipped or None,
            "written": self.written,
            "blocked": [i.message for i in self.blocked],
            "seconds": round(self.seconds, 2),
        }

    def to_json(self) -> dict[str, Any]:
        by_key = {c.key: c for c in self.dataset.customers}
        doc: dict[str, Any] = {
            "summary": self.summary(),
            "customers": [
                {
                    "customer_id": by_key[s.key].customer_id,
                    "name": by_key[s.key].name,
                    "owner": by_key[s.key].owner,
                    "status": s.status,
                    "next_due": s.next_due.isoformat() if s.next_due else None,
                    "days_overdue": s.days_overdue,
                    "last_contact": s.last_contact.isoformat() if s.last_contact else None,
                    "followups": s.followups,
                    "rule": cadence.rule_text(s.rule, self.config.locale),
                }
                for s in self.statuses
            ],
            "issues": [
                {
                    "tab": i.tab,
                    "row": i.row,
                    "column": i.column,
                    "value": i.value,
                    "severity": i.severity,
                    "message": i.message,
                    "suggestion": i.suggestion,
                }
                for i in self.dataset.issues
            ],
        }
        if self.kpis is not None:
            doc["kpi"] = self.kpis.to_json()
        doc["messages"] = [m.to_json() for m in self.messages]
        return doc


def in_workbook_language(config: Config, sheet_names: list[str], headers: Callable[[], Sequence[object]] = tuple) -> Config:
    """A config that does not set `locale:` speaks the workbook's language (spoken_locale), so an English
    workbook gets English columns, tabs and messages rather than the Chinese default."""
    if "locale" in config.model_fields_set:
        return config
    locale = spoken_locale(sheet_names, headers)
    return config if locale == config.locale else config.model_copy(update={"locale": locale})


def spoken_locale(sheet_names: Sequence[str], headers: Callable[[], Sequence[object]] = tuple) -> str:
    """A workbook's language: judged by its tab names; when they say nothing ("Sheet1"), by the headers
    of its tabs recognised by them (`headers()`, asked for only then: it may read tabs, see Roles.headers);
    else the environment's (config.default_locale). One rule for a run, the Excel buttons, `init` and
    `doctor`, so they never write or report on a workbook in two languages."""
    return workbook_locale(sheet_names, otherwise="") or headers_locale(headers()) or default_locale()


def _quiet(_: str) -> None:
    return None


_OWNED_NAMES = {name.casefold(): role for role, pair in OWNED_TABS.items() for name in pair}  # as Excel compares tab names
_OWNED_NORMALISED = frozenset(normalize(name) for pair in OWNED_TABS.values() for name in pair)  # as the reader does


def resolve_tabs(names: list[str], config: Config) -> dict[str, str | None]:
    """Role -> actual tab name (configured name, else a template name in either language)."""
    roles = {role: find_tab(names, role, getattr(config.tabs, role)) for role in ("customers", "followups", "team")}
    owned = _OWNED_NORMALISED
    runlog = [n for n in names if normalize(n) in {normalize(p) for p in OWNED_TABS["runlog"]}]
    roles["runlog"] = runlog[0] if runlog else None
    for role in ("customers", "followups", "team"):
        if roles[role] is not None and normalize(roles[role]) in owned:
            roles[role] = None  # never read one of our own tabs as user data
    return roles


class TabsByRole(Mapping[str, Table | None]):
    """role -> its tab (None when the workbook has none), looked up in the backend's tables only
    when asked for, so validation can start while the backend is still loading the next tab."""

    def __init__(self, tables: Mapping[str, Table], roles: Mapping[str, str | None]) -> None:
        self._tables, self._roles = tables, roles

    def __getitem__(self, role: str) -> Table | None:
        name = self._roles[role]
        return self._tables[name] if name else None

    def __iter__(self) -> Iterator[str]:
        return iter(self._roles)

    def __len__(self) -> int:
        return len(self._roles)


Recognised = dict[str, tuple[str, list[str]]]  # role -> (the user's tab, its headers that matched)


@dataclass(frozen=True)
class Roles:
    """Which tab plays which role, the tabs being read, and the roles found by their headers rather
    than their name (role -> (tab, the headers that matched), as fields.guess_tabs gives them)."""

    tabs: dict[str, str | None]
    tables: Mapping[str, Table]
    guessed: Recognised = field(default_factory=dict)

    def headers(self, config: Config) -> list[Cell]:
        """The headers that make the Customers and FollowUps tabs what they are: those they were recognised
        by, else (tabs named in config.yaml) the recognised cells of the Customers header row, or of the
        FollowUps one. What tells the workbook's language when its tab names do not (spoken_locale)."""
        if self.guessed:
            return [h for _, headers in self.guessed.values() for h in headers]
        for role in ("customers", "followups"):
            tab = self.tabs.get(role)
            if tab is None or tab not in self.tables:
                continue
            try:
                rows = self.tables[tab].rows
            except SourceUnavailable:
                continue
            index, found = find_header_row(rows, header_aliases(role, getattr(config.columns, role)))
            if found:
                return [rows[index][column] for column in found.values()]
        return []


def find_roles(backend: Backend, config: Config, names: list[str]) -> Roles:
    """Start reading the tabs of each role, found by name (resolve_tabs). A Customers or FollowUps tab
    with a name of the user's own (e.g. "Calls") is recognised by its headers when no tab has a known
    name and config.yaml names none: every other tab is read and `fields.guess_tabs` judges."""
    roles = resolve_tabs(names, config)
    unnamed = [role for role in GUESSABLE if roles[role] is None and getattr(config.tabs, role) is None]
    spare = [n for n in names if n not in roles.values() and normalize(n) not in _OWNED_NORMALISED] if unnamed else []
    named = [n for n in roles.values() if n]
    named += [n for n in names if n.casefold() in _OWNED_NAMES and n not in named]  # to tell ours from a team's own
    try:
        tables = backend.read(named + spare)
    except SourceUnavailable:  # a backend that reads at once (live Excel) failed on one tab, perhaps a chart sheet
        if not spare:
            raise
        tables = dict(backend.read(named))  # the tabs named for a role must read
        for name in spare:  # the others one by one: one that cannot be read is just not a candidate
            try:
                tables.update(backend.read([name]))
            except SourceUnavailable:
                continue
        spare = [n for n in spare if n in tables]
    guessed: Recognised = {}
    if spare:
        heads: dict[str, list[list[Cell]]] = {}
        for name in spare:
            try:
                heads[name] = tables[name].rows
            except SourceUnavailable:  # a tab calamine cannot read (e.g. a chart sheet) is just not a candidate
                continue
        aliases = {role: header_aliases(role, getattr(config.columns, role)) for role in ("customers", "followups", "team")}
        guessed = guess_tabs(heads, aliases, unnamed)
        roles.update({role: tab for role, (tab, _) in guessed.items()})
    return Roles(tabs=roles, tables=tables, guessed=guessed)


def load(
    config: Config, backend: Backend, as_of: date, progress: Progress = _quiet,
) -> tuple[Config, Dataset, Mapping[str, Table | None], list[str], dict[str, str]]:
    """Read the tabs (in one pass) and validate them, in the workbook's language (the config is returned
    with it: see in_workbook_language), and tell which tabs with one of our names a team made (foreign_owned_tabs)."""
    progress(f"reading {backend.location}")
    names = backend.sheet_names()
    found = find_roles(backend, config, names)
    config = in_workbook_language(config, names, lambda: found.headers(config))
    roles = found.tabs
    by_role = TabsByRole(found.tables, roles)
    progress("validating rows")
    notes: list[Issue] = []
    for role, configured in (("customers", config.tabs.customers), ("followups", config.tabs.followups)):
        if roles[role] is None:
            notes.append(_missing_tab_issue(role, configured, names, config.locale))
        elif role in found.guessed:
            notes.append(_guessed_tab_issue(role, *found.guessed[role], config.locale))
    foreign = foreign_owned_tabs(names, found.tables)
    notes += [_not_ours_issue(tab, role, config.locale) for tab, role in foreign.items() if tab.casefold() == owned_tab_name(role, config.locale).casefold()]
    dataset = validate(by_role, config, as_of)
    # Hand on only the tabs the write needs: the raw FollowUps rows (the bulk of memory) are freed on return.
    kept: dict[str, Table | None] = {role: by_role[role] for role in ("customers", "runlog")}
    if roles.get("runlog") in foreign:
        kept["runlog"] = None  # a team's own "Run log" holds no runs of ours to keep
    if notes:
        dataset = replace(dataset, issues=notes + dataset.issues)
    return config, dataset, kept, names, foreign




def _title_prefixes() -> dict[str, tuple[str, ...]]:
    """How each owned tab begins (its title row, before the first figure), in both languages."""
    from addon.core.kpi_tab import LABELS as KPI_LABELS

    titles = {"kpi": KPI_LABELS["title"], "overdue": render.LABELS["overdue_title"],
              "issues": render.LABELS["issues_title"], "runlog": render.LABELS["runlog_title"]}
    return {role: tuple(t.split("{", 1)[0] for t in pair) for role, pair in titles.items()}


def foreign_owned_tabs(names: list[str], tables: Mapping[str, Table]) -> dict[str, str]:
    """Tabs with the name of one of ours (KPI, 待跟进 …) that the add-on did not make: tab -> role. A team's
    own "KPI" or "待跟进" tab is never replaced or deleted; an empty one, or one of ours, is ours to write."""
    prefixes = _title_prefixes()
    foreign: dict[str, str] = {}
    for name in names:
        role = _OWNED_NAMES.get(name.casefold())
        if role is None or name not in tables:
            continue
        try:
            rows = tables[name].rows
        except SourceUnavailable:
            continue  # unreadable (a chart sheet): the writer refuses to replace a non-worksheet anyway
        first = next((cell for row in rows for cell in row if cell not in (None, "")), None)
        if first is not None and not (isinstance(first, str) and first.startswith(prefixes[role])):
            foreign[name] = role
    return foreign


_NOT_OURS = {
    "message": ("已有一个名为“{tab}”的工作表，但它不是跟进助手生成的：没有改动它，本次也没有写入{what}",
                "A tab named '{tab}' exists that the add-on did not make: it was left as it is, and the {what} was not written"),
    "fix": ("把你的工作表改名（或删除），下次运行时即写入{what}", "Rename (or delete) your tab; the next run writes the {what}"),
    "kpi": ("KPI 汇总", "KPI summary"),
    "overdue": ("待跟进客户列表", "list of customers to follow up"),
    "issues": ("数据问题列表", "list of data issues"),
    "runlog": ("运行记录", "run log"),
}


def _not_ours_issue(tab: str, role: str, locale: str) -> Issue:
    what = text(_NOT_OURS, locale, role)
    return Issue(tab=tab, row=None, column="", value="", severity="warning", message=text(_NOT_OURS, locale, "message", tab=tab, what=what),
                 suggestion=text(_NOT_OURS, locale, "fix", what=what), code="tab.not_ours")


_MISSING_TAB = {
    "customers": ("找不到客户工作表", "No Customers tab found"),
    "followups": ("找不到跟进记录工作表", "No FollowUps tab found"),
}


def _missing_tab_issue(role: str, configured: str | None, names: list[str], locale: str) -> Issue:
    zh = lang_index(locale) == 0
    expected = configured or " / ".join(TAB_NAMES[role][:2])
    message = _MISSING_TAB[role][0 if zh else 1] + (f"（期望：{expected}）" if zh else f" (expected: {expected})")
    suggestion = (
        f"在 config.yaml 中设置 tabs: {role}: <工作表名>，现有工作表：{', '.join(names)}"
        if zh
        else f"set `tabs: {role}: <tab name>` in config.yaml; tabs in the workbook: {', '.join(names)}"
    )
    return Issue(tab=expected, row=None, column="", value="", severity="error", message=message, suggestion=suggestion, code="tab.missing")


def guessed_tab_words(role: str, tab: str, headers: list[str], locale: str) -> tuple[str, str]:
    """(message, fix) for a tab recognised by its headers; shared by the Issues tab, doctor and init."""
    zh = lang_index(locale) == 0
    label = TAB_NAMES[role][0 if zh else 1]
    shown = ("、" if zh else ", ").join(headers)
    if zh:
        return (f"没有名为“{label}”的工作表；按表头（{shown}）把“{tab}”当作{label}工作表读取",
                f"若要明确指定或改用其他工作表，在 config.yaml 中设置 tabs: {role}: {tab}")
    return (f"No tab is named {label}; '{tab}' is read as the {label} tab because its headers match ({shown})",
            f"To make this explicit, or to choose another tab, set `tabs: {role}: {tab}` in config.yaml")


def _guessed_tab_issue(role: str, tab: str, headers: list[str], locale: str) -> Issue:
    message, fix = guessed_tab_words(role, tab, headers, locale)
    return Issue(tab=tab, row=None, column="", value="", severity="warning", message=message, suggestion=fix, code="tab.guessed")


SETUP_ERRORS = frozenset({"tab.missing", "columns.missing"})


def setup_errors(dataset: Dataset) -> list[Issue]:
    """A missing Customers/FollowUps tab or required column: every status computed from it would be wrong
    (no contacts at all reads as everyone overdue), so nothing is computed, written into the data or sent."""
    essential = {dataset.tabs.get("customers"), dataset.tabs.get("followups")}
    return [
        i for i in dataset.issues
        if i.severity == "error" and i.code in SETUP_ERRORS and (i.code == "tab.missing" or i.tab in essential)
    ]


def compute(config: Config, dataset: Dataset, as_of: date) -> tuple[list[CustomerStatus], Any]:
    from addon.core import kpi

    statuses = cadence.evaluate(dataset, config, as_of)
    previous = kpi.previous_statuses(dataset, config, as_of, cadence.evaluate)
    kpis = kpi.compute(dataset, statuses, config, as_of, previous_statuses=previous)
    return statuses, kpis


def build_writes(result: RunResult, tables: Mapping[str, Table | None], sheet_names: list[str], record: render.RunRecord) -> WriteSet:
    """What to write: never into a tab with one of our names that a team made (result.foreign_tabs)."""
    from addon.core.kpi_tab import kpi_tab

    config, dataset, locale = result.config, result.dataset, result.config.locale
    customers = tables.get("customers")
    issues_and_log = [render.issues_tab(dataset.issues, locale), render.runlog_tab(record, tables.get("runlog"), config.run_log_keep, locale)]
    if result.blocked:  # only what explains the problem; statuses, KPIs and the overdue list keep their last good state
        return without_theirs(WriteSet(columns=None, tabs=issues_and_log, stale_tabs=[]), result)
    columns = None
    if customers is not None and "customers" in dataset.header_rows:
        columns = render.columns_patch(customers, dataset.header_rows["customers"], dataset, result.statuses, locale, cadence.rule_text)
    tabs = [render.overdue_tab(dataset, result.statuses, result.as_of, locale, cadence.rule_text), *issues_and_log]
    if result.kpis is not None:
        tabs.insert(0, kpi_tab(result.kpis, dataset, locale))
    return without_theirs(WriteSet(columns=columns, tabs=tabs, stale_tabs=render.stale_tabs(sheet_names, locale)), result)


def without_theirs(writes: WriteSet, result: RunResult) -> WriteSet:
    """The writes minus every tab with one of our names that a team made (result.foreign_tabs): neither
    replaced nor deleted as stale. Every path that writes owned tabs goes through here."""
    theirs = {name.casefold() for name in result.foreign_tabs}
    return replace(writes, tabs=[tab for tab in writes.tabs if tab.name.casefold() not in theirs],
                   stale_tabs=[name for name in writes.stale_tabs if name.casefold() not in theirs])


def _problem(issue: Issue) -> tuple[str, int | None, str]:
    """What an issue is about, so the planner's "no e-mail" for a Team row is not listed beside
    validation's own (`team.no_email` and `reminders.no_email`; the column may carry a custom header)."""
    return issue.tab, issue.row, issue.code.rpartition(".")[2] if issue.code else issue.column


def _link(config: Config, backend: Backend) -> str:
    return config.reminders.link or backend.location


def run(
    config: Config,
    *,
    as_of: date | None = None,
    dry_run: bool = False,
    send: bool = True,
    write: bool = True,
    force: bool = False,
    mode: str = "run",
    backend: Backend | None = None,
    progress: Progress = _quiet,
) -> RunResult:
    """The full pass. `dry_run` computes and plans but writes and sends nothing."""
    started, clock = datetime.now(config.zone).replace(tzinfo=None), time.monotonic()
    as_of = as_of or today(config)
    backend = backend or open_backend(config)
    if write and not dry_run:
        check = getattr(backend, "check_writable", None)
        if check is not None:
            check()  # a locked workbook is refused before anything is sent
    with gc_paused():  # the pass builds about a million acyclic records; see addon.gc_pause
        config, dataset, tables, names, foreign = load(config, backend, as_of, progress)
        result = RunResult(config=config, as_of=as_of, mode=mode, location=backend.location, dataset=dataset, started=started,
                           foreign_tabs=foreign)
        result.blocked = setup_errors(dataset)
        if not result.blocked:
            progress("applying cadence rules and computing KPIs")
            result.statuses, result.kpis = compute(config, dataset, as_of)

        if (send or dry_run) and not result.blocked:
            from addon.core.reminders import plan
            from addon.notify.send import deliver

            planned = plan(dataset, result.statuses, config, as_of, _link(config, backend))
            result.reminders_skipped = planned.skipped
            known = {_problem(i) for i in dataset.issues}
            dataset.issues.extend(i for i in planned.issues if _problem(i) not in known)
            progress("sending reminders" if not dry_run else "planning reminders (dry run)")
            result.messages = deliver(planned, config, force=force, dry_run=dry_run)

        if write and not dry_run:
            progress("writing owned columns and tabs")
            result.seconds = time.monotonic() - clock
            record = _record(result)
            backend.write(build_writes(result, tables, names, record))
            result.written = True
        result.seconds = time.monotonic() - clock
        return result


# The Run log's outcome column, in the workbook's language.
RUN_OUTCOMES = {
    "ok": ("正常", "ok"),
    "data_errors": ("有数据错误", "data errors"),
    "blocked": ("缺少工作表或必需的列：未计算状态、未发送提醒", "a tab or required column is missing: no statuses computed, no reminders sent"),
    "not_delivered": ("{n} 封提醒未送达", "{n} message(s) not delivered"),
    "list": ("；", "; "),
}


def _record(result: RunResult) -> render.RunRecord:
    summary, locale = result.summary(), result.config.locale
    parts = [text(RUN_OUTCOMES, locale, "blocked" if result.blocked else "data_errors")] if result.errors else []
    if result.undelivered:
        parts.append(text(RUN_OUTCOMES, locale, "not_delivered", n=result.undelivered))
    outcome = text(RUN_OUTCOMES, locale, "list").join(parts) or text(RUN_OUTCOMES, locale, "ok")
    return render.RunRecord(
        started=result.started,
        as_of=result.as_of,
        mode=result.mode,
        customers=summary["customers"],
        errors=summary["errors"],
        warnings=summary["warnings"],
        overdue=summary["overdue"],
        messages=sum(1 for m in result.messages if m.outcome == "sent"),
        outcome=outcome,
        seconds=result.seconds,
    )


def check(config: Config, *, as_of: date | None = None, backend: Backend | None = None, progress: Progress = _quiet) -> RunResult:
    """Validate (and compute statuses) only; writes and sends nothing."""
    return run(config, as_of=as_of, send=False, write=False, mode="check", backend=backend, progress=progress)


def remind(config: Config, *, as_of: date | None = None, force: bool = False, backend: Backend | None = None, progress: Progress = _quiet) -> RunResult:
    """Send the reminders owed today; leave the sheet alone."""
    return run(config, as_of=as_of, send=True, write=False, force=force, mode="remind", backend=backend, progress=progress)
