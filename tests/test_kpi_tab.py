"""The KPI tab shows exactly the numbers of Kpis.to_json(), in both languages, with formats and charts that fit."""

from __future__ import annotations

import json
import re
from datetime import date, datetime

import pytest

from addon.config import load_config
from addon.core.kpi import COUNT_KEYS, RATE_KEYS, SCALAR_KEYS, compute
from addon.core.kpi_tab import DEFINITIONS, FIGURES, NONE, UNDER_FOLLOWED_ROWS, headline_lines, kpi_tab
from addon.model import Customer, Dataset, FollowUp, StyledCell
from tests.test_kpi import AS_OF, book

LOCALES = ("zh-CN", "en")


def plain(cell):
    return cell.value if isinstance(cell, StyledCell) else cell


def style(cell):
    return cell.style if isinstance(cell, StyledCell) else None


def shown(value):
    """What the tab must show for a JSON value."""
    return NONE if value is None else value


def find_row(rows, first: str, start: int = 0) -> int:
    for index in range(start, len(rows)):
        if rows[index] and plain(rows[index][0]) == first:
            return index
    raise AssertionError(f"no row starting with {first!r}")


@pytest.fixture(scope="module")
def kpis():
    dataset, statuses = book()
    return compute(dataset, statuses, load_config(None), AS_OF), dataset


@pytest.mark.parametrize("locale", LOCALES)
def test_name_role_title(kpis, locale):
    k, dataset = kpis
    tab = kpi_tab(k, dataset, locale)
    assert tab.role == "kpi"
    assert tab.name == ("KPI汇总" if locale == "zh-CN" else "KPI")
    assert style(tab.rows[0][0]) == "title"
    title = plain(tab.rows[0][0])
    assert ("2026年11月23日" in title and "30 天" in title) if locale == "zh-CN" else ("2026-11-23" in title and "30 days" in title)


@pytest.mark.parametrize("locale", LOCALES)
def test_headline_cells_equal_json(kpis, locale):
    k, dataset = kpis
    doc = k.to_json()
    rows = kpi_tab(k, dataset, locale).rows
    lang = 0 if locale == "zh-CN" else 1
    header = find_row(rows, ("指标", "Figure")[lang])
    assert all(style(c) == "header" for c in rows[header])
    for offset, key in enumerate(SCALAR_KEYS, start=1):
        row = rows[header + offset]
        assert plain(row[0]) == FIGURES[key][lang]
        assert plain(row[1]) == shown(doc[key]), key
        assert plain(row[2]) == shown(doc["previous"][key]), key
        assert plain(row[3]) == shown(doc["change"][key]), key
        assert plain(row[5]).startswith(DEFINITIONS[key][lang][:8])
        if doc[key] is not None and key in ("on_time_rate", "coverage", "win_rate", "lead_conversion"):
            assert style(row[1]) == "percent"
    on_time = rows[header + 1]
    assert plain(on_time[4]) == "4 / 7"
    assert plain(rows[header + 1 + SCALAR_KEYS.index("avg_followups")][1]) == 1.4
    assert style(rows[header + 1 + SCALAR_KEYS.index("avg_followups")][1]) == "decimal"
    assert style(rows[header + 1 + SCALAR_KEYS.index("followups_in_window")][1]) == "number"
    # Unknown previous coverage and win rate show a dash, never 0.
    assert plain(rows[header + 1 + SCALAR_KEYS.index("coverage")][2]) == NONE
    assert plain(rows[header + 1 + SCALAR_KEYS.index("win_rate")][3]) == NONE


@pytest.mark.parametrize("locale", LOCALES)
def test_all_time_cells_equal_json(kpis, locale):
    k, dataset = kpis
    doc = k.to_json()["all_time"]
    rows = kpi_tab(k, dataset, locale).rows
    start = find_row(rows, ("每客户平均跟进次数", "Follow-ups per customer")[0 if locale == "zh-CN" else 1])
    assert plain(rows[start][1]) == doc["followups_per_customer"] == 1.6
    assert plain(rows[start + 3][1]) == doc["win_rate"]
    assert style(rows[start + 3][1]) == "percent"


