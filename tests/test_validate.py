"""Validation: each rule with the exact issue (tab, row, column, severity, code) it produces."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from addon.config import Config, load_config
from addon.core.validate import _fast_followup, dedupe_name, fold_id, make_followup, validate
from addon.model import Cell, Customer, Dataset, FollowUp, Issue, Member, Table

AS_OF = date(2025, 3, 10)  # a Monday; follow-ups on 3/10 are fine, 3/11 is the future

CUSTOMER_KEYS = ("customer_id", "name", "owner", "tier", "stage", "created", "next_follow_up", "value", "protected",
                 "contact", "phone", "email", "source", "notes")
CUSTOMER_HEAD = ["客户编号", "客户名称", "负责人", "客户等级", "阶段", "创建日期", "下次跟进日期", "预计金额", "锁定",
                 "联系人", "电话", "邮箱", "来源", "备注"]
FOLLOWUP_KEYS = ("customer_id", "customer_name", "date", "owner", "channel", "outcome", "notes", "next_date", "stage")
FOLLOWUP_HEAD = ["客户编号", "客户名称", "跟进日期", "跟进人", "方式", "结果", "内容", "下次跟进日期", "跟进后阶段"]
TEAM_KEYS = ("name", "email", "manager", "manager_email", "active", "webhook")
TEAM_HEAD = ["姓名", "邮箱", "上级", "上级邮箱", "在职", "Webhook"]


def config(**overrides: object) -> Config:
    return load_config(None, overrides)


ZH = config()
EN = config(locale="en")


def row(keys: tuple[str, ...], **values: Cell) -> list[Cell]:
    unknown = set(values) - set(keys)
    assert not unknown, unknown
    return [values.get(key) for key in keys]


def c(**values: Cell) -> list[Cell]:
    """A Customers row by field key (name is the tab's field `name`)."""
    return row(CUSTOMER_KEYS, **values)


def f(**values: Cell) -> list[Cell]:
    return row(FOLLOWUP_KEYS, **values)


def m(**values: Cell) -> list[Cell]:
    return row(TEAM_KEYS, **values)


def customers(*rows: list[Cell], head: list[Cell] | None = None, first_row: int = 1, name: str = "客户") -> Table:
    return Table(name, [head or CUSTOMER_HEAD, *rows], first_row)


def followups(*rows: list[Cell], head: list[Cell] | None = None, first_row: int = 1) -> Table:
    return Table("跟进记录", [head or FOLLOWUP_HEAD, *rows], first_row)


def team(*rows: list[Cell], head: list[Cell] | None = None) -> Table:
    return Table("团队", [head or TEAM_HEAD, *rows])


TEAM = team(
    m(name="张三", email="zhangsan@example.com", manager="王经理", manager_email="wang@example.com", active="Y"),
    m(name="李四", email="lisi@example.com", manager="王经理", manager_email="wang@example.com", active="Y"),
)

_DEFAULT: Table = Table("unset", [])


def check(
    cust: Table | None = None,
    fu: Table | None = None,
    tm: Table | None = _DEFAULT,
    cfg: Config = ZH,
    as_of: date = AS_OF,
) -> Dataset:
    tables: dict[str, Table | None] = {"customers": cust, "followups": fu, "team": TEAM if tm is _DEFAULT else tm}
    return validate(tables, cfg, as_of)


def found(ds: Dataset) -> list[tuple[str, int | None, str, str, str]]:
    return [(i.tab, i.row, i.column, i.severity, i.code) for i in ds.issues]


def one(ds: Dataset) -> Issue:
    """The only issue, for message checks."""
    assert len(ds.issues) == 1, found(ds)
    return ds.issues[0]


# --- a clean workbook --------------------------------------------------------------------------


def test_clean_workbook_gives_typed_records_and_no_issues() -> None:
    ds = check(
        customers(
            c(customer_id="C001", name="上海甲科技有限公司", owner="张三", tier="高价值", stage="报价谈判",
              created=datetime(2025, 1, 2, 9, 30), next_follow_up="2025/3/12", value="¥12,000", protected="Y",
              contact="王经理", phone="138 0013 8000", email="wang@jia.cn", source="展会", notes="老客户介绍"),
            c(customer_id="C002", name="乙公司", owner="李四"),
        ),
        followups(
            f(customer_id="C001", date=datetime(2025, 3, 3, 14, 30), owner="李四", channel="微信", outcome="有意向",
              notes="发了报价", next_date="2025-03-12", stage="成交"),
            f(customer_name="乙公司", date=date(2025, 3, 4), channel="Phone"),
        ),
    )
    assert found(ds) == []
    assert ds.customers == [
        Customer(key="C001", row=2, name="上海甲科技有限公司", customer_id="C001", owner="张三", tier="A",
                 stage="negotiation", created=datetime(2025, 1, 2, 9, 30), next_follow_up=date(2025, 3, 12),
                 value=12000.0, protected=True, contact="王经理", phone="138 0013 8000", email="wang@jia.cn",
                 source="展会", notes="老客户介绍", valid=True, tier_given=True),
        Customer(key="C002", row=3, name="乙公司", customer_id="C002", owner="李四", tier="B", stage="new",
                 valid=True, tier_given=False, protected=False),
    ]
    assert ds.followups == [
        FollowUp(row=2, customer_key="C001", at=datetime(2025, 3, 3, 14, 30), has_time=True, owner="李四",
                 channel="wechat", outcome="有意向", notes="发了报价", next_date=date(2025, 3, 12), stage="won"),
        FollowUp(row=3, customer_key="C002", at=datetime(2025, 3, 4), has_time=False, owner="李四", channel="phone"),
    ]
    assert ds.team == [
        Member(name="张三", email="zhangsan@example.com", manager="王经理", manager_email="wang@example.com", active=True, row=2),
        Member(name="李四", email="lisi@example.com", manager="王经理", manager_email="wang@example.com", active=True, row=3),
    ]
    assert ds.tabs == {"customers": "客户", "followups": "跟进记录", "team": "团队"}
    assert ds.header_rows == {"customers": 1, "followups": 1, "team": 1}
    assert ds.error_count() == 0


# --- headers -----------------------------------------------------------------------------------


def test_header_below_title_rows_and_row_numbers_as_the_user_sees_them() -> None:
    # The backend read from sheet row 3 on: two title rows (3, 4), the header on row 5.
    table = Table("客户", [["2025 客户名单"], ["导出于 2025-03-01", None, None], ["客户编号", "客户名称", "负责人"],
                          ["C001", "甲公司", "张三"], [None, None, None], ["C002", None, "张三"]], first_row=3)
    ds = check(table)
    assert ds.header_rows["customers"] == 5
    assert [cust.row for cust in ds.customers] == [6, 8]
    assert found(ds) == [("客户", 8, "客户名称", "error", "required.missing")]


def test_full_width_case_and_space_variants_of_headers() -> None:
    head = ["ＩＤ", " customer name ", "OWNER", "Ｔｉｅｒ"]
    ds = check(customers(["C1", "甲", "张三", "a"], ["c1", "乙", "李四", "b"], head=head))
    assert [(cust.customer_id, cust.name, cust.owner, cust.tier) for cust in ds.customers] == [
        ("C1", "甲", "张三", "A"), ("c1", "乙", "李四", "B"),
    ]
    # The header is quoted as written in the sheet; IDs compare ignoring case.
    assert found(ds) == [("客户", 3, "ＩＤ", "error", "customer.duplicate_id")]


def test_customer_id_header_with_spaces_and_case() -> None:
    ds = check(customers(["C1", "甲"], head=[" customer id ", "客户名称"]), followups(["c1", "2025-03-01"], head=["Customer ID", "Date"]))
    assert found(ds) == []
    assert [x.key for x in ds.customers] == ["C1"] and [x.customer_key for x in ds.followups] == ["C1"]


def test_a_foreign_workbook_is_adopted_through_columns_and_vocab_only() -> None:
    accounts = Table("Pipeline", [
        ["opportunity_id", "account", "sales_agent", "deal_stage", "close_value", "engage_date"],
        ["ZNRL2B", "Acme Corporation", "Darcel Schlecht", "Engaging", "1,054", "2024-10-20"],
        ["V1XYZ7", "Betasoloin", "Moses Frase", "Won", 4514.0, "2024-10-25"],
        ["Q7PLM3", "Cancity", "Moses Frase", "Closing", None, "2024-11-02"],
    ])
    activity = Table("Activity", [
        ["opportunity_id", "activity_date", "sales_agent", "activity_type"],
        ["ZNRL2B", "2024-10-28", "Darcel Schlecht", "Call"],
        ["V1XYZ7", "2024-11-01", None, "Video call"],
    ])
    reps = Table("Reps", [["sales_agent", "email"], ["Darcel Schlecht", "darcel@example.com"], ["Moses Frase", "moses@example.com"]])
    adopted = config(
        locale="en",
        columns={
            "customers": {"customer_id": ["opportunity_id"], "owner": ["sales_agent"], "value": ["close_value"], "created": ["engage_date"]},
            "followups": {"customer_id": ["opportunity_id"], "date": ["activity_date"], "owner": ["sales_agent"], "channel": ["activity_type"]},
            "team": {"name": ["sales_agent"]},
        },
        vocab={"stage": {"negotiation": ["Closing"]}},
    )
    ds = check(accounts, activity, reps, cfg=adopted, as_of=date(2024, 12, 31))
    assert found(ds) == []
    assert [(x.key, x.name, x.owner, x.stage, x.value, x.created) for x in ds.customers] == [
        ("ZNRL2B", "Acme Corporation", "Darcel Schlecht", "qualified", 1054.0, datetime(2024, 10, 20)),
        ("V1XYZ7", "Betasoloin", "Moses Frase", "won", 4514.0, datetime(2024, 10, 25)),
        ("Q7PLM3", "Cancity", "Moses Frase", "negotiation", None, datetime(2024, 11, 2)),
    ]
    assert [(x.customer_key, x.day, x.owner, x.channel) for x in ds.followups] == [
        ("ZNRL2B", date(2024, 10, 28), "Darcel Schlecht", "phone"),
        ("V1XYZ7", date(2024, 11, 1), "Moses Frase", "meeting"),  # owner from the customer
    ]
    # Without the config the same workbook cannot be read.
    plain = check(accounts, activity, reps, cfg=EN, as_of=date(2024, 12, 31))
    assert found(plain) == [
        ("Pipeline", 4, "deal_stage", "warning", "vocab.unknown"),
        ("Activity", None, "", "error", "columns.missing"),
        ("Reps", None, "", "error", "columns.missing"),
    ]
    assert plain.customers[0].customer_id is None and plain.customers[0].key == "acmecorporation"


def test_missing_required_columns_name_both_languages_and_the_config_fix() -> None:
    ds = check(customers(["甲", "张三"], head=["公司", "销售"]), followups(["甲", "2025-03-01"], head=["公司", "时候"]), cfg=EN)
    assert found(ds) == [
        ("客户", None, "", "error", "columns.missing"),
        ("跟进记录", None, "", "error", "columns.missing"),
    ]
    cust, fu = ds.issues
    assert cust.message == (
        "Tab '客户' is missing required columns: Name (客户名称) or Customer ID (客户编号) "
        "(no matching header in the first 30 rows; headers in row 1: 公司, 销售)"
    )
    assert cust.suggestion == "No need to rename: map your header in config.yaml, e.g. `columns: customers: name: [Your Header]`"
    assert "Date (跟进日期); Customer ID (客户编号) or Customer (客户名称)" in fu.message
    assert "columns: followups: date: [Your Header]" in fu.suggestion
    assert ds.customers == [] and ds.followups == []
    assert "customers" not in ds.header_rows and ds.tabs["customers"] == "客户"

    zh = one(check(customers(["甲", "张三"], head=["公司", "销售"])))
    assert zh.message.startswith("“客户”表缺少必需的列：客户名称（Name） 或 客户编号（Customer ID）")
    assert "columns: customers: name: [您的表头]" in zh.suggestion


def test_blank_rows_and_trailing_empty_columns_are_ignored_silently() -> None:
    table = customers(
        c(customer_id="C001", name="甲") + [None, None, "", None],
        [None] * 20,
        ["  ", "", None],
        [],
        c(customer_id="C002", name="乙")[:2],  # a short row
        head=CUSTOMER_HEAD + [None, None, "   "],
    )
    ds = check(table)
    assert found(ds) == []
    assert [(x.key, x.row) for x in ds.customers] == [("C001", 2), ("C002", 6)]


def test_a_row_with_data_only_in_columns_we_do_not_read_is_blank_to_us() -> None:
    ds = check(customers(c(customer_id="C001", name="甲"), c() + ["手写备注"], head=CUSTOMER_HEAD + ["其他"]))
    assert found(ds) == [] and len(ds.customers) == 1


# --- required values, keys and duplicates ---------------------------------------------------------


def test_missing_customer_name_or_id_is_an_error_and_the_row_stays_invalid() -> None:
    ds = check(customers(
        c(customer_id="C001", name=None, owner="张三"),
        c(customer_id=None, name=None, owner="张三"),
        c(customer_id=None, name=" 丙 公司 "),
    ))
    assert found(ds) == [
        ("客户", 2, "客户名称", "error", "required.missing"),
        ("客户", 3, "客户名称", "error", "required.missing"),
    ]
    assert [(x.key, x.name, x.valid) for x in ds.customers] == [("C001", "C001", False), ("#row3", "", False), ("丙公司", "丙 公司", True)]
    assert ds.issues[0].message == "客户名称为空" and ds.issues[0].suggestion == "请填写客户名称"


def test_ids_keep_what_the_user_sees() -> None:
    ds = check(
        customers(c(customer_id=1.3800138e10, name="甲"), c(customer_id="00123", name="乙"), c(customer_id=123.0, name="丙")),
        followups(f(customer_id=13800138000, date="2025-03-01"), f(customer_id="00123", date="2025-03-02"), f(customer_id=123, date="2025-03-03")),
    )
    assert found(ds) == []
    assert [x.key for x in ds.customers] == ["13800138000", "00123", "123"]
    assert [x.customer_key for x in ds.followups] == ["13800138000", "00123", "123"]


def test_duplicate_ids_are_errors_on_later_rows_naming_the_first() -> None:
    ds = check(
        customers(c(customer_id="C001", name="甲"), c(customer_id="C002", name="乙"), c(customer_id="C001", name="丙"), c(customer_id="ｃ００１", name="丁")),
        followups(f(customer_id="C001", date="2025-03-01")),
    )
    assert found(ds) == [
        ("客户", 4, "客户编号", "error", "customer.duplicate_id"),
        ("客户", 5, "客户编号", "error", "customer.duplicate_id"),
    ]
    assert ds.issues[0].message == "客户编号 C001 已在第 2 行使用"
    assert [(x.key, x.valid) for x in ds.customers] == [("C001", True), ("C002", True), ("C001#row4", False), ("ｃ００１", False)]
    assert len({x.key for x in ds.customers}) == 4
    assert [x.customer_key for x in ds.followups] == ["C001"]


def test_customers_without_ids_with_the_same_name_get_distinct_keys() -> None:
    ds = check(customers(c(name="甲公司"), c(name="甲 公司")), followups(f(customer_name="甲公司", date="2025-03-01")))
    assert [x.key for x in ds.customers] == ["甲公司", "甲公司#row3"]
    assert found(ds) == [
        ("客户", 3, "客户名称", "warning", "customer.probable_duplicate"),
        ("跟进记录", 2, "客户名称", "error", "followup.ambiguous"),
    ]
    assert ds.followups == []


def test_probable_duplicates_by_name_phone_and_email() -> None:
    ds = check(customers(
        c(customer_id="C1", name="上海甲科技有限公司", phone="138 0013 8000", email="Boss@Jia.cn"),
        c(customer_id="C2", name="上海甲科技", phone="13700137000"),
        c(customer_id="C3", name="乙公司", phone="+86 13800138000"),
        c(customer_id="C4", name="丙公司", email="boss@jia.cn"),
        c(customer_id="C5", name="Acme Co., Ltd."),
        c(customer_id="C6", name="ACME"),
        c(customer_id="C7", name="丁公司", phone="13900139000", email="x@ding.cn"),
        c(customer_id="C8", name="丁公司", phone="139-0013-9000"),
    ))
    assert found(ds) == [
        ("客户", 3, "客户名称", "warning", "customer.probable_duplicate"),
        ("客户", 4, "电话", "warning", "customer.probable_duplicate"),
        ("客户", 5, "邮箱", "warning", "customer.probable_duplicate"),
        ("客户", 7, "客户名称", "warning", "customer.probable_duplicate"),
        ("客户", 9, "客户名称", "warning", "customer.probable_duplicate"),
    ]
    assert [i.message for i in ds.issues] == [
        "可能与第 2 行是同一客户（名称相同）",
        "可能与第 2 行是同一客户（电话相同）",
        "可能与第 2 行是同一客户（邮箱相同）",
        "可能与第 6 行是同一客户（名称相同）",
        "可能与第 8 行是同一客户（名称相同、电话相同）",
    ]
    assert all(x.valid for x in ds.customers)


def test_dedupe_name_folds_legal_forms_but_keeps_short_names() -> None:
    assert dedupe_name("上海甲科技股份有限公司") == "上海甲科技"
    assert dedupe_name("上海甲集团有限公司") == "上海甲"  # both endings dropped
    assert dedupe_name("甲集团有限公司") == "甲集团"  # …but at least two characters remain
    assert dedupe_name("zinc") == "zinc"
    assert dedupe_name("acmeinc") == "acme"
    assert fold_id("Ｃ００１") == "c001" and fold_id("C-001 ") == "c-001 "


# --- dates ----------------------------------------------------------------------------------------


def test_followup_date_problems_are_errors_and_the_row_is_excluded() -> None:
    ds = check(
        customers(c(customer_id="C001", name="甲")),
        followups(
            f(customer_id="C001", date=None),
            f(customer_id="C001", date="2025/13/45"),
            f(customer_id="C001", date="1/2/2025"),
            f(customer_id="C001", date="下周"),
            f(customer_id="C001", date=time(14, 30)),
            f(customer_id="C001", date="#REF!"),
            f(customer_id="C001", date="2025-03-01"),
        ),
    )
    assert found(ds) == [
        ("跟进记录", 2, "跟进日期", "error", "required.missing"),
        ("跟进记录", 3, "跟进日期", "error", "date.nonexistent"),
        ("跟进记录", 4, "跟进日期", "error", "date.ambiguous"),
        ("跟进记录", 5, "跟进日期", "error", "date.unparseable"),
        ("跟进记录", 6, "跟进日期", "error", "date.time_only"),
        ("跟进记录", 7, "跟进日期", "error", "cell.error"),
    ]
    assert [x.row for x in ds.followups] == [8]
    assert ds.issues[2].message == "跟进日期“1/2/2025”有歧义：可能是 2025-01-02，也可能是 2025-02-01"
    assert ds.issues[2].suggestion == "请按年-月-日书写，例如 2025-01-02"
    assert ds.issues[1].value == "2025/13/45"


def test_a_date_without_a_year_says_so_and_shows_the_year_to_add() -> None:
    # as of 2025-03-10: a contact cannot lie in the future, so its example year may be last year's.
    rows = (
        customers(c(customer_id="C001", name="甲", next_follow_up="3月20日")),
        followups(
            f(customer_id="C001", date="3月8日"),
            f(customer_id="C001", date="11/20"),
            f(customer_id="C001", date="2月29日"),
            f(customer_id="C001", date="3/4"),
        ),
    )
    ds = check(*rows)
    assert found(ds) == [
        ("客户", 2, "下次跟进日期", "warning", "date.no_year"),
        *[("跟进记录", row, "跟进日期", "error", "date.no_year") for row in (2, 3, 4, 5)],
    ]
    assert ds.followups == []
    assert [(i.message, i.suggestion) for i in ds.issues[:3]] == [
        ("下次跟进日期“3月20日”没有写年份，已忽略", "写上年份，例如 2025年3月20日"),
        ("跟进日期“3月8日”没有写年份", "写上年份，例如 2025年3月8日"),
        ("跟进日期“11/20”没有写年份", "写上年份，例如 2024年11月20日"),
    ]
    assert ds.issues[3].suggestion == "写上年份，例如 2024年2月29日"
    english = check(*rows, cfg=EN)
    assert (english.issues[2].message, english.issues[2].suggestion) == ("跟进日期 '11/20' has no year", "Add the year, e.g. 2024-11-20")
    assert english.issues[4].suggestion == "Add the year, e.g. 2025-01-02"  # 3/4: which is the month is not certain


def test_a_weekday_beside_a_date_is_checked_against_it() -> None:
    rows = (
        customers(c(customer_id="C001", name="甲")),
        followups(f(customer_id="C001", date="2025-03-07（周五） 14:00-15:00"), f(customer_id="C001", date="2025-03-07 周四")),
    )
    ds = check(*rows)
    assert [x.at for x in ds.followups] == [datetime(2025, 3, 7, 14, 0)]
    assert found(ds) == [("跟进记录", 3, "跟进日期", "error", "date.weekday")]
    assert (ds.issues[0].message, ds.issues[0].suggestion) == (
        "跟进日期“2025-03-07 周四”的星期与日期不符：2025-03-07 是周五", "核对日期和星期，改正写错的那一个")
    assert check(*rows, cfg=EN).issues[0].message == "跟进日期 '2025-03-07 周四': 2025-03-07 is a Friday, not the weekday written"


def test_an_owner_cell_naming_several_reps_counts_for_the_first() -> None:
    ds = check(
        customers(c(customer_id="C1", name="甲", owner="张三/李四"), c(customer_id="C2", name="乙", owner="张三 / 王五")),
        followups(f(customer_id="C1", date="2025-03-01", owner="李四、张三"), f(customer_id="C2", date="2025-03-02", owner="张三和李四")),
    )
    assert found(ds) == [("客户", 2, "负责人", "warning", "owner.several"), ("客户", 3, "负责人", "warning", "owner.not_in_team")]
    assert (ds.issues[0].message, ds.issues[0].suggestion) == (
        "负责人写了 2 个人（张三、李四）：每位客户只有一位负责人，按第一位（张三）计算和提醒", "只保留一位负责人，其他人可写在备注中")
    assert [x.owner for x in ds.customers] == ["张三", "张三 / 王五"]  # 王五 is nobody the add-on knows: as written
    assert [x.owner for x in ds.followups] == ["李四", "张三"]  # a joint visit counts for the first named
    english = check(customers(c(customer_id="C1", name="甲", owner="张三 & 李四")), cfg=EN)
    assert english.issues[0].message == "Owner names 2 people (张三, 李四): a customer has one owner; counted and reminded as 张三"


def test_a_contact_by_several_channels_counts_as_the_first() -> None:
    ds = check(
        customers(c(customer_id="C1", name="甲")),
        followups(f(customer_id="C1", date="2025-03-01", channel="电话+微信"), f(customer_id="C1", date="2025-03-02", channel="微信/电话"),
                  f(customer_id="C1", date="2025-03-03", channel="电话/飞鸽")),
    )
    assert [x.channel for x in ds.followups] == ["phone", "wechat", None]
    assert found(ds) == [("跟进记录", 4, "方式", "warning", "vocab.unknown")]  # one of them is no channel the add-on knows


def test_a_short_name_for_one_customer_gets_its_full_name_as_the_fix() -> None:
    ds = check(
        customers(c(name="上海云启科技有限公司"), c(name="北京云启咨询有限公司"), c(name="深圳市华信电子有限公司")),
        followups(f(customer_name="华信", date="2025-03-01"), f(customer_name="云启", date="2025-03-02"), f(customer_name="新客户", date="2025-03-03")),
    )
    assert [i.code for i in ds.issues] == ["followup.orphan"] * 3 and ds.followups == []  # not matched: only a hint
    assert ds.issues[0].suggestion == "是不是“深圳市华信电子有限公司”（“客户”表第 4 行）？请写客户全称或客户编号"
    assert ds.issues[1].suggestion == ds.issues[2].suggestion == "检查拼写，或先在“客户”表中添加该客户"  # two or none contain it


def test_placeholders_in_optional_cells_count_as_blank() -> None:
    """无, 暂无, -, N/A … say "nothing here": not a bad phone, address, date or a rep called 无."""
    ds = check(
        customers(
            c(customer_id="C1", name="甲", owner="无", phone="暂无", email="N/A", next_follow_up="待定", contact="-"),
            c(customer_id="C2", name="乙", owner="张三", phone="138 0013 8000（微信同号）", email="/"),
        ),
        followups(f(customer_id="C2", date="2025-03-01", owner="-", next_date="待定")),
        tm=team(
            m(name="张三", email="zhangsan@example.com", manager="无", manager_email="无", active="Y"),
            m(name="李四", email="暂无", active="Y"),
        ),
    )
    assert found(ds) == [("团队", 3, "邮箱", "warning", "team.no_email")]  # 李四 cannot be reminded: said once, as for a blank
    first, second = ds.customers
    assert (first.owner, first.phone, first.email, first.next_follow_up, first.contact) == (None, None, None, None, None)
    assert second.phone == "138 0013 8000（微信同号）"  # kept as written; only judged without the note
    assert ds.followups[0].owner == "张三" and ds.followups[0].next_date is None  # the customer's owner
    assert (ds.team[0].manager, ds.team[0].manager_email, ds.team[1].email) == (None, None, None)


def test_future_followups_are_errors_but_later_today_is_fine() -> None:
    ds = check(
        customers(c(customer_id="C001", name="甲")),
        followups(
            f(customer_id="C001", date=datetime(2025, 3, 10, 23, 59)),
            f(customer_id="C001", date="2025-03-11"),
            f(customer_id="C001", date=datetime(2025, 3, 11, 0, 0)),
            f(customer_id="C001", date="2025-03-09"),
        ),
        cfg=EN,
    )
    assert found(ds) == [
        ("跟进记录", 3, "跟进日期", "error", "date.future"),
        ("跟进记录", 4, "跟进日期", "error", "date.future"),
    ]
    assert [x.row for x in ds.followups] == [2, 5]
    assert ds.issues[0].message == "Follow-up date 2025-03-11 is after today (2025-03-10)"
    assert ds.issues[0].suggestion == "Log a contact once it has happened; put a planned contact in '下次跟进日期'"


def test_optional_dates_warn_and_count_as_missing() -> None:
    ds = check(
        customers(c(customer_id="C001", name="甲", created="2025-02-30", next_follow_up="soon")),
        followups(f(customer_id="C001", date="2025-03-01", next_date="2025/13/01")),
    )
    assert found(ds) == [
        ("客户", 2, "创建日期", "warning", "date.nonexistent"),
        ("客户", 2, "下次跟进日期", "warning", "date.unparseable"),
        ("跟进记录", 2, "下次跟进日期", "warning", "date.nonexistent"),
    ]
    assert ds.customers[0].created is None and ds.customers[0].next_follow_up is None and ds.customers[0].valid
    assert ds.followups[0].next_date is None
    assert ds.issues[0].message == "创建日期“2025-02-30”不是真实存在的日期，已忽略"


def test_followup_before_the_customer_was_created_is_a_warning() -> None:
    ds = check(
        customers(c(customer_id="C001", name="甲", created="2025-02-10"), c(customer_id="C002", name="乙", created=datetime(2025, 2, 10, 15, 0))),
        followups(
            f(customer_id="C001", date="2025-02-09"),  # a day before: warning
            f(customer_id="C001", date="2025-02-10"),  # same day: fine
            f(customer_id="C002", date=datetime(2025, 2, 10, 9, 0)),  # same day, earlier hour: warning
            f(customer_id="C002", date="2025-02-10"),  # same day, no time: fine
        ),
    )
    assert found(ds) == [
        ("跟进记录", 2, "跟进日期", "warning", "followup.before_created"),
        ("跟进记录", 4, "跟进日期", "warning", "followup.before_created"),
    ]
    assert [x.row for x in ds.followups] == [2, 3, 4, 5]
    assert ds.issues[0].message == "跟进日期 2025-02-09 早于客户的创建日期 2025-02-10（“客户”表第 2 行）"


def test_planned_next_date_before_the_contact_is_a_warning_and_ignored() -> None:
    ds = check(
        customers(c(customer_id="C001", name="甲")),
        followups(f(customer_id="C001", date="2025-03-05", next_date="2025-03-04"), f(customer_id="C001", date="2025-03-05", next_date="2025-03-05")),
    )
    assert found(ds) == [("跟进记录", 2, "下次跟进日期", "warning", "followup.next_before_date")]
    assert ds.issues[0].message == "下次跟进日期 2025-03-04 早于本次跟进日期 2025-03-05，已忽略"
    assert [x.next_date for x in ds.followups] == [None, date(2025, 3, 5)]  # a contact remains, its date is not a due date


def test_a_next_date_a_year_off_does_not_escalate_a_customer_just_contacted() -> None:
    from addon.core.cadence import evaluate

    ds = check(customers(c(customer_id="C001", name="甲", tier="B")), followups(f(customer_id="C001", date="2025-03-07", next_date="2024-03-14")))
    (status,) = evaluate(ds, ZH, AS_OF)
    assert status.status == "ok" and status.days_overdue == 0 and status.rule.code == "tier"
    assert status.next_due == date(2025, 3, 21)  # tier B: 14 days after the contact


# --- formats: e-mail, phone, amounts, yes/no ------------------------------------------------------


def test_customer_contact_formats_are_warnings() -> None:
    ds = check(customers(
        c(customer_id="C1", name="甲", phone="13800138000", email="a@jia.cn"),
        c(customer_id="C2", name="乙", phone="010-12345678", email="b＠yi.cn"),
        c(customer_id="C3", name="丙", phone="12345", email="not an email"),
        c(customer_id="C4", name="丁", phone=13900139000.0, email="a@ding.cn; b@ding.cn"),
    ))
    assert found(ds) == [
        ("客户", 3, "电话", "warning", "phone.not_mobile"),
        ("客户", 3, "邮箱", "warning", "email.invalid"),
        ("客户", 4, "电话", "warning", "phone.invalid"),
        ("客户", 4, "邮箱", "warning", "email.invalid"),
    ]
    assert ds.issues[1].suggestion == "是不是 b@yi.cn？"
    assert [(x.phone, x.email, x.valid) for x in ds.customers] == [
        ("13800138000", "a@jia.cn", True), ("010-12345678", None, True), ("12345", None, True),
        ("13900139000", "a@ding.cn; b@ding.cn", True),
    ]


def test_amounts_and_protected_flags() -> None:
    ds = check(customers(
        c(customer_id="C1", name="甲", value="1.2万", protected="是"),
        c(customer_id="C2", name="乙", value="about 10k", protected="maybe"),
        c(customer_id="C3", name="丙", value=5000, protected=True),
        c(customer_id="C4", name="丁", value="#DIV/0!", protected=None),
    ), cfg=EN)
    assert found(ds) == [
        ("客户", 3, "预计金额", "warning", "number.unparseable"),
        ("客户", 3, "锁定", "warning", "bool.unknown"),
        ("客户", 5, "预计金额", "warning", "cell.error"),
    ]
    assert [(x.value, x.protected) for x in ds.customers] == [(12000.0, True), (None, False), (5000.0, True), (None, False)]
    assert ds.issues[1].message == "锁定 'maybe' is not yes/no; treated as no"
    assert ds.issues[2].message == "预计金额 shows the formula error #DIV/0!; ignored"


def test_formula_errors_in_required_cells_are_errors() -> None:
    ds = check(customers(c(customer_id="C1", name="#N/A"), c(customer_id="C2", name="乙", notes="#NAME?")))
    assert found(ds) == [
        ("客户", 2, "客户名称", "error", "cell.error"),
        ("客户", 3, "备注", "warning", "cell.error"),
    ]
    assert [(x.key, x.valid, x.notes) for x in ds.customers] == [("C1", False, None), ("C2", True, None)]


# --- vocabularies ---------------------------------------------------------------------------------


def test_tier_blank_unknown_and_synonyms() -> None:
    ds = check(customers(
        c(customer_id="C1", name="甲", tier="重点"),
        c(customer_id="C2", name="乙", tier=None),
        c(customer_id="C3", name="丙", tier="A+"),
        c(customer_id="C4", name="丁", tier="c"),
    ))
    assert found(ds) == [("客户", 4, "客户等级", "warning", "vocab.unknown")]
    assert [(x.tier, x.tier_given) for x in ds.customers] == [("A", True), ("B", False), ("B", False), ("C", True)]
    issue = ds.issues[0]
    assert issue.message == "未知的客户等级“A+”，按默认等级 B 处理"
    assert issue.suggestion.startswith("是不是“A”？可用的值：A, B, C。")
    assert "vocab: tier: <标准值>: [A+]" in issue.suggestion
    custom = check(customers(c(customer_id="C1", name="甲", tier="战略"), c(customer_id="C2", name="乙")),
                   cfg=config(vocab={"tier": {"A": ["战略"]}}, defaults={"tier": "C"}))
    assert found(custom) == []
    assert [(x.tier, x.tier_given) for x in custom.customers] == [("A", True), ("C", False)]


def test_unknown_customer_stage_becomes_new_and_suggests_the_nearest() -> None:
    ds = check(customers(c(customer_id="C1", name="甲", stage="成交了"), c(customer_id="C2", name="乙", stage="Closed Won")), cfg=EN)
    assert found(ds) == [("客户", 2, "阶段", "warning", "vocab.unknown")]
    assert [x.stage for x in ds.customers] == ["new", "won"]
    assert ds.issues[0].message == "Unknown 阶段 '成交了'; treated as 'New'"
    assert ds.issues[0].suggestion.startswith("Did you mean 'Won'? Known values: New, Qualified, Proposal, Negotiation, Won,")


def test_unknown_channel_and_followup_stage_are_dropped_with_a_warning() -> None:
    ds = check(
        customers(c(customer_id="C1", name="甲")),
        followups(f(customer_id="C1", date="2025-03-01", channel="飞鸽传书", stage="快成了"), f(customer_id="C1", date="2025-03-02", channel="微信", stage="输单")),
    )
    assert found(ds) == [
        ("跟进记录", 2, "方式", "warning", "vocab.unknown"),
        ("跟进记录", 2, "跟进后阶段", "warning", "vocab.unknown"),
    ]
    assert [(x.channel, x.stage) for x in ds.followups] == [(None, None), ("wechat", "lost")]
    assert ds.issues[0].message == "未知的方式“飞鸽传书”，已忽略"


# --- follow-ups find their customer ---------------------------------------------------------------


def test_orphans_ambiguous_names_and_mismatched_names() -> None:
    ds = check(
        customers(c(customer_id="C1", name="甲公司", owner="张三"), c(customer_id="C2", name="乙公司"), c(customer_id="C3", name="乙公司")),
        followups(
            f(customer_id="C9", date="2025-03-01"),  # unknown ID
            f(customer_id="C8", customer_name="甲公司", date="2025-03-01"),  # unknown ID, known name: hint
            f(customer_name="丁公司", date="2025-03-01"),  # unknown name
            f(customer_name="乙公司", date="2025-03-01"),  # two customers with that name
            f(customer_name=" 甲 公司 ", date="2025-03-01"),  # name only: normalized match
            f(customer_id="C1", customer_name="乙公司", date="2025-03-02"),  # the ID wins, with a warning
            f(customer_id="c1", date="2025-03-03"),  # IDs ignore case
            f(owner="张三", date="2025-03-03"),  # no customer at all
        ),
    )
    assert found(ds) == [
        ("客户", 4, "客户名称", "warning", "customer.probable_duplicate"),
        ("跟进记录", 2, "客户编号", "error", "followup.orphan"),
        ("跟进记录", 3, "客户编号", "error", "followup.orphan"),
        ("跟进记录", 4, "客户名称", "error", "followup.orphan"),
        ("跟进记录", 5, "客户名称", "error", "followup.ambiguous"),
        ("跟进记录", 7, "客户名称", "warning", "followup.name_mismatch"),
        ("跟进记录", 9, "客户编号", "error", "required.missing"),
    ]
    assert [(x.row, x.customer_key) for x in ds.followups] == [(6, "C1"), (7, "C1"), (8, "C1")]
    by_row = {i.row: i for i in ds.issues if i.tab == "跟进记录"}
    assert by_row[2].message == "“客户”表中没有客户编号为“C9”的客户"
    assert by_row[3].suggestion == "客户名称“甲公司”对应编号 C1（“客户”表第 2 行）：编号是否写错？"
    assert by_row[5].message == "“乙公司”对应 2 个客户（“客户”表第 3, 4 行）"
    assert by_row[7].message == "编号 C1 是客户“甲公司”（“客户”表第 2 行），但本行写的是“乙公司”"
    assert by_row[9].message == "没有填写客户（客户编号为空）"


def test_followups_need_only_one_of_id_or_name_columns() -> None:
    ds = check(customers(c(customer_id="C1", name="甲")), followups(["甲", "2025-03-01"], head=["客户", "日期"]))
    assert found(ds) == [] and [x.customer_key for x in ds.followups] == ["C1"]


def test_followup_owner_defaults_to_the_customer_owner() -> None:
    ds = check(
        customers(c(customer_id="C1", name="甲", owner="张三"), c(customer_id="C2", name="乙")),
        followups(
            f(customer_id="C1", date="2025-03-01"),
            f(customer_id="C1", date="2025-03-02", owner="李四"),
            f(customer_id="C2", date="2025-03-03"),
            f(customer_id="C2", date="2025-03-04", owner=" 李 四 "),  # a member, written another way
            f(customer_id="C2", date="2025-03-05", owner="实习生小王"),  # not a member: kept as written
        ),
    )
    assert [x.owner for x in ds.followups] == ["张三", "李四", None, "李四", "实习生小王"]
    assert found(ds) == []


def test_followups_for_an_invalid_customer_still_count() -> None:
    ds = check(customers(c(customer_id="C1", name=None)), followups(f(customer_id="C1", date="2025-03-01")))
    assert [x.valid for x in ds.customers] == [False]
    assert [x.customer_key for x in ds.followups] == ["C1"]


# --- team and owners ----------------------------------------------------------------------------


def test_owner_not_in_team_is_a_warning_with_the_nearest_name() -> None:
    tm = team(m(name="张三丰", email="zsf@example.com"), m(name="Li Si", email="lisi@example.com"))
    ds = check(customers(
        c(customer_id="C1", name="甲", owner="张三"),
        c(customer_id="C2", name="乙", owner="lisi@example.com"),  # an e-mail of a member is fine
        c(customer_id="C3", name="丙", owner=" li  si "),
        c(customer_id="C4", name="丁", owner=None),  # unassigned: the public pool
    ), tm=tm)
    assert found(ds) == [("客户", 2, "负责人", "warning", "owner.not_in_team")]
    # Owners that match a member are written the Team's way, so reminders and rankings see one person.
    assert [x.owner for x in ds.customers] == ["张三", "Li Si", "Li Si", None]
    assert ds.issues[0].message == "负责人“张三”不在“团队”表中"
    assert ds.issues[0].suggestion == "是不是“张三丰”？把张三加入“团队”表并填写邮箱，或改正姓名"


def test_without_a_team_tab_there_is_one_warning_and_no_owner_checks() -> None:
    ds = check(customers(c(customer_id="C1", name="甲", owner="赵六")), tm=None, cfg=EN)
    assert found(ds) == [("Team", None, "", "warning", "tab.missing")]
    assert ds.team == [] and "team" not in ds.tabs
    named = check(customers(c(customer_id="C1", name="甲")), tm=None, cfg=config(tabs={"team": "销售团队"}))
    assert found(named) == [("销售团队", None, "", "warning", "tab.missing")]


def test_team_rows() -> None:
    tm = team(
        m(name="张三", email="zhangsan@example.com", active="在职"),
        m(name="李四", email=None, active="离职"),
        m(name="王五", email="wangwu@", manager_email="boss＠example.com", active="N"),
        m(name="赵六", email="zhaoliu@example.com", active="休假", webhook="qyapi.weixin.qq.com/x"),
        m(name=" 张三 ", email="zs2@example.com"),
        m(name=None, email="ghost@example.com"),
        m(name="钱七", email="qianqi@example.com", webhook="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1"),
    )
    ds = check(customers(c(customer_id="C1", name="甲", owner="李四"), c(customer_id="C2", name="乙", owner="王五")), tm=tm)
    assert found(ds) == [
        ("团队", 3, "邮箱", "warning", "team.no_email"),
        ("团队", 4, "邮箱", "error", "email.invalid"),
        ("团队", 4, "上级邮箱", "error", "email.invalid"),
        ("团队", 5, "在职", "warning", "bool.unknown"),
        ("团队", 5, "Webhook", "warning", "webhook.invalid"),
        ("团队", 6, "姓名", "warning", "team.duplicate"),
        ("团队", 7, "姓名", "error", "required.missing"),
    ]
    assert [(x.name, x.email, x.manager_email, x.active, x.webhook, x.row) for x in ds.team] == [
        ("张三", "zhangsan@example.com", None, True, None, 2),
        ("李四", None, None, False, None, 3),  # inactive is fine; owners who left keep their customers
        ("王五", None, None, False, None, 4),  # kept (no owner warnings), but no address
        ("赵六", "zhaoliu@example.com", None, True, None, 5),
        ("张三", "zs2@example.com", None, True, None, 6),
        ("钱七", "qianqi@example.com", None, True, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1", 8),
    ]
    by_row = {(i.row, i.column): i for i in ds.issues}
    assert by_row[(3, "邮箱")].message == "李四没有邮箱：提醒发不到此人"
    assert by_row[(4, "邮箱")].message == "邮箱“wangwu@”不是有效的邮箱地址：提醒发不到此人"
    assert by_row[(4, "上级邮箱")].suggestion == "是不是 boss@example.com？"


def test_team_without_an_email_column_warns_once() -> None:
    ds = check(customers(c(customer_id="C1", name="甲", owner="张三")), tm=team(["张三"], ["李四"], head=["姓名"]))
    assert found(ds) == [("团队", None, "", "warning", "team.no_email_column")]
    assert [x.email for x in ds.team] == [None, None]


# --- ordering and messages --------------------------------------------------------------------


def test_issues_are_sorted_by_tab_then_row_then_column() -> None:
    tm = team(m(name="张三", email="bad"))
    ds = check(
        customers(c(customer_id="C1", name="甲", email="x"), c(customer_id="C1", name="乙", tier="Z")),
        followups(f(customer_id="C9", date="2025-03-01"), f(customer_id="C1", date="2025-04-01")),
        tm=tm,
    )
    assert [(i.tab, i.row, i.column) for i in ds.issues] == [
        ("客户", 2, "邮箱"),
        ("客户", 3, "客户编号"),
        ("客户", 3, "客户等级"),
        ("跟进记录", 2, "客户编号"),
        ("跟进记录", 3, "跟进日期"),
        ("团队", 2, "邮箱"),
    ]


def test_messages_follow_the_locale() -> None:
    table = customers(c(customer_id="C1", name="甲", phone="12345"))
    zh, en = one(check(table)), one(check(table, cfg=EN))
    assert (zh.code, en.code) == ("phone.invalid", "phone.invalid")
    assert zh.message == "电话“12345”不是有效的电话号码"
    assert zh.suggestion == "手机号如 13800138000（可带 +86），固话如 010-12345678"
    assert en.message == "电话 '12345' is not a valid phone number"
    assert en.suggestion == "Write a mobile number like 13800138000 (+86 allowed) or a landline like 010-12345678"


def test_unknown_roles_and_missing_customers_do_not_break() -> None:
    ds = validate({"followups": followups(f(customer_id="C1", date="2025-03-01")), "runlog": Table("运行记录", [["x"]])}, ZH, AS_OF)
    # The pipeline reports the missing Customers tab; here every follow-up is an orphan.
    assert found(ds) == [("跟进记录", 2, "客户编号", "error", "followup.orphan"), ("团队", None, "", "warning", "tab.missing")]


def test_fast_followup_is_the_same_record_as_the_constructor() -> None:
    args = (7, "C1", datetime(2025, 3, 1, 9, 0), True, "张三", "phone", "ok", "n", date(2025, 3, 8), "won")
    fast, slow = _fast_followup(*args), FollowUp(*args)
    assert make_followup is _fast_followup
    assert fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow)
    assert fast.day == date(2025, 3, 1)
    with pytest.raises(AttributeError):
        fast.row = 8  # type: ignore[misc]


# --- never raises -------------------------------------------------------------------------------

any_cell = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["#N/A", "#DIV/0!", "  ", "C1", "C2", "甲", "张三", "2025-03-01", "2025/13/45", "1/2/2025",
                     "13800138000", "a@b.co", "A", "成交", "微信", "Y", "¥1,000", "2099-01-01"]),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
)


