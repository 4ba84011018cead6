"""Cell formats for owned cells, appended to a workbook's styles.xml without renumbering anything.

Existing cells point at cellXfs by index, so the only safe edit is appending. To keep the
file from growing on every run, each format we need is first looked up among the existing
fonts/fills/numFmts/xfs by meaning (attribute order and spelling may change when Excel
re-saves the file), and only added when absent.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from addon.backends.base import STYLES
from addon.backends.xlsx_xml import escape_attr, find_element, from_text, local, masked, to_text

# Number formats for plain dates/times written without a named style.
KIND_FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm", "time": "hh:mm"}
_BUILTIN_FORMATS = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10, "0.00E+00": 11, "@": 49}
_SECTIONS = ["numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs", "tableStyles", "colors", "extLst"]
_CHILD = {"numFmts": "numFmt", "fonts": "font", "fills": "fill", "borders": "border", "cellStyleXfs": "xf", "cellXfs": "xf", "cellStyles": "cellStyle"}
_FONT_ORDER = ["b", "i", "strike", "condense", "extend", "outline", "shadow", "u", "vertAlign", "sz", "color", "name", "family", "charset", "scheme"]
_EMPTY_STYLESHEET = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"></styleSheet>'
)


def _argb(rgb: str) -> str:
    rgb = rgb.upper().lstrip("#")
    return rgb if len(rgb) == 8 else "FF" + rgb


def _norm(el: ET.Element) -> dict[str, dict[str, str]]:
    """An element's children as {local name: attributes}, colours in ARGB, falsy b/i dropped."""
    out: dict[str, dict[str, str]] = {}
    for child in el:
        name = local(child.tag.rsplit("}", 1)[-1])
        attrib = {local(k.rsplit("}", 1)[-1]): v for k, v in child.attrib.items()}
        if name in ("b", "i", "strike") and attrib.get("val", "1").lower() in ("0", "false"):
            continue
        if "rgb" in attrib:
            attrib["rgb"] = _argb(attrib["rgb"])
        if name == "sz" and "val" in attrib:
            attrib["val"] = str(float(attrib["val"]))
        out[name] = attrib
    return out


def _fill_key(el: ET.Element) -> tuple[str, str]:
    """(pattern type, foreground ARGB) of a <fill>; gradients never match ours."""
    for child in el:
        if local(child.tag.rsplit("}", 1)[-1]) != "patternFill":
            return ("gradient", "")
        fg = next((g for g in child if local(g.tag.rsplit("}", 1)[-1]) == "fgColor"), None)
        rgb = _argb(fg.get("rgb", "")) if fg is not None and fg.get("rgb") else ""
        return (child.get("patternType", "none"), rgb)
    return ("none", "")