@pytest.mark.parametrize("locale", LOCALES)
def test_funnel_block_and_chart(kpis, locale):
    k, dataset = kpis
    doc = k.to_json()
    tab = kpi_tab(k, dataset, locale)
    chart = next(c for c in tab.charts if c.kind == "bar")
    header = chart.header_row
    assert [plain(c) for c in tab.rows[header]] == (
        ["阶段", "客户数", "金额", "阶段转化率"] if locale == "zh-CN" else ["Stage", "Customers", "Value", "Stage conversion"]
    )
    assert chart.data_rows == len(doc["funnel"]) == 6 and chart.category_col == 0 and chart.value_cols == [1]
    labels = ["初次接触", "需求分析", "方案演示", "报价谈判", "成交", "售后服务"] if locale == "zh-CN" else \
        ["New", "Qualified", "Proposal", "Negotiation", "Won", "After sales"]
    for offset, item in enumerate(doc["funnel"], start=1):
        row = tab.rows[header + offset]
        assert plain(row[0]) == labels[offset - 1]
        assert (plain(row[1]), plain(row[2]), plain(row[3])) == (item["customers"], item["value"], shown(item["conversion"]))
    assert tab.rows[header + chart.data_rows + 1] == []  # the block ends where the chart's data ends
    lost = find_row(tab.rows, ("流失（不计入漏斗）", "Lost (not in the funnel)")[0 if locale == "zh-CN" else 1])
    assert plain(tab.rows[lost][1]) == doc["lost"] == 1
    assert plain(tab.rows[lost + 1][1]) == doc["dormant"] == 1


@pytest.mark.parametrize("locale", LOCALES)
def test_leaderboard_block(kpis, locale):
    k, dataset = kpis
    doc = k.to_json()
    rows = kpi_tab(k, dataset, locale).rows
    header = find_row(rows, ("负责人", "Owner")[0 if locale == "zh-CN" else 1])
    unassigned = "（未分配）" if locale == "zh-CN" else "(unassigned)"
    for offset, item in enumerate(doc["leaderboard"], start=1):
        row = [plain(c) for c in rows[header + offset]]
        assert row == [item["owner"] or unassigned, item["customers"], item["followups"], item["overdue"],
                       shown(item["on_time_rate"]), item["won"], item["won_value"], item["pool"]]
    assert [plain(r[0]) for r in rows[header + 1: header + 5]] == ["Wang", "Li", "Zhao", unassigned]
    assert style(rows[header + 1][4]) == "percent"


@pytest.mark.parametrize("locale", LOCALES)
def test_trend_block_and_chart(kpis, locale):
    k, dataset = kpis
    doc = k.to_json()
    tab = kpi_tab(k, dataset, locale)
    chart = next(c for c in tab.charts if c.kind == "line")
    assert chart.data_rows == 12 and chart.value_cols == [1, 2, 3] and chart.category_col == 0
    assert [plain(c) for c in tab.rows[chart.header_row]][0] == ("周" if locale == "zh-CN" else "Week")
    for offset, week in enumerate(doc["trend"], start=1):
        row = [plain(c) for c in tab.rows[chart.header_row + offset]]
        assert row == [week["week"], week["followups"], week["new_customers"], week["won"]]
    assert tab.rows[chart.header_row + 13] == []
    funnel = next(c for c in tab.charts if c.kind == "bar")
    assert chart.anchor_row >= funnel.anchor_row + 15  # charts do not overlap
    width = max(len(r) for r in tab.rows[funnel.header_row: chart.header_row + 13])
    assert funnel.anchor_col >= width and chart.anchor_col >= width  # charts sit right of the blocks


@pytest.mark.parametrize("locale", LOCALES)
def test_channel_and_under_followed_blocks(kpis, locale):
    k, dataset = kpis
    doc = k.to_json()
    rows = kpi_tab(k, dataset, locale).rows
    zh = locale == "zh-CN"
    header = find_row(rows, "方式" if zh else "Channel")
    got = {plain(r[0]): plain(r[1]) for r in rows[header + 1: header + 5]}
    assert got == ({"电话": 3, "其他": 2, "拜访": 1, "微信": 1} if zh else {"Phone": 3, "Other": 2, "Visit": 1, "WeChat": 1})
    assert plain(rows[header + 1][2]) == pytest.approx(3 / 7) and style(rows[header + 1][2]) == "percent"
    header = find_row(rows, "客户名称" if zh else "Name", header)
    for offset, item in enumerate(doc["under_followed"], start=1):
        row = rows[header + offset]
        assert [plain(c) for c in row] == [item["name"], item["key"], item["owner"], item["followups"],
                                           date.fromisoformat(item["last_contact"]), item["days_since_contact"]]
        assert style(row[4]) == "date"


def test_long_under_followed_list_is_capped():
    n = UNDER_FOLLOWED_ROWS + 5
    customers = [Customer(key=f"K{i}", row=i + 2, name=f"N{i}", tier="A", created=datetime(2026, 1, 1)) for i in range(n)]
    followups = [FollowUp(row=i + 2, customer_key=f"K{i}", at=datetime(2026, 6, 1)) for i in range(n)]
    dataset = Dataset(customers, followups, [], [])
    k = compute(dataset, [], load_config(None), AS_OF)
    assert len(k.under_followed) == n
    rows = kpi_tab(k, dataset, "en").rows
    assert plain(rows[-1][0]).startswith("… and 5 more")
    assert str(n) in plain(rows[-UNDER_FOLLOWED_ROWS - 3][0])


