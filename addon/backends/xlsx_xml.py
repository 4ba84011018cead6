"""Small, exact helpers for editing SpreadsheetML text without re-serialising it.

Re-serialising a part (ElementTree, openpyxl) renames namespace prefixes, drops
`mc:Ignorable` consistency and reorders attributes, which is exactly the kind of silent
change a user's workbook must not suffer. So parts we edit are edited as text: elements are
found by local name (any prefix), attributes are read quote-aware, and only the bytes we
mean to change are changed.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta

from addon.model import Cell

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_MAIN_STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_REL_STRICT = "http://purl.oclc.org/ooxml/officeDocument/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"

_ATTR_RE = re.compile(r"""([\w.:-]+)\s*=\s*("[^"]*"|'[^']*')""")
_ATTR_RE_B = re.compile(rb"""([\w.:-]+)\s*=\s*("[^"]*"|'[^']*')""")
_MASK_RE = re.compile(r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>", re.S)
_MASK_RE_B = re.compile(rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>", re.S)
_ENTITY_RE = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
# Characters XML 1.0 cannot carry; Excel stores them as _xHHHH_ escapes.
_ILLEGAL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\r\ufffe\uffff\ud800-\udfff]")
_ESCAPE_LIKE_RE = re.compile("_(x[0-9A-Fa-f]{4}_)")


def unescape(text: str) -> str:
    """XML character and entity references → text."""

    def sub(match: re.Match[str]) -> str:
        ref = match.group(1)
        if ref[0] == "#":
            return chr(int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:]))
        return _ENTITIES[ref]

    return _ENTITY_RE.sub(sub, text) if "&" in text else text


def escape_attr(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def escape_text(text: str) -> str:
    """Text content for <t>: XML-escaped, with Excel's _xHHHH_ escapes for characters XML cannot hold."""
    if "_x" in text:
        text = _ESCAPE_LIKE_RE.sub(r"_x005F_\1", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if _ILLEGAL_RE.search(text):
        text = _ILLEGAL_RE.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)
    return text


def attrs(tag: str) -> dict[str, str]:
    """Attributes of a start tag (names as written, values unescaped)."""
    return {m.group(1): unescape(m.group(2)[1:-1]) for m in _ATTR_RE.finditer(tag)}


def attrs_b(tag: bytes) -> dict[bytes, bytes]:
    """Raw attributes of a start tag in bytes (values not unescaped)."""
    return {m.group(1): m.group(2)[1:-1] for m in _ATTR_RE_B.finditer(tag)}


def local(name: str) -> str:
    return name.rsplit(":", 1)[-1]


def masked(xml: str) -> str:
    """The same text with comments, CDATA and PIs blanked out, so searches never match inside them."""
    if "<!" not in xml and "<?" not in xml:
        return xml
    return _MASK_RE.sub(lambda m: " " * len(m.group(0)), xml)


def masked_b(xml: bytes) -> bytes:
    if b"<!" not in xml and xml.find(b"<?", 5) < 0:
        return xml
    return _MASK_RE_B.sub(lambda m: b" " * len(m.group(0)), xml)


def start_tag_re(local_name: str) -> re.Pattern[str]:
    """Start (or empty) tag of an element by local name, any prefix, quote-aware."""
    return re.compile(rf"""<((?:[\w.-]+:)?){re.escape(local_name)}(?=[\s/>])(?:[^>"']|"[^"]*"|'[^']*')*>""")


def element_re(local_name: str) -> re.Pattern[str]:
    """A whole element by local name: empty tag or start…end (not nested in itself)."""
    return re.compile(
        rf"""<((?:[\w.-]+:)?){re.escape(local_name)}(?=[\s/>])(?:[^>"']|"[^"]*"|'[^']*')*?(?:/>|>.*?</\1{re.escape(local_name)}\s*>)""",
        re.S,
    )


def find_element(xml: str, local_name: str, start: int = 0, end: int | None = None) -> tuple[int, int, str] | None:
    """(start, end, prefix) of the first such element in the masked text."""
    match = element_re(local_name).search(masked(xml), start, len(xml) if end is None else end)
    return (match.start(), match.end(), match.group(1)) if match else None


def set_attr(tag: str, name: str, value: str | None) -> str:
    """The start tag with one attribute set (added before the tag end) or removed (value None)."""
    pattern = re.compile(rf"""(\s){re.escape(name)}\s*=\s*("[^"]*"|'[^']*')""")
    if value is None:
        return pattern.sub("", tag, count=1)
    new = f'{name}="{escape_attr(value)}"'
    if pattern.search(tag):
        return pattern.sub(lambda m: m.group(1) + new, tag, count=1)
    end = len(tag) - (2 if tag.endswith("/>") else 1)
    return f"{tag[:end].rstrip()} {new}{tag[end:]}"


def to_text(xml: bytes) -> str:
    """Decode a part: UTF-8 (with or without BOM) or UTF-16 by BOM."""
    if xml.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = xml.decode("utf-16")
        return re.sub(r"""(<\?xml[^>]*encoding=)["'][Uu][Tt][Ff]-?16["']""", r'\1"UTF-8"', text, count=1)
    return xml.decode("utf-8-sig") if xml.startswith(b"\xef\xbb\xbf") else xml.decode("utf-8")


def from_text(text: str, original: bytes) -> bytes:
    """Encode an edited part, keeping a UTF-8 BOM if the original had one."""
    data = text.encode("utf-8")
    return b"\xef\xbb\xbf" + data if original.startswith(b"\xef\xbb\xbf") else data


# --- cell references -------------------------------------------------------------------------

_COL_CACHE: dict[int, str] = {}


def col_letters(col: int) -> str:
    """1 → A, 27 → AA."""
    cached = _COL_CACHE.get(col)
    if cached is None:
        n, letters = col, ""
        while n:
            n, rem = divmod(n - 1, 26)
            letters = chr(65 + rem) + letters
        cached = _COL_CACHE[col] = letters
    return cached


def col_number(letters: str | bytes) -> int:
    if isinstance(letters, bytes):
        letters = letters.decode("ascii")
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


_REF_RE = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]+)")


