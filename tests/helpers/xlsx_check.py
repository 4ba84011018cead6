"""Independent checks of a written workbook: zipfile and python-calamine, never the writer's own code."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from datetime import date, datetime
from pathlib import Path

import python_calamine

from addon.model import Cell, OutCell, StyledCell


def parts(path: Path) -> dict[str, zipfile.ZipInfo]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: i for i in z.infolist()}


def part_bytes(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def sheet_parts(path: Path) -> dict[str, str]:
    """Tab name -> its worksheet part (e.g. "xl/worksheets/sheet2.xml"), from workbook.xml and its rels."""
    with zipfile.ZipFile(path) as z:
        workbook = z.read("xl/workbook.xml").decode("utf-8")
        rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    targets = {}
    for rel in re.findall(r"<(?:\w+:)?Relationship\b[^>]*>", rels):
        rid, target = re.search(r'\bId="([^"]+)"', rel), re.search(r'\bTarget="([^"]+)"', rel)
        if rid and target:
            targets[rid.group(1)] = target.group(1).lstrip("/") if target.group(1).startswith("/") else "xl/" + target.group(1)
    out = {}
    for sheet in re.findall(r"<(?:\w+:)?sheet\b[^>]*>", workbook):
        name, rid = re.search(r'\bname="([^"]+)"', sheet), re.search(r'\br:id="([^"]+)"', sheet)
        if name and rid and rid.group(1) in targets:
            out[name.group(1)] = targets[rid.group(1)]
    return out


def raw_records(path: Path) -> dict[str, bytes]:
    """Each entry's stored (compressed) bytes, read through the local header: what 'byte-identical' means."""
    out = {}
    data = path.read_bytes()
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            start = info.header_offset
            name_len = int.from_bytes(data[start + 26 : start + 28], "little")
            extra_len = int.from_bytes(data[start + 28 : start + 30], "little")
            begin = start + 30 + name_len + extra_len
            out[info.filename] = data[begin : begin + info.compress_size]
    return out


def sheets(path: Path) -> dict[str, list[list[object]]]:
    """Every tab's values from A1, as python-calamine reads them."""
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    try:
        return {name: book.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in book.sheet_names}
    finally:
        book.close()


def cell(rows: list[list[object]], row: int, col: int) -> object:
    """1-based lookup with '' beyond the used range."""
    if row - 1 < len(rows) and col - 1 < len(rows[row - 1]):
        return rows[row - 1][col - 1]
    return ""


def plain(value: OutCell) -> Cell:
    return value.value if isinstance(value, StyledCell) else value


def same_value(got: object, wrote: OutCell) -> bool:
    """Whether calamine's value is what we wrote (numbers as floats, dates as dates, None as blank)."""
    value = plain(wrote)
    if value is None:
        return got == ""
    if isinstance(value, bool):
        return got is value
    if isinstance(value, (int, float)):
        return isinstance(got, (int, float)) and not isinstance(got, bool) and abs(float(got) - value) < 1e-9
    if isinstance(value, datetime):
        return isinstance(got, datetime) and abs((got - value).total_seconds()) < 1
    if isinstance(value, date):
        return got == value or (isinstance(got, datetime) and got.date() == value and got.time() == datetime.min.time())
    return got == str(value)


def width(rows: list[list[object]]) -> int:
    return max((len(r) for r in rows), default=0)


def libreoffice_convert(path: Path, out_dir: Path, fmt: str = "ods") -> Path:
    """Convert with LibreOffice headless (a second, independent spreadsheet application)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice is not None
    profile = out_dir / "lo-profile"
    subprocess.run(
        [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", fmt, "--outdir", str(out_dir), str(path)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    result = out_dir / (path.stem + "." + fmt)
    assert result.exists(), f"LibreOffice did not convert {path.name}"
    return result


def ods_summary(path: Path) -> tuple[list[str], list[str]]:
    """(tab names, chart series ranges) of an .ods LibreOffice wrote."""
    with zipfile.ZipFile(path) as z:
        content = z.read("content.xml").decode("utf-8")
        names = re.findall(r'<table:table table:name="([^"]+)"', content)
        series: list[str] = []
        for name in z.namelist():
            if name.startswith("Object") and name.endswith("content.xml"):
                series += re.findall(r'chart:values-cell-range-address="([^"]+)"', z.read(name).decode("utf-8"))
    return names, series