@pytest.mark.parametrize("locale", LOCALES)
def test_empty_book(locale):
    dataset = Dataset([], [], [], [])
    k = compute(dataset, [], load_config(None), AS_OF)
    tab = kpi_tab(k, dataset, locale)
    rows = tab.rows
    header = find_row(rows, "指标" if locale == "zh-CN" else "Figure")
    assert plain(rows[header + 1][1]) == NONE  # on-time rate: no data
    assert plain(rows[header + 1 + SCALAR_KEYS.index("followups_in_window")][1]) == 0
    for row in rows:
        for cell in row:
            assert plain(cell) != "None"


def test_widths_cover_every_column(kpis):
    k, dataset = kpis
    tab = kpi_tab(k, dataset, "zh-CN")
    used = max(len(r) for r in tab.rows)
    assert set(range(used)) <= set(tab.widths)
    assert all(8 <= w <= 40 for w in tab.widths.values())


def _written(tmp_path, kpis, locale):
    from addon.backends.xlsx_new import write_new_workbook

    k, dataset = kpis
    tab = kpi_tab(k, dataset, locale)
    path = tmp_path / f"kpi-{locale}.xlsx"
    write_new_workbook(path, [tab])
    return tab, path


def _chart_refs(path) -> list[list[str]]:
    """The cell ranges each chart of the workbook points at, in chart order."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as z:
        names = sorted(n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n))
        return [re.findall(r"<c:f>([^<]+)</c:f>", z.read(n).decode()) for n in names]


@pytest.mark.parametrize("locale", LOCALES)
def test_written_workbook_reads_back_the_json_numbers(tmp_path, kpis, locale):
    import python_calamine

    tab, path = _written(tmp_path, kpis, locale)
    doc = kpis[0].to_json()
    sheet = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(tab.name).to_python()
    header = find_row(sheet, "指标" if locale == "zh-CN" else "Figure")
    for offset, key in enumerate(SCALAR_KEYS, start=1):
        expected = NONE if doc[key] is None else pytest.approx(doc[key])
        assert sheet[header + offset][1] == expected, key
    funnel, trend = (next(c for c in tab.charts if c.kind == kind) for kind in ("bar", "line"))
    assert [sheet[funnel.header_row + 1 + i][1] for i in range(funnel.data_rows)] == [r["customers"] for r in doc["funnel"]]
    assert [sheet[trend.header_row + 1 + i][0] for i in range(trend.data_rows)] == [w["week"] for w in doc["trend"]]
    # The charts point at the funnel and trend blocks (1-based A1 rows = 0-based offsets + 1).
    funnel_refs, trend_refs = _chart_refs(path)
    first, last = funnel.header_row + 2, funnel.header_row + 1 + funnel.data_rows
    assert any(ref.endswith(f"$A${first}:$A${last}") for ref in funnel_refs)
    assert any(ref.endswith(f"$B${first}:$B${last}") for ref in funnel_refs)
    first, last = trend.header_row + 2, trend.header_row + 1 + trend.data_rows
    assert {f"$B${first}:$B${last}", f"$C${first}:$C${last}", f"$D${first}:$D${last}"} <= {r.split("!")[-1] for r in trend_refs}


@pytest.mark.libreoffice
def test_libreoffice_opens_the_kpi_tab(tmp_path, kpis, soffice):
    import subprocess

    import python_calamine

    tab, path = _written(tmp_path, kpis, "zh-CN")
    out = tmp_path / "lo"
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to", "xlsx",
                    "--outdir", str(out), str(path)], check=True, capture_output=True, timeout=120)
    sheet = python_calamine.CalamineWorkbook.from_path(str(out / path.name)).get_sheet_by_name(tab.name).to_python()
    doc = kpis[0].to_json()
    header = find_row(sheet, "指标")
    assert sheet[header + 1][1] == pytest.approx(doc["on_time_rate"])
    assert sheet[header + 1 + SCALAR_KEYS.index("coverage")][2] == NONE
    assert len(_chart_refs(out / path.name)) == 2


def _figure_text(value, key: str, locale: str, change: bool = False) -> str:
    """The terminal's rendering of a JSON figure, spelled out independently of the code under test."""
    if value is None:
        return NONE
    if key in RATE_KEYS:
        if change:
            return f"{value * 100:+.1f} 个百分点" if locale == "zh-CN" else f"{value * 100:+.1f} pp"
        return f"{value * 100:.1f}%"
    if key in COUNT_KEYS or key == "won_value_in_window":
        return f"{value:+,.0f}" if change else f"{value:,.0f}"
    return f"{value:+,.1f}" if change else f"{value:,.1f}"


