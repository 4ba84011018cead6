"""Properties of the KPI engine on random books: rates stay fractions, parts add up to wholes, order is irrelevant."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from addon.config import load_config
from addon.core.kpi import RATE_KEYS, book_as_of, compute
from addon.model import Customer, CustomerStatus, Dataset, FollowUp, Member, Rule, group_by_customer

AS_OF = date(2026, 11, 23)
CONFIG = load_config(None, {"cadence": {"by_stage": {"negotiation": "3d"}}})
STAGES = ("new", "qualified", "proposal", "negotiation", "won", "after_sales", "lost", "dormant")
OWNERS = (None, "Li", "Wang", "Zhao")
STATUSES = ("ok", "due_soon", "due_today", "overdue", "escalated", "pool", "closed")

days = st.integers(min_value=-200, max_value=3).map(lambda n: AS_OF + timedelta(days=n))
moments = st.tuples(days, st.sampled_from([time(0, 0), time(9, 30), time(18, 5)])).map(lambda p: datetime.combine(*p))


@st.composite
def books(draw):
    n = draw(st.integers(min_value=0, max_value=12))
    customers, followups, statuses = [], [], []
    row = 2
    for i in range(n):
        key = f"K{i}"
        valid = draw(st.booleans()) if i % 5 == 4 else True
        customers.append(Customer(
            key=key, row=i + 2, name=key,
            owner=draw(st.sampled_from(OWNERS)),
            tier=draw(st.sampled_from("ABC")),
            stage=draw(st.sampled_from(STAGES)),
            created=draw(st.none() | moments),
            value=draw(st.none() | st.floats(min_value=0, max_value=1e6, allow_nan=False)),
            valid=valid,
        ))
        statuses.append(CustomerStatus(key, i + 2, draw(st.sampled_from(STATUSES)) if valid else "invalid",
                                       None, 0, None, 0, Rule("tier")))
        for _ in range(draw(st.integers(min_value=0, max_value=6))):
            at = draw(moments)
            followups.append(FollowUp(
                row=row, customer_key=key, at=at, has_time=at.time() != time(0, 0),
                owner=draw(st.sampled_from(OWNERS)),
                channel=draw(st.sampled_from((None, "phone", "wechat", "visit"))),
                next_date=draw(st.none() | days),
                stage=draw(st.none() | st.sampled_from(STAGES)),
            ))
            row += 1
    team = [Member("Li"), Member("Wang"), Member("Zhao", active=draw(st.booleans()))]
    return Dataset(customers, followups, team, []), statuses


def rates(kpis):
    for figures in (kpis.current, kpis.previous):
        for key in RATE_KEYS:
            yield key, figures.get(key)
    for row in kpis.leaderboard:
        yield "leaderboard", row.on_time_rate
    for item in kpis.funnel:
        yield "funnel", item.conversion
    yield "all_time.win_rate", kpis.all_time.win_rate
    yield "all_time.on_time_rate", kpis.all_time.on_time_rate


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(books())
def test_rates_are_fractions_and_medians_non_negative(book):
    dataset, statuses = book
    kpis = compute(dataset, statuses, CONFIG, AS_OF)
    for name, value in rates(kpis):
        assert value is None or 0.0 <= value <= 1.0, name
    for figures in (kpis.current, kpis.previous):
        for key in ("first_response_median_hours", "deal_cycle_median_days"):
            assert figures.get(key) is None or figures.get(key) >= 0
        assert figures.avg_followups is None or figures.avg_followups >= 1
    json.dumps(kpis.to_json())


@SETTINGS
@given(books())
def test_parts_add_up(book):
    dataset, statuses = book
    kpis = compute(dataset, statuses, CONFIG, AS_OF)
    valid = [c for c in dataset.customers if c.valid]
    keys = {c.key for c in valid}
    closed = {"lost", "dormant"}
    # Funnel total = active customers in funnel stages; lost and dormant apart.
    assert sum(r.customers for r in kpis.funnel) == sum(1 for c in valid if c.stage not in closed)
    assert sum(r.customers for r in kpis.funnel) + kpis.lost + kpis.dormant == len(valid)
    # Leaderboard totals = overall totals.
    board = kpis.leaderboard
    assert sum(r.customers for r in board) == len(valid)
    assert sum(r.followups for r in board) == kpis.current.followups_in_window
    assert sum(r.won for r in board) == kpis.current.won_in_window
    assert abs(sum(r.won_value for r in board) - kpis.current.won_value_in_window) <= 1e-6 * (1 + kpis.current.won_value_in_window)
    assert (sum(r.on_time for r in board), sum(r.judged for r in board)) == kpis.current.basis["on_time_rate"]
    assert sum(r.overdue for r in board) == sum(1 for s in statuses if s.key in keys and s.status in ("overdue", "escalated"))
    # Channels and the brute-force count of follow-ups in the window.
    start = kpis.window.start
    in_window = [f for f in dataset.followups if f.customer_key in keys and start <= f.at.date() <= AS_OF]
    assert kpis.current.followups_in_window == len(in_window) == sum(kpis.channel_mix.values())
    assert kpis.current.customers_contacted_in_window == len({f.customer_key for f in in_window})
    # Trend covers its weeks up to as-of.
    first = kpis.trend[0].start
    assert sum(w.followups for w in kpis.trend) == sum(
        1 for f in dataset.followups if f.customer_key in keys and first <= f.at.date() <= AS_OF)
    assert kpis.all_time.followups >= kpis.current.followups_in_window + kpis.previous.followups_in_window
    # Leaderboard order: on-time rate descending with None last.
    known = [r.on_time_rate for r in board if r.on_time_rate is not None]
    assert known == sorted(known, reverse=True)
    assert all(r.on_time_rate is None for r in board[len(known):])


@SETTINGS
@given(books(), st.randoms(use_true_random=False))
def test_row_order_is_irrelevant(book, rnd: random.Random):
    dataset, statuses = book
    shuffled = Dataset(rnd.sample(dataset.customers, len(dataset.customers)),
                       rnd.sample(dataset.followups, len(dataset.followups)), dataset.team, [])
    a = compute(dataset, statuses, CONFIG, AS_OF).to_json()
    b = compute(shuffled, rnd.sample(statuses, len(statuses)), CONFIG, AS_OF).to_json()
    # Sums of floats may differ in the last bit with order; everything else is identical.
    for doc in (a, b):
        doc.pop("won_value_in_window"), doc["previous"].pop("won_value_in_window"), doc["change"].pop("won_value_in_window")
        for item in doc["funnel"] + doc["leaderboard"]:
            item.pop("value", None), item.pop("won_value", None)
        doc["under_followed"].sort(key=lambda u: (-u["days_since_contact"], u["key"]))
    assert a == b


@SETTINGS
@given(books())
def test_invalid_rows_and_later_followups_change_nothing(book):
    dataset, statuses = book
    base = compute(dataset, statuses, CONFIG, AS_OF).to_json()
    ghost = Customer(key="GHOST", row=999, name="ghost", owner="Li", stage="won", created=datetime(2026, 11, 1),
                     value=5.0, valid=False)
    extra = [FollowUp(row=1000, customer_key="GHOST", at=datetime(2026, 11, 20), stage="won")]
    extra += [FollowUp(row=1001 + i, customer_key=c.key, at=datetime(2026, 11, 24), stage="won")
              for i, c in enumerate(dataset.customers)]
    more = Dataset([*dataset.customers, ghost], [*dataset.followups, *extra], dataset.team, [])
    assert compute(more, [*statuses, CustomerStatus("GHOST", 999, "invalid", None, 0, None, 0, Rule("invalid"))],
                   CONFIG, AS_OF).to_json() == base


@SETTINGS
@given(books(), days)
def test_book_as_of_derives_the_same_histories_as_regrouping(book, day):
    dataset, _ = book
    then = book_as_of(dataset, day)
    assert all(f.at.date() <= day for f in then.followups)
    keys = {c.key for c in then.customers}
    expected = [f for f in dataset.followups if f.at.date() <= day and f.customer_key in keys]
    assert sorted(then.followups, key=lambda f: f.row) == sorted(expected, key=lambda f: f.row)  # the same records
    assert then.histories == group_by_customer(then.followups)  # the cache derived from the parent's is exact
    for c in then.customers:  # stage: the last stage recorded up to `day`, else today's
        recorded = [f.stage for f in sorted(then.followups, key=lambda f: (f.at, f.row)) if f.customer_key == c.key and f.stage]
        original = next(o for o in dataset.customers if o.key == c.key)
        assert c.stage == (recorded[-1] if recorded else original.stage)
