"""Compose planned reminders into real emails: multipart text + HTML from Jinja2 templates (zh/en).

Safety lives here, not in the templates: every header value is stripped of control characters (a
name with CR/LF cannot add a header), HTML is autoescaped, non-ASCII headers are RFC 2047-encoded by
`MAIL_POLICY` (the stdlib SMTP policy, with whole-word encoding of a non-ASCII subject), and the Message-ID is a stable hash of (recipient, kind, day) so a resend
after a crash can be recognised by the receiving side.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

from addon.config import Config
from addon.core.fields import TAB_NAMES, lang_index
from addon.core.reminders import Item, Message, Section, address_key
from addon.i18n import format_date, format_days, status_label, text

BUILTIN_TEMPLATES = Path(__file__).parent / "templates"
PRODUCT = ("跟进助手", "Follow-up Add-on")


class _MailPolicy(EmailPolicy):
    """policy.SMTP, except that a Subject too long for one line is folded by the classic `email.header.Header`.

    The policy's own folder keeps the space before an encoded word at the end of a folded line (a
    long English subject with "—" read back with two spaces before the dash), and folds a long
    all-ASCII subject right after "Subject:" (read back with a leading space). Header folds ASCII
    at a space and encodes non-ASCII text whole as RFC 2047 words, both of which read back exactly."""

    def fold(self, name: str, value: str) -> str:
        folded = super().fold(name, value)
        if name.lower() != "subject" or folded.count(self.linesep) == 1:  # fits on one line: nothing to mend
            return folded
        text = str(value)
        encoded = Header(text, "us-ascii" if text.isascii() else "utf-8", header_name=name).encode(linesep=self.linesep)
        return f"{name}: {encoded}{self.linesep}"

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() != "subject":
            return super().fold_binary(name, value)
        return self.fold(name, value).encode("ascii")


MAIL_POLICY = _MailPolicy(linesep="\r\n")  # policy.SMTP is EmailPolicy(linesep="\r\n"); plus the Subject rule above

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")

CATALOG: Mapping[str, tuple[str, str]] = {
    "prefix": ("[跟进提醒]", "[Follow-up]"),
    "subject.overdue": ("{n} 位客户逾期未跟进", "{n} customer{s} overdue"),
    "subject.due_today": ("{n} 位客户今日到期", "{n} customer{s} due today"),
    "subject.due_today.more": ("{n} 位今日到期", "{n} due today"),
    "subject.due_soon": ("{n} 位客户即将到期", "{n} customer{s} due soon"),
    "subject.due_soon.more": ("{n} 位即将到期", "{n} due soon"),
    "subject.escalation": ("升级：团队 {n} 位客户逾期超过 {days}", "Escalation: {n} team customer{s} overdue {days}+"),
    "subject.pool_notice": ("{n} 位客户建议退回公海", "{n} customer{s} proposed for the public pool"),
    "subject.pool_warning": ("{n} 位客户 {days}内将退回公海", "{n} customer{s} will return to the pool within {days}"),
    "subject.admin": ("管理员：{n} 位客户待分配或无法送达", "Admin: {n} customer{s} unassigned or undeliverable"),
    "subject.admin.people": ("管理员：{n} 位成员无法收到提醒", "Admin: {n} team member{s} cannot receive reminders"),
    "sep": ("，", ", "),
    # column headers
    "col.no": ("#", "#"),
    "col.name": ("客户", "Customer"),
    "col.status": ("状态", "Status"),
    "col.overdue": ("逾期", "Overdue"),
    "col.tier": ("等级", "Tier"),
    "col.stage": ("阶段", "Stage"),
    "col.last_contact": ("最近跟进", "Last contact"),
    "col.next_due": ("应跟进", "Due"),
    "col.phone": ("电话", "Phone"),
    "col.rule": ("规则", "Rule"),
    "col.owner": ("负责人", "Owner"),
    "col.pool_on": ("退回公海日期", "Returns to pool on"),
    "never": ("从未跟进", "never"),
    # sections
    "section.own": ("我的客户", "Your customers"),
    "section.inactive": ("{about}（已停用）的客户 — 请重新分配", "Customers of {about} (inactive) — please reassign"),
    "section.unassigned": ("未分配负责人的逾期客户", "Overdue customers without an owner"),
    "section.unreachable": ("{about}的客户（{reason}）", "Customers of {about} ({reason})"),
    "section.team": ("{about}的客户", "{about}'s customers"),
    "section.team.note": ("{about}的客户（{reason}，转给管理员）", "{about}'s customers ({reason}; sent to the admin)"),
    "section.warning": ("即将退回公海", "About to return to the public pool"),
    "reason.no_email": ("「{team}」表中没有邮箱", "no email address on the {team} tab"),
    "reason.no_manager": ("未设置上级", "no manager set"),
    "reason.no_manager_email": ("上级没有邮箱", "the manager has no email address"),
    "reason.inactive": ("已停用", "inactive"),
    "reason.not_in_team": ("不在「{team}」表中", "not on the {team} tab"),
    # body text
    "link": ("打开表格", "Open the sheet"),
    "colon": ("：", ": "),  # after a label: full-width in Chinese text
    "footer": ("由跟进助手自动发送，请勿直接回复。", "Sent automatically by the Follow-up Add-on; please do not reply."),
    "unreachable.title": ("无法收到提醒的成员", "Team members who cannot receive reminders"),
}

# Sheet colours (addon.backends.base.STYLES) by status: (background, text) for the HTML.
_COLOURS = {
    "due_soon": ("#FFEB9C", "#9C5700"),
    "due_today": ("#FFEB9C", "#9C5700"),
    "overdue": ("#FFC7CE", "#9C0006"),
    "escalated": ("#C00000", "#FFFFFF"),
    "pool": ("#E7E6E6", "#595959"),
    "ok": ("#C6EFCE", "#006100"),
}


def clean_header(value: str) -> str:
    """A header value with every control character (CR, LF, NUL, tab…) replaced by a space."""
    return " ".join(_CONTROL.sub(" ", value).split())


def _t(locale: str, key: str, **params: object) -> str:
    return text(CATALOG, locale, key, **params)


def _plural(n: int) -> str:
    return "" if n == 1 else "s"


def subject(message: Message) -> str:
    """`[跟进提醒] 3 位客户逾期未跟进 — 2026-11-23` / `[Follow-up] 3 customers overdue — 2026-11-23`."""
    loc = message.locale
    items = message.items
    n = len(message.customers)
    if message.kind == "digest":
        counts = {s: len({i.key for i in items if _bucket(i.status) == s}) for s in ("overdue", "due_today", "due_soon")}
        parts = []
        for bucket, count in counts.items():
            if count:
                key = f"subject.{bucket}" if not parts else f"subject.{bucket}.more"
                parts.append(_t(loc, key, n=count, s=_plural(count)))
        body = _t(loc, "sep").join(parts)
    elif message.kind in ("escalation", "pool_warning"):
        days = format_days(message.threshold, loc)
        body = _t(loc, f"subject.{message.kind}", n=n, s=_plural(n), days=days)
    elif message.kind == "admin" and not n:
        people = len(message.unreachable)
        body = _t(loc, "subject.admin.people", n=people, s=_plural(people))
    else:
        body = _t(loc, f"subject.{message.kind}", n=n, s=_plural(n))
    return clean_header(f"{_t(loc, 'prefix')} {body} — {message.day.isoformat()}")


def _bucket(status: str) -> str:
    return "overdue" if status in ("overdue", "escalated", "pool") else status


def message_id(message: Message, sender: str, resend: int = 0) -> str:
    """`<hash@sender-domain>`: the same (recipient, kind, day, workbook link) always gets the same id; a forced
    resend a new one. The link keeps two workbooks' digests to one person apart (clients collapse equal ids)."""
    seed = "|".join((*message.key, message.link, str(resend)))
    digest = hashlib.sha256(seed.encode("utf-8")).hexdigest()[:32]
    domain = parseaddr(sender)[1].rpartition("@")[2]
    domain = domain if re.fullmatch(r"[A-Za-z0-9.-]+", domain or "") else "followup.invalid"
    return f"<{digest}@{domain}>"


