"""A large, Excel-like workbook (shared strings, styled dates, spans) for speed and crash tests.

Written directly as SpreadsheetML because it must be fast to make (a 17 MB workbook in
seconds) and shaped like what Excel saves, not like what a writer library saves.
Run as a script to benchmark update_workbook on 50 000 customers / 500 000 follow-ups:

    python -m tests.helpers.xlsx_big [customers] [followups]
"""

from __future__ import annotations

import random
import zipfile
from datetime import date, timedelta
from pathlib import Path

from addon.backends.xlsx_xml import col_letters, escape_text
from addon.model import ColumnsPatch, StyledCell, TabSpec, WriteSet

CUSTOMER_HEADERS = ["客户编号", "客户名称", "负责人", "客户等级", "阶段", "创建日期", "下次跟进日期", "预计金额", "锁定", "联系人", "电话", "邮箱", "来源", "备注"]
FOLLOWUP_HEADERS = ["客户编号", "跟进日期", "跟进人", "方式", "结果", "内容", "下次跟进日期", "跟进后阶段"]
OWNERS = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强"]
STAGES = ["初次接触", "需求分析", "方案演示", "报价谈判", "成交", "售后服务", "流失"]
CHANNELS = ["电话", "微信", "邮件", "拜访", "会议"]
_EPOCH = date(1899, 12, 30)