def _rows(width: int) -> st.SearchStrategy[list[list[Cell]]]:
    return st.lists(st.lists(any_cell, min_size=0, max_size=width + 2), max_size=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_rows(len(CUSTOMER_HEAD)), _rows(len(FOLLOWUP_HEAD)), _rows(len(TEAM_HEAD)), st.sampled_from([ZH, EN]))
def test_any_cell_content_gives_a_record_or_an_issue_and_never_raises(
    cust_rows: list[list[Cell]], fu_rows: list[list[Cell]], team_rows: list[list[Cell]], cfg: Config
) -> None:
    ds = check(customers(*cust_rows), followups(*fu_rows), team(*team_rows), cfg=cfg)

    def blank(value: Cell) -> bool:
        return value is None or (isinstance(value, str) and not value.strip())

    def non_blank(rows: list[list[Cell]], width: int) -> set[int]:
        return {2 + i for i, r in enumerate(rows) if not all(blank(v) for v in r[:width])}

    flagged = {(i.tab, i.row) for i in ds.issues if i.severity == "error"}
    assert {x.row for x in ds.customers} == non_blank(cust_rows, len(CUSTOMER_HEAD))
    fu_rows_seen = {x.row for x in ds.followups} | {r for t, r in flagged if t == "跟进记录"}
    assert fu_rows_seen == non_blank(fu_rows, len(FOLLOWUP_HEAD))
    team_seen = {x.row for x in ds.team} | {r for t, r in flagged if t == "团队"}
    assert team_seen == non_blank(team_rows, len(TEAM_HEAD))
    assert not ({x.row for x in ds.followups} & {r for t, r in flagged if t == "跟进记录"})
    assert len({x.key for x in ds.customers}) == len(ds.customers)
    for issue in ds.issues:
        assert issue.message and issue.code and isinstance(issue.value, str)