class StyleBook:
    """Finds or appends the cellXfs for (named style, value kind) pairs."""

    def __init__(self, xml: bytes | None) -> None:
        self.original = xml
        self.text = to_text(xml) if xml is not None else _EMPTY_STYLESHEET
        try:
            root = ET.fromstring(self.text.encode("utf-8"))
        except ET.ParseError as error:
            raise ValueError(f"styles.xml is not well-formed: {error}") from None
        root_match = re.search(r"<((?:[\w.-]+:)?)styleSheet\b", masked(self.text))
        self.prefix = root_match.group(1) if root_match else ""
        kids = {local(c.tag.rsplit("}", 1)[-1]): c for c in root}
        self.num_fmts = {nf.get("formatCode", ""): int(nf.get("numFmtId", "0")) for nf in kids.get("numFmts", [])}
        self.fonts = [_norm(f) for f in kids.get("fonts", [])]
        self.fills = [_fill_key(f) for f in kids.get("fills", [])]
        self.xfs = [self._xf_key(x) for x in kids.get("cellXfs", [])]
        self.has = {name: name in kids for name in _SECTIONS}
        self.counts = {name: len(kids[name]) if name in kids else 0 for name in _SECTIONS}
        self.new: dict[str, list[str]] = {name: [] for name in _CHILD}
        self.base_font = dict(self.fonts[0]) if self.fonts else {"sz": {"val": "11.0"}, "name": {"val": "Calibri"}, "family": {"val": "2"}}
        self._cache: dict[tuple[str | None, str], int] = {}
        if not self.fonts:  # a stylesheet without fonts: give it Excel's defaults first
            self._append("fonts", self._font_xml(self.base_font))
            self.fonts.append(self.base_font)
        if not self.fills:
            for pattern in ("none", "gray125"):
                self._append("fills", f'<{self.prefix}fill><{self.prefix}patternFill patternType="{pattern}"/></{self.prefix}fill>')
                self.fills.append((pattern, ""))
        if not self.counts["borders"]:
            p = self.prefix
            self._append("borders", f"<{p}border><{p}left/><{p}right/><{p}top/><{p}bottom/><{p}diagonal/></{p}border>")
        if not self.counts["cellStyleXfs"]:
            self._append("cellStyleXfs", f'<{self.prefix}xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>')
            if not self.counts["cellStyles"]:
                self._append("cellStyles", f'<{self.prefix}cellStyle name="Normal" xfId="0" builtinId="0"/>')
        if not self.xfs:
            self._append("cellXfs", f'<{self.prefix}xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>')
            self.xfs.append((0, 0, 0, 0, 0, frozenset(), 0))

    @staticmethod
    def _xf_key(el: ET.Element) -> tuple[int, int, int, int, int, frozenset[tuple[str, str]], int]:
        a = el.attrib
        other = frozenset((k, v) for k, v in a.items() if not k.startswith("apply") and k not in ("numFmtId", "fontId", "fillId", "borderId", "xfId"))
        return (int(a.get("numFmtId", 0)), int(a.get("fontId", 0)), int(a.get("fillId", 0)), int(a.get("borderId", 0)), int(a.get("xfId", 0)), other, len(el))

    def _append(self, section: str, element: str) -> None:
        self.new[section].append(element)

    # --- lookups -------------------------------------------------------------------------------

    def _num_fmt(self, code: str) -> int:
        if code in _BUILTIN_FORMATS:
            return _BUILTIN_FORMATS[code]
        if code in self.num_fmts:
            return self.num_fmts[code]
        new_id = max([163, *self.num_fmts.values()]) + 1
        self.num_fmts[code] = new_id
        self._append("numFmts", f'<{self.prefix}numFmt numFmtId="{new_id}" formatCode="{escape_attr(code)}"/>')
        return new_id

    def _font_xml(self, font: dict[str, dict[str, str]]) -> str:
        p = self.prefix
        parts = []
        for name in _FONT_ORDER:
            if name in font:
                attr = "".join(f' {k}="{escape_attr(v)}"' for k, v in font[name].items())
                parts.append(f"<{p}{name}{attr}/>")
        return f"<{p}font>{''.join(parts)}</{p}font>"

    def _font(self, spec: dict[str, object]) -> int:
        if not any(k in spec for k in ("bold", "italic", "size", "font")):
            return 0
        font = {k: v for k, v in self.base_font.items() if k in ("sz", "name", "family", "charset", "scheme", "color")}
        if spec.get("bold"):
            font["b"] = {}
        if spec.get("italic"):
            font["i"] = {}
        if "size" in spec:
            font["sz"] = {"val": str(float(spec["size"]))}  # type: ignore[arg-type]
        if "font" in spec:
            font["color"] = {"rgb": _argb(str(spec["font"]))}
        for index, existing in enumerate(self.fonts):
            if existing == font:
                return index
        self.fonts.append(font)
        written = dict(font)
        if "sz" in written:
            val = float(written["sz"]["val"])
            written["sz"] = {"val": str(int(val)) if val.is_integer() else str(val)}
        self._append("fonts", self._font_xml(written))
        return len(self.fonts) - 1

    def _fill(self, spec: dict[str, object]) -> int:
        if "fill" not in spec:
            return 0
        rgb = _argb(str(spec["fill"]))
        if ("solid", rgb) in self.fills:
            return self.fills.index(("solid", rgb))
        p = self.prefix
        self.fills.append(("solid", rgb))
        self._append("fills", f'<{p}fill><{p}patternFill patternType="solid"><{p}fgColor rgb="{rgb}"/><{p}bgColor indexed="64"/></{p}patternFill></{p}fill>')
        return len(self.fills) - 1

    def xf(self, style: str | None, kind: str = "") -> int:
        """The cellXfs index for a named style (see STYLES) applied to a value of this kind."""
        key = (style, kind)
        if key in self._cache:
            return self._cache[key]
        if style is not None and style not in STYLES:
            raise ValueError(f"unknown style {style!r}; known: {', '.join(STYLES)}")
        spec = STYLES.get(style, {}) if style else {}
        code = str(spec["num_format"]) if "num_format" in spec else KIND_FORMATS.get(kind, "")
        num = self._num_fmt(code) if code else 0
        font, fill = self._font(spec), self._fill(spec)
        if (num, font, fill) == (0, 0, 0):
            self._cache[key] = 0
            return 0
        wanted = (num, font, fill, 0, 0, frozenset(), 0)
        index = next((i for i, existing in enumerate(self.xfs) if existing == wanted), -1)
        if index < 0:
            applies = "".join(
                f' {name}="1"' for name, used in (("applyNumberFormat", num), ("applyFont", font), ("applyFill", fill)) if used
            )
            self._append("cellXfs", f'<{self.prefix}xf numFmtId="{num}" fontId="{font}" fillId="{fill}" borderId="0" xfId="0"{applies}/>')
            self.xfs.append(wanted)
            index = len(self.xfs) - 1
        self._cache[key] = index
        return index

    # --- output --------------------------------------------------------------------------------

    @property
    def changed(self) -> bool:
        return self.original is None or any(self.new.values())

    def result(self) -> bytes:
        """styles.xml with the new elements appended (the original bytes when nothing was needed)."""
        if not self.changed and self.original is not None:
            return self.original
        text = self.text
        for section in _CHILD:
            if not self.new[section]:
                continue
            text = self._extend(text, section, self.new[section])
        return from_text(text, self.original or b"")

    def _extend(self, text: str, section: str, items: list[str]) -> str:
        p = self.prefix
        count = self.counts[section] + len(items)
        found = find_element(text, section)
        if found is not None:
            start, end, _ = found
            element = text[start:end]
            tag_end = element.index(">") + 1
            tag = element[:tag_end]
            if tag.endswith("/>"):
                tag = tag[:-2].rstrip() + ">"
                body, close = "", f"</{p}{section}>"
            else:
                close_at = element.rindex("</")
                body, close = element[tag_end:close_at], element[close_at:]
            tag = re.sub(r"""\scount\s*=\s*("[^"]*"|'[^']*')""", f' count="{count}"', tag) if re.search(r"\scount\s*=", tag) else tag[:-1] + f' count="{count}">'
            return text[:start] + tag + body + "".join(items) + close + text[end:]
        new = f'<{p}{section} count="{count}">{"".join(items)}</{p}{section}>'
        for later in _SECTIONS[_SECTIONS.index(section) + 1 :]:
            at = find_element(text, later)
            if at is not None:
                return text[: at[0]] + new + text[at[0] :]
        close_at = masked(text).rindex("</")
        return text[:close_at] + new + text[close_at:]