@pytest.mark.parametrize("locale", LOCALES)
def test_headline_lines_show_the_json_figures_in_the_workbook_language(kpis, locale):
    k, _dataset = kpis
    doc = k.to_json()
    lines = headline_lines(k, locale)
    lang = 0 if locale == "zh-CN" else 1
    assert lines[0].startswith("KPI汇总（截至 2026年11月23日" if lang == 0 else "KPI summary (as of 2026-11-23")
    body = lines[2:-1]
    assert len(body) == len(SCALAR_KEYS)
    starts = set()
    for key, line in zip(SCALAR_KEYS, body, strict=True):
        label = FIGURES[key][lang]
        assert line.startswith("  " + label + " ")
        cells = [c.strip() for c in re.split(r"\s{2,}", line[len(label) + 2:].strip())]
        change = doc["change"][key]
        assert cells == [_figure_text(doc[key], key, locale), _figure_text(doc["previous"][key], key, locale),
                         _figure_text(change, key, locale, change=True)], line
        starts.add(len(line) - len(line[len(label) + 2:].lstrip()) + sum(1 for ch in label if ord(ch) > 0x2E80))
    assert len(starts) == 1  # the values line up in one column on a terminal (wide CJK characters count twice)


def test_kpi_command_prints_readable_figures(tmp_path, capsys):
    from addon.cli import main
    from addon.demo_data import write_demo_workbook

    book_path = tmp_path / "book.xlsx"
    write_demo_workbook(book_path, AS_OF, "en")
    config = tmp_path / "config.yaml"
    config.write_text(f"locale: en\nsource: {{excel: {book_path.name}}}\nstate_dir: state\n", encoding="utf-8")
    assert main(["kpi", "--config", str(config), "--as-of", AS_OF.isoformat(), "--quiet"]) == 1  # figures shown; the demo has bad rows
    out = capsys.readouterr().out
    assert "On-time rate" in out and "%" in out and "on_time_rate" not in out
    assert main(["kpi", "--config", str(config), "--as-of", AS_OF.isoformat(), "--quiet", "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    rate = doc["on_time_rate"]
    assert f"{rate * 100:.1f}%" in next(line for line in out.splitlines() if "On-time rate" in line)


def test_kpi_command_without_a_followups_tab_says_why_instead_of_failing(tmp_path, capsys):
    import openpyxl

    from addon.cli import main

    book = openpyxl.Workbook()
    book.active.title = "Customers"
    book.active.append(["Name", "Owner", "Tier"])
    book.active.append(["Acme", "Li", "A"])
    book.save(tmp_path / "book.xlsx")
    config = tmp_path / "config.yaml"
    config.write_text("locale: en\nsource: {excel: book.xlsx}\nstate_dir: state\n", encoding="utf-8")
    for flags in ([], ["--json"]):
        assert main(["kpi", "--config", str(config), "--as-of", AS_OF.isoformat(), "--quiet", *flags]) == 1
        captured = capsys.readouterr()
        assert "No FollowUps tab found" in captured.err and "Traceback" not in captured.err
        if flags:
            assert json.loads(captured.out) is None
        else:
            assert captured.out == ""


@pytest.mark.parametrize("locale", LOCALES)
def test_first_response_is_shown_in_days_when_the_records_only_know_dates(locale):
    # Created 11-02 and 11-05, first contacts two days and one day later, no times: 36 h in the JSON,
    # "1.5" days on the tab and the terminal (never "36 h" for data that cannot tell hours apart).
    customers = [Customer(key=k, row=r, name=k, customer_id=k, created=datetime(2026, 11, d))
                 for k, r, d in (("N1", 2, 2), ("N2", 3, 5))]
    followups = [FollowUp(row=2, customer_key="N1", at=datetime(2026, 11, 4)),
                 FollowUp(row=3, customer_key="N2", at=datetime(2026, 11, 6))]
    dataset = Dataset(customers, followups, [], [])
    k = compute(dataset, [], load_config(None), AS_OF)
    assert k.to_json()["first_response_median_hours"] == 36.0
    lang = 0 if locale == "zh-CN" else 1
    rows = kpi_tab(k, dataset, locale).rows
    row = rows[find_row(rows, FIGURES["first_response_median_days"][lang])]
    assert plain(row[1]) == 1.5 and style(row[1]) == "decimal"
    assert plain(row[2]) == NONE  # nobody was created in the previous window
    assert plain(row[5]) == DEFINITIONS["first_response_median_days"][lang]
    assert not any(r and plain(r[0]) == FIGURES["first_response_median_hours"][lang] for r in rows)
    line = next(x for x in headline_lines(k, locale) if x.startswith("  " + FIGURES["first_response_median_days"][lang]))
    assert line.split()[-3:] == ["1.5", NONE, NONE]
