"""Cadence rules, statuses and their precedence, working days, dormancy and the Rule texts.

As of Monday 2026-11-23 unless a test says otherwise. Defaults: A 7d, B 14d, C 30d, first response 1d,
after won [3d, 7d, 30d] then 30d, due soon 2d, escalate after 7d, pool after 30d, dormant 90d.
"""

from __future__ import annotations

import warnings
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from addon.config import CadenceConfig, Config
from addon.core import calendar as calendar_module
from addon.core.cadence import calendar_for, due_date, evaluate, rule_text
from addon.core.calendar import HolidayDataWarning, WorkCalendar
from addon.model import Customer, CustomerStatus, Dataset, FollowUp, Rule

AS_OF = date(2026, 11, 23)


def ago(days: int, as_of: date = AS_OF) -> date:
    return as_of - timedelta(days=days)


def cust(key: str = "C1", **fields: Any) -> Customer:
    fields.setdefault("row", 2)
    fields.setdefault("owner", "张三")  # an unassigned customer is in the pool already: never "pool"
    fields.setdefault("name", f"客户{key}")
    return Customer(key=key, **fields)


def fu(when: date | datetime, key: str = "C1", row: int = 2, **fields: Any) -> FollowUp:
    at = when if isinstance(when, datetime) else datetime.combine(when, time())
    return FollowUp(row=row, customer_key=key, at=at, has_time=isinstance(when, datetime), **fields)


def config(**cadence: Any) -> Config:
    return Config(cadence=CadenceConfig(**cadence))


def one(customer: Customer, followups: list[FollowUp] | tuple[FollowUp, ...] = (), as_of: date = AS_OF, **cadence: Any) -> CustomerStatus:
    [status] = evaluate(Dataset([customer], list(followups), [], []), config(**cadence), as_of)
    return status


def texts(rule: Rule) -> tuple[str, str]:
    return rule_text(rule, "zh-CN"), rule_text(rule, "en")


# --- rule 4: last contact + interval (tier, stage) ---

def test_tier_due_exactly_today() -> None:
    s = one(cust(tier="B"), [fu(date(2026, 11, 9))])
    assert (s.status, s.next_due, s.days_overdue) == ("due_today", AS_OF, 0)
    assert s.rule == Rule("tier", {"tier": "B", "contact": "2026-11-09", "days": 14})
    assert texts(s.rule) == ("B级客户每14天跟进一次：上次跟进 2026-11-09 + 14天", "Tier B every 14 days: last contact 2026-11-09 + 14 days")


def test_tier_due_yesterday_is_overdue_by_one() -> None:
    s = one(cust(tier="B"), [fu(date(2026, 11, 8))])
    assert (s.status, s.next_due, s.days_overdue) == ("overdue", date(2026, 11, 22), 1)


@pytest.mark.parametrize(("tier", "days"), [("A", 7), ("B", 14), ("C", 30)])
def test_each_tier_interval(tier: str, days: int) -> None:
    s = one(cust(tier=tier), [fu(ago(days - 5))])
    assert s.next_due == date(2026, 11, 28) and s.status == "ok"
    assert s.rule.params["days"] == days


@pytest.mark.parametrize(("overdue", "status"), [(6, "overdue"), (7, "escalated"), (8, "escalated")])
def test_escalate_after_boundary(overdue: int, status: str) -> None:
    s = one(cust(tier="B"), [fu(ago(14 + overdue))])
    assert (s.status, s.days_overdue, s.next_due) == (status, overdue, ago(overdue))


@pytest.mark.parametrize(("ahead", "status"), [(1, "due_soon"), (2, "due_soon"), (3, "ok")])
def test_due_soon_boundary(ahead: int, status: str) -> None:
    s = one(cust(tier="B"), [fu(ago(14 - ahead))])
    assert (s.status, s.next_due, s.days_overdue) == (status, AS_OF + timedelta(days=ahead), 0)