# --- totals rows ---------------------------------------------------------------------------------


@pytest.mark.parametrize("label", ["合计", "合  计：", " 总计", "小计:", "Total", "GRAND TOTAL", "Sub-total", "Totals"])
def test_a_totals_row_is_skipped_with_a_warning_not_read_as_a_customer(label: str) -> None:
    """A 合计 row under the list (with a count in the name column, a sum in 预计金额) is neither a
    customer who would be reminded about nor an error that fails every run."""
    ds = check(customers(c(customer_id="C001", name="甲公司", owner="张三"), c(customer_id=label, name="1家", value=12000)),
               followups(f(customer_id="C001", date=date(2025, 3, 3)), f(customer_id=label, outcome=1)))
    assert [x.customer_id for x in ds.customers] == ["C001"] and len(ds.followups) == 1
    assert found(ds) == [("客户", 3, "", "warning", "row.totals"), ("跟进记录", 3, "", "warning", "row.totals")]
    assert ds.issues[0].value == label.strip() and f"“{label.strip()}”" in ds.issues[0].message


def test_a_totals_label_in_the_first_filled_cell_counts_even_after_blank_columns() -> None:
    head = ["", *CUSTOMER_HEAD]
    ds = check(customers(["", *c(customer_id="C001", name="甲公司")], [None, "合计", None, None], head=head))
    assert [x.customer_id for x in ds.customers] == ["C001"] and [i.code for i in ds.issues] == ["row.totals"]


@pytest.mark.parametrize("cells", [
    c(customer_id="T001", name="Total Logistics Ltd"),  # an ID that starts like "Total"
    c(customer_id=None, name="Total S.A."),  # a company whose name starts with the word
    c(customer_id="S-1", name="合计科技有限公司"),  # the label inside a name, not the first cell
    c(customer_id=1001, name="Sum Corp"),  # a numeric ID comes first
])
def test_rows_that_only_look_like_totals_are_customers(cells: list[Cell]) -> None:
    ds = check(customers(cells))
    assert len(ds.customers) == 1 and not [i for i in ds.issues if i.code == "row.totals"]


@pytest.mark.parametrize("said", ["上门拜访", "电话沟通", "微信沟通", "邮件沟通", "腾讯会议"])
def test_common_chinese_ways_to_name_a_channel_are_known(said: str) -> None:
    ds = check(customers(c(customer_id="C001", name="甲公司", owner="张三")), followups(f(customer_id="C001", date=date(2025, 3, 3), channel=said)))
    assert ds.followups[0].channel is not None and not ds.issues
