"""Reminder planning (SPEC §7): statuses + team + as-of date → the messages owed today, and nothing else.

Pure: no I/O, no clock. Routing decides *who* hears about *which* customer; composing the email is
`addon.notify.messages`, delivery and "never twice" are `addon.notify.send` with its ledger.

Routing rules, in one place:
- a rep's own overdue/escalated/pool/due-today (and, if configured, due-soon) customers → their digest;
- customers of an inactive rep → their manager's digest (or the admin's digest);
- unassigned overdue customers, and customers whose recipient has no address → the admin digest;
- escalated/pool customers → an escalation digest to the rep's manager (admin when there is none);
- pool customers (never protected ones) → a pool notice to the manager (admin when there is no manager email);
- open customers `pool_warning` days from the pool → a pool warning to the owner.
One message per (recipient address, kind): several routes to the same person merge into sections.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.utils import parseaddr
from typing import Literal

from addon.config import Config
from addon.core.cadence import rule_text
from addon.core.calendar import WorkCalendar
from addon.core.fields import TAB_NAMES, lang_index, normalize, value_label
from addon.core.history import is_open, quiet_since
from addon.model import Customer, CustomerStatus, Dataset, Issue, Member

Kind = Literal["digest", "escalation", "pool_notice", "pool_warning", "admin"]
KINDS: tuple[Kind, ...] = ("digest", "escalation", "pool_notice", "pool_warning", "admin")

# Statuses a rep is reminded about; order = urgency (SPEC §5).
_OVERDUE = ("pool", "escalated", "overdue")
_URGENCY = {"pool": 0, "escalated": 0, "overdue": 0, "due_today": 1, "due_soon": 2}
_TIER_ORDER = {"A": 0, "B": 1, "C": 2}


@dataclass(frozen=True)
class Item:
    """One customer line in a message, already in the recipient's language."""

    key: str
    name: str
    status: str
    tier: str
    stage: str  # stage label in the message locale
    last_contact: date | None
    next_due: date | None
    days_overdue: int
    phone: str
    rule: str  # the Rule column text
    owner: str  # owner name ("" when unassigned)
    row: int
    link: str
    pool_on: date | None = None  # pool warnings: the day the customer would be proposed for the pool


@dataclass(frozen=True)
class Section:
    """A group of items in one message, with why they are there.

    key: own | inactive | unassigned | unreachable | team (an escalation/pool group per rep) | warning
    about: the person the section is about (rep name), note: why it was rerouted
    (no_email | no_manager | no_manager_email | inactive | not_in_team | "").
    """

    key: str
    items: tuple[Item, ...]
    about: str = ""
    note: str = ""


@dataclass(frozen=True)
class Message:
    """A message owed today: one per (recipient, kind, day)."""

    kind: Kind
    to: str  # address as written in the sheet/config
    to_name: str
    day: date
    locale: str
    sections: tuple[Section, ...]
    link: str
    unreachable: tuple[tuple[str, str], ...] = ()  # admin digest: (person, reason code) that could not be reached
    threshold: int = 0  # days: escalate_after (escalation), pool_after (pool_notice), pool_warning (pool_warning)
    tabs: tuple[str, str] = ("", "")  # the workbook's (FollowUps, Team) tab names, for "log it on the Calls tab"

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(item for section in self.sections for item in section.items)

    @property
    def customers(self) -> tuple[str, ...]:
        """Customer keys, first mention order, no repeats."""
        return tuple(dict.fromkeys(item.key for item in self.items))

    @property
    def key(self) -> tuple[str, str, str]:
        """The "never twice" key: (normalized address, kind, ISO day)."""
        return (address_key(self.to), self.kind, self.day.isoformat())


@dataclass(frozen=True)
class Plan:
    day: date
    messages: list[Message] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    skipped: str = ""  # "" or why nothing is sent today (not_working_day)


def address_key(address: str) -> str:
    """The comparable form of an address: `Li <LI@x.com>` and `li@x.com` are one recipient."""
    bare = parseaddr(address.replace("\r", " ").replace("\n", " "))[1] or address
    return bare.strip().lower()