def test_due_soon_window_is_configurable() -> None:
    assert one(cust(), [fu(ago(14 - 3))], due_soon="3d").status == "due_soon"
    assert one(cust(), [fu(ago(14 - 1))], due_soon="0d").status == "ok"


def test_stage_rule_overrides_tier() -> None:
    s = one(cust(tier="C", stage="negotiation"), [fu(ago(3))], by_stage={"negotiation": "3d"})
    assert (s.status, s.next_due) == ("due_today", AS_OF)
    assert s.rule == Rule("stage", {"stage": "negotiation", "contact": "2026-11-20", "days": 3})
    assert texts(s.rule) == (
        "报价谈判阶段每3天跟进一次：上次跟进 2026-11-20 + 3天",
        "Stage Negotiation every 3 days: last contact 2026-11-20 + 3 days",
    )


def test_stage_without_rule_uses_tier() -> None:
    s = one(cust(tier="A", stage="proposal"), [fu(ago(3))], by_stage={"negotiation": "3d"})
    assert s.rule.code == "tier" and s.next_due == date(2026, 11, 27)


def test_blank_tier_uses_default_and_says_so() -> None:
    s = one(cust(tier="B", tier_given=False), [fu(date(2026, 11, 9))])
    assert s.next_due == AS_OF and s.rule.params["fallback"] == "blank"
    assert texts(s.rule) == (
        "未填客户等级，按B级每14天跟进一次：上次跟进 2026-11-09 + 14天",
        "No tier given, default tier B every 14 days: last contact 2026-11-09 + 14 days",
    )


def test_tier_without_interval_uses_default_tier() -> None:
    s = one(cust(tier="D"), [fu(date(2026, 11, 9))])
    assert s.next_due == AS_OF
    assert texts(s.rule) == (
        "D级没有设定频率，按B级每14天跟进一次：上次跟进 2026-11-09 + 14天",
        "Tier D has no interval, default tier B every 14 days: last contact 2026-11-09 + 14 days",
    )


def test_interval_counts_from_the_latest_contact_whatever_the_row_order() -> None:
    s = one(cust(), [fu(date(2026, 11, 9), row=5), fu(date(2026, 10, 1), row=2), fu(date(2026, 11, 2), row=3)])
    assert (s.last_contact, s.followups, s.next_due, s.days_since_contact) == (date(2026, 11, 9), 3, AS_OF, 14)


def test_interval_in_hours_keeps_the_contact_time() -> None:
    assert one(cust(), [fu(datetime(2026, 11, 22, 15, 0))], by_tier={"B": "12h"}).next_due == date(2026, 11, 23)
    assert one(cust(), [fu(datetime(2026, 11, 22, 9, 0))], by_tier={"B": "12h"}).next_due == date(2026, 11, 22)


# --- rule 1: manual next_follow_up, planned next_date ---

def test_manual_after_last_contact_wins() -> None:
    s = one(cust(next_follow_up=date(2026, 11, 25)), [fu(date(2026, 11, 1), next_date=date(2026, 11, 20))])
    assert (s.status, s.next_due) == ("due_soon", date(2026, 11, 25))
    assert s.rule == Rule("manual", {"date": "2026-11-25"})
    assert texts(s.rule) == ("手动设定的下次跟进日期：2026-11-25", "Next follow-up set by hand: 2026-11-25")


def test_manual_on_the_last_contact_day_is_used_up() -> None:
    s = one(cust(next_follow_up=date(2026, 11, 1)), [fu(date(2026, 11, 1))])
    assert s.rule.code == "tier" and s.next_due == date(2026, 11, 15)


