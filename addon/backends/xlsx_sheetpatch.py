"""Rewrite the owned columns of one worksheet part as a byte-level splice over its rows.

Only the cells of the owned columns (from the header row down) are produced anew; every
other byte of the part - other cells, row attributes, formulas, merged cells, conditional
formats, validations, extLst - is copied as it was. The common case (owned columns at the
right of the user's data, each row's cells in column order with `r` first) is handled with
a handful of C-level byte searches per row, which keeps a 50 000-row sheet well under a
second; anything unusual (cells without references, CDATA, array formulas, owned columns
between user columns) goes through a slower per-cell path that is still exact.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from addon.backends.xlsx_cells import CellRenderer
from addon.backends.xlsx_styles import StyleBook
from addon.backends.xlsx_xml import (
    attrs_b,
    col_letters,
    col_number,
    masked_b,
    number_text,
    parse_range,
    range_ref,
)
from addon.model import ColumnsPatch, OutCell

# A rendered cell: (1-based column, XML bytes).
Rendered = tuple[int, bytes]


class PatchError(ValueError):
    """The owned columns cannot be written without breaking something of the user's."""


@dataclass
class PatchResult:
    xml: bytes
    rows_changed: int = 0
    rows_added: int = 0
    cells_written: int = 0
    cells_removed: int = 0
    formulas_removed: bool = False
    dimension: tuple[int, int, int, int] | None = None
    notes: list[str] = field(default_factory=list)


_ROW_R = re.compile(rb"""\sr\s*=\s*["']([0-9]+)["']""")
_CELL_R = re.compile(rb"""\sr\s*=\s*["']\$?([A-Za-z]{1,3})\$?[0-9]+["']""")
_SPANS = re.compile(rb"""(\sspans\s*=\s*["'])([0-9]+):([0-9]+)(["'])""")
_F_TAG = re.compile(rb"<(?:[\w.-]+:)?f\b[^>]*>")
_F_ELEMENT = re.compile(rb"<((?:[\w.-]+:)?)f\b[^>]*?(?:/>|>(.*?)</\1f>)", re.S)
_WS = re.compile(rb"\s*")
_LETTERS = re.compile(rb"[A-Za-z]+")
_COL_NUMBERS: dict[bytes, int] = {}


def _is_blank(data: bytes) -> bool:
    return _WS.fullmatch(data) is not None


