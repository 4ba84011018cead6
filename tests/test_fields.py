"""Field and tab vocabulary: the words teams use for stages, tiers, channels and headers, and which language a workbook speaks."""

from __future__ import annotations

import pytest

from addon.core.fields import (
    FIELDS,
    VOCAB,
    header_aliases,
    headers_locale,
    normalize,
    vocab_table,
    workbook_locale,
)


def test_workbook_locale_is_judged_by_the_data_tabs() -> None:
    assert workbook_locale(["客户", "跟进记录"]) == "zh-CN"
    assert workbook_locale(["Customers", "FollowUps", "说明"]) == "en"  # a Chinese note tab does not decide
    assert workbook_locale(["客户", "FollowUps"]) == "zh-CN"
    assert workbook_locale(["Sheet1", "说明"]) == "zh-CN" and workbook_locale(["Sheet1"]) == "en"


def _guess(heads: dict[str, list[list[object]]], roles: tuple[str, ...] = ("customers", "followups", "team")) -> dict:
    from addon.core.fields import guess_tabs, header_aliases

    return guess_tabs(heads, {role: header_aliases(role) for role in ("customers", "followups", "team")}, roles)


ACCOUNTS = [["Company", "Sales Rep", "Level", "Phase", "Tel"], ["Acme", "Ann", "A", "won", "13800138000"]]
CALLS = [["Company", "Contact date", "By", "Type"], ["Acme", "2026-11-10", "Ann", "phone"]]


def test_a_tab_of_the_users_own_name_is_recognised_by_its_headers() -> None:
    assert _guess({"Calls": CALLS}) == {"followups": ("Calls", ["Company", "Contact date", "By", "Type"])}
    # Both tabs unnamed: each goes to the role it matches best (the log also has a customer-name column).
    assert {role: tab for role, (tab, _) in _guess({"Accounts": ACCOUNTS, "Calls": CALLS}).items()} == {"customers": "Accounts", "followups": "Calls"}
    # A title row above the headers (as in the templates' neighbours) does not hide them.
    assert _guess({"拜访": [["2026 年拜访记录"], ["客户名称", "跟进日期", "跟进人"]]}, ("followups",))["followups"][0] == "拜访"


def test_no_guess_when_it_could_be_wrong() -> None:
    assert _guess({"Calls": CALLS, "Calls 2025": CALLS}) == {}  # two logs: which one?
    assert _guess({"Notes": [["Topic", "Text"], ["a", "b"]]}) == {}  # headers of nothing we know
    assert _guess({"Calls": [["Company", "By"]]}) == {}  # no date: not a follow-up log (and no other role wins)
    # Team is never guessed: a wrong guess would address reminders to whoever that tab lists.
    assert _guess({"People": [["Name", "Email", "Manager"]]}) == {}
    assert _guess({"Calls": CALLS}, ("customers",)) == {}  # a log is no customer list even when nothing else claims it


def test_headers_tell_the_language_when_tab_names_do_not() -> None:
    assert headers_locale(["客户名称", "负责人"]) == "zh-CN"
    assert headers_locale(["Company", "客户"]) == "zh-CN"  # one Chinese header is enough
    assert headers_locale(["Company", "Sales Rep"]) == "en"
    assert headers_locale([1, None, "2026", ""]) is None and headers_locale([]) is None


@pytest.mark.parametrize(("word", "stage"), [
    ("初步接触", "new"), ("潜在客户", "new"), ("意向客户", "qualified"), ("有意向", "qualified"), ("方案报价", "proposal"),
    ("洽谈中", "negotiation"), ("已报价", "negotiation"), ("已签约", "won"), ("签单", "won"), ("已回款", "after_sales"),
    ("无意向", "lost"), ("已流失", "lost"), ("沉睡", "dormant"), ("Closed-Won", "won"), ("Churned", "lost"),
])
def test_stage_words_teams_use(word: str, stage: str) -> None:
    assert vocab_table("stage")[normalize(word)] == stage


def test_no_synonym_means_two_things() -> None:
    for kind, table in VOCAB.items():
        seen: dict[str, str] = {}
        for canonical, words in table.items():
            for word in words:
                assert seen.setdefault(normalize(word), canonical) == canonical, (kind, word)


@pytest.mark.parametrize(("kind", "word", "value"), [
    ("tier", "重要客户", "A"), ("tier", "大客户", "A"), ("tier", "一级", "A"), ("tier", "普通客户", "B"), ("tier", "中", "B"),
    ("tier", "潜在客户", "C"), ("tier", "小客户", "C"),
    ("channel", "电联", "phone"), ("channel", "致电", "phone"), ("channel", "面谈", "visit"), ("channel", "来访", "visit"),
    ("channel", "微信语音", "wechat"), ("channel", "视频", "meeting"),
])
def test_tier_and_channel_words_teams_use(kind: str, word: str, value: str) -> None:
    assert vocab_table(kind)[normalize(word)] == value


@pytest.mark.parametrize(("role", "header", "key"), [
    ("customers", "企业名称", "name"), ("customers", "所属销售", "owner"), ("customers", "联系人手机", "phone"),
    ("customers", "电子邮箱", "email"), ("customers", "下次联系时间", "next_follow_up"), ("customers", "登记日期", "created"),
    ("followups", "沟通时间", "date"), ("followups", "拜访日期", "date"), ("followups", "沟通方式", "channel"),
    ("followups", "沟通内容", "notes"), ("followups", "下次跟进时间", "next_date"), ("followups", "跟进人员", "owner"),
    ("team", "业务员", "name"), ("team", "是否在职", "active"),
])
def test_headers_teams_use(role: str, header: str, key: str) -> None:
    assert header_aliases(role, None)[normalize(header)] == key


def test_no_header_means_two_fields_of_a_tab() -> None:
    for role, fields in FIELDS.items():
        seen: dict[str, str] = {}
        for f in fields:
            for word in (f.zh, f.en, *f.aliases):
                assert seen.setdefault(normalize(word), f.key) == f.key, (role, word)
