"""workbook.xml and docProps/app.xml: the tab list, sheet ids, defined names and the document's list of titles.

Edited as text, element by element, so everything else in these parts (extLst, revision
ids, calc settings, mc:AlternateContent) stays as Excel wrote it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from addon.backends.xlsx_opc import Package, Rel
from addon.backends.xlsx_xml import (
    NS_MAIN_STRICT,
    NS_REL,
    NS_REL_STRICT,
    attrs,
    element_re,
    escape_attr,
    escape_text,
    from_text,
    local,
    masked,
    set_attr,
    start_tag_re,
    to_text,
    unescape,
)

_SHEET_TAG = start_tag_re("sheet")
_SHEET_ELEMENT = element_re("sheet")
_DEFINED_NAME = element_re("definedName")
_VIEW_TAG = start_tag_re("workbookView")


@dataclass(frozen=True)
class SheetEntry:
    index: int
    name: str
    sheet_id: int
    rid: str
    state: str
    rel: Rel | None

    @property
    def part(self) -> str | None:
        return self.rel.part if self.rel else None

    @property
    def kind(self) -> str:
        """worksheet, chartsheet, dialogsheet… ('' when the relationship is missing)."""
        return self.rel.kind if self.rel else ""


class Workbook:
    """The workbook part of a package, with its relationships."""

    def __init__(self, pkg: Package) -> None:
        self.pkg = pkg
        office = [r for r in pkg.rels("") if r.kind == "officeDocument" and r.part]
        if not office or not pkg.exists(office[0].part or ""):
            raise ValueError("the package has no workbook part")
        self.part: str = office[0].part or ""
        self.raw = pkg.read(self.part)
        self.text = to_text(self.raw)
        root = re.search(r"<((?:[\w.-]+:)?)workbook\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>", masked(self.text))
        if root is None:
            raise ValueError(f"{self.part} is not a workbook")
        self.root_tag = root.group(0)
        self.strict = NS_MAIN_STRICT in self.root_tag
        self.rel_ns = NS_REL_STRICT if self.strict else NS_REL
        pr = start_tag_re("workbookPr").search(masked(self.text))
        flag = attrs(pr.group(0)).get("date1904", "0").lower() if pr else "0"
        self.date1904 = flag in ("1", "true")
        self.changed = False

    # --- reading ---------------------------------------------------------------------------

    def rels(self) -> dict[str, Rel]:
        return {r.id: r for r in self.pkg.rels(self.part)}

    def _sheets_region(self) -> tuple[int, int, str]:
        scan = masked(self.text)
        m = re.search(r"<((?:[\w.-]+:)?)sheets\b[^>]*?(/?)>", scan)
        if m is None:
            raise ValueError(f"{self.part} has no <sheets>")
        if m.group(2):
            return m.end(), m.end(), m.group(1)
        end = scan.find(f"</{m.group(1)}sheets", m.end())
        return m.end(), end, m.group(1)

    def sheets(self) -> list[SheetEntry]:
        start, end, _ = self._sheets_region()
        rels = self.rels()
        out = []
        for m in _SHEET_TAG.finditer(masked(self.text), start, end):
            raw = attrs(m.group(0))
            rid = next((v for k, v in raw.items() if k.endswith(":id") or k == "id"), "")
            a = {local(k): v for k, v in raw.items()}
            out.append(SheetEntry(len(out), a.get("name", ""), int(a.get("sheetId", "0") or 0), rid, a.get("state", "visible"), rels.get(rid)))
        return out

    def find(self, name: str) -> SheetEntry | None:
        """A tab by name: exact, else the one Excel would consider the same (case-insensitive)."""
        sheets = self.sheets()
        for sheet in sheets:
            if sheet.name == name:
                return sheet
        folded = [s for s in sheets if s.name.casefold() == name.casefold()]
        return folded[0] if folded else None

    # --- editing ---------------------------------------------------------------------------

    def _rel_attr(self) -> str:
        """How to write r:id on a new <sheet>: with a prefix the document already binds, else declared locally."""
        for m in re.finditer(r'xmlns:([\w.-]+)\s*=\s*"([^"]*)"', self.root_tag):
            if m.group(2) in (NS_REL, NS_REL_STRICT):
                return f"{m.group(1)}:id"
        return f'xmlns:r="{self.rel_ns}" r:id'

    def add_sheet(self, name: str, rid: str) -> int:
        sheets = self.sheets()
        sheet_id = max([s.sheet_id for s in sheets] or [0]) + 1
        start, end, prefix = self._sheets_region()
        element = f'<{prefix}sheet name="{escape_attr(name)}" sheetId="{sheet_id}" {self._rel_attr()}="{rid}"/>'
        if start == end and self.text[start - 2 : start] == "/>":
            tag_start = self.text.rfind("<", 0, start)
            self.text = self.text[:tag_start] + self.text[tag_start : start - 2].rstrip() + ">" + element + f"</{prefix}sheets>" + self.text[start:]
        else:
            self.text = self.text[:end] + element + self.text[end:]
        self.changed = True
        return sheet_id

    def rename_sheet(self, index: int, name: str) -> None:
        start, end, _ = self._sheets_region()
        tags = list(_SHEET_TAG.finditer(masked(self.text), start, end))
        m = tags[index]
        self.text = self.text[: m.start()] + set_attr(m.group(0), "name", name) + self.text[m.end() :]
        self.changed = True

    def remove_sheet(self, index: int) -> None:
        """Drop a tab from the list, its local and referring defined names, and fix view indices."""
        sheets = self.sheets()
        gone = sheets[index]
        start, end, _ = self._sheets_region()
        elements = list(_SHEET_ELEMENT.finditer(masked(self.text), start, end))
        m = elements[index]
        self.text = self.text[: m.start()] + self.text[m.end() :]
        self._fix_defined_names(index, gone.name)
        remaining = [s for s in sheets if s.index != index]
        self._fix_views(index, remaining)
        self.changed = True

    def _fix_defined_names(self, index: int, name: str) -> None:
        quoted = re.escape("'" + name.replace("'", "''") + "'!")
        plain = r"(?<![\w.'])" + re.escape(name) + "!"
        refers = re.compile(f"{quoted}|{plain}", re.IGNORECASE)
        out, cursor = [], 0
        scan = masked(self.text)
        for m in _DEFINED_NAME.finditer(scan):
            element = self.text[m.start() : m.end()]
            tag_end = element.index(">") + 1
            tag = element[:tag_end]
            body = unescape(element[tag_end:].rsplit("</", 1)[0]) if not tag.endswith("/>") else ""
            local_id = attrs(tag).get("localSheetId")
            out.append(self.text[cursor : m.start()])
            cursor = m.end()
            if (local_id is not None and local_id.isdigit() and int(local_id) == index) or refers.search(body):
                continue  # the name dies with its tab
            if local_id is not None and local_id.isdigit() and int(local_id) > index:
                element = set_attr(tag, "localSheetId", str(int(local_id) - 1)) + element[tag_end:]
            out.append(element)
        out.append(self.text[cursor:])
        self.text = "".join(out)
        empty = re.search(r"<((?:[\w.-]+:)?)definedNames\b[^>]*>\s*</\1definedNames>", masked(self.text))
        if empty:
            self.text = self.text[: empty.start()] + self.text[empty.end() :]

    def _fix_views(self, index: int, remaining: list[SheetEntry]) -> None:
        visible = [i for i, s in enumerate(remaining) if s.state not in ("hidden", "veryHidden")]
        fallback = visible[0] if visible else 0

        def fix(value: str | None) -> str | None:
            if value is None or not value.isdigit():
                return value
            n = int(value)
            if n > index:
                n -= 1
            elif n == index:
                n = max(0, min(n, len(remaining) - 1))
            if n >= len(remaining) or (visible and n not in visible):
                n = fallback
            return str(n)

        out, cursor = [], 0
        for m in _VIEW_TAG.finditer(masked(self.text)):
            tag = m.group(0)
            a = attrs(tag)
            for key in ("activeTab", "firstSheet"):
                if key in a:
                    tag = set_attr(tag, key, fix(a[key]))
            out += [self.text[cursor : m.start()], tag]
            cursor = m.end()
        out.append(self.text[cursor:])
        self.text = "".join(out)

    def save(self) -> None:
        if self.changed:
            self.pkg.write(self.part, from_text(self.text, self.raw))


def update_app_titles(pkg: Package, old_names: list[str], new_names: list[str]) -> None:
    """Keep docProps/app.xml's worksheet titles and count in step with the tabs, when it lists them."""
    if old_names == new_names:
        return
    app = next((r.part for r in pkg.rels("") if r.kind in ("extended-properties", "extendedProperties") and r.part), None)
    if app is None or not pkg.exists(app):
        return
    raw = pkg.read(app)
    text = to_text(raw)
    scan = masked(text)
    heading = element_re("HeadingPairs").search(scan)
    titles = element_re("TitlesOfParts").search(scan)
    if heading is None or titles is None:
        return
    lpstr, i4 = element_re("lpstr"), element_re("i4")

    def inner(match: re.Match[str]) -> str:
        element = text[match.start() : match.end()]
        return unescape(element[element.index(">") + 1 : element.rindex("</")]) if not element.endswith("/>") else ""

    head_items = sorted(list(lpstr.finditer(scan, heading.start(), heading.end())) + list(i4.finditer(scan, heading.start(), heading.end())), key=lambda m: m.start())
    groups: list[tuple[str, int, re.Match[str]]] = []
    label = ""
    for m in head_items:
        if local(m.group(0)[1:].split(">", 1)[0].split()[0].rstrip("/")) == "lpstr":
            label = inner(m)
        else:
            try:
                groups.append((label, int(inner(m).strip()), m))
            except ValueError:
                return
    title_items = list(lpstr.finditer(scan, titles.start(), titles.end()))
    values = [inner(m) for m in title_items]
    offset = 0
    found = None
    for _, count, match in groups:
        if values[offset : offset + count] == old_names:
            found = match
            break
        offset += count
    if found is None:
        return
    count_match = found
    if not title_items:
        return
    p = title_items[0].group(1)
    new_values = values[:offset] + new_names + values[offset + len(old_names) :]
    rebuilt = "".join(f"<{p}lpstr>{escape_text(v)}</{p}lpstr>" for v in new_values)
    first, last = title_items[0].start(), title_items[-1].end()
    count_element = text[count_match.start() : count_match.end()]
    cp = count_match.group(1)
    new_count = f"<{cp}i4>{len(new_names)}</{cp}i4>" if count_element.endswith("/>") else count_element[: count_element.index(">") + 1] + str(len(new_names)) + count_element[count_element.rindex("</") :]
    # edit from the end backwards so earlier offsets stay valid
    edits = sorted([(first, last, rebuilt), (count_match.start(), count_match.end(), new_count)], reverse=True)
    for s, e, new in edits:
        text = text[:s] + new + text[e:]
    vector = start_tag_re("vector")
    titles = element_re("TitlesOfParts").search(masked(text))
    assert titles is not None
    vm = vector.search(masked(text), titles.start(), titles.end())
    if vm is not None:
        text = text[: vm.start()] + set_attr(vm.group(0), "size", str(len(new_values))) + text[vm.end() :]
    pkg.write(app, from_text(text, raw))