def test_manual_before_last_contact_falls_back_to_planned() -> None:
    s = one(cust(next_follow_up=date(2026, 10, 30)), [fu(date(2026, 11, 1), next_date=date(2026, 11, 22))])
    assert (s.status, s.next_due, s.days_overdue) == ("overdue", date(2026, 11, 22), 1)
    assert s.rule == Rule("planned", {"date": "2026-11-22", "contact": "2026-11-01"})
    assert texts(s.rule) == (
        "上次跟进（2026-11-01）约定的下次跟进：2026-11-22",
        "Planned at the last contact (2026-11-01): 2026-11-22",
    )


def test_manual_before_last_contact_without_plan_uses_interval() -> None:
    s = one(cust(next_follow_up=date(2026, 10, 30)), [fu(date(2026, 11, 9))])
    assert s.rule.code == "tier" and s.next_due == AS_OF


def test_planned_next_date_beats_interval() -> None:
    s = one(cust(tier="A"), [fu(date(2026, 11, 20), next_date=date(2026, 12, 20))])
    assert (s.status, s.next_due) == ("ok", date(2026, 12, 20))


def test_only_the_last_follow_up_plan_counts() -> None:
    s = one(cust(), [fu(date(2026, 11, 1), row=2, next_date=date(2026, 11, 30)), fu(date(2026, 11, 9), row=3)])
    assert s.rule.code == "tier" and s.next_due == AS_OF


def test_manual_for_a_customer_never_contacted() -> None:
    s = one(cust(created=None, next_follow_up=date(2026, 11, 24)))
    assert (s.status, s.next_due, s.rule.code) == ("due_soon", date(2026, 11, 24), "manual")


# --- rule 2: first response ---

def test_first_response_due_today() -> None:
    s = one(cust(created=datetime(2026, 11, 22)))
    assert (s.status, s.next_due, s.followups, s.last_contact, s.days_since_contact) == ("due_today", AS_OF, 0, None, None)
    assert s.rule == Rule("first_response", {"created": "2026-11-22", "hours": 24})
    assert texts(s.rule) == (
        "新客户首次响应：创建后24小时内（创建于 2026-11-22）",
        "New customer, first response: within 24 hours of creation (created 2026-11-22)",
    )


def test_first_response_uses_the_created_time() -> None:
    assert one(cust(created=datetime(2026, 11, 22, 15, 0)), first_response="12h").next_due == date(2026, 11, 23)
    late = one(cust(created=datetime(2026, 11, 22, 9, 0)), first_response="12h")
    assert (late.status, late.next_due, late.days_overdue) == ("overdue", date(2026, 11, 22), 1)
    assert texts(late.rule)[1] == "New customer, first response: within 12 hours of creation (created 2026-11-22)"


def test_first_response_in_days() -> None:
    s = one(cust(created=datetime(2026, 11, 20)), first_response="3d")
    assert s.next_due == AS_OF and texts(s.rule)[0] == "新客户首次响应：创建后3天内（创建于 2026-11-20）"


def test_never_contacted_without_created_is_due_today() -> None:
    s = one(cust(created=None))
    assert (s.status, s.next_due, s.days_overdue) == ("due_today", AS_OF, 0)
    assert s.rule == Rule("no_created")
    zh, en = texts(s.rule)
    assert "缺少创建日期" in zh and "今天到期" in zh
    assert "no created date" in en and "due today" in en


# --- rule 3: won touch points, then after-sales ---

WON = date(2026, 11, 10)


def won_history(*after: date) -> list[FollowUp]:
    items = [fu(date(2026, 11, 1), row=2, stage="proposal"), fu(WON, row=3, stage="won")]
    return items + [fu(day, row=10 + i) for i, day in enumerate(after)]


@pytest.mark.parametrize(
    ("after", "due", "touch", "days"),
    [
        ((), date(2026, 11, 13), 1, 3),
        ((date(2026, 11, 12),), date(2026, 11, 17), 2, 7),
        ((date(2026, 11, 12), date(2026, 11, 16)), date(2026, 12, 10), 3, 30),
    ],
)
def test_after_won_touch_points(after: tuple[date, ...], due: date, touch: int, days: int) -> None:
    s = one(cust(stage="won"), won_history(*after), as_of=date(2026, 11, 12))
    assert s.next_due == due and s.won_date == WON
    assert s.rule == Rule("after_won", {"won": "2026-11-10", "touch": touch, "days": days})