_CT = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>"""
_ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"""
_APP = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><Application>Microsoft Excel</Application><HeadingPairs><vt:vector size="2" baseType="variant"><vt:variant><vt:lpstr>工作表</vt:lpstr></vt:variant><vt:variant><vt:i4>2</vt:i4></vt:variant></vt:vector></HeadingPairs><TitlesOfParts><vt:vector size="2" baseType="lpstr"><vt:lpstr>客户</vt:lpstr><vt:lpstr>跟进记录</vt:lpstr></vt:vector></TitlesOfParts></Properties>"""
_WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="x15" xmlns:x15="http://schemas.microsoft.com/office/spreadsheetml/2010/11/main"><workbookPr defaultThemeVersion="166925"/><bookViews><workbookView xWindow="0" yWindow="0" windowWidth="28800" windowHeight="12300" activeTab="0"/></bookViews><sheets><sheet name="客户" sheetId="1" r:id="rId1"/><sheet name="跟进记录" sheetId="2" r:id="rId2"/></sheets><definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">客户!$A$1:$N$1</definedName></definedNames><calcPr calcId="191029"/></workbook>"""
_WB_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml"/><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"""
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="x14ac" xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"><numFmts count="2"><numFmt numFmtId="176" formatCode="yyyy/m/d;@"/><numFmt numFmtId="177" formatCode="yyyy/m/d h:mm;@"/></numFmts><fonts count="2" x14ac:knownFonts="1"><font><sz val="11"/><color theme="1"/><name val="等线"/><family val="2"/><charset val="134"/><scheme val="minor"/></font><font><b/><sz val="11"/><color theme="1"/><name val="等线"/><family val="2"/><charset val="134"/><scheme val="minor"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"><alignment vertical="center"/></xf></cellStyleXfs><cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"><alignment vertical="center"/></xf><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"><alignment vertical="center"/></xf><xf numFmtId="176" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"><alignment vertical="center"/></xf><xf numFmtId="177" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"><alignment vertical="center"/></xf><xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"><alignment vertical="center"/></xf></cellXfs><cellStyles count="1"><cellStyle name="常规" xfId="0" builtinId="0"/></cellStyles><dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium2" defaultPivotStyle="PivotStyleLight16"/></styleSheet>"""
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="x14ac xr xr2 xr3" '
    'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision" '
    'xmlns:xr2="http://schemas.microsoft.com/office/spreadsheetml/2015/revision2" xmlns:xr3="http://schemas.microsoft.com/office/spreadsheetml/2016/revision3" '
    'xr:uid="{00000000-0001-0000-0000-000000000000}"><dimension ref="A1:{last}"/><sheetViews><sheetView {selected}workbookViewId="0">'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
    '<sheetFormatPr defaultRowHeight="14.25" x14ac:dyDescent="0.2"/><cols><col min="1" max="2" width="14.625" customWidth="1"/><col min="6" max="7" width="11.5" customWidth="1"/></cols><sheetData>'
)


class _Strings:
    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.count = 0

    def __call__(self, text: str) -> int:
        self.count += 1
        found = self.index.get(text)
        if found is None:
            found = self.index[text] = len(self.index)
        return found

    def xml(self) -> bytes:
        items = "".join(f"<si><t>{escape_text(s)}</t></si>" for s in self.index)
        return (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{self.count}" uniqueCount="{len(self.index)}">{items}</sst>'
        ).encode()


def _row(r: int, cells: list[tuple[str, int, object]], width: int) -> str:
    """cells: (kind 's' string / 'n' number, style, value)."""
    out = []
    for c, (kind, style, value) in enumerate(cells, start=1):
        if value is None or value == "":
            continue
        s = f' s="{style}"' if style else ""
        t = ' t="s"' if kind == "s" else ""
        out.append(f'<c r="{col_letters(c)}{r}"{s}{t}><v>{value}</v></c>')
    return f'<row r="{r}" spans="1:{width}" x14ac:dyDescent="0.2">{"".join(out)}</row>'


def make_big_workbook(path: Path, customers: int = 50_000, followups: int = 500_000, seed: int = 7) -> Path:
    """An Excel-like .xlsx with a Customers tab (14 columns) and a FollowUps tab (8 columns)."""
    rng = random.Random(seed)
    sst = _Strings()
    start = date(2023, 1, 1)
    cust_rows = [_row(1, [("s", 1, sst(h)) for h in CUSTOMER_HEADERS], 14)]
    for i in range(customers):
        created = start + timedelta(days=rng.randrange(0, 900))
        nxt = created + timedelta(days=rng.randrange(1, 60)) if rng.random() < 0.3 else None
        cells = [
            ("s", 0, sst(f"C{i + 1:06d}")),
            ("s", 0, sst(f"客户{i + 1}有限公司")),
            ("s", 0, sst(rng.choice(OWNERS))) if rng.random() > 0.05 else ("s", 0, None),
            ("s", 0, sst(rng.choice("ABC"))),
            ("s", 0, sst(rng.choice(STAGES))),
            ("n", 2, (created - _EPOCH).days),
            ("n", 2, (nxt - _EPOCH).days if nxt else None),
            ("n", 4, rng.randrange(1, 500) * 1000),
            ("s", 0, sst("Y") if rng.random() < 0.05 else None),
            ("s", 0, sst(f"联系人{rng.randrange(1000)}")),
            ("s", 0, sst(f"13{rng.randrange(100000000, 999999999)}")),
            ("s", 0, sst(f"c{i}@example.com")),
            ("s", 0, sst(rng.choice(["官网", "展会", "转介绍", "电话营销"]))),
            ("s", 0, sst(f"备注 {rng.randrange(10000)}") if rng.random() < 0.4 else None),
        ]
        cust_rows.append(_row(i + 2, cells, 14))
    fu_rows = [_row(1, [("s", 1, sst(h)) for h in FOLLOWUP_HEADERS], 8)]
    for j in range(followups):
        cid = rng.randrange(customers)
        when = (start - _EPOCH).days + rng.randrange(0, 1000) + rng.randrange(0, 96) / 96
        cells = [
            ("s", 0, sst(f"C{cid + 1:06d}")),
            ("n", 3, round(when, 6)),
            ("s", 0, sst(rng.choice(OWNERS))),
            ("s", 0, sst(rng.choice(CHANNELS))),
            ("s", 0, sst(rng.choice(["有意向", "无人接听", "需再联系", "已报价", "拒绝"]))),
            ("s", 0, sst(f"沟通记录 {rng.randrange(30000)}：客户关注价格与交付周期")),
            ("n", 2, int(when) + rng.randrange(3, 30) if rng.random() < 0.5 else None),
            ("s", 0, sst(rng.choice(STAGES)) if rng.random() < 0.3 else None),
        ]
        fu_rows.append(_row(j + 2, cells, 8))
    sheet1 = _SHEET_HEAD.replace("{last}", f"N{customers + 1}").replace("{selected}", 'tabSelected="1" ') + "".join(cust_rows)
    sheet1 += '</sheetData><autoFilter ref="A1:N1"/><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
    sheet2 = _SHEET_HEAD.replace("{last}", f"H{followups + 1}").replace("{selected}", "") + "".join(fu_rows)
    sheet2 += '</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _ROOT_RELS)
        z.writestr("docProps/app.xml", _APP)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        z.writestr("xl/styles.xml", _STYLES)
        z.writestr("xl/sharedStrings.xml", sst.xml())
        z.writestr("xl/worksheets/sheet1.xml", sheet1.encode("utf-8"))
        z.writestr("xl/worksheets/sheet2.xml", sheet2.encode("utf-8"))
    return path


def product_like_writes(customers: int, *, seed: int = 1, overdue_rows: int = 2000) -> WriteSet:
    """What a run writes on the big workbook: six owned columns for every customer and three owned tabs."""
    rng = random.Random(seed)
    statuses = [("正常", "ok"), ("即将到期", "due"), ("逾期", "overdue"), ("升级", "escalated"), ("公海", "muted")]
    cells = {}
    for i in range(customers):
        label, style = rng.choice(statuses)
        last = date(2025, 1, 1) + timedelta(days=rng.randrange(0, 300))
        cells[i + 2] = [
            StyledCell(last, "date"),
            rng.randrange(0, 30),
            StyledCell(last + timedelta(days=14), "date"),
            rng.randrange(0, 60),
            StyledCell(label, style),
            "B级客户每14天跟进一次（最近跟进后14天）",
        ]
    patch = ColumnsPatch(
        tab="客户",
        header_row=1,
        columns=[15, 16, 17, 18, 19, 20],
        headers=["最近跟进", "跟进次数", "下次应跟进", "逾期天数", "跟进状态", "适用规则"],
        cells=cells,
        widths=[12, 9, 12, 9, 12, 44],
    )
    kpi = TabSpec("KPI汇总", [[StyledCell("指标", "header"), StyledCell("数值", "header")]] + [[f"指标{i}", rng.random()] for i in range(40)], widths={0: 20, 1: 12})
    overdue = TabSpec(
        "待跟进",
        [[StyledCell(h, "header") for h in ["客户编号", "客户名称", "负责人", "逾期天数", "电话"]]]
        + [[f"C{i:06d}", f"客户{i}有限公司", rng.choice(OWNERS), StyledCell(rng.randrange(1, 90), "overdue"), f"13{rng.randrange(10**8, 10**9)}"] for i in range(overdue_rows)],
    )
    return WriteSet(columns=patch, tabs=[kpi, overdue])


if __name__ == "__main__":  # pragma: no cover - a benchmark, not a test
    import resource
    import shutil
    import sys
    import tempfile
    import time

    import python_calamine

    from addon.backends.xlsx_package import update_workbook

    n_c = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    n_f = int(sys.argv[2]) if len(sys.argv) > 2 else 500_000
    folder = Path(tempfile.mkdtemp())
    big = folder / "big.xlsx"
    t = time.perf_counter()
    make_big_workbook(big, n_c, n_f)
    print(f"made {big.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t:.1f}s")
    t = time.perf_counter()
    book = python_calamine.CalamineWorkbook.from_path(str(big))
    for name in book.sheet_names:
        book.get_sheet_by_name(name).to_python()
    book.close()
    print(f"calamine full read {time.perf_counter() - t:.2f}s")
    writes = product_like_writes(n_c)
    for run in (1, 2):
        t = time.perf_counter()
        report = update_workbook(big, writes, backup_dir=folder / "bk")
        print(f"run {run}: {time.perf_counter() - t:.2f}s", {k: round(v, 3) for k, v in report.timings.items()}, report.changed, report.added)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    shutil.rmtree(folder)
