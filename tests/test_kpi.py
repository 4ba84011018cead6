"""KPI figures on a small hand-built book; every expectation is computed by hand in the comments.

as-of 2026-11-23 (Monday), window 30 days = 2026-10-25 .. 2026-11-23, previous = 2026-09-25 .. 2026-10-24.
Default cadence: A 7d, B 14d, C 30d, first_response 1d, no stage rules.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from addon.config import load_config
from addon.core.kpi import compute, iso_week, windows
from addon.model import Customer, CustomerStatus, Dataset, FollowUp, Member, Rule

AS_OF = date(2026, 11, 23)
D = date


def cust(key: str, row: int, **kw) -> Customer:
    return Customer(key=key, row=row, name=kw.pop("name", key), customer_id=key, **kw)


def fu(key: str, day: date, row: int = 0, **kw) -> FollowUp:
    at = kw.pop("at", None) or datetime(day.year, day.month, day.day)
    return FollowUp(row=row, customer_key=key, at=at, has_time=at.time() != datetime.min.time(), **kw)


def st(key: str, status: str, row: int = 0) -> CustomerStatus:
    return CustomerStatus(key=key, row=row, status=status, next_due=None, days_overdue=0, last_contact=None,
                          followups=0, rule=Rule("tier"))


def book() -> tuple[Dataset, list[CustomerStatus]]:
    customers = [
        cust("C1", 2, owner="Li", tier="A", stage="negotiation", created=datetime(2026, 10, 20), value=100),
        cust("C2", 3, owner="Wang", tier="B", stage="won", created=datetime(2026, 9, 1), value=200),
        cust("C3", 4, owner="Li", tier="C", stage="lost", created=datetime(2026, 11, 1), value=50),
        cust("C4", 5, owner=None, tier="B", stage="new", created=datetime(2026, 11, 10, 9, 0), value=10),
        cust("C5", 6, owner="Wang", tier="B", stage="won", created=datetime(2026, 11, 20, 8, 0), value=30),
        cust("C6", 7, owner="Li", tier="B", stage="proposal", created=None, value=None),
        cust("C7", 8, owner="Wang", tier="A", stage="qualified", created=datetime(2026, 8, 1), value=70),
        cust("C8", 9, owner="Li", tier="A", stage="new", created=datetime(2026, 11, 1), value=999, valid=False),
        cust("C10", 10, owner="Wang", tier="B", stage="dormant", created=datetime(2026, 10, 1)),
        cust("C11", 11, owner="Li", tier="C", stage="new", created=datetime(2026, 7, 1)),
        cust("C12", 12, owner="Li", tier="C", stage="new", created=datetime(2026, 7, 1), value=5),
    ]
    followups = [
        fu("C1", D(2026, 10, 21), 2, next_date=D(2026, 10, 25), channel="phone"),
        fu("C1", D(2026, 10, 25), 3, stage="qualified", channel="phone"),  # first day of the window
        fu("C1", D(2026, 11, 5), 4, stage="negotiation", next_date=D(2026, 11, 10), channel="visit"),
        fu("C1", D(2026, 11, 23), 5, owner="Wang", channel="phone"),  # last day of the window
        fu("C1", D(2026, 11, 24), 6, channel="phone"),  # after as-of: ignored
        fu("C2", D(2026, 9, 24), 7, channel="phone"),  # one day before the previous window
        fu("C2", D(2026, 10, 24), 8, channel="phone"),  # last day of the previous window
        fu("C2", D(2026, 10, 30), 9, stage="won", channel="wechat"),
        fu("C3", D(2026, 11, 2), 10, stage="lost", channel="phone"),
        fu("C5", D(2026, 11, 20), 11, at=datetime(2026, 11, 20, 14, 30), stage="won",
           next_date=D(2026, 11, 27)),
        fu("C6", D(2026, 9, 25), 12, next_date=D(2026, 10, 24)),  # first day of the previous window
        fu("C6", D(2026, 11, 22), 13),
        fu("C7", D(2026, 8, 2), 14),
        fu("C7", D(2026, 8, 20), 15),
        fu("C8", D(2026, 11, 10), 16, channel="phone"),  # invalid customer: ignored
        fu("C10", D(2026, 10, 3), 17, next_date=D(2026, 10, 10)),
        fu("C11", D(2026, 9, 23), 18),
        fu("C12", D(2026, 9, 24), 19),
    ]
    team = [Member("Li"), Member("Wang"), Member("Zhao"), Member("Old", active=False)]
    statuses = [
        st("C1", "overdue"), st("C2", "ok"), st("C3", "closed"), st("C4", "escalated"), st("C5", "ok"),
        st("C6", "due_soon"), st("C7", "pool"), st("C8", "invalid"), st("C10", "closed"), st("C11", "overdue"),
        st("C12", "ok"),
    ]
    return Dataset(customers=customers, followups=followups, team=team, issues=[]), statuses


@pytest.fixture(scope="module")
def kpis():
    dataset, statuses = book()
    return compute(dataset, statuses, load_config(None), AS_OF)


def test_windows():
    current, previous = windows(load_config(None), AS_OF)
    assert (current.start, current.end, current.days) == (D(2026, 10, 25), AS_OF, 30)
    assert (previous.start, previous.end, previous.days) == (D(2026, 9, 25), D(2026, 10, 24), 30)
    week = windows(load_config(None, {"kpi": {"window": "7d"}}), AS_OF)[0]
    assert (week.start, week.days) == (D(2026, 11, 17), 7)


def test_on_time_rate(kpis):
    # Window: C1 10-25 (due = planned 10-25: on time), C1 11-05 (due 10-25+7 = 11-01: late),
    # C1 11-23 (due planned 11-10: late), C2 10-30 (due 10-24+14 = 11-07: on time),
    # C3 11-02 (first contact, due 11-01+1d: on time), C5 11-20 14:30 (due (11-20 08:00 + 24h).date = 11-21: on time),
    # C6 11-22 (due planned 10-24: late) -> 4 / 7.
    assert kpis.current.on_time_rate == pytest.approx(4 / 7)
    assert kpis.current.basis["on_time_rate"] == (4, 7)
    # Previous: C1 10-21 (first, due 10-21: on time), C2 10-24 (due 09-24+14 = 10-08: late),
    # C6 09-25 (first contact, no created date: not judged), C10 10-03 (first, due 10-02: late) -> 1 / 3.
    assert kpis.previous.on_time_rate == pytest.approx(1 / 3)
    assert kpis.previous.basis["on_time_rate"] == (1, 3)


def test_followup_counts_and_window_edges(kpis):
    # 7 in the window (10-25 and 11-23 included, 11-24 and C8 excluded); contacted C1 C2 C3 C5 C6.
    assert kpis.current.followups_in_window == 7
    assert kpis.current.customers_contacted_in_window == 5
    assert kpis.current.avg_followups == pytest.approx(1.4)
    # Previous: C1 10-21, C2 10-24, C6 09-25, C10 10-03 (C2 09-24, C11 09-23, C12 09-24 are one day or more before).
    assert kpis.previous.followups_in_window == 4
    assert kpis.previous.customers_contacted_in_window == 4
    assert kpis.previous.avg_followups == 1.0


def test_coverage(kpis):
    # Active (not closed/invalid): C1 C2 C4 C5 C6 C7 C11 C12 = 8; not covered: C1 overdue, C4 escalated,
    # C7 pool, C11 overdue -> 4 / 8.
    assert kpis.current.coverage == 0.5
    assert kpis.previous.coverage is None  # no statuses as of the previous window's end were given
    assert kpis.change("coverage") is None


def test_coverage_previous_from_given_statuses():
    dataset, statuses = book()
    before = [st("C1", "ok"), st("C2", "overdue"), st("C3", "closed")]
    kpis = compute(dataset, statuses, load_config(None), AS_OF, previous_statuses=before)
    assert kpis.previous.coverage == 0.5
    assert kpis.change("coverage") == 0.0


def test_completion_rate(kpis):
    # Planned in window: C1 10-21 -> 10-25 (next contact 10-25: done), C1 11-05 -> 11-10 (next 11-23: not done).
    # C5's 11-27 is after the window.
    assert kpis.current.completion_rate == 0.5
    # Previous: C6 -> 10-24 (next 11-22: not done), C10 -> 10-10 (no later contact) -> 0 / 2 = 0, not None.
    assert kpis.previous.completion_rate == 0.0
    assert kpis.previous.basis["completion_rate"] == (0, 2)


def test_first_response(kpis):
    # Created in window: C3 (11-01 -> 11-02, dates only: 24 h, within), C5 (08:00 -> 14:30 same day: 6.5 h,
    # within), C4 (11-10 09:00, never contacted, deadline 11-11 passed: counted, not within).
    assert kpis.current.first_response_median_hours == pytest.approx((24 + 6.5) / 2)
    assert kpis.current.first_response_within_target == pytest.approx(2 / 3)
    # Previous: C1 (10-20 -> 10-21: 24 h), C10 (10-01 -> 10-03: 48 h): even count -> mean of the two.
    assert kpis.previous.first_response_median_hours == 36.0
    assert kpis.previous.first_response_within_target == 0.5
    assert kpis.change("first_response_median_hours") == pytest.approx(15.25 - 36)


def test_first_response_in_days_only_when_no_gap_knows_a_time_of_day(kpis):
    # The book above has one exact gap (C5, 6.5 h): hours are the honest unit.
    assert kpis.first_response_in_days is False
    assert kpis.to_json()["first_response_dates_only"] is False
    config = load_config(None)
    dates_only = Dataset(
        [cust("N1", 2, created=datetime(2026, 11, 2)), cust("N2", 3, created=datetime(2026, 11, 3, 10, 0))],
        [fu("N1", D(2026, 11, 4), 2), fu("N2", D(2026, 11, 3), 3)],  # 48 h and (date-only contact) 0 h
        [], [],
    )
    kpis = compute(dates_only, [st("N1", "ok"), st("N2", "ok")], config, AS_OF)
    assert kpis.current.first_response_median_hours == 24.0  # still hours in the JSON: (48 + 0) / 2
    assert kpis.first_response_in_days is True
    assert kpis.to_json()["first_response_dates_only"] is True
    timed = Dataset(dates_only.customers[1:], [fu("N2", D(2026, 11, 3), 3, at=datetime(2026, 11, 3, 16, 0))], [], [])
    assert compute(timed, [st("N2", "ok")], config, AS_OF).first_response_in_days is False
    assert compute(Dataset([], [], [], []), [], config, AS_OF).first_response_in_days is False  # no gap at all


def test_first_response_pending_customer_left_out():
    config = load_config(None)
    created = datetime(2026, 11, 23, 9, 0)  # deadline tomorrow
    dataset = Dataset([cust("N", 2, created=created)], [], [], [])
    kpis = compute(dataset, [st("N", "due_soon")], config, AS_OF)
    assert kpis.current.first_response_within_target is None
    assert kpis.current.first_response_median_hours is None
    assert kpis.current.new_customers_in_window == 1


def test_wins_losses_and_cycle(kpis):
    # Won in window: C2 (won 10-30, created 09-01: 59 days, value 200), C5 (won 11-20, created 11-20: 0 days, 30).
    # Lost in window: C3 (11-02).
    assert kpis.current.won_in_window == 2
    assert kpis.current.won_value_in_window == 230
    assert kpis.current.lost_in_window == 1
    assert kpis.current.win_rate == pytest.approx(2 / 3)
    assert kpis.current.deal_cycle_median_days == 29.5
    assert kpis.previous.win_rate is None
    assert kpis.previous.deal_cycle_median_days is None
    assert kpis.change("win_rate") is None


def test_lead_conversion(kpis):
    # Created in window: C3, C4, C5; now won: C5 -> 1/3. Previous: C1, C10, none won -> 0.
    assert kpis.current.new_customers_in_window == 3
    assert kpis.current.lead_conversion == pytest.approx(1 / 3)
    assert kpis.previous.new_customers_in_window == 2
    assert kpis.previous.lead_conversion == 0.0
    assert kpis.change("new_customers_in_window") == 1


def test_won_date_without_stage_is_last_contact():
    # Stage won but no follow-up recorded the stage: the won date is the last contact (10-28), in the window.
    dataset = Dataset(
        [cust("W", 2, stage="won", created=datetime(2026, 10, 1), value=5)],
        [fu("W", D(2026, 10, 2)), fu("W", D(2026, 10, 28))],
        [], [],
    )
    kpis = compute(dataset, [st("W", "ok")], load_config(None), AS_OF)
    assert kpis.current.won_in_window == 1
    assert kpis.current.deal_cycle_median_days == 27
    assert kpis.previous.won_in_window == 0


def test_funnel(kpis):
    rows = {r.stage: r for r in kpis.funnel}
    assert [r.stage for r in kpis.funnel] == ["new", "qualified", "proposal", "negotiation", "won", "after_sales"]
    # new: C4 (10) C11 C12 (5); qualified: C7 (70); proposal: C6 (no value); negotiation: C1 (100); won: C2 C5.
    assert [(r.customers, r.value) for r in kpis.funnel] == [(3, 15), (1, 70), (1, 0), (1, 100), (2, 230), (0, 0)]
    # At or beyond: new 8, qualified 5, proposal 4, negotiation 3, won 2, after_sales 0.
    assert rows["new"].conversion is None
    assert rows["qualified"].conversion == pytest.approx(5 / 8)
    assert rows["proposal"].conversion == pytest.approx(4 / 5)
    assert rows["negotiation"].conversion == pytest.approx(3 / 4)
    assert rows["won"].conversion == pytest.approx(2 / 3)
    assert rows["after_sales"].conversion == 0.0
    assert (kpis.lost, kpis.dormant) == (1, 1)


def test_leaderboard(kpis):
    board = [(r.owner, r.customers, r.followups, r.overdue, r.pool, r.on_time, r.judged, r.won, r.won_value)
             for r in kpis.leaderboard]
    assert board == [
        # Wang: C2 C5 C7 C10; made C1 11-23 (late), C2 10-30 (on time), C5 11-20 (on time); C7 in pool; won C2 C5.
        ("Wang", 4, 3, 0, 1, 2, 3, 2, 230),
        # Li: C1 C3 C6 C11 C12; made C1 10-25 (on time), C1 11-05 (late), C3 (on time), C6 (late); C1, C11 overdue.
        ("Li", 5, 4, 2, 0, 2, 4, 0, 0),
        ("Zhao", 0, 0, 0, 0, 0, 0, 0, 0),  # active team member with nothing yet
        (None, 1, 0, 1, 0, 0, 0, 0, 0),  # C4, unassigned and escalated
    ]
    assert kpis.leaderboard[0].on_time_rate == pytest.approx(2 / 3)
    assert kpis.leaderboard[2].on_time_rate is None


def test_trend(kpis):
    assert [w.week for w in kpis.trend][-1] == iso_week(AS_OF) == "2026-W48"
    assert len(kpis.trend) == 12 and kpis.trend[0].start == D(2026, 9, 7)
    # Weeks from 09-07: follow-ups 09-21 wk: C2 09-24, C6 09-25, C11 09-23, C12 09-24; 09-28 wk: C10 10-03;
    # 10-19 wk: C1 10-21, C1 10-25 (Sunday), C2 10-24; 10-26 wk: C2 10-30; 11-02 wk: C1 11-05, C3 11-02;
    # 11-16 wk: C5 11-20, C6 11-22; 11-23 wk: C1 11-23.
    assert [w.followups for w in kpis.trend] == [0, 0, 4, 1, 0, 0, 3, 1, 2, 0, 2, 1]
    # Created: C10 10-01, C1 10-20, C3 11-01 (Sunday), C4 11-10, C5 11-20.
    assert [w.new_customers for w in kpis.trend] == [0, 0, 0, 1, 0, 0, 1, 1, 0, 1, 1, 0]
    # Won: C2 10-30, C5 11-20.
    assert [w.won for w in kpis.trend] == [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0]


def test_under_followed(kpis):
    # C7: 2 contacts, last 08-20, 95 days > 2 x 7; C11: 1 contact 09-23, 61 days > 2 x 30;
    # C12: 09-24, 60 days = 2 x 30, not more; C6: last 11-22; C1: 4 contacts; C4: never contacted.
    assert [(u.key, u.followups, u.last_contact, u.days_since_contact) for u in kpis.under_followed] == [
        ("C7", 2, D(2026, 8, 20), 95),
        ("C11", 1, D(2026, 9, 23), 61),
    ]


def test_channel_mix(kpis):
    # Window: phone C1 10-25, C1 11-23, C3; visit C1 11-05; wechat C2; none -> other: C5, C6.
    assert kpis.channel_mix == {"phone": 3, "other": 2, "visit": 1, "wechat": 1}
    assert list(kpis.channel_mix) == ["phone", "other", "visit", "wechat"]


def test_all_time(kpis):
    a = kpis.all_time
    # 10 valid customers; follow-ups up to as-of: C1 4, C2 3, C3 1, C5 1, C6 2, C7 2, C10 1, C11 1, C12 1 = 16.
    assert (a.customers, a.followups, a.customers_contacted) == (10, 16, 9)
    assert a.followups_per_customer == 1.6
    assert (a.won, a.lost, a.win_rate) == (2, 1, pytest.approx(2 / 3))
    # Judged: C1 2/4, C2 1/3 (09-24 vs 09-02 late), C3 1/1, C5 1/1, C6 0/1, C7 1/2, C10 0/1, C11 0/1, C12 0/1 -> 6/15.
    assert a.on_time_rate == pytest.approx(6 / 15)
    # Contacts up to the won date: C2 3, C5 1.
    assert a.followups_to_win_median == 2.0


def test_stage_at_previous_contact_sets_interval():
    config = load_config(None, {"cadence": {"by_stage": {"negotiation": "3d"}}})
    day0 = D(2026, 11, 1)
    customers = [
        # The stage recorded at the previous contact (negotiation, 3d) wins over the current stage (new, C 30d).
        cust("S1", 2, tier="C", stage="new"),
        # Nothing recorded: the current stage (negotiation, 3d) applies.
        cust("S2", 3, tier="C", stage="negotiation"),
        # Recorded qualified (no stage rule -> tier C 30d), though the customer is now in negotiation.
        cust("S3", 4, tier="C", stage="negotiation"),
    ]
    followups = [
        fu("S1", day0, 2, stage="negotiation"), fu("S1", day0 + timedelta(days=5), 3),
        fu("S2", day0, 4), fu("S2", day0 + timedelta(days=5), 5),
        fu("S3", day0, 6, stage="qualified"), fu("S3", day0 + timedelta(days=5), 7),
    ]
    kpis = compute(Dataset(customers, followups, [], []), [], config, AS_OF)
    # First contacts are not judged (no created date); second contacts: S1 late, S2 late, S3 on time.
    assert kpis.current.basis["on_time_rate"] == (1, 3)


def test_contact_exactly_on_due_date_is_on_time():
    dataset = Dataset(
        [cust("E", 2, tier="A", created=datetime(2026, 11, 1))],
        [fu("E", D(2026, 11, 2)), fu("E", D(2026, 11, 9)), fu("E", D(2026, 11, 17))],
        [], [],
    )
    kpis = compute(dataset, [], load_config(None), AS_OF)
    # 11-02 = created + 1d (on time); 11-09 = 11-02 + 7 (on time); 11-17 > 11-16 (late).
    assert kpis.current.basis["on_time_rate"] == (2, 3)


def test_empty_book_gives_none_not_zero():
    kpis = compute(Dataset([], [], [], []), [], load_config(None), AS_OF)
    for key in ("on_time_rate", "coverage", "completion_rate", "avg_followups", "first_response_median_hours",
                "first_response_within_target", "win_rate", "lead_conversion", "deal_cycle_median_days"):
        assert kpis.current.get(key) is None, key
        assert kpis.previous.get(key) is None, key
    assert kpis.current.followups_in_window == 0
    assert all(r.customers == 0 and r.conversion is None for r in kpis.funnel)
    assert kpis.leaderboard == [] and kpis.under_followed == [] and kpis.channel_mix == {}
    assert kpis.all_time.followups_per_customer is None
    json.dumps(kpis.to_json())


def test_to_json_shape(kpis):
    doc = kpis.to_json()
    json.loads(json.dumps(doc, ensure_ascii=False))
    for key in ("as_of", "window_days", "on_time_rate", "coverage", "completion_rate", "avg_followups",
                "followups_in_window", "customers_contacted_in_window", "first_response_median_hours",
                "first_response_within_target", "win_rate", "lead_conversion", "deal_cycle_median_days",
                "funnel", "leaderboard", "trend", "under_followed", "channel_mix", "previous", "all_time",
                "lost", "dormant"):
        assert key in doc, key
    assert doc["as_of"] == "2026-11-23" and doc["window_days"] == 30
    assert doc["coverage"] == 0.5 and doc["previous"]["coverage"] is None
    assert doc["funnel"][1] == {"stage": "qualified", "customers": 1, "value": 70.0, "conversion": 0.625}
    assert doc["leaderboard"][0]["owner"] == "Wang" and doc["leaderboard"][0]["won_value"] == 230
    assert doc["trend"][-1] == {"week": "2026-W48", "followups": 1, "new_customers": 0, "won": 0}
    assert doc["under_followed"][0] == {"key": "C7", "name": "C7", "owner": "Wang", "followups": 2,
                                        "last_contact": "2026-08-20", "days_since_contact": 95}
    assert doc["channel_mix"] == {"phone": 3, "other": 2, "visit": 1, "wechat": 1}
    assert set(doc["previous"]) == set(doc["change"])
    assert doc["change"]["followups_in_window"] == 3
    assert doc["basis"]["on_time_rate"] == [4, 7]
    assert doc["all_time"]["followups_per_customer"] == 1.6
    assert (doc["lost"], doc["dormant"]) == (1, 1)


def test_book_as_of_rewinds_followups_customers_and_stages():
    from addon.core.kpi import book_as_of

    dataset, _ = book()
    then = book_as_of(dataset, D(2026, 10, 24))
    keys = {c.key for c in then.customers}
    assert "C3" not in keys and "C4" not in keys and "C5" not in keys  # created later
    assert "C6" in keys  # no created date: kept
    assert all(f.at.date() <= D(2026, 10, 24) for f in then.followups)
    stages = {c.key: c.stage for c in then.customers}
    assert stages["C2"] == "won"  # nothing recorded by 10-24: today's stage stays
    assert stages["C1"] == "negotiation"
    assert book_as_of(dataset, D(2026, 10, 26)).customers[0].stage == "qualified"  # set by the 10-25 contact


def test_previous_statuses_are_evaluated_at_the_previous_window_end():
    from addon.core.kpi import previous_statuses

    dataset, statuses = book()
    seen = {}

    def evaluate(data, config, day):
        seen["day"], seen["keys"] = day, [c.key for c in data.customers]
        return [st(k, "overdue" if k == "C1" else "ok") for k in seen["keys"]]

    before = previous_statuses(dataset, load_config(None), AS_OF, evaluate)
    assert seen["day"] == D(2026, 10, 24)
    kpis = compute(dataset, statuses, load_config(None), AS_OF, previous_statuses=before)
    # At 10-24: C1 C2 C6 C7 C10 C11 C12 existed (C3 C4 C5 C8 were created later); C1 overdue -> 6 / 7 covered.
    assert kpis.previous.basis["coverage"] == (6, 7)
    assert kpis.change("coverage") == round(0.5 - 6 / 7, 12)


def test_with_the_cadence_engine():
    from addon.core import cadence
    from addon.core.kpi import previous_statuses

    dataset, _ = book()
    config = load_config(None)
    statuses = cadence.evaluate(dataset, config, AS_OF)
    before = previous_statuses(dataset, config, AS_OF, cadence.evaluate)
    kpis = compute(dataset, statuses, config, AS_OF, previous_statuses=before)
    assert 0 <= kpis.current.coverage <= 1 and 0 <= kpis.previous.coverage <= 1
    assert kpis.current.followups_in_window == 7  # statuses do not change the counts
