"""Reminder planning (issue #5 part 1): who hears about which customer, built from CustomerStatus literals."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from addon.config import Config, load_config
from addon.core.reminders import Message, Plan, is_send_day, plan
from addon.model import Customer, CustomerStatus, Dataset, FollowUp, Member, Rule

AS_OF = date(2026, 11, 23)  # a Monday
LINK = "https://docs.google.com/spreadsheets/d/abc"


def make_config(tmp_path: Any = None, **reminders: Any) -> Config:
    data: dict[str, Any] = {"reminders": {"admin": "admin@example.com", **reminders}}
    if tmp_path is not None:
        data["state_dir"] = str(tmp_path / "state")
        data["reminders"].setdefault("outbox", str(tmp_path / "outbox"))
    return load_config(None, data)


def status(key: str, state: str, days_overdue: int = 0, *, last: date | None = date(2026, 11, 1), due: date | None = None) -> CustomerStatus:
    return CustomerStatus(
        key=key,
        row=int(key.lstrip("C")) + 1,
        status=state,  # type: ignore[arg-type]
        next_due=due or AS_OF,
        days_overdue=days_overdue,
        last_contact=last,
        followups=3,
        rule=Rule("tier", {"tier": "A", "days": 7}),
        days_since_contact=(AS_OF - last).days if last else None,
    )


TEAM = [
    Member("张三", "zhang@example.com", "李经理", "li@example.com", row=2),
    Member("Bob", "bob@example.com", "Li", None, row=3),
    Member("王五", None, "李经理", "li@example.com", row=4),
    Member("赵六", "zhao@example.com", "李经理", "li@example.com", active=False, row=5),
    Member("李经理", "li@example.com", row=6),
    Member("Carol", "carol@example.com", row=7),
]


def customer(key: str, owner: str | None, **kw: Any) -> Customer:
    return Customer(key=key, row=int(key.lstrip("C")) + 1, name=kw.pop("name", f"客户{key}"), owner=owner, tier=kw.pop("tier", "A"),
                    stage=kw.pop("stage", "negotiation"), phone=kw.pop("phone", "138 0013 8000"), **kw)


def fixture() -> tuple[Dataset, list[CustomerStatus]]:
    customers = [
        customer("C1", "张三"),
        customer("C2", "张三"),
        customer("C3", "张三"),
        customer("C4", "张三"),
        customer("C5", "张三"),
        customer("C6", "张三", protected=True),
        customer("C7", None),
        customer("C8", None),
        customer("C9", "王五"),
        customer("C10", "赵六"),
        customer("C11", "Bob"),
        customer("C12", "Carol"),
        customer("C13", "张三 "),  # trailing space: still 张三
        customer("C14", "张三"),
        customer("C15", "张三", stage="lost"),
        customer("C16", "李经理"),
    ]
    statuses = [
        status("C1", "escalated", 10),
        status("C2", "overdue", 2),
        status("C3", "due_today"),
        status("C4", "due_soon", due=date(2026, 11, 25)),
        status("C5", "pool", 26, last=date(2026, 10, 10)),
        status("C6", "pool", 12, last=date(2026, 10, 10)),
        status("C7", "overdue", 5),
        status("C8", "due_today"),
        status("C9", "overdue", 1),
        status("C10", "overdue", 3),
        status("C11", "escalated", 8),
        status("C12", "escalated", 9),
        status("C13", "ok", last=date(2026, 10, 26), due=date(2026, 11, 30)),
        status("C14", "ok", last=date(2026, 11, 1), due=date(2026, 11, 30)),
        status("C15", "closed"),
        status("C16", "overdue", 4),
    ]
    followups = [
        FollowUp(row=2, customer_key="C13", at=datetime(2026, 10, 26)),
        FollowUp(row=3, customer_key="C14", at=datetime(2026, 11, 1)),
        FollowUp(row=4, customer_key="C5", at=datetime(2026, 10, 10)),
    ]
    return Dataset(customers, followups, list(TEAM), [], tabs={"team": "团队"}), statuses


def run_plan(day: date = AS_OF, **reminders: Any) -> Plan:
    dataset, statuses = fixture()
    return plan(dataset, statuses, make_config(**reminders), day, LINK)


def find(p: Plan, kind: str, to: str) -> Message:
    matches = [m for m in p.messages if m.kind == kind and m.to == to]
    assert len(matches) == 1, f"{kind} to {to}: {[(m.kind, m.to) for m in p.messages]}"
    return matches[0]


def test_rep_digest_lists_own_customers_most_urgent_first() -> None:
    digest = find(run_plan(), "digest", "zhang@example.com")
    assert [s.key for s in digest.sections] == ["own"]
    # pool/escalated/overdue by days overdue desc, then due today; due soon off by default; ok/closed never
    assert digest.customers == ("C5", "C6", "C1", "C2", "C3")
    assert digest.to_name == "张三"
    first = digest.items[0]
    assert first.stage == "报价谈判" and first.tier == "A" and first.phone == "138 0013 8000"
    assert first.link == LINK and first.rule and first.last_contact == date(2026, 10, 10)
    # a protected customer is never a pool customer: it shows as escalated
    assert {i.key: i.status for i in digest.items}["C6"] == "escalated"


def test_due_soon_included_on_request_and_last() -> None:
    digest = find(run_plan(include_due_soon=True), "digest", "zhang@example.com")
    assert digest.customers == ("C5", "C6", "C1", "C2", "C3", "C4")


def test_escalation_and_pool_notice_go_to_the_manager() -> None:
    p = run_plan()
    escalation = find(p, "escalation", "li@example.com")
    assert escalation.customers == ("C5", "C6", "C1")
    assert [(s.key, s.about) for s in escalation.sections] == [("team", "张三")]
    assert escalation.threshold == 7
    notice = find(p, "pool_notice", "li@example.com")
    assert notice.customers == ("C5",)  # C6 is protected: never proposed for the pool
    assert notice.threshold == 30


def test_missing_manager_address_is_an_issue_and_goes_to_the_admin() -> None:
    p = run_plan()
    admin_escalation = find(p, "escalation", "admin@example.com")
    notes = {s.about: s.note for s in admin_escalation.sections}
    assert notes == {"Bob": "no_manager_email", "Carol": "no_manager"}
    assert set(admin_escalation.customers) == {"C11", "C12"}
    issues = {(i.code, i.row) for i in p.issues}
    assert ("reminders.no_manager_email", 3) in issues  # Bob's row on the Team tab
    assert all(i.tab == "团队" for i in p.issues)


def test_rep_without_email_is_an_issue_and_the_admin_gets_the_customers() -> None:
    p = run_plan()
    assert ("reminders.no_email", 4) in {(i.code, i.row) for i in p.issues}
    admin = find(p, "admin", "admin@example.com")
    assert ("王五", "no_email") in admin.unreachable
    by_key = {(s.key, s.about): s for s in admin.sections}
    assert [i.key for i in by_key[("unreachable", "王五")].items] == ["C9"]


def test_unassigned_overdue_customers_go_to_the_admin_only() -> None:
    p = run_plan()
    admin = find(p, "admin", "admin@example.com")
    unassigned = [s for s in admin.sections if s.key == "unassigned"]
    assert [i.key for i in unassigned[0].items] == ["C7"]  # C8 is only due today
    assert all("C7" not in m.customers for m in p.messages if m.to != "admin@example.com")


def test_unassigned_customers_are_never_proposed_for_the_pool() -> None:
    dataset, statuses = fixture()
    statuses = [status("C7", "pool", 40, last=date(2026, 10, 1)) if s.key == "C7" else s for s in statuses]
    p = plan(dataset, statuses, make_config(), AS_OF, LINK)
    admin = find(p, "admin", "admin@example.com")
    assert {i.key: i.status for i in admin.items}["C7"] == "escalated"
    assert all("C7" not in m.customers for m in p.messages if m.kind == "pool_notice")


def test_inactive_member_receives_nothing_and_the_manager_gets_their_customers() -> None:
    p = run_plan()
    assert not [m for m in p.messages if m.to == "zhao@example.com"]
    digest = find(p, "digest", "li@example.com")  # 李经理's own digest, merged with 赵六's customers
    assert [(s.key, s.about, s.note) for s in digest.sections] == [("own", "", ""), ("inactive", "赵六", "inactive")]
    assert digest.customers == ("C16", "C10")


def test_inactive_manager_hands_over_to_the_admin() -> None:
    dataset, statuses = fixture()
    team = [Member("李经理", "li@example.com", active=False, row=6) if m.name == "李经理" else m for m in dataset.team]
    dataset = Dataset(dataset.customers, dataset.followups, team, [], tabs=dataset.tabs)
    p = plan(dataset, statuses, make_config(), AS_OF, LINK)
    assert not [m for m in p.messages if m.to == "li@example.com"]
    assert "C1" in find(p, "escalation", "admin@example.com").customers
    admin = find(p, "admin", "admin@example.com")
    assert {"C10", "C16"} <= set(admin.customers)


def test_pool_warning_goes_to_the_owner_before_the_pool() -> None:
    warning = find(run_plan(), "pool_warning", "zhang@example.com")
    assert warning.customers == ("C13",)  # last contact 10-26 + 30 days = 11-25, within 3 days; C14 is 8 days away
    assert warning.items[0].pool_on == date(2026, 11, 25)
    assert warning.threshold == 3


def test_pool_warnings_of_an_inactive_owner_go_to_the_manager() -> None:
    dataset, statuses = fixture()
    customers = [Customer(**{**c.__dict__, "owner": "赵六"}) if c.key == "C13" else c for c in dataset.customers]
    p = plan(Dataset(customers, dataset.followups, dataset.team, [], tabs=dataset.tabs), statuses, make_config(), AS_OF, LINK)
    warning = find(p, "pool_warning", "li@example.com")
    assert warning.customers == ("C13",) and warning.sections[0].about == "赵六"
    assert not [m for m in p.messages if m.to == "zhao@example.com"]


def test_protected_customers_never_get_pool_warnings() -> None:
    dataset, statuses = fixture()
    customers = [Customer(**{**c.__dict__, "protected": True}) if c.key == "C13" else c for c in dataset.customers]
    p = plan(Dataset(customers, dataset.followups, dataset.team, [], tabs=dataset.tabs), statuses, make_config(), AS_OF, LINK)
    assert not [m for m in p.messages if m.kind == "pool_warning"]


def test_one_message_per_recipient_kind_day() -> None:
    p = run_plan(include_due_soon=True)
    keys = [m.key for m in p.messages]
    assert len(keys) == len(set(keys))
    for m in p.messages:
        assert len(m.customers) == len(set(m.customers))
        assert m.day == AS_OF


def test_admin_address_that_is_also_a_rep_merges_per_kind() -> None:
    dataset, statuses = fixture()
    config = load_config(None, {"reminders": {"admin": "LI@example.com"}})
    p = plan(dataset, statuses, config, AS_OF, LINK)
    escalations = [m for m in p.messages if m.kind == "escalation" and m.to.lower() == "li@example.com"]
    assert len(escalations) == 1 and {"C1", "C11", "C12"} <= set(escalations[0].customers)


def test_no_admin_configured_is_an_issue_not_a_crash() -> None:
    dataset, statuses = fixture()
    p = plan(dataset, statuses, load_config(None, {}), AS_OF, LINK)
    assert not [m for m in p.messages if "admin" in m.to]
    assert "reminders.no_admin" in {i.code for i in p.issues}


def test_english_labels() -> None:
    dataset, statuses = fixture()
    p = plan(dataset, statuses, load_config(None, {"locale": "en", "reminders": {"admin": "a@example.com"}}), AS_OF, LINK)
    item = find(p, "digest", "zhang@example.com").items[0]
    assert item.stage == "Negotiation"
    issue = next(i for i in p.issues if i.code == "reminders.no_email")
    assert "王五 has no email address" in issue.message and issue.tab == "团队"


def test_planning_is_pure_and_deterministic() -> None:
    dataset, statuses = fixture()
    before = (list(dataset.customers), list(statuses), list(dataset.team), list(dataset.issues))
    first = plan(dataset, statuses, make_config(), AS_OF, LINK)
    second = plan(dataset, list(reversed(statuses)), make_config(), AS_OF, LINK)
    assert (list(dataset.customers), list(statuses), list(dataset.team), list(dataset.issues)) == before
    assert [(m.kind, m.to, m.customers) for m in first.messages] == [(m.kind, m.to, m.customers) for m in second.messages]


@pytest.mark.parametrize(
    ("day", "sends"),
    [
        (date(2026, 11, 21), False),  # Saturday
        (date(2026, 11, 22), False),  # Sunday
        (date(2026, 10, 1), False),  # 国庆节
        (date(2026, 10, 5), False),
        (date(2026, 10, 7), False),  # 调休 day off
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # Saturday, 调休 make-up working day
        (date(2026, 9, 20), True),  # Sunday, 调休 make-up working day
        (date(2026, 2, 17), False),  # 春节
    ],
)
def test_only_on_working_days(day: date, sends: bool) -> None:
    p = run_plan(day)
    assert bool(p.messages) is sends
    assert p.skipped == ("" if sends else "not_working_day")
    assert is_send_day(day, make_config()) is sends


def test_every_day_sends_on_weekends_and_holidays() -> None:
    assert run_plan(date(2026, 10, 3), send_on="every_day").messages
    assert run_plan(date(2026, 11, 21), send_on="every_day").messages