def test_after_all_touch_points_after_sales_interval() -> None:
    s = one(cust(stage="won"), won_history(date(2026, 11, 12), date(2026, 11, 16), date(2026, 12, 8)), as_of=date(2026, 12, 9))
    assert (s.next_due, s.status) == (date(2027, 1, 7), "ok")
    assert s.rule == Rule("after_sales", {"contact": "2026-12-08", "days": 30})
    assert texts(s.rule) == (
        "售后定期回访，每30天一次：上次跟进 2026-12-08 + 30天",
        "After-sales check-in every 30 days: last contact 2026-12-08 + 30 days",
    )


def test_after_won_text() -> None:
    s = one(cust(stage="won"), won_history(date(2026, 11, 12)), as_of=date(2026, 11, 12))
    assert texts(s.rule) == ("成交后第2次回访（成交日 2026-11-10 + 7天）", "After-sale touch point 2 (won date 2026-11-10 + 7 days)")


def test_touch_point_overdue_statuses() -> None:
    s = one(cust(stage="won"), won_history(), as_of=date(2026, 11, 14))
    assert (s.next_due, s.status, s.days_overdue) == (date(2026, 11, 13), "overdue", 1)


def test_follow_up_on_the_won_day_is_not_a_touch_point() -> None:
    s = one(cust(stage="won"), [*won_history(), fu(datetime(2026, 11, 10, 17, 0), row=9)], as_of=date(2026, 11, 12))
    assert s.next_due == date(2026, 11, 13) and s.rule.params["touch"] == 1


def test_won_date_without_a_won_follow_up_is_the_last_contact() -> None:
    s = one(cust(stage="won"), [fu(date(2026, 11, 1), row=2), fu(WON, row=3)], as_of=date(2026, 11, 12))
    assert s.won_date == WON and s.next_due == date(2026, 11, 13)


def test_after_sales_stage_is_a_won_stage() -> None:
    s = one(cust(stage="after_sales"), won_history(), as_of=date(2026, 11, 12))
    assert s.rule.code == "after_won" and s.next_due == date(2026, 11, 13)


def test_no_touch_points_configured_goes_straight_to_after_sales() -> None:
    s = one(cust(stage="won"), won_history(), as_of=date(2026, 11, 12), after_won=[], after_sales="14d")
    assert s.rule.code == "after_sales" and s.next_due == date(2026, 11, 24)


def test_won_but_never_contacted_gets_first_response() -> None:
    s = one(cust(stage="won", created=datetime(2026, 11, 22)))
    assert s.rule.code == "first_response" and s.won_date is None


def test_won_ignores_stage_rules() -> None:
    s = one(cust(stage="won"), won_history(), as_of=date(2026, 11, 12), by_stage={"won": "1d"})
    assert s.rule.code == "after_won"


# --- pool and precedence ---

@pytest.mark.parametrize(("quiet", "status", "due"), [(29, "due_soon", 1), (30, "pool", 0), (31, "pool", -1)])
def test_pool_after_boundary(quiet: int, status: str, due: int) -> None:
    # Tier C is due after 30 days too: at 30 days pool beats due_today, at 31 it beats overdue.
    s = one(cust(tier="C"), [fu(ago(quiet))])
    assert (s.status, s.next_due, s.days_since_contact) == (status, AS_OF + timedelta(days=due), quiet)
    assert s.days_overdue == max(0, -due)


