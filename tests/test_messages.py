"""Composed reminder emails (issue #5 part 3): subjects, headers, escaping, templates, outbox/console transports."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from pathlib import Path

import pytest

from addon.config import load_config
from addon.core.reminders import KINDS, Item, Message, Section
from addon.notify.messages import MAIL_POLICY, compose, message_id, subject
from addon.notify.transports import ConsoleTransport, OutboxTransport, outbox_name
from tests.test_reminders_plan import AS_OF, LINK, run_plan

NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)


def item(key: str, name: str, status: str = "overdue", days: int = 3, **kw: object) -> Item:
    return Item(
        key=key, name=name, status=status, tier="A", stage="报价谈判", last_contact=date(2026, 11, 1),
        next_due=date(2026, 11, 20), days_overdue=days, phone="13800138000", rule="A级客户每7天跟进一次",
        owner="张三", row=int(key.lstrip("C")) + 1, link=LINK, **kw,  # type: ignore[arg-type]
    )


def digest(items: list[Item], *, to: str = "zhang@example.com", name: str = "张三", locale: str = "zh-CN", kind: str = "digest") -> Message:
    return Message(kind, to, name, AS_OF, locale, (Section("own", tuple(items)),), LINK)  # type: ignore[arg-type]


def roundtrip(email: EmailMessage) -> EmailMessage:
    """What a receiving client sees: the wire bytes (the message's own policy, as smtplib sends them)
    parsed by the stdlib parser."""
    return message_from_bytes(email.as_bytes(), policy=policy.default)  # type: ignore[return-value]


def parts(email: EmailMessage) -> tuple[str, str]:
    text, html = email.get_body(("plain",)), email.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def config(tmp_path: Path | None = None, **extra: object):  # noqa: ANN201
    data: dict = {"reminders": {"smtp": {"sender": "跟进助手 <bot@sales.example.com>"}}, **extra}
    return load_config(None, data)


THREE = [item("C1", "华东机械", "escalated", 12), item("C2", "南方贸易", "overdue", 2), item("C3", "北方物流", "pool", 31)]


def test_subject_zh_and_en() -> None:
    assert subject(digest(THREE)) == "[跟进提醒] 3 位客户逾期未跟进 — 2026-11-23"
    assert subject(digest(THREE, locale="en")) == "[Follow-up] 3 customers overdue — 2026-11-23"
    mixed = [*THREE, item("C4", "Today Ltd", "due_today", 0), item("C5", "Soon Ltd", "due_soon", 0)]
    assert subject(digest(mixed)) == "[跟进提醒] 3 位客户逾期未跟进，1 位今日到期，1 位即将到期 — 2026-11-23"
    assert subject(digest(mixed[3:4], locale="en")) == "[Follow-up] 1 customer due today — 2026-11-23"


def many(n: int, status: str, first: int) -> list[Item]:
    return [item(f"C{first + k}", f"Customer {first + k}", status, 1) for k in range(n)]


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
@pytest.mark.parametrize("counts", [(3, 0, 0), (12, 3, 4), (123, 45, 67), (1234, 0, 5678)])
def test_long_subjects_read_back_exactly_with_short_header_lines(locale: str, counts: tuple[int, int, int]) -> None:
    # "[Follow-up] 12 customers overdue, 3 due today, 4 due soon — 2026-11-23" does not fit on one
    # header line: folded by the stdlib's own policy it read back with two spaces before the dash.
    overdue, today, soon = counts
    message = digest([*many(overdue, "overdue", 1), *many(today, "due_today", 10_001), *many(soon, "due_soon", 20_001)], locale=locale)
    raw = compose(message, config(), now=NOW).as_bytes()
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    assert header_block.isascii() and max(len(line) for line in header_block.split(b"\r\n")) <= 78
    assert message_from_bytes(raw, policy=policy.default)["Subject"] == subject(message)
    old_style = message_from_bytes(raw, policy=policy.compat32)["Subject"]  # readers of the classic API decode it alike
    assert str(make_header(decode_header(old_style))) == subject(message)


@pytest.mark.parametrize("text", [
    "plain ascii " * 6 + "end",  # folded right after "Subject:" by the stdlib: read back with a leading space
    "Alexandra Montgomery-Smith and Bartholomew Featherstonehaugh — 12 overdue — ok",
    "跟进" * 40 + " — é",
    "two  spaces  kept  " * 5 + "end",
])
def test_any_subject_text_reads_back_exactly(text: str) -> None:
    email = EmailMessage(policy=MAIL_POLICY)
    email["Subject"] = text
    email.set_content("x")
    raw = email.as_bytes()
    assert message_from_bytes(raw, policy=policy.default)["Subject"] == text
    assert max(len(line) for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")) <= 78


def test_chinese_headers_and_body_survive_the_round_trip() -> None:
    received = roundtrip(compose(digest(THREE), config(), now=NOW))
    assert received["Subject"] == "[跟进提醒] 3 位客户逾期未跟进 — 2026-11-23"
    assert received["To"].addresses[0].display_name == "张三"
    assert received["To"].addresses[0].addr_spec == "zhang@example.com"
    assert received["From"].addresses[0].display_name == "跟进助手"
    raw = compose(digest(THREE), config(), now=NOW).as_bytes()
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    assert header_block.isascii()  # RFC 2047 encoded, not raw UTF-8
    text, html = parts(received)
    for name in ("华东机械", "南方贸易", "北方物流"):
        assert name in text and name in html
    assert received.get_content_type() == "multipart/alternative"


def test_date_header_is_in_the_configured_timezone() -> None:
    assert compose(digest(THREE), config(), now=NOW)["Date"] == "Mon, 23 Nov 2026 09:30:00 +0800"
    london = config(timezone="Europe/London")
    assert compose(digest(THREE), london, now=NOW)["Date"] == "Mon, 23 Nov 2026 01:30:00 +0000"


def test_message_id_is_stable_per_recipient_kind_day() -> None:
    first = compose(digest(THREE), config(), now=NOW)["Message-ID"]
    later = compose(digest(THREE[:1]), config(), now=datetime(2026, 11, 23, 9, tzinfo=UTC))["Message-ID"]
    assert first == later and first.endswith("@sales.example.com>")
    assert compose(digest(THREE, to="ZHANG@example.com"), config(), now=NOW)["Message-ID"] == first
    others = {
        message_id(digest(THREE, kind="escalation"), "bot@sales.example.com"),
        message_id(digest(THREE, to="li@example.com"), "bot@sales.example.com"),
        message_id(digest(THREE), "bot@sales.example.com", resend=1),
    }
    assert first not in others and len(others) == 3


def test_crlf_in_a_display_name_cannot_add_a_header() -> None:
    evil = digest(THREE, name="张三\r\nBcc: spy@evil.example")
    raw = compose(evil, config(), now=NOW).as_bytes()
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in headers and b"\nBcc:" not in raw  # the greeting uses the cleaned name too
    received = roundtrip(compose(evil, config(), now=NOW))
    assert received["Bcc"] is None
    assert [a.addr_spec for a in received["To"].addresses] == ["zhang@example.com"]


def test_crlf_in_a_customer_name_stays_in_the_body() -> None:
    message = digest([item("C1", "Evil\r\nBcc: spy@evil.example\r\n\r\nbody")])
    raw = compose(message, config(), now=NOW).as_bytes()
    received = roundtrip(compose(message, config(), now=NOW))
    assert received["Bcc"] is None and raw.count(b"\r\nBcc:") == 0


def test_crlf_in_an_address_is_refused_not_sent_elsewhere() -> None:
    with pytest.raises(ValueError):
        compose(digest(THREE, to="zhang@example.com\r\nBcc: spy@evil.example"), config(), now=NOW)


def test_html_is_autoescaped_and_text_is_not() -> None:
    message = digest([item("C1", "<script>alert('x')</script> & Co")])
    text, html = parts(roundtrip(compose(message, config(), now=NOW)))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co" in html
    assert "<script>alert('x')</script> & Co" in text


def test_html_lists_the_right_customers_in_order_with_sheet_colours() -> None:
    p = run_plan()
    message = next(m for m in p.messages if m.kind == "digest" and m.to == "zhang@example.com")
    text, html = parts(roundtrip(compose(message, config(), now=NOW)))
    names = [i.name for i in message.items]
    assert names == ["客户C5", "客户C6", "客户C1", "客户C2", "客户C3"]
    positions = [html.index(f">{n}<") for n in names]
    assert positions == sorted(positions)
    assert [text.index(f". {n}") for n in names] == sorted(text.index(f". {n}") for n in names)
    assert "#C00000" in html  # escalated: dark red, as in the sheet
    assert "#E7E6E6" in html  # pool: grey
    assert "#FFEB9C" in html  # due today: amber
    assert f'href="{LINK}"' in html and "客户C2" not in html.split("客户C5")[0]


def test_plain_text_reads_well() -> None:
    text, _ = parts(roundtrip(compose(digest(THREE), config(), now=NOW)))
    assert text.startswith("张三，您好：")
    assert "== 我的客户 ==" in text
    assert " 1. 华东机械  [逾期升级 · 逾期 12天]" in text and " 3. 北方物流  [建议退回公海 · 逾期 31天]" in text
    assert " 2. 南方贸易  [逾期 2天]" in text  # not "[逾期 · 逾期 2天]"
    english, _ = parts(roundtrip(compose(digest(THREE, locale="en"), config(), now=NOW)))
    assert f"Open the sheet: {LINK}" in english and "Rule: A级" in english
    assert " 2. 南方贸易  [Overdue 2 days]" in english and " 1. 华东机械  [Escalated · Overdue 12 days]" in english
    assert "电话 13800138000" in text and "规则：A级客户每7天跟进一次" in text  # a Chinese colon in Chinese text
    assert f"打开表格：{LINK}" in text
    assert "{{" not in text and "{%" not in text
    assert max(len(line) for line in text.splitlines()) < 100


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_in_both_languages(kind: str, locale: str) -> None:
    p = run_plan()
    message = next(m for m in p.messages if m.kind == kind)
    message = Message(message.kind, message.to, message.to_name, message.day, locale, message.sections, message.link,
                      message.unreachable, message.threshold)
    email = roundtrip(compose(message, config(locale=locale), now=NOW))
    text, html = parts(email)
    for customer in message.items:
        assert customer.name in text and customer.name in html
    prefix = "[跟进提醒]" if locale == "zh-CN" else "[Follow-up]"
    assert email["Subject"].startswith(prefix) and email["Subject"].endswith("2026-11-23")
    assert email["X-Followup-Kind"] == kind and email["Auto-Submitted"] == "auto-generated"
    if kind == "admin":
        assert "王五" in text
    if kind == "pool_warning":
        assert ("2026年11月25日" if locale == "zh-CN" else "2026-11-25") in text


def test_user_templates_override_builtins_by_name(tmp_path: Path) -> None:
    folder = tmp_path / "my_templates"
    folder.mkdir()
    (folder / "digest.zh.txt.j2").write_text("自定义：{{ count }} 位客户{% for s in sections %}{% for i in s['items'] %} {{ i.name }}{% endfor %}{% endfor %}\n", encoding="utf-8")
    (folder / "digest.zh.html.j2").write_text("<p>{{ recipient }}: {% for s in sections %}{% for i in s['items'] %}{{ i.name }} {% endfor %}{% endfor %}</p>", encoding="utf-8")
    cfg = load_config(None, {"reminders": {"templates": str(folder)}})
    text, html = parts(roundtrip(compose(digest([item("C1", "<b>A&B</b>")]), cfg, now=NOW)))
    assert text.strip() == "自定义：1 位客户 <b>A&B</b>"
    assert html.strip() == "<p>张三: &lt;b&gt;A&amp;B&lt;/b&gt; </p>"  # user HTML templates are autoescaped too
    # other kinds still use the built-in templates
    other = compose(digest(THREE, kind="escalation"), cfg, now=NOW)
    assert "== " in parts(roundtrip(other))[0]


def test_outbox_writes_one_stable_safe_file_per_message_id(tmp_path: Path) -> None:
    outbox = OutboxTransport(tmp_path / "outbox")
    email = compose(digest(THREE), config(), now=NOW)
    name = outbox_name(email)
    assert name.startswith("2026-11-23_digest_") and name.endswith(".eml")
    assert all(c.isalnum() or c in "._-" for c in name)
    outbox.send(email)
    outbox.send(compose(digest(THREE), config(), now=datetime(2026, 11, 23, 5, tzinfo=UTC)))
    files = sorted(p.name for p in (tmp_path / "outbox").iterdir())
    assert files == [name]
    stored = message_from_bytes((tmp_path / "outbox" / name).read_bytes(), policy=policy.default)
    assert stored["Subject"] == "[跟进提醒] 3 位客户逾期未跟进 — 2026-11-23"


def test_outbox_name_cannot_escape_the_folder() -> None:
    email = EmailMessage()
    email["Message-ID"] = "<../../etc/passwd@x>"
    email["X-Followup-Kind"] = "../digest"
    name = outbox_name(email)
    assert "/" not in name and "\\" not in name and not name.startswith(".")


def test_console_prints_a_readable_rendering() -> None:
    stream = io.StringIO()
    ConsoleTransport(stream).send(compose(digest(THREE), config(), now=NOW))
    out = stream.getvalue()
    assert "Subject: [跟进提醒] 3 位客户逾期未跟进 — 2026-11-23" in out
    assert "To:      张三 <zhang@example.com>" in out
    assert "华东机械" in out and "=?utf-8?" not in out


def test_an_admin_address_with_a_display_name() -> None:
    message = digest(THREE, to="Sales Admin <admin@example.com>", name="", kind="admin")
    received = roundtrip(compose(message, config(), now=NOW))
    assert received["To"].addresses[0].addr_spec == "admin@example.com"
    assert received["To"].addresses[0].display_name == "Sales Admin"
    assert message.key[0] == "admin@example.com"


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_messages_name_the_workbooks_own_tabs(locale: str) -> None:
    """A team whose log is "Calls" and whose team list is "Reps" is told to log contacts on Calls and to fix
    addresses on Reps, in the mail and in the Issues tab's suggestions, not on tabs their workbook lacks."""
    from dataclasses import replace

    from addon.core.reminders import plan
    from tests.test_reminders_plan import fixture

    dataset, statuses = fixture()
    dataset = replace(dataset, tabs={"customers": "Accounts", "followups": "Calls", "team": "Reps"})
    planned = plan(dataset, statuses, load_config(None, {"locale": locale, "reminders": {"admin": "admin@example.com"}}), AS_OF, LINK)
    digest_mail = next(m for m in planned.messages if m.kind == "digest")
    admin_mail = next(m for m in planned.messages if m.kind == "admin")
    for message, said in ((digest_mail, "「Calls」" if locale == "zh-CN" else "on the Calls tab"),
                          (admin_mail, "「Reps」" if locale == "zh-CN" else "on the Reps tab")):
        text, html = parts(roundtrip(compose(message, config(locale=locale), now=NOW)))
        assert said in text and said in html
        assert "跟进记录」" not in text and "「团队」" not in text and "FollowUps tab" not in text and "Team tab" not in text
    fixes = {i.code: i.suggestion for i in planned.issues}
    assert all(("「Reps」" if locale == "zh-CN" else "the Reps tab") in fixes[code] for code in ("reminders.no_email", "reminders.no_manager_email"))