def parse_ref(ref: str) -> tuple[int, int]:
    """'B7' → (row 7, col 2)."""
    match = _REF_RE.fullmatch(ref.strip())
    if not match:
        raise ValueError(f"not a cell reference: {ref!r}")
    return int(match.group(2)), col_number(match.group(1))


def parse_range(ref: str) -> tuple[int, int, int, int]:
    """'A1:C9' → (first row, first col, last row, last col); a single cell is a 1×1 range."""
    first, _, last = ref.partition(":")
    r1, c1 = parse_ref(first)
    r2, c2 = parse_ref(last) if last else (r1, c1)
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def range_ref(r1: int, c1: int, r2: int, c2: int) -> str:
    a, b = f"{col_letters(c1)}{r1}", f"{col_letters(c2)}{r2}"
    return a if a == b else f"{a}:{b}"


# --- values ----------------------------------------------------------------------------------

_EPOCH_1900 = datetime(1899, 12, 30)
_EPOCH_1904 = datetime(1904, 1, 1)


def excel_serial(value: date | datetime | time, date1904: bool) -> float | None:
    """Excel's serial number for a date/time, or None when the date system cannot represent it."""
    if isinstance(value, time):
        return (value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6) / 86400
    moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
    moment = moment.replace(tzinfo=None)
    if date1904:
        if moment < _EPOCH_1904:
            return None
        delta = moment - _EPOCH_1904
    else:
        if moment < datetime(1900, 1, 1):
            return None
        delta = moment - _EPOCH_1900
        if moment < datetime(1900, 3, 1):  # Excel's phantom 1900-02-29
            delta -= timedelta(days=1)
    return delta.days + delta.seconds / 86400 + delta.microseconds / 86400e6


def number_text(value: int | float) -> str:
    """The shortest exact text for a number in <v>."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def value_kind(value: Cell) -> str:
    """Which number format a plain value needs: '' (none), 'date', 'datetime' or 'time'."""
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    if isinstance(value, time):
        return "time"
    return ""


def cell_xml(ref: str, value: Cell, style: int | None, date1904: bool, prefix: str = "") -> str:
    """One <c> element; strings are inline (never formulas), numbers numbers, dates serials."""
    s = f' s="{style}"' if style else ""
    c = f"{prefix}c"
    if value is None:
        return f'<{c} r="{ref}"{s}/>' if s else ""
    if isinstance(value, bool):
        return f'<{c} r="{ref}"{s} t="b"><{prefix}v>{int(value)}</{prefix}v></{c}>'
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            value = str(value)
        else:
            return f'<{c} r="{ref}"{s}><{prefix}v>{number_text(value)}</{prefix}v></{c}>'
    if isinstance(value, (date, time)):
        serial = excel_serial(value, date1904)
        if serial is not None:
            return f'<{c} r="{ref}"{s}><{prefix}v>{number_text(serial)}</{prefix}v></{c}>'
        value = value.isoformat()
    text = escape_text(str(value))
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() or "\n" in text else ""
    return f'<{c} r="{ref}"{s} t="inlineStr"><{prefix}is><{prefix}t{space}>{text}</{prefix}t></{prefix}is></{c}>'