def test_a_customer_without_an_owner_is_never_proposed_for_the_pool() -> None:
    # Blank owner = in the public pool already (SPEC §3): as urgent as the due date says, for whoever picks it up.
    s = one(cust(tier="A", owner=None), [fu(ago(40))])
    assert (s.status, s.days_overdue) == ("escalated", 33)
    assert one(cust(tier="A"), [fu(ago(40))]).status == "pool"


def test_pool_beats_escalated() -> None:
    s = one(cust(tier="A"), [fu(ago(40))])
    assert (s.status, s.days_overdue) == ("pool", 33)


def test_never_contacted_pool_counts_from_created() -> None:
    assert one(cust(created=datetime.combine(ago(30), time()))).status == "pool"
    s = one(cust(created=datetime.combine(ago(29), time(23, 0))))
    assert (s.status, s.days_overdue) == ("escalated", 28)


def test_never_contacted_without_created_is_never_pool() -> None:
    assert one(cust(created=None), pool_after="0d").status == "due_today"


def test_protected_is_never_pool() -> None:
    s = one(cust(tier="A", protected=True), [fu(ago(40))])
    assert (s.status, s.days_overdue) == ("escalated", 33)
    assert one(cust(protected=True, created=datetime.combine(ago(60), time()))).status == "escalated"


@pytest.mark.parametrize("stage", ["won", "after_sales"])
def test_won_stages_are_never_pool(stage: str) -> None:
    s = one(cust(stage=stage), won_history(), as_of=date(2026, 12, 31))
    assert (s.status, s.days_since_contact, s.days_overdue) == ("escalated", 51, 48)


def test_pool_after_is_configurable() -> None:
    assert one(cust(), [fu(ago(10))], pool_after="10d").status == "pool"
    assert one(cust(), [fu(ago(9))], pool_after="10d").status == "ok"


# --- closed and invalid ---

@pytest.mark.parametrize("stage", ["lost", "dormant"])
def test_lost_and_inactive_are_closed(stage: str) -> None:
    s = one(cust(stage=stage), [fu(ago(100))])
    assert (s.status, s.next_due, s.days_overdue, s.followups, s.last_contact) == ("closed", None, 0, 1, ago(100))
    assert s.rule == Rule("closed", {"stage": stage})


def test_closed_texts() -> None:
    assert texts(Rule("closed", {"stage": "lost"})) == ("已关闭（流失）：不再跟进", "Closed (Lost): no follow-up due")


def test_invalid_row_has_no_due_date_even_if_it_would_be_pool() -> None:
    s = one(cust(valid=False, tier="A"), [fu(ago(40))])
    assert (s.status, s.next_due, s.days_overdue, s.rule) == ("invalid", None, 0, Rule("invalid"))
    assert s.last_contact == ago(40) and s.followups == 1
    zh, en = texts(s.rule)
    assert "数据有误" in zh and "errors" in en


def test_invalid_beats_closed() -> None:
    assert one(cust(valid=False, stage="lost")).status == "invalid"


# --- dormancy ---

@pytest.mark.parametrize(("quiet", "flagged"), [(89, False), (90, True), (91, True)])
def test_dormant_flag_boundary(quiet: int, flagged: bool) -> None:
    s = one(cust(protected=True), [fu(ago(quiet))])
    assert s.status == "escalated"
    assert ("dormant" in s.rule.params) is flagged
    if flagged:
        assert s.rule.params["dormant"] == quiet


def test_dormant_text() -> None:
    s = one(cust(protected=True), [fu(date(2026, 8, 25))])
    assert texts(s.rule) == (
        "B级客户每14天跟进一次：上次跟进 2026-08-25 + 14天；已90天未联系，可考虑转为休眠",
        "Tier B every 14 days: last contact 2026-08-25 + 14 days; no contact for 90 days, consider marking it dormant",
    )


def test_dormant_not_flagged_for_won() -> None:
    s = one(cust(stage="won"), won_history(), as_of=date(2027, 3, 1))
    assert "dormant" not in s.rule.params