class SheetPatcher:
    """One pass over a worksheet part, writing the owned columns of a ColumnsPatch."""

    def __init__(self, xml: bytes, patch: ColumnsPatch, styles: StyleBook, date1904: bool, *, add_only: bool = False) -> None:
        self.xml = xml
        self.patch = patch
        self.styles = styles
        self.date1904 = date1904
        self.add_only = add_only
        self.owned = set(patch.columns)
        if len(self.owned) != len(patch.columns):
            raise PatchError(f"owned columns repeat a column: {patch.columns}")
        if any(c < 1 or c > 16384 for c in self.owned):
            raise PatchError(f"owned columns must be between 1 and 16384: {patch.columns}")
        if len(patch.headers) != len(patch.columns):
            raise PatchError(f"{len(patch.headers)} headers for {len(patch.columns)} owned columns")
        if patch.header_row < 1:
            raise PatchError(f"header row must be 1 or more, not {patch.header_row}")
        early = sorted(r for r in patch.cells if r <= patch.header_row)
        if early:
            raise PatchError(f"rows {early[:5]} are not below the header row {patch.header_row}")
        bad = [r for r, values in patch.cells.items() if len(values) != len(patch.columns)]
        if bad:
            raise PatchError(f"row {bad[0]}: {len(patch.cells[bad[0]])} values for {len(patch.columns)} owned columns")
        self.min_owned = min(self.owned) if self.owned else 16385
        self.order = sorted(range(len(patch.columns)), key=lambda i: patch.columns[i])
        self.sorted_cols = [patch.columns[i] for i in self.order]
        self.in_order = self.order == list(range(len(self.order)))
        self.header_style: int | None = None

    @staticmethod
    def translate(formula: str, origin: str, dest: str) -> str:
        """A shared formula's text as seen from another cell (openpyxl's tokenizer-based translator)."""
        from openpyxl.formula.translate import Translator

        return Translator("=" + formula, origin=origin).translate_formula(dest)[1:]

    # --- helpers ---------------------------------------------------------------------------

    def _cell_end(self, data: bytes, start: int) -> int:
        gt = data.index(b">", start)
        if data[gt - 1] == 0x2F:  # '/'
            return gt + 1
        close = data.index(self.cell_close, gt)
        return close + len(self.cell_close)

    def _values(self, row: int) -> Sequence[OutCell] | None:
        """The owned values of a sheet row in column order (None when the row gets nothing)."""
        p = self.patch
        if row == p.header_row:
            values: list[OutCell] = list(p.headers)
        else:
            found = p.cells.get(row)
            if found is None:
                return None
            values = found
        return values if self.in_order else [values[i] for i in self.order]

    def _render(self, row: int) -> tuple[bytes, int, int]:
        """All owned cells of a row as one chunk: (xml, first column, last column)."""
        values = self._values(row)
        if values is None:
            return b"", 0, 0
        header_xf = self.header_style if row == self.patch.header_row else None
        text, first, last = self.renderer.row(row, self.sorted_cols, values, header_xf)
        return text.encode("utf-8"), first, last

    def _new_cells(self, row: int) -> list[Rendered]:
        """Owned cells of a row one by one, for the exact path."""
        values = self._values(row)
        if values is None:
            return []
        header_xf = self.header_style if row == self.patch.header_row else None
        out = []
        for col, value in zip(self.sorted_cols, values, strict=True):
            text = self.renderer.row(row, [col], [value], header_xf)[0]
            if text:
                out.append((col, text.encode("utf-8")))
        return out

    # --- main ------------------------------------------------------------------------------

    def run(self) -> PatchResult:
        xml = self.xml
        scan = masked_b(xml)
        match = re.search(rb"<((?:[\w.-]+:)?)sheetData(?=[\s/>])[^>]*>", scan)
        if match is None:
            raise PatchError("the worksheet has no <sheetData>")
        self.prefix = prefix = match.group(1)
        self.renderer = CellRenderer(self.styles, self.date1904, prefix.decode())
        self.cell_close = b"</" + prefix + b"c>"
        row_open = b"<" + prefix + b"row"
        open_end = match.end()
        if match.group(0).endswith(b"/>"):
            data_start = data_end = tail_start = open_end
            open_tag = match.group(0)[:-2].rstrip() + b">"
            closing = b"</" + prefix + b"sheetData>"
        else:
            data_start = open_end
            data_end = scan.find(b"</" + prefix + b"sheetData", open_end)
            if data_end < 0:
                raise PatchError("the worksheet's <sheetData> is not closed")
            tail_start = data_end
            open_tag = match.group(0)
            closing = b""
        self.any_cell_re = re.compile(rb"<" + re.escape(prefix) + rb"c(?=[\s/>])")
        cell_start = self.cell_start = b"<" + prefix + b'c r="'
        # the fast path needs every cell to begin exactly `<c r="`, no CDATA/comments and no array formulas
        self.irregular = (
            scan is not xml
            or re.compile(rb"<" + re.escape(prefix) + rb'c(?=[\s/>])(?! r=")').search(xml, data_start, data_end) is not None
            or xml.find(b't="array"', data_start, data_end) >= 0
            or xml.find(b"t='array'", data_start, data_end) >= 0
        )
        owned_letters = b"|".join(sorted((col_letters(c).encode() for c in self.owned), key=len, reverse=True))
        owned_re = self.owned_re = re.compile(re.escape(cell_start) + rb"(?:" + owned_letters + rb")[0-9]")
        formula_open = b"<" + prefix + b"f"
        self.shared: dict[bytes, tuple[str, str]] = {}  # si -> (formula, master ref) of removed masters
        result = self.result = PatchResult(xml=b"")
        self.bounds = bounds = [10**9, 10**9, 0, 0]  # min row, min col, max row, max col
        header_row = self.patch.header_row
        add_only = self.add_only

        pending = sorted(set(self.patch.cells) | {header_row})
        pending_i, n_pending = 0, len(pending)
        out: list[bytes] = [b"", open_tag]
        copied = data_start
        pos = data_start
        row_no = 0
        close_row = b"</" + prefix + b"row"
        row_close = close_row + b">"
        spans_cache: dict[bytes, bytes] = {}
        while True:
            start = scan.find(row_open, pos, data_end)
            if start < 0:
                break
            after = scan[start + len(row_open)]
            if after not in (0x20, 0x3E, 0x2F, 0x09, 0x0A, 0x0D):  # ' ', '>', '/', whitespace
                pos = start + 1
                continue
            tag_end = scan.index(b">", start)
            tag = xml[start : tag_end + 1]
            if tag[-2] == 0x2F:  # self-closing row
                body_start = body_end = row_end = tag_end + 1
            else:
                body_start = tag_end + 1
                body_end = scan.index(close_row, body_start)
                row_end = scan.index(b">", body_end) + 1
            number = _ROW_R.search(tag)
            row_no = int(number.group(1)) if number else row_no + 1
            pos = row_end
            new_rows: list[bytes] = []
            while pending_i < n_pending and pending[pending_i] < row_no:
                created = self._created_row(pending[pending_i])
                if created:
                    new_rows.append(created)
                pending_i += 1
            is_pending = pending_i < n_pending and pending[pending_i] == row_no
            if is_pending:
                pending_i += 1
            replacement: bytes | None = None
            if row_no < header_row:
                self._note_bounds_plain(xml, row_no, body_start, body_end)
            else:
                if row_no == header_row and self.header_style is None:
                    self.header_style = self._left_header_style(xml, body_start, body_end)
                general = self.irregular or number is None or add_only
                if not general:
                    first_owned = owned_re.search(xml, body_start, body_end)
                    cut = body_end
                    n_owned = 0
                    if first_owned is not None:
                        cut = first_owned.start()
                        n_owned = len(owned_re.findall(xml, cut, body_end))
                        if (
                            n_owned != xml.count(cell_start, cut, body_end)
                            or xml.find(formula_open, cut, body_end) >= 0
                            or xml.find(b"extLst", cut, body_end) >= 0
                        ):
                            general = True  # owned cells between user cells, formulas, or row extensions
                    elif self.shared and xml.find(b"si=", body_start, body_end) >= 0:
                        general = True
                if general:
                    replacement = self._patch_row_general(xml, tag, row_no, body_start, body_end, number is None)
                else:
                    new, new_first, new_last = self._render(row_no) if is_pending else (b"", 0, 0)
                    last = xml.rfind(cell_start, body_start, cut)
                    last_col = self._col_at(xml, last) if last >= 0 else 0
                    if new and last_col >= new_first:
                        replacement = self._patch_row_general(xml, tag, row_no, body_start, body_end, False)
                    else:
                        if first_owned is None:
                            keep_end = self._cell_end(xml, last) if last >= 0 else body_start
                            if new and not _is_blank(xml[keep_end:body_end]):
                                replacement = self._patch_row_general(xml, tag, row_no, body_start, body_end, False)
                                keep_end = -1
                        else:
                            keep_end = cut
                        if keep_end >= 0 and replacement is None:
                            first_col = self._col_at(xml, xml.find(cell_start, body_start, keep_end)) if last >= 0 and bounds[1] > 1 else (1 if last >= 0 else 0)
                            lo = first_col or new_first
                            hi = new_last or last_col
                            if lo:
                                if row_no < bounds[0]:
                                    bounds[0] = row_no
                                if row_no > bounds[2]:
                                    bounds[2] = row_no
                                if lo < bounds[1]:
                                    bounds[1] = lo
                                if hi > bounds[3]:
                                    bounds[3] = hi
                            if new or n_owned:
                                result.rows_changed += 1
                                result.cells_removed += n_owned
                                result.cells_written += new.count(cell_start)
                                if tag[-2] == 0x2F:
                                    tag = tag[:-2].rstrip() + b">"
                                if new and b"spans" in tag:
                                    tag = self._widen_spans(tag, new_first, new_last, spans_cache)
                                trail = body_end
                                while trail > keep_end and xml[trail - 1] in b" \t\r\n":
                                    trail -= 1
                                replacement = tag + xml[body_start:keep_end] + new + xml[trail:body_end] + row_close
            if new_rows or replacement is not None:
                out.append(xml[copied:start])
                out.extend(new_rows)
                if replacement is not None:
                    out.append(replacement)
                    copied = row_end
                else:
                    copied = start
        tail_rows = [self._created_row(r) for r in pending[pending_i:]]
        out.append(xml[copied:data_end] if data_end > copied else b"")
        out.extend(r for r in tail_rows if r)
        out.append(closing)
        out.append(xml[tail_start:])
        head = xml[: match.start()]
        widths = {c: w for c, w in zip(self.patch.columns, self.patch.widths, strict=False) if w}
        if widths and not add_only:
            head = widths_cols(head, prefix, widths)
        if bounds[2]:
            result.dimension = (bounds[0], bounds[1], bounds[2], bounds[3])
            head = set_dimension(head, range_ref(*result.dimension))
        out[0] = head
        result.xml = b"".join(out)
        return result

    def _widen_spans(self, tag: bytes, first: int, last: int, cache: dict[bytes, bytes]) -> bytes:
        """Row `spans` (an optimisation hint) widened to cover the owned cells."""
        i = tag.find(b'spans="')
        j = tag.find(b'"', i + 7) if i >= 0 else -1
        if j < 0:
            return tag
        old = tag[i + 7 : j]
        key = b"%b|%d:%d" % (old, first, last)
        new = cache.get(key)
        if new is None:
            lo, _, hi = old.partition(b":")
            try:
                new = b"%d:%d" % (min(int(lo), first), max(int(hi or lo), last))
            except ValueError:
                new = old
            cache[key] = new
        return tag if new == old else tag[: i + 7] + new + tag[j:]

    # --- rows ------------------------------------------------------------------------------

    def _bound(self, row: int, first_col: int, last_col: int) -> None:
        b = self.bounds
        if row < b[0]:
            b[0] = row
        if row > b[2]:
            b[2] = row
        if first_col < b[1]:
            b[1] = first_col
        if last_col > b[3]:
            b[3] = last_col

    def _note_bounds_plain(self, xml: bytes, row: int, body_start: int, body_end: int) -> None:
        """Bounds of a row we do not touch (above the header)."""
        cols = [c for c, *_ in self._tokenize(xml[body_start:body_end])]
        if cols:
            self._bound(row, min(cols), max(cols))

    def _tokenize(self, body: bytes) -> list[tuple[int, int, int, bytes, bool]]:
        """Cells of a row body: (column, start, end, start tag, whether the tag has its reference)."""
        scan = masked_b(body)
        cells: list[tuple[int, int, int, bytes, bool]] = []
        col = 0
        for m in self.any_cell_re.finditer(scan):
            gt = scan.index(b">", m.start())
            ctag = body[m.start() : gt + 1]
            end = gt + 1 if ctag.endswith(b"/>") else scan.index(self.cell_close, gt) + len(self.cell_close)
            ref = _CELL_R.search(ctag)
            col = col_number(ref.group(1)) if ref else col + 1
            cells.append((col, m.start(), end, ctag, ref is not None))
        return cells

    def _created_row(self, row: int) -> bytes:
        new, first, last = self._render(row)
        if not new:
            return b""
        self.result.rows_added += 1
        self.result.cells_written += new.count(self.cell_start)
        self._bound(row, first, last)
        p = self.prefix
        return b"<" + p + b'row r="' + str(row).encode() + b'">' + new + b"</" + p + b"row>"

    def _row_close(self, tag: bytes) -> bytes:
        return b"</" + self.prefix + b"row>"

    def _row_tag(self, tag: bytes, new_cells: list[Rendered], row: int | None = None) -> bytes:
        """The row's start tag, never self-closing, spans widened to cover new cells, r added if asked."""
        if tag.endswith(b"/>"):
            tag = tag[:-2].rstrip() + b">"
        if row is not None:
            tag = tag[: len(self.prefix) + 4] + b' r="' + str(row).encode() + b'"' + tag[len(self.prefix) + 4 :]
        if new_cells and b"spans" in tag:
            tag = self._widen_spans(tag, new_cells[0][0], new_cells[-1][0], {})
        return tag

    def _col_at(self, data: bytes, start: int) -> int:
        """Column of the cell whose tag starts at `start` (tag begins `<c r="`)."""
        letters = _LETTERS.match(data, start + len(self.cell_start))
        key = letters.group(0) if letters else b""
        col = _COL_NUMBERS.get(key)
        if col is None:
            col = _COL_NUMBERS[key] = col_number(key) if key else 0
        return col

    def _left_header_style(self, xml: bytes, body_start: int, body_end: int) -> int | None:
        """Style of the nearest user header cell left of the first owned column, so ours look alike."""
        best: tuple[int, int | None] = (0, None)
        for col, _, _, ctag, _ in self._tokenize(xml[body_start:body_end]):
            if col < self.min_owned and col > best[0]:
                s = attrs_b(ctag).get(b"s")
                best = (col, int(s) if s and s.isdigit() and int(s) > 0 else None)
        return best[1]

    # --- the exact, slower path ------------------------------------------------------------

    def _patch_row_general(self, xml: bytes, tag: bytes, row: int, body_start: int, body_end: int, implicit_row: bool) -> bytes:
        body = xml[body_start:body_end]
        p = self.prefix
        cells = self._tokenize(body)
        trailing_at = cells[-1][2] if cells else len(body) - len(body.lstrip())
        trailer = body[trailing_at:]
        new_cells = self._new_cells(row)
        if self.add_only:
            filled = {c for c, s, e, _, _ in cells if c in self.owned and self._has_value(body[s:e])}
            new_cells = [item for item in new_cells if item[0] not in filled]
            new_cols = {c for c, _ in new_cells}
            drop = {c for c, *_ in cells if c in new_cols}
        else:
            drop = self.owned
        kept: list[tuple[int, bytes]] = []
        removed = 0
        cursor = cells[0][1] if cells else 0  # whitespace before the first cell is kept as `head_ws`
        for c, s, e, _, has_ref in cells:
            gap = body[cursor:s]
            cursor = e
            cell = body[s:e]
            if c in drop:
                removed += 1
                self._check_removed(cell, row, c)
                continue
            self._check_kept(cell, row, c)
            if not has_ref:  # a cell without its reference: give it one so positions stay right
                cell = cell[: len(p) + 2] + b' r="' + f"{col_letters(c)}{row}".encode() + b'"' + cell[len(p) + 2 :]
            if self.shared and b"si=" in cell:
                cell = self._translate_dependent(cell, row, c)
            kept.append((c, gap + cell))
        merged: list[tuple[int, bytes]] = kept + new_cells
        merged.sort(key=lambda item: item[0])
        self.result.rows_changed += 1
        self.result.cells_removed += removed
        self.result.cells_written += len(new_cells)
        if merged:
            self._bound(row, merged[0][0], merged[-1][0])
        head_ws = body[: cells[0][1]] if cells else body[:trailing_at]
        content = head_ws + b"".join(c for _, c in merged) + trailer
        return self._row_tag(tag, new_cells, row if implicit_row else None) + content + self._row_close(tag)

    def _has_value(self, cell: bytes) -> bool:
        p = self.prefix
        return any(marker in cell for marker in (b"<" + p + b"v", b"<" + p + b"is", b"<" + p + b"f"))

    def _check_removed(self, cell: bytes, row: int, col: int) -> None:
        """A user formula in an owned cell goes; refuse when that would break formulas elsewhere."""
        fm = _F_TAG.search(cell)
        if not fm:
            return
        self.result.formulas_removed = True
        a = attrs_b(fm.group(0))
        kind, ref = a.get(b"t", b""), a.get(b"ref")
        if not ref:
            return
        r1, c1, r2, c2 = parse_range(ref.decode())
        outside = [c for c in range(c1, c2 + 1) if c not in self.owned]
        if not outside:
            return
        where = f"{col_letters(col)}{row}"
        if kind == b"shared":
            el = _F_ELEMENT.search(cell)
            text = (el.group(2) or b"").decode("utf-8") if el else ""
            if not text:
                raise PatchError(f"{where} starts a shared formula also used by columns the add-on does not own")
            self.shared[a.get(b"si", b"")] = (text, where)
        else:
            raise PatchError(
                f"{where} holds an array formula over {ref.decode()}, which reaches columns the add-on does not own; "
                f"move the formula or choose other columns"
            )

    def _check_kept(self, cell: bytes, row: int, col: int) -> None:
        if b"array" not in cell:
            return
        fm = _F_TAG.search(cell)
        if not fm:
            return
        a = attrs_b(fm.group(0))
        ref = a.get(b"ref")
        if a.get(b"t") == b"array" and ref:
            r1, c1, r2, c2 = parse_range(ref.decode())
            hit = [c for c in range(c1, c2 + 1) if c in self.owned]
            if hit and r2 >= self.patch.header_row:
                raise PatchError(
                    f"the array formula in {col_letters(col)}{row} spills over {ref.decode()}, into column "
                    f"{col_letters(hit[0])} that the add-on writes; move the formula or choose other columns"
                )

    def _translate_dependent(self, cell: bytes, row: int, col: int) -> bytes:
        """A dependent of a removed shared-formula master gets the master's formula, translated."""
        m = _F_ELEMENT.search(cell)
        if not m:
            return cell
        a = attrs_b(_F_TAG.search(cell).group(0))  # type: ignore[union-attr]
        si = a.get(b"si")
        if a.get(b"t") != b"shared" or si not in self.shared or a.get(b"ref"):
            return cell
        formula, origin = self.shared[si]
        text = self.translate(formula, origin, f"{col_letters(col)}{row}")
        self.result.notes.append(f"{col_letters(col)}{row}: shared formula rewritten in full (its first cell was in an owned column)")
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode("utf-8")
        p = m.group(1)
        return cell[: m.start()] + b"<" + p + b"f>" + escaped + b"</" + p + b"f>" + cell[m.end() :]