_CATALOG = {
    "no_address": ("{name} 没有邮箱，无法收到今天的{what}；已转给管理员", "{name} has no email address and cannot receive today's {what}; sent to the admin instead"),
    "no_address.fix": ("在「{team}」表中填写其邮箱", "Fill in the email column on the {team} tab"),
    "no_manager_email": ("{name} 的上级 {manager} 没有邮箱，无法收到今天的{what}；已转给管理员", "{name}'s manager {manager} has no email address and cannot receive today's {what}; sent to the admin instead"),
    "no_manager_email.fix": ("在「{team}」表中填写上级邮箱", "Fill in the manager email column on the {team} tab"),
    "no_admin": ("未配置 reminders.admin，{count} 条提醒无人接收", "reminders.admin is not set, so {count} reminder(s) have no recipient"),
    "no_admin.fix": ("在 config.yaml 中设置 reminders.admin: 管理员邮箱", "Set reminders.admin: <address> in config.yaml"),
    "what.digest": ("跟进提醒", "follow-up digest"),
    "what.escalation": ("逾期升级提醒", "escalation digest"),
    "what.pool_notice": ("公海回收通知", "pool notice"),
    "what.pool_warning": ("公海回收预警", "pool warning"),
    "what.admin": ("管理员通知", "admin notice"),
    "skipped.not_working_day": ("今天不是工作日，不发送提醒（reminders.send_on: every_day 则每天发送）",
                                "today is not a working day, so no reminders are sent (reminders.send_on: every_day sends daily)"),
}


def _t(locale: str, key: str, **params: object) -> str:
    template = _CATALOG[key][lang_index(locale)]
    return template.format(**params)


def _words(group: str, key: str, locale: str) -> str:
    """A catalog entry of `group` in words, or the key itself when the catalog has none."""
    return _t(locale, f"{group}.{key}") if f"{group}.{key}" in _CATALOG else key


def kind_label(kind: str, locale: str) -> str:
    """A message kind in words ("follow-up digest", "跟进提醒")."""
    return _words("what", kind, locale)


def skipped_text(reason: str, locale: str) -> str:
    """Why no reminder is planned today (`Plan.skipped`), in words every surface shows the same way."""
    return _words("skipped", reason, locale)


def is_send_day(day: date, config: Config) -> bool:
    """Reminders go out on working days (weekends, statutory holidays off; 调休 make-up days on) unless every_day."""
    if config.reminders.send_on == "every_day":
        return True
    return working_day_checker(config)(day)


def working_day_checker(config: Config) -> Callable[[date], bool]:
    """The team's working-day calendar (`cadence.holidays`), the same one cadence counts in."""
    return WorkCalendar.from_config(config).is_working_day


class _Team:
    """Team lookups by normalized name, so '张三 ' and '张三' are the same person."""

    def __init__(self, members: Iterable[Member]) -> None:
        self.by_name: dict[str, Member] = {}
        for member in members:
            self.by_name.setdefault(normalize(member.name), member)

    def get(self, name: str | None) -> Member | None:
        return self.by_name.get(normalize(name)) if name else None

    def manager_of(self, member: Member) -> tuple[str, str | None, bool]:
        """(manager name, address or None, manager is an active recipient). The Team row of the manager fills gaps."""
        name = (member.manager or "").strip()
        manager = self.get(name)
        address = (member.manager_email or "").strip() or None
        if address is None and manager is not None:
            address = (manager.email or "").strip() or None
        active = manager.active if manager is not None else True
        return name, address, active


class _Builder:
    """Collects sections per (address, kind) so merges are natural and each key appears once."""

    def __init__(self, day: date, locale: str, link: str, thresholds: dict[str, int], tabs: tuple[str, str]) -> None:
        self.day, self.locale, self.link, self.thresholds, self.tabs = day, locale, link, thresholds, tabs
        self.slots: dict[tuple[str, Kind], _Slot] = {}

    def add(self, kind: Kind, to: str, to_name: str, section: Section) -> None:
        slot = self.slots.setdefault((address_key(to), kind), _Slot(to.strip(), to_name))
        slot.name = slot.name or to_name
        bucket = slot.sections.setdefault((section.key, section.about), ([], section.note))[0]
        seen = {item.key for item in bucket}
        bucket.extend(item for item in section.items if item.key not in seen)

    def build(self, unreachable: list[tuple[str, str]]) -> list[Message]:
        out = []
        for (_, kind), slot in self.slots.items():
            sections = [
                Section(key, tuple(sorted(items, key=_urgency)), about, note)
                for (key, about), (items, note) in slot.sections.items()
                if items
            ]
            # Fixed kinds of section first, then the group with the most urgent customer: independent of input order.
            sections.sort(key=lambda s: (_SECTION_ORDER.get(s.key, 9), _urgency(s.items[0]), s.about))
            extra = tuple(sorted(set(unreachable))) if kind == "admin" else ()
            if sections:
                threshold = self.thresholds.get(kind, 0)
                out.append(Message(kind, slot.to, slot.name, self.day, self.locale, tuple(sections), self.link, extra, threshold, self.tabs))
        out.sort(key=lambda m: (KINDS.index(m.kind), address_key(m.to)))
        return out