# --- working days (CN 2026: National Day Oct 1-7, make-up working days Sun Sep 20 and Sat Oct 10) ---

WD = {"working_days": True, "holidays": "CN"}


def test_working_days_across_national_day() -> None:
    s = one(cust(stage="negotiation"), [fu(date(2026, 9, 29))], as_of=date(2026, 9, 30), by_stage={"negotiation": "3d"}, **WD)
    assert s.next_due == date(2026, 10, 9)  # Sep 30, Oct 8, Oct 9; calendar days would say Oct 2
    assert s.rule.params["unit"] == "wd"
    assert texts(s.rule) == (
        "报价谈判阶段每3个工作日跟进一次：上次跟进 2026-09-29 + 3个工作日",
        "Stage Negotiation every 3 working days: last contact 2026-09-29 + 3 working days",
    )


def test_working_days_use_make_up_saturday() -> None:
    s = one(cust(stage="negotiation"), [fu(date(2026, 10, 8))], as_of=date(2026, 10, 9), by_stage={"negotiation": "2d"}, **WD)
    assert (s.next_due, s.status) == (date(2026, 10, 10), "due_soon")


def test_working_days_use_make_up_sunday() -> None:
    s = one(cust(stage="negotiation"), [fu(date(2026, 9, 18))], as_of=date(2026, 9, 18), by_stage={"negotiation": "1d"}, **WD)
    assert s.next_due == date(2026, 9, 20)


def test_working_days_across_a_weekend() -> None:
    s = one(cust(tier="A"), [fu(date(2026, 11, 13))], **WD)  # Friday + 7 working days
    assert (s.next_due, s.status) == (date(2026, 11, 24), "due_soon")
    assert one(cust(tier="A"), [fu(date(2026, 11, 13))]).next_due == date(2026, 11, 20)  # calendar days


def test_first_response_over_a_weekend() -> None:
    s = one(cust(created=datetime(2026, 11, 20, 15, 0)), as_of=date(2026, 11, 21), **WD)
    assert (s.next_due, s.status) == (date(2026, 11, 23), "due_soon")


def test_manual_date_on_a_holiday_rolls_forward() -> None:
    s = one(cust(next_follow_up=date(2026, 10, 3)), [fu(date(2026, 9, 28))], as_of=date(2026, 9, 30), **WD)
    assert s.next_due == date(2026, 10, 8)
    assert s.rule == Rule("manual", {"date": "2026-10-03", "rolled_to": "2026-10-08"})
    assert texts(s.rule) == (
        "手动设定的下次跟进日期：2026-10-03，遇非工作日顺延至 2026-10-08",
        "Next follow-up set by hand: 2026-10-03, moved to the next working day 2026-10-08",
    )


def test_planned_date_on_a_working_day_is_not_moved() -> None:
    s = one(cust(), [fu(date(2026, 9, 28), next_date=date(2026, 10, 10))], as_of=date(2026, 9, 30), **WD)
    assert s.next_due == date(2026, 10, 10) and "rolled_to" not in s.rule.params


def test_after_won_in_working_days() -> None:
    history = [fu(date(2026, 9, 30), stage="won")]
    s = one(cust(stage="won"), history, as_of=date(2026, 9, 30), **WD)
    assert s.next_due == date(2026, 10, 10)  # Oct 8, Oct 9, make-up Sat Oct 10
    assert texts(s.rule)[1] == "After-sale touch point 1 (won date 2026-09-30 + 3 working days)"


def test_overdue_days_stay_calendar_days() -> None:
    s = one(cust(stage="negotiation"), [fu(date(2026, 9, 29))], as_of=date(2026, 10, 19), by_stage={"negotiation": "3d"}, **WD)
    assert (s.next_due, s.days_overdue, s.status) == (date(2026, 10, 9), 10, "escalated")