def _address(name: str, addr: str) -> Address:
    """An Address from sheet/config text (`a@b.com` or `Name <a@b.com>`); ValueError when it is not one."""
    addr = clean_header(addr)
    if "<" in addr:
        parsed_name, parsed = parseaddr(addr)
        addr, name = parsed or addr, name or parsed_name
    if "@" not in addr or " " in addr:
        raise ValueError(f"not an email address: {addr!r}")
    local, _, domain = addr.rpartition("@")
    return Address(display_name=clean_header(name), username=local, domain=domain)


def sender_address(config: Config) -> Address:
    name, addr = parseaddr(clean_header(config.reminders.smtp.sender))
    return _address(name or PRODUCT[lang_index(config.locale)], addr or config.reminders.smtp.sender)


def compose(message: Message, config: Config, *, now: datetime | None = None, resend: int = 0) -> EmailMessage:
    """The email for a planned message. `now` (aware or naive UTC) is for the Date header; tests pin it."""
    sender = sender_address(config)
    email = EmailMessage(policy=MAIL_POLICY)
    email["Subject"] = subject(message)
    email["From"] = sender
    email["To"] = _address(message.to_name, message.to)
    moment = (now or datetime.now(config.zone)).astimezone(config.zone)
    email["Date"] = format_datetime(moment)
    email["Message-ID"] = message_id(message, sender.addr_spec, resend)
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies
    email["X-Auto-Response-Suppress"] = "All"
    email["X-Followup-Kind"] = message.kind
    email["X-Followup-Day"] = message.day.isoformat()
    context = _context(message)
    email.set_content(render(message, config, "txt", context))
    email.add_alternative(render(message, config, "html", context), subtype="html")
    return email


