"""The zero-loss Excel writer: owned columns and owned tabs written at the level of the package's parts.

Loading and re-saving a workbook with a spreadsheet library rewrites every part and drops
what the library does not model (form-control buttons, shapes, dropdown extensions, some
charts) - and takes minutes and gigabytes on a 17 MB workbook. Here only the parts that
carry owned content are rewritten:

- the owned columns' worksheet part, by a byte-level row splice (xlsx_sheetpatch),
- each owned tab's worksheet part, replaced whole (xlsx_tabs), with chart/drawing parts,
- styles.xml (formats appended, never renumbered), workbook.xml, its relationships,
  [Content_Types].xml and docProps/app.xml (single elements inserted or cut).

Every other part is copied as its raw compressed bytes (xlsx_zip), so it is byte-identical.
The result is written safely (safe_file.atomic_replace: lock check, temp file, fsync,
backup, atomic rename) and verified before it replaces the original (xlsx_verify).
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from addon.backends.safe_file import (
    WorkbookLocked,
    WorkbookUnreadable,
    WriteFailed,
    atomic_replace,
    check_not_locked,
)
from addon.backends.xlsx_opc import (
    CT_CHART,
    CT_DRAWING,
    CT_STYLES,
    CT_WORKSHEET,
    Package,
    rels_name,
)
from addon.backends.xlsx_sheetpatch import PatchError, SheetPatcher
from addon.backends.xlsx_styles import StyleBook
from addon.backends.xlsx_tabs import RenderedTab, check_sheet_name, render_tab
from addon.backends.xlsx_workbook import Workbook, update_app_titles
from addon.backends.xlsx_xml import (
    NS_MAIN,
    NS_MAIN_STRICT,
    attrs,
    element_re,
    from_text,
    masked,
    parse_range,
    set_attr,
    start_tag_re,
    to_text,
)
from addon.backends.xlsx_zip import ZipFormatError, ZipSource, ZipWriter
from addon.model import TabSpec, WriteSet

__all__ = ["WorkbookLocked", "WorkbookUnreadable", "WriteFailed", "WriteReport", "update_workbook"]

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_REL_BASE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_REL_BASE_STRICT = "http://purl.oclc.org/ooxml/officeDocument/relationships/"


@dataclass
class WriteReport:
    """What a write did, for logs and the run summary."""

    path: Path
    changed: list[str] = field(default_factory=list)  # parts rewritten
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    copied: int = 0  # parts copied byte for byte
    backup: Path | None = None
    tabs_written: list[str] = field(default_factory=list)
    tabs_removed: list[str] = field(default_factory=list)
    tabs_kept: list[str] = field(default_factory=list)  # add_only: already there, left alone
    cells_written: int = 0
    timings: dict[str, float] = field(default_factory=dict)  # seconds: plan, write, verify, replace, total
    notes: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """The edited package and what verification needs to know about it."""

    pkg: Package
    workbook: Workbook
    sheet_names: list[str]
    date1904: bool
    add_only: bool = False
    patched_tab: str | None = None
    owned_tabs: dict[str, TabSpec] = field(default_factory=dict)
    report: WriteReport | None = None


def open_source(path: Path) -> ZipSource:
    """The workbook as a zip, or a clear reason why it cannot be used."""
    try:
        with open(path, "rb") as handle:
            magic = handle.read(8)
    except FileNotFoundError:
        raise WorkbookUnreadable(f"workbook not found: {path}") from None
    except OSError as error:
        raise WorkbookUnreadable(f"cannot open {path.name}: {error.strerror or error}") from None
    if magic == _OLE_MAGIC:
        raise WorkbookUnreadable(
            f"{path.name} is password-protected (encrypted) or an old .xls file; remove the password "
            f"(File ▸ Info ▸ Protect Workbook) or save it as .xlsx, then run again"
        )
    try:
        return ZipSource(path)
    except (zipfile.BadZipFile, ZipFormatError, OSError, EOFError) as error:
        raise WorkbookUnreadable(f"{path.name} is not a readable .xlsx/.xlsm file (damaged or still being copied): {error}") from None


def update_workbook(
    path: Path,
    writes: WriteSet,
    *,
    backup_dir: Path | None = None,
    keep_backups: int = 5,
    add_only: bool = False,
    verify: bool = True,
    original_rows: Mapping[str, list[list[object]]] | None = None,
) -> WriteReport:
    """Write owned columns and owned tabs into the workbook at `path`, losing nothing else.

    add_only=True (init on an existing workbook): tabs are added only when no tab of that
    name exists, owned columns only fill cells that are empty, and nothing is removed.
    Backups go to `backup_dir` (default `<workbook folder>/.followup-backups/`), newest
    `keep_backups` kept. `original_rows`: tabs as python-calamine just read them from this same
    file (the caller's read), so the read-back check need not read them again. Raises WorkbookLocked / WorkbookUnreadable / WriteFailed (all
    SourceUnavailable) and ValueError for a WriteSet that cannot be written as asked.
    """
    path = Path(path)
    started = time.perf_counter()
    check_not_locked(path)
    source = open_source(path)
    report = WriteReport(path=path)
    try:
        t0 = time.perf_counter()
        try:
            plan = _plan(source, writes, add_only, report)
        except PatchError as error:
            raise ValueError(f"{path.name}: {error}") from None
        except (zipfile.BadZipFile, ZipFormatError, EOFError, KeyError) as error:
            raise WorkbookUnreadable(f"{path.name} is damaged: {error}") from None
        report.timings["plan"] = time.perf_counter() - t0
        pkg = plan.pkg
        if not (pkg.changed or pkg.added or pkg.removed):
            report.timings["total"] = time.perf_counter() - started
            report.notes.append("nothing to change")
            return report

        def write(handle: BinaryIO) -> None:
            _write_zip(source, pkg, handle, report)

        def check(tmp: Path) -> None:
            if verify:
                from addon.backends.xlsx_verify import verify_written

                verify_written(source, tmp, path, plan, writes, original_rows)

        result = atomic_replace(path, write, verify_fn=check, backup_dir=backup_dir, keep_backups=keep_backups)
    finally:
        source.close()
    report.backup = result.backup
    report.timings.update(result.timings)
    report.timings["total"] = time.perf_counter() - started
    return report


# --- planning ------------------------------------------------------------------------------------


def _rel_type(wb: Workbook, kind: str) -> str:
    return (_REL_BASE_STRICT if wb.strict else _REL_BASE) + kind


def _plan(source: ZipSource, writes: WriteSet, add_only: bool, report: WriteReport) -> Plan:
    pkg = Package(source)
    try:
        wb = Workbook(pkg)
    except ValueError as error:
        raise WorkbookUnreadable(f"{source.path.name}: {error}") from None
    before = pkg.reachable()
    old_sheets = wb.sheets()
    old_worksheet_names = [s.name for s in old_sheets if s.kind == "worksheet"]
    styles_rel = next((r for r in wb.rels().values() if r.kind == "styles" and r.part), None)
    styles_part = styles_rel.part if styles_rel and pkg.exists(styles_rel.part or "") else None
    try:
        styles = StyleBook(pkg.read(styles_part) if styles_part else None)
    except ValueError as error:
        raise WorkbookUnreadable(f"{source.path.name}: {error}") from None
    plan = Plan(pkg, wb, [], wb.date1904, add_only=add_only, report=report)
    drop_calc_chain = False

    _check_writes(writes, wb)

    # 1. owned columns
    if writes.columns is not None:
        patch = writes.columns
        sheet = wb.find(patch.tab)
        if sheet is None:
            raise ValueError(f"{source.path.name} has no tab {patch.tab!r} (tabs: {', '.join(s.name for s in old_sheets)})")
        if sheet.kind != "worksheet" or not sheet.part or not pkg.exists(sheet.part):
            raise ValueError(f"tab {sheet.name!r} of {source.path.name} is not a worksheet")
        result = SheetPatcher(pkg.read(sheet.part), patch, styles, wb.date1904, add_only=add_only).run()
        pkg.write(sheet.part, result.xml)
        report.cells_written += result.cells_written
        report.notes.extend(result.notes)
        drop_calc_chain |= result.formulas_removed
        if not add_only:
            _rename_table_columns(pkg, sheet.part, patch.header_row, dict(zip(patch.columns, patch.headers, strict=True)))
        plan.patched_tab = sheet.name

    # 2. owned tabs
    main_ns = NS_MAIN_STRICT if wb.strict else NS_MAIN
    charted: list[tuple[str, RenderedTab]] = []
    for spec in writes.tabs:
        existing = wb.find(spec.name)
        if existing is not None and add_only:
            report.tabs_kept.append(existing.name)
            continue
        rendered = render_tab(spec, styles, wb.date1904, main_ns=main_ns, rel_ns=wb.rel_ns)
        if existing is not None:
            if existing.kind != "worksheet" or not existing.part:
                raise ValueError(f"tab {existing.name!r} exists and is not a worksheet; rename it so the add-on can write {spec.name!r}")
            part = existing.part
            old = pkg.read(part) if pkg.exists(part) else b""
            if b"<f>" in old or b"<f " in old or b":f>" in old or b":f " in old:
                drop_calc_chain = True
            if pkg.exists(rels_name(part)):
                pkg.remove(rels_name(part))
            if existing.name != spec.name:
                wb.rename_sheet(existing.index, spec.name)
            pkg.write(part, rendered.sheet_xml)
        else:
            folder = _worksheet_folder(wb, pkg)
            part = pkg.free_name(folder + "sheet{}.xml")
            pkg.write(part, rendered.sheet_xml)
            pkg.add_override(part, CT_WORKSHEET)
            rid = pkg.add_rel(wb.part, _rel_type(wb, "worksheet"), part)
            wb.add_sheet(spec.name, rid)
        report.tabs_written.append(spec.name)
        report.cells_written += sum(1 for row in spec.rows for cell in row if cell is not None)
        plan.owned_tabs[spec.name] = spec
        if rendered.drawing_xml is not None:
            charted.append((part, rendered))

    # 3. stale owned tabs
    if not add_only:
        for name in writes.stale_tabs:
            sheet = wb.find(name)
            if sheet is None:
                continue
            sheets = wb.sheets()
            others_visible = [s for s in sheets if s.index != sheet.index and s.state not in ("hidden", "veryHidden")]
            if not others_visible:
                report.notes.append(f"kept {sheet.name!r}: it is the only visible tab")
                continue
            if sheet.part and pkg.exists(sheet.part):
                old = pkg.read(sheet.part)
                if b"<f>" in old or b"<f " in old or b":f>" in old or b":f " in old:
                    drop_calc_chain = True
            wb.remove_sheet(sheet.index)
            if sheet.rid:
                pkg.remove_rel(wb.part, sheet.rid)
            report.tabs_removed.append(sheet.name)

    # 4. a calculation chain that names removed formulas makes Excel "repair" the file; it rebuilds it
    if drop_calc_chain:
        for rel in wb.rels().values():
            if rel.kind == "calcChain":
                pkg.remove_rel(wb.part, rel.id)
                report.notes.append("removed calcChain.xml (Excel rebuilds it)")

    # 5. parts that our edits left unreferenced (old drawings and charts of replaced or removed tabs)
    wb.save()
    for key in sorted(before - pkg.reachable()):
        pkg.remove(pkg.name(key))

    # 6. new drawings and charts
    for sheet_part, rendered in charted:
        drawing = pkg.free_name(_sibling_folder(sheet_part, "drawings") + "drawing{}.xml")
        pkg.write(drawing, rendered.drawing_xml or b"")
        pkg.add_override(drawing, CT_DRAWING)
        for i, chart_xml in enumerate(rendered.charts, start=1):
            chart = pkg.free_name(_sibling_folder(sheet_part, "charts") + "chart{}.xml")
            pkg.write(chart, chart_xml)
            pkg.add_override(chart, CT_CHART)
            pkg.add_rel(drawing, _rel_type(wb, "chart"), chart, rid=f"rId{i}")
        pkg.add_rel(sheet_part, _rel_type(wb, "drawing"), drawing, rid=rendered.drawing_rid)

    # 7. styles, app.xml, content types
    if styles.changed:
        if styles_part is None:
            styles_part = _folder(wb.part) + "styles.xml"
            if pkg.exists(styles_part):
                styles_part = pkg.free_name(_folder(wb.part) + "styles{}.xml")
            pkg.add_rel(wb.part, _rel_type(wb, "styles"), styles_part)
            pkg.add_override(styles_part, CT_STYLES)
        pkg.write(styles_part, styles.result())
    plan.sheet_names = [s.name for s in wb.sheets()]
    new_worksheet_names = [s.name for s in wb.sheets() if s.kind == "worksheet"]
    update_app_titles(pkg, old_worksheet_names, new_worksheet_names)
    pkg.finish_types()
    return plan


def _check_writes(writes: WriteSet, wb: Workbook) -> None:
    """Reject a WriteSet that would be ambiguous, before anything is written."""
    seen: dict[str, str] = {}
    for spec in writes.tabs:
        check_sheet_name(spec.name)
        key = spec.name.casefold()
        if key in seen:
            raise ValueError(f"tab {spec.name!r} is given twice")
        seen[key] = spec.name
    if writes.columns is not None:
        if writes.columns.tab.casefold() in seen:
            raise ValueError(f"tab {writes.columns.tab!r} cannot be both patched and replaced")
        seen[writes.columns.tab.casefold()] = writes.columns.tab
    for name in writes.stale_tabs:
        if name.casefold() in seen:
            raise ValueError(f"tab {name!r} cannot be both written and removed")


def _folder(part: str) -> str:
    return part.rsplit("/", 1)[0] + "/" if "/" in part else ""


def _worksheet_folder(wb: Workbook, pkg: Package) -> str:
    for sheet in wb.sheets():
        if sheet.kind == "worksheet" and sheet.part:
            return _folder(sheet.part)
    return _folder(wb.part) + "worksheets/"


def _sibling_folder(sheet_part: str, name: str) -> str:
    """xl/worksheets/sheet3.xml → xl/drawings/ (a sheet at the package root gets root/drawings/)."""
    folder = _folder(sheet_part)
    parent = _folder(folder.rstrip("/")) if folder else ""
    return f"{parent}{name}/"


def _rename_table_columns(pkg: Package, sheet_part: str, header_row: int, headers: dict[int, str]) -> None:
    """Excel requires a table's column names to equal its header cells; keep them in step where we write headers."""
    for rel in pkg.rels(sheet_part):
        if rel.kind != "table" or not rel.part or not pkg.exists(rel.part):
            continue
        raw = pkg.read(rel.part)
        text = to_text(raw)
        scan = masked(text)
        table = start_tag_re("table").search(scan)
        if table is None:
            continue
        a = attrs(table.group(0))
        if a.get("headerRowCount", "1") == "0" or "ref" not in a:
            continue
        r1, c1, _, c2 = parse_range(a["ref"])
        if r1 != header_row:
            continue
        columns = list(element_re("tableColumn").finditer(scan))
        taken = {attrs(m.group(0).split(">", 1)[0] + ">").get("name", "") for m in columns}
        edits = []
        for col, header in headers.items():
            i = col - c1
            if c1 <= col <= c2 and i < len(columns):
                m = columns[i]
                tag_end = text.index(">", m.start()) + 1
                tag = text[m.start() : tag_end]
                if attrs(tag).get("name") != header and header not in taken:
                    edits.append((m.start(), tag_end, set_attr(tag, "name", header)))
        for s, e, new in sorted(edits, reverse=True):
            text = text[:s] + new + text[e:]
        if edits:
            pkg.write(rel.part, from_text(text, raw))


# --- writing -------------------------------------------------------------------------------------


def _write_zip(source: ZipSource, pkg: Package, handle: BinaryIO, report: WriteReport) -> None:
    """Original entry order; untouched parts raw, changed parts re-deflated, new parts at the end."""
    writer = ZipWriter(handle)
    report.changed, report.added, report.removed, report.copied = [], [], [], 0
    for entry in source.entries:
        key = entry.key
        if entry.name.endswith("/"):
            writer.copy_raw(source, entry)
        elif key in pkg.removed:
            report.removed.append(entry.name)
        elif key in pkg.changed:
            data = pkg.changed[key]
            writer.write(entry.name, data, level=_level(len(data)))
            report.changed.append(entry.name)
        else:
            writer.copy_raw(source, entry)
            report.copied += 1
    for key, data in pkg.added.items():
        name = pkg.names[key]
        stored = name.replace("/", "\\") if pkg.separator == "\\" else name
        writer.write(stored, data, level=_level(len(data)))
        report.added.append(stored)
    writer.close(source.comment)


def _level(size: int) -> int:
    """Deflate level: smaller files for ordinary parts, speed for a multi-megabyte sheet."""
    return 6 if size < 4_000_000 else 1