def test_weekends_only_without_holiday_calendar() -> None:
    s = one(cust(stage="negotiation"), [fu(date(2026, 9, 29))], as_of=date(2026, 9, 30),
            by_stage={"negotiation": "3d"}, working_days=True, holidays=None)
    assert s.next_due == date(2026, 10, 2)  # Sep 30, Oct 1, Oct 2: no holidays known


def test_calendar_is_off_by_default() -> None:
    assert calendar_for(config()) is None
    assert calendar_for(config(**WD)) is not None


def test_unknown_year_in_evaluate_warns_once_and_does_not_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calendar_module, "_warned", set())
    customers = [cust(f"C{i}", row=i + 2, tier="A") for i in range(3)]
    followups = [fu(date(2099, 9, 25), key=f"C{i}", row=i + 2) for i in range(3)]  # a Friday
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        statuses = evaluate(Dataset(customers, followups, [], []), config(**WD), date(2099, 9, 28))
        evaluate(Dataset(customers, followups, [], []), config(**WD), date(2099, 9, 28))
    assert [s.next_due for s in statuses] == [date(2099, 10, 6)] * 3  # 7 weekdays, no guessed holidays
    assert len([w for w in caught if issubclass(w.category, HolidayDataWarning)]) == 1


def test_shared_calendar_is_used_only_with_working_days() -> None:
    cal = WorkCalendar("CN")
    data = Dataset([cust()], [fu(date(2026, 9, 29))], [], [])
    assert evaluate(data, config(), date(2026, 9, 30), calendar=cal)[0].next_due == date(2026, 10, 13)
    assert evaluate(data, config(**WD), date(2026, 9, 30), calendar=cal)[0].next_due == date(2026, 10, 23)


# --- whole dataset ---

def test_order_and_grouping() -> None:
    customers = [cust("Z", row=2), cust("A", row=3, stage="lost"), cust("M", row=4, created=None)]
    followups = [fu(date(2026, 11, 9), key="Z", row=2), fu(date(2026, 11, 1), key="A", row=3), fu(date(2026, 11, 2), key="Z", row=4)]
    statuses = evaluate(Dataset(customers, followups, [], []), config(), AS_OF)
    assert [(s.key, s.row, s.status, s.followups) for s in statuses] == [
        ("Z", 2, "due_today", 2), ("A", 3, "closed", 1), ("M", 4, "due_today", 0),
    ]


def test_empty_dataset() -> None:
    assert evaluate(Dataset([], [], [], []), config(), AS_OF) == []


def test_due_date_is_usable_on_its_own() -> None:
    found = due_date(cust(), [fu(date(2026, 11, 9))], config(), AS_OF)
    assert found.due == AS_OF and found.rule.code == "tier"


def test_unknown_rule_code_shows_itself() -> None:
    assert rule_text(Rule("something_new"), "en") == "something_new"


@pytest.mark.filterwarnings("ignore::addon.core.calendar.HolidayDataWarning")  # due dates reach 2027
def test_fifty_thousand_customers_all_evaluated() -> None:
    """Scale correctness only; speed is the benchmark's job (bench/run.py)."""
    customers = [
        cust(f"K{i:05d}", row=i + 2, tier="ABC"[i % 3], stage=("new", "negotiation", "won", "lost")[i % 4],
             created=datetime(2026, 1, 1) + timedelta(hours=i))
        for i in range(50_000)
    ]
    start = datetime(2026, 1, 5, 9, 0)
    followups = [
        fu(start + timedelta(days=(i * 7919) % 320, minutes=i % 600), key=f"K{i % 50_000:05d}", row=i + 2,
           stage="won" if i % 11 == 0 else None, next_date=date(2026, 12, 1) if i % 13 == 0 else None)
        for i in range(500_000)
    ]
    data = Dataset(customers, followups, [], [])
    statuses = evaluate(data, config(working_days=True), AS_OF)
    assert len(statuses) == 50_000 and sum(s.followups for s in statuses) == 500_000