def render(message: Message, config: Config, fmt: str, context: dict[str, Any] | None = None) -> str:
    """One part (`txt` or `html`) from `{kind}.{zh|en}.{fmt}.j2`; the user's folder overrides by name."""
    folder = config.path(config.reminders.templates) if config.reminders.templates else None
    env = _environment(str(folder) if folder else "")
    lang = "zh" if lang_index(message.locale) == 0 else "en"
    template = env.get_template(f"{message.kind}.{lang}.{fmt}.j2")
    return template.render(context or _context(message))


@lru_cache(maxsize=8)
def _environment(user_folder: str) -> Environment:
    loaders = [FileSystemLoader(user_folder)] if user_folder else []
    loaders.append(FileSystemLoader(str(BUILTIN_TEMPLATES)))
    return Environment(
        loader=ChoiceLoader(loaders),
        autoescape=lambda name: bool(name) and ".html" in name,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _context(message: Message) -> dict[str, Any]:
    loc = message.locale
    labels = {key.split(".", 1)[1]: pair[lang_index(loc)] for key, pair in CATALOG.items() if key.startswith("col.")}
    counts: dict[str, int] = {}
    for item in message.items:
        counts[item.status] = counts.get(item.status, 0) + 1
    link = message.link
    log_tab, team_tab = (clean_header(name) or TAB_NAMES[role][lang_index(loc)] for name, role in zip(message.tabs, ("followups", "team"), strict=True))
    return {
        "message": message,
        "kind": message.kind,
        "locale": loc,
        "recipient": clean_header(message.to_name or message.to),
        "date": format_date(message.day, loc),
        "iso_date": message.day.isoformat(),
        "subject": subject(message),
        "count": len(message.customers),
        "overdue": sum(1 for i in {i.key: i for i in message.items}.values() if _bucket(i.status) == "overdue"),
        "due_today": sum(1 for i in {i.key: i for i in message.items}.values() if i.status == "due_today"),
        "due_soon": sum(1 for i in {i.key: i for i in message.items}.values() if i.status == "due_soon"),
        "summary": [
            {"label": status_label(s, loc), "count": counts[s], "bg": _COLOURS[s][0], "fg": _COLOURS[s][1]}
            for s in ("pool", "escalated", "overdue", "due_today", "due_soon")
            if counts.get(s)
        ],
        "sections": [_section(s, loc, team_tab) for s in message.sections],
        "labels": labels,
        "link": link,
        "link_is_url": bool(re.match(r"https?://", link or "")),
        "link_label": _t(loc, "link"),
        "colon": _t(loc, "colon"),
        "footer": _t(loc, "footer"),
        "product": PRODUCT[lang_index(loc)],
        "unreachable": [{"name": clean_header(name), "reason": _t(loc, f"reason.{why}", team=team_tab)} for name, why in message.unreachable],
        "unreachable_title": _t(loc, "unreachable.title"),
        "threshold": format_days(message.threshold, loc),
        "log_tab": log_tab,  # the workbook's FollowUps tab, e.g. "Calls"
        "team_tab": team_tab,
    }


def _section(section: Section, loc: str, team_tab: str) -> dict[str, Any]:
    reason = _t(loc, f"reason.{section.note}", team=team_tab) if section.note else ""
    key = f"section.{section.key}"
    if section.key == "team" and section.note:
        key = "section.team.note"
    return {
        "key": section.key,
        "title": clean_header(_t(loc, key, about=section.about, reason=reason)),
        "items": [_row(i, n, loc) for n, i in enumerate(section.items, 1)],
        "pool_column": any(i.pool_on for i in section.items),
    }


def _row(item: Item, number: int, loc: str) -> dict[str, Any]:
    """Display values; sheet text is folded to one line so a stray line break cannot break the layout."""
    bg, fg = _COLOURS.get(item.status, ("#FFFFFF", "#000000"))
    return {
        "no": number,
        "key": item.key,
        "name": clean_header(item.name),
        "status": item.status,
        "status_label": status_label(item.status, loc),
        "bg": bg,
        "fg": fg,
        "tier": clean_header(item.tier),
        "stage": clean_header(item.stage),
        "last_contact": format_date(item.last_contact, loc) if item.last_contact else _t(loc, "never"),
        "contacted": item.last_contact is not None,
        "next_due": format_date(item.next_due, loc),
        "days_overdue": item.days_overdue,
        "overdue": format_days(item.days_overdue, loc) if item.days_overdue > 0 else "",
        "phone": clean_header(item.phone),
        "rule": clean_header(item.rule),
        "owner": clean_header(item.owner),
        "link": item.link,
        "pool_on": format_date(item.pool_on, loc) if item.pool_on else "",
    }


def recipient_key(email: EmailMessage) -> str:
    """The ledger's address key for a composed email's To."""
    return address_key(str(email["To"].addresses[0].addr_spec))