@dataclass
class _Slot:
    to: str
    name: str
    sections: dict[tuple[str, str], tuple[list[Item], str]] = field(default_factory=dict)


_SECTION_ORDER = {"own": 0, "team": 1, "warning": 1, "inactive": 2, "unassigned": 3, "unreachable": 4}


def _urgency(item: Item) -> tuple[object, ...]:
    rank = _URGENCY.get(item.status, 3)
    due = item.next_due or date.max
    return (rank, -item.days_overdue, item.pool_on or due, due, _TIER_ORDER.get(item.tier, 9), item.name, item.row)


def plan(dataset: Dataset, statuses: list[CustomerStatus], config: Config, as_of: date, link: str) -> Plan:
    """The messages owed on `as_of`; nothing on days that are not send days."""
    if not is_send_day(as_of, config):
        return Plan(as_of, skipped="not_working_day")
    locale = config.locale
    reminders = config.reminders
    admin = (reminders.admin or "").strip() or None
    team = _Team(dataset.team)
    customers = {c.key: c for c in dataset.customers}
    contacts = dataset.histories
    pool_after = config.cadence.pool_after.days
    warn_days = reminders.pool_warning.days
    escalate_days = config.cadence.escalate_after.days
    thresholds = {"escalation": escalate_days, "pool_notice": pool_after, "pool_warning": warn_days}
    team_tab = dataset.tabs.get("team", TAB_NAMES["team"][lang_index(locale)])
    log_tab = dataset.tabs.get("followups", TAB_NAMES["followups"][lang_index(locale)])
    builder = _Builder(as_of, locale, link, thresholds, (log_tab, team_tab))
    issues: list[Issue] = []
    unreachable: list[tuple[str, str]] = []
    orphaned = 0  # items that could not go anywhere (no admin)
    reported: set[tuple[str, str, str]] = set()

    def to_admin(kind: Kind, section: Section, who: str = "", why: str = "") -> None:
        nonlocal orphaned
        if who and why:
            unreachable.append((who, why))
        if admin is None:
            orphaned += len(section.items)
            return
        builder.add(kind, admin, "", section)

    def report(member: Member, kind: Kind, code: str, manager: str = "") -> None:
        mark = (member.name, code, kind)
        if mark in reported:
            return
        reported.add(mark)
        what = _t(locale, f"what.{kind}")
        if code == "no_email":
            message = _t(locale, "no_address", name=member.name, what=what)
            fix, column, value = _t(locale, "no_address.fix", team=team_tab), _header("email", locale), ""
        else:
            message = _t(locale, "no_manager_email", name=member.name, manager=manager, what=what)
            fix, column, value = _t(locale, "no_manager_email.fix", team=team_tab), _header("manager_email", locale), ""
        issues.append(Issue(team_tab, member.row, column, value, "warning", message, fix, f"reminders.{code}"))

    include = set(_OVERDUE) | {"due_today"} | ({"due_soon"} if reminders.include_due_soon else set())

    by_owner: dict[str, list[Item]] = {}
    escalated: dict[str, list[Item]] = {}
    pooled: dict[str, list[Item]] = {}
    warned: dict[str, list[Item]] = {}
    unassigned: list[Item] = []

    for status in statuses:
        customer = customers.get(status.key)
        if customer is None or not customer.valid or status.status in ("closed", "invalid"):
            continue
        state = status.status
        owner = normalize(customer.owner) if customer.owner else ""
        if state == "pool" and (customer.protected or not owner or not is_open(customer.stage, config)):
            # Protected customers are never proposed for the pool, and unassigned ones are in it already.
            state = _not_pool(status, escalate_days, as_of)
        if state in include:
            item = _item(customer, status, state, locale, link)
            if not owner:
                if state in _OVERDUE:
                    unassigned.append(item)
            else:
                by_owner.setdefault(owner, []).append(item)
                if state in ("escalated", "pool"):
                    escalated.setdefault(owner, []).append(item)
                if state == "pool":
                    pooled.setdefault(owner, []).append(item)
        if owner and state != "pool" and not customer.protected and is_open(customer.stage, config):
            pool_on = _pool_day(quiet_since(customer, contacts.get(customer.key, [])), pool_after)
            if pool_on is not None and 0 < (pool_on - as_of).days <= warn_days:
                warned.setdefault(owner, []).append(_item(customer, status, state, locale, link, pool_on=pool_on))

    names = {normalize(c.owner): (c.owner or "").strip() for c in dataset.customers if c.owner}

    # Digests: to the rep; inactive → manager (else admin); no address → admin.
    for owner, items in by_owner.items():
        member = team.get(owner)
        name = member.name.strip() if member else names.get(owner, owner)
        if member is None:
            to_admin("admin", Section("unreachable", tuple(items), name, "not_in_team"), name, "not_in_team")
            continue
        if not member.active:
            manager, address, manager_active = team.manager_of(member)
            if address and manager_active:
                builder.add("digest", address, manager, Section("inactive", tuple(items), name, "inactive"))
            else:
                to_admin("admin", Section("inactive", tuple(items), name, "inactive"))
            continue
        email = (member.email or "").strip()
        if email:
            builder.add("digest", email, name, Section("own", tuple(items)))
        else:
            report(member, "digest", "no_email")
            to_admin("admin", Section("unreachable", tuple(items), name, "no_email"), name, "no_email")

    # Escalations and pool notices: to the manager; no manager → admin; manager without address → Issue + admin.
    for kind, groups in (("escalation", escalated), ("pool_notice", pooled)):
        for owner, items in groups.items():
            member = team.get(owner)
            name = member.name.strip() if member else names.get(owner, owner)
            section = Section("team", tuple(items), name)
            if member is None or not (member.manager or member.manager_email):
                why = "not_in_team" if member is None else "no_manager"
                to_admin(kind, Section("team", tuple(items), name, why))  # type: ignore[arg-type]
                continue
            manager, address, manager_active = team.manager_of(member)
            if address and manager_active:
                builder.add(kind, address, manager, section)  # type: ignore[arg-type]
            elif address:  # the manager left: the admin takes over
                to_admin(kind, Section("team", tuple(items), name, "inactive"))  # type: ignore[arg-type]
            else:
                report(member, kind, "no_manager_email", manager)  # type: ignore[arg-type]
                to_admin(kind, Section("team", tuple(items), name, "no_manager_email"), manager or name, "no_manager_email")  # type: ignore[arg-type]

    # Pool warnings: to the owner; an inactive owner's go where their digest went (manager, else admin).
    for owner, items in warned.items():
        member = team.get(owner)
        if member is None:
            continue  # not on the Team tab: their overdue customers already reach the admin
        if not member.active:
            manager, address, manager_active = team.manager_of(member)
            section = Section("inactive", tuple(items), member.name.strip(), "inactive")
            if address and manager_active:
                builder.add("pool_warning", address, manager, section)
            else:
                to_admin("pool_warning", section)
            continue
        email = (member.email or "").strip()
        if email:
            builder.add("pool_warning", email, member.name.strip(), Section("warning", tuple(items)))
        else:
            report(member, "pool_warning", "no_email")
            to_admin("admin", Section("unreachable", tuple(items), member.name.strip(), "no_email"), member.name.strip(), "no_email")

    if unassigned:
        to_admin("admin", Section("unassigned", tuple(unassigned)))

    if orphaned:
        issues.append(Issue(team_tab, None, "", "", "warning", _t(locale, "no_admin", count=orphaned), _t(locale, "no_admin.fix"), "reminders.no_admin"))

    return Plan(as_of, builder.build(unreachable), issues)