def widths_cols(head: bytes, prefix: bytes, widths: dict[int, float]) -> bytes:
    """The part before <sheetData> (exclusive) with <cols> giving owned columns their widths (ranges split as needed)."""
    if not widths:
        return head
    scan = masked_b(head)
    cols_match = re.search(rb"<((?:[\w.-]+:)?)cols(?=[\s/>])[^>]*?(?:/>|>(.*?)</\1cols\s*>)", scan, re.S)
    ranges: list[tuple[int, int, dict[bytes, bytes]]] = []
    if cols_match:
        inner = head[cols_match.start(2) : cols_match.end(2)] if cols_match.group(2) is not None else b""
        for m in re.finditer(rb"<(?:[\w.-]+:)?col(?=[\s/>])[^>]*>", masked_b(inner)):
            a = attrs_b(inner[m.start() : m.end()])
            ranges.append((int(a.get(b"min", b"1")), int(a.get(b"max", a.get(b"min", b"1"))), a))
    for col, width in sorted(widths.items()):
        split: list[tuple[int, int, dict[bytes, bytes]]] = []
        found: dict[bytes, bytes] | None = None
        for lo, hi, a in ranges:
            if lo <= col <= hi:
                found = a
                if lo < col:
                    split.append((lo, col - 1, a))
                if col < hi:
                    split.append((col + 1, hi, a))
            else:
                split.append((lo, hi, a))
        mine = {k: v for k, v in (found or {}).items() if k not in (b"bestFit",)}
        mine[b"width"] = number_text(round(width, 4)).encode()
        mine[b"customWidth"] = b"1"
        split.append((col, col, mine))
        ranges = sorted(split, key=lambda item: item[0])
    p = prefix
    parts = []
    for lo, hi, a in ranges:
        a = dict(a)
        a[b"min"], a[b"max"] = str(lo).encode(), str(hi).encode()
        ordered = [b"min", b"max"] + [k for k in a if k not in (b"min", b"max")]
        parts.append(b"<" + p + b"col" + b"".join(b" " + k + b'="' + a[k] + b'"' for k in ordered) + b"/>")
    element = b"<" + p + b"cols>" + b"".join(parts) + b"</" + p + b"cols>"
    if cols_match:
        return head[: cols_match.start()] + element + head[cols_match.end() :]
    return head + element  # `head` ends where <sheetData> starts, which is where <cols> belongs


def set_dimension(head: bytes, ref: str) -> bytes:
    """The part before <sheetData> with <dimension ref> set (left alone when the sheet has none)."""
    m = re.search(rb"""(<(?:[\w.-]+:)?dimension\b[^>]*?\sref\s*=\s*["'])([^"']*)(["'])""", masked_b(head))
    if not m:
        return head
    return head[: m.start(2)] + ref.encode() + head[m.end(2) :]