def _not_pool(status: CustomerStatus, escalate_days: int, as_of: date) -> str:
    """The status a customer has when the pool does not apply: as urgent as its due date says."""
    if status.days_overdue <= 0:
        return "due_today" if status.next_due == as_of else "ok"
    return "escalated" if status.days_overdue >= escalate_days else "overdue"


def _pool_day(since: date | None, pool_after: int) -> date | None:
    """The day silence reaches `pool_after` (counted like cadence: from the last contact, else created)."""
    return since + timedelta(days=pool_after) if since is not None else None


def _item(customer: Customer, status: CustomerStatus, state: str, locale: str, link: str, pool_on: date | None = None) -> Item:
    return Item(
        key=customer.key,
        name=customer.name,
        status=state,
        tier=value_label("tier", customer.tier, locale),
        stage=value_label("stage", customer.stage, locale),
        last_contact=status.last_contact,
        next_due=status.next_due,
        days_overdue=max(status.days_overdue, 0),
        phone=customer.phone or "",
        rule=rule_text(status.rule, locale),
        owner=(customer.owner or "").strip(),
        row=customer.row,
        link=link,
        pool_on=pool_on,
    )


def _header(key: str, locale: str) -> str:
    from addon.core.fields import TEAM_FIELDS

    for f in TEAM_FIELDS:
        if f.key == key:
            return f.zh if lang_index(locale) == 0 else f.en
    return key
