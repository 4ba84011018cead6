"""Cell values as Google stores and renders them.

A cell keeps what the user entered (``userEnteredValue``: stringValue / numberValue / boolValue /
formulaValue) plus its ``userEnteredFormat``; what clients read is derived on demand, so formulas
follow later edits. Dates are serial numbers (days since 1899-12-30) whose number format decides
how FORMATTED_VALUE shows them, exactly the contract our Google backend has to handle.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

EPOCH = datetime(1899, 12, 30)

JSON = dict[str, Any]

# -- serial numbers ----------------------------------------------------------------------------


def to_serial(value: date | datetime | time) -> float:
    """A date/datetime/time as a Sheets serial number."""
    if isinstance(value, datetime):
        delta = value.replace(tzinfo=None) - EPOCH
        return delta.days + delta.seconds / 86400 + delta.microseconds / 86400e6
    if isinstance(value, date):
        return float((value - EPOCH.date()).days)
    return (value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6) / 86400


def from_serial(serial: float) -> datetime:
    """A serial number as a naive datetime, rounded to the second like Sheets displays it."""
    return EPOCH + timedelta(seconds=round(serial * 86400))


def json_number(x: float) -> int | float:
    """Integral floats go out as JSON integers (Google prints 43831, not 43831.0)."""
    if isinstance(x, bool):
        return x
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e17:
        return int(x)
    return x


# -- colours -----------------------------------------------------------------------------------


def _f32(x: float) -> float | int:
    """Shortest decimal that survives a float32 round trip: how Google prints colour channels."""
    target = struct.unpack("f", struct.pack("f", x))[0]
    for digits in range(1, 10):
        cand = float(f"{x:.{digits}g}")
        if struct.unpack("f", struct.pack("f", cand))[0] == target:
            return json_number(cand)
    return target


def norm_color(color: JSON) -> JSON:
    """Quantise channels to 8 bits and drop zero channels, as Google stores colours."""
    out: JSON = {}
    for key in ("red", "green", "blue", "alpha"):
        if key in color and color[key] is not None:
            v = float(color[key])
            if key != "alpha":
                # Google keeps 8 bits per channel and truncates (0.5 -> 127/255, not 128/255).
                v = math.floor(v * 255 + 1e-6) / 255
            if v:
                out[key] = _f32(v)
    return out


def norm_format(fmt: JSON) -> JSON:
    """Normalise a CellFormat: colours quantised, and each colour mirrored to its *Style twin."""
    out: JSON = {}
    for key, val in fmt.items():
        if key in ("backgroundColor",) and isinstance(val, dict):
            out[key] = norm_color(val)
            out.setdefault("backgroundColorStyle", {"rgbColor": norm_color(val)})
        elif key == "backgroundColorStyle" and isinstance(val, dict):
            style = _norm_style(val)
            out[key] = style
            if "rgbColor" in style:
                out.setdefault("backgroundColor", style["rgbColor"])
        elif key == "textFormat" and isinstance(val, dict):
            tf = dict(val)
            if isinstance(tf.get("foregroundColor"), dict):
                tf["foregroundColor"] = norm_color(tf["foregroundColor"])
                tf.setdefault("foregroundColorStyle", {"rgbColor": tf["foregroundColor"]})
            elif isinstance(tf.get("foregroundColorStyle"), dict):
                tf["foregroundColorStyle"] = _norm_style(tf["foregroundColorStyle"])
                if "rgbColor" in tf["foregroundColorStyle"]:
                    tf.setdefault("foregroundColor", tf["foregroundColorStyle"]["rgbColor"])
            out[key] = tf
        else:
            out[key] = val
    return out


def _norm_style(style: JSON) -> JSON:
    if "rgbColor" in style:
        return {"rgbColor": norm_color(style["rgbColor"] or {})}
    return dict(style)


# -- number formats ----------------------------------------------------------------------------

# Patterns Sheets (locale en_US) applies when a numberFormat has a type but no pattern.
DEFAULT_PATTERNS = {
    "NUMBER": "#,##0.00",
    "PERCENT": "0.00%",
    "CURRENCY": '"$"#,##0.00',
    "DATE": "M/d/yyyy",
    "TIME": "h:mm:ss am/pm",
    "DATE_TIME": "M/d/yyyy H:mm:ss",
    "SCIENTIFIC": "0.00E+00",
    "TEXT": "@",
}
DATE_TYPES = {"DATE", "TIME", "DATE_TIME"}

_DATE_TOKEN = re.compile(
    r'"[^"]*"|\\.|\[h+\]|\[m+\]|\[s+\]|yyyy|yy|mmmmm|mmmm|mmm|mm|m|dddd|ddd|dd|d|hh|h|ss|s|am/pm|a/p|\.0+|[^"\\ymdhsa.\[]+|.',
    re.IGNORECASE,
)
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def is_date_format(fmt: JSON | None) -> bool:
    """True when a numberFormat shows a date, time or both (decides dateTimeRenderOption)."""
    if not fmt:
        return False
    if fmt.get("type") in DATE_TYPES:
        return True
    pattern = fmt.get("pattern") or ""
    stripped = re.sub(r'"[^"]*"|\\.', "", pattern)
    return fmt.get("type") in (None, "", "NUMBER_FORMAT_TYPE_UNSPECIFIED") and bool(re.search(r"[ydhHs]|mm|\[[hms]", stripped))


def _render_date(serial: float, pattern: str) -> str:
    dt = from_serial(serial)
    tokens = _DATE_TOKEN.findall(pattern)
    has_ampm = any(t.lower() in ("am/pm", "a/p") for t in tokens)
    out: list[str] = []
    for i, tok in enumerate(tokens):
        low = tok.lower()
        prev_is_hour = any(t.lower().startswith("h") for t in tokens[max(0, i - 2) : i])
        next_is_sec = any(t.lower().startswith("s") for t in tokens[i + 1 : i + 3])
        if tok.startswith('"'):
            out.append(tok[1:-1])
        elif tok.startswith("\\"):
            out.append(tok[1:])
        elif low.startswith("[h"):
            out.append(str(int(round(serial * 86400)) // 3600).zfill(len(tok) - 2))
        elif low.startswith("[m"):
            out.append(str(int(round(serial * 86400)) // 60).zfill(len(tok) - 2))
        elif low.startswith("[s"):
            out.append(str(int(round(serial * 86400))).zfill(len(tok) - 2))
        elif low == "yyyy":
            out.append(f"{dt.year:04d}")
        elif low == "yy":
            out.append(f"{dt.year % 100:02d}")
        elif low in ("m", "mm") and (prev_is_hour or next_is_sec):
            out.append(f"{dt.minute:02d}" if low == "mm" else str(dt.minute))
        elif low == "mm":
            out.append(f"{dt.month:02d}")
        elif low == "m":
            out.append(str(dt.month))
        elif low == "mmm":
            out.append(_MONTHS[dt.month - 1][:3])
        elif low == "mmmm":
            out.append(_MONTHS[dt.month - 1])
        elif low == "mmmmm":
            out.append(_MONTHS[dt.month - 1][0])
        elif low == "dd":
            out.append(f"{dt.day:02d}")
        elif low == "d":
            out.append(str(dt.day))
        elif low == "ddd":
            out.append(_DAYS[dt.weekday()][:3])
        elif low == "dddd":
            out.append(_DAYS[dt.weekday()])
        elif low in ("h", "hh"):
            hour = dt.hour
            if has_ampm:
                hour = hour % 12 or 12
            out.append(f"{hour:02d}" if low == "hh" else str(hour))
        elif low in ("s", "ss"):
            out.append(f"{dt.second:02d}" if low == "ss" else str(dt.second))
        elif low == "am/pm":
            out.append("AM" if dt.hour < 12 else "PM")
        elif low == "a/p":
            out.append("A" if dt.hour < 12 else "P")
        elif tok.startswith(".0"):
            out.append("." + "0" * (len(tok) - 1))
        else:
            out.append(tok)
    return "".join(out)


def _render_number_section(value: float, pattern: str) -> str:
    # Split literal prefix/suffix from the digit placeholders.
    lits = re.findall(r'"[^"]*"|\\.|[0#?][0#?.,]*(?:E[+-]?0+)?|\.[0#?]+|[^"\\0#?.]+|.', pattern)
    core = next((t for t in lits if re.search(r"[0#?]", t) and not t.startswith('"')), None)
    if core is None:
        return "".join(t[1:-1] if t.startswith('"') else t.lstrip("\\") for t in lits)
    percent = pattern.count("%")
    value = value * (100 ** percent)
    if "E" in core:
        mant, _, exp = core.partition("E")
        decimals = len(mant.partition(".")[2])
        text = f"{value:.{decimals}E}"
        m, _, e = text.partition("E")
        exp_digits = len(exp.lstrip("+-")) or 2
        sign = "-" if e.startswith("-") else "+"
        body = f"{m}E{sign}{abs(int(e)):0{exp_digits}d}"
    else:
        int_part, _, frac_part = core.partition(".")
        grouping = "," in int_part
        scale_commas = len(core) - len(core.rstrip(","))
        value = value / (1000 ** scale_commas)
        req = frac_part.count("0")
        opt = frac_part.count("#") + frac_part.count("?")
        text = f"{abs(value):,.{req + opt}f}" if grouping else f"{abs(value):.{req + opt}f}"
        if opt and "." in text:
            whole, frac = text.split(".")
            frac = frac.rstrip("0") if len(frac.rstrip("0")) >= req else frac[:req]
            frac = frac.ljust(req, "0")
            text = whole + ("." + frac if frac else "")
        min_int = int_part.replace(",", "").count("0")
        whole, dot, frac = text.partition(".")
        if whole.replace(",", "") == "0" and min_int == 0:
            whole = ""
        elif len(whole.replace(",", "")) < min_int and not grouping:
            whole = whole.zfill(min_int)  # "00000" shows 123 as 00123
        text = whole + dot + frac
        body = ("-" if value < 0 and float(text.replace(",", "") or 0) != 0 else "") + text
    out: list[str] = []
    for t in lits:
        if t is core:
            out.append(body)
        elif t.startswith('"'):
            out.append(t[1:-1])
        elif t.startswith("\\"):
            out.append(t[1:])
        else:
            out.append(t)
    return "".join(out)


def general(value: float) -> str:
    """Sheets' automatic number display: up to 10 significant digits, E notation when huge/tiny."""
    if value == 0:
        return "0"
    if math.isinf(value) or math.isnan(value):
        return "#NUM!"
    mag = abs(value)
    if mag >= 1e15 or mag < 1e-9:
        m, _, e = f"{value:.{9}E}".partition("E")
        m = m.rstrip("0").rstrip(".")
        return f"{m}E{'-' if e.startswith('-') else '+'}{abs(int(e)):02d}"
    if float(value).is_integer():
        return str(int(value))
    digits = max(0, 10 - (int(math.floor(math.log10(mag))) + 1))
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text


def render_number(value: float, fmt: JSON | None) -> str:
    """A number shown through a numberFormat (type + pattern), as FORMATTED_VALUE returns it."""
    if not fmt:
        return general(value)
    ftype = fmt.get("type") or ""
    pattern = fmt.get("pattern") or DEFAULT_PATTERNS.get(ftype, "")
    if not pattern or pattern.lower() == "general":
        return general(value)
    if pattern == "@":
        return general(value)
    if is_date_format({"type": ftype, "pattern": pattern}):
        return _render_date(value, pattern)
    sections = _split_sections(pattern)
    if value < 0 and len(sections) > 1:
        return _render_number_section(-value, sections[1])
    if value == 0 and len(sections) > 2:
        return _render_number_section(value, sections[2])
    if value < 0:
        body = _render_number_section(-value, sections[0])
        return body if _is_zero_text(body) else "-" + body
    return _render_number_section(value, sections[0])


def _is_zero_text(text: str) -> bool:
    return not re.search(r"[1-9]", text)


def _split_sections(pattern: str) -> list[str]:
    parts, buf, quoted = [], "", False
    for ch in pattern:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            parts.append(buf)
            buf = ""
        else:
            buf += ch
    parts.append(buf)
    return parts


# -- input parsing (USER_ENTERED) ----------------------------------------------------------------

_NUM = r"(?:\d+(?:\.\d*)?|\.\d+)"
_RE_PLAIN = re.compile(rf"^\s*([+-]?){_NUM}(?:[eE][+-]?\d+)?\s*$")
_RE_GROUPED = re.compile(r"^\s*([+-]?)\d{1,3}(?:,\d{3})+(?:\.(\d*))?\s*$")
_RE_PERCENT = re.compile(rf"^\s*([+-]?)({_NUM})\s*%\s*$")
_RE_CURRENCY = re.compile(r"^\s*([+-]?)\$\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?\s*$")
_RE_ISO_DATE = re.compile(r"^\s*(\d{4})([-/.])(\d{1,2})\2(\d{1,2})\s*$")
_RE_US_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\s*$")
_RE_ISO_DT = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")
_RE_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?\s*$")


def parse_user_entered(text: str) -> tuple[JSON, JSON | None]:
    """A typed string -> (userEnteredValue, numberFormat Sheets would auto-apply or None).

    Mirrors the en_US locale: numbers (with grouping, %, $), TRUE/FALSE, ISO and M/D/YYYY
    dates, times, a leading apostrophe forcing text, and '=' starting a formula.
    """
    if text.startswith("'"):
        return {"stringValue": text[1:]}, None
    if text.startswith("="):
        return {"formulaValue": text}, None
    upper = text.strip().upper()
    if upper in ("TRUE", "FALSE"):
        return {"boolValue": upper == "TRUE"}, None
    if _RE_PLAIN.match(text):
        return {"numberValue": float(text)}, None
    m = _RE_GROUPED.match(text)
    if m:
        decimals = len(m.group(2) or "")
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        return {"numberValue": float(text.replace(",", ""))}, {"type": "NUMBER", "pattern": pattern}
    m = _RE_PERCENT.match(text)
    if m:
        decimals = len(m.group(2).partition(".")[2])
        pattern = "0" + ("." + "0" * decimals if decimals else "") + "%"
        value = float(m.group(1) + m.group(2)) / 100
        return {"numberValue": value}, {"type": "PERCENT", "pattern": pattern}
    m = _RE_CURRENCY.match(text)
    if m:
        value = float(m.group(1) + m.group(2).replace(",", "") + ("." + m.group(3) if m.group(3) else ""))
        return {"numberValue": value}, {"type": "CURRENCY", "pattern": '"$"#,##0.00'}
    parsed = _parse_datetime(text)
    if parsed is not None:
        return {"numberValue": parsed[0]}, parsed[1]
    return {"stringValue": text}, None


def _parse_datetime(text: str) -> tuple[float, JSON] | None:
    try:
        m = _RE_ISO_DT.match(text)
        if m:
            y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
            serial = to_serial(datetime(y, mo, d, h, mi, s))
            return serial, {"type": "DATE_TIME", "pattern": "yyyy-mm-dd H:mm:ss"}
        m = _RE_ISO_DATE.match(text)
        if m:
            y, sep, mo, d = m.groups()
            serial = to_serial(date(int(y), int(mo), int(d)))
            return serial, {"type": "DATE", "pattern": f"yyyy{sep}mm{sep}dd"}
        m = _RE_US_DATE.match(text)
        if m:
            mo, d, y = (int(g) for g in m.groups())
            if y < 100:
                y += 2000 if y < 30 else 1900
            return to_serial(date(y, mo, d)), {"type": "DATE", "pattern": "M/d/yyyy"}
        m = _RE_TIME.match(text)
        if m:
            h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
            ampm = (m.group(4) or "").upper()
            if ampm:
                if not 1 <= h <= 12:
                    return None
                h = h % 12 + (12 if ampm == "PM" else 0)
            return to_serial(time(h, mi, s)), {"type": "TIME", "pattern": "h:mm:ss am/pm"}
    except ValueError:
        return None
    return None


def raw_value(value: Any) -> JSON | None:
    """A RAW input value -> userEnteredValue (strings stay strings, even '=1+1'); None = empty."""
    if value is None:
        return None
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int | float):
        return {"numberValue": float(value)}
    text = str(value)
    if text == "":
        return None
    return {"stringValue": text}


def user_entered_value(value: Any) -> tuple[JSON | None, JSON | None]:
    """A USER_ENTERED input value -> (userEnteredValue or None for empty, auto numberFormat)."""
    if value is None or value == "":
        return None, None
    if isinstance(value, bool):
        return {"boolValue": value}, None
    if isinstance(value, int | float):
        return {"numberValue": float(value)}, None
    return parse_user_entered(str(value))


# -- formulas ----------------------------------------------------------------------------------


class FormulaError(Exception):
    """An error value a formula evaluates to (#NAME?, #DIV/0!, ...)."""

    def __init__(self, kind: str, text: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.text = text
        self.message = message


ERROR_TEXT = {"DIV_ZERO": "#DIV/0!", "NAME": "#NAME?", "VALUE": "#VALUE!", "REF": "#REF!", "ERROR": "#ERROR!",
              "N_A": "#N/A", "NUM": "#NUM!"}

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)|(?P<str>\"(?:[^\"]|\"\")*\")"
    r"|(?P<ref>(?:'(?:[^']|'')+'|[A-Za-z_][\w.]*)!\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?"
    r"|\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?(?![\w(]))"
    r"|(?P<name>[A-Za-z_][\w.]*)|(?P<op><>|<=|>=|[-+*/^&=<>(),:%]))"
)

# A resolver: (sheet title or None, A1 cell-or-range) -> list of rows of effective python values.
Resolver = Callable[[str | None, str], list[list[Any]]]


def evaluate(formula: str, resolve: Resolver) -> Any:
    """Evaluate a small but honest subset of the formula language (arithmetic, refs, SUM…)."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    src = formula[1:] if formula.startswith("=") else formula
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if not m or m.end() == pos:
            if src[pos:].strip() == "":
                break
            raise FormulaError("ERROR", "#ERROR!", "Formula parse error.")
        pos = m.end()
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
    parser = _Parser(tokens, resolve)
    value = parser.expr()
    if parser.i != len(tokens):
        raise FormulaError("ERROR", "#ERROR!", "Formula parse error.")
    if isinstance(value, list):
        value = value[0][0] if value and value[0] else None
    return value


def _num(v: Any) -> float:
    if isinstance(v, list):
        v = v[0][0] if v and v[0] else None
    if v is None or v == "":
        return 0.0
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, int | float):
        return float(v)
    try:
        return float(str(v).replace(",", ""))
    except ValueError:
        raise FormulaError("VALUE", "#VALUE!", f"Function expects number values. But '{v}' is a text and cannot be coerced to a number.") from None


def _text(v: Any) -> str:
    if isinstance(v, list):
        v = v[0][0] if v and v[0] else None
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return general(v)
    return str(v)


def _flat(args: list[Any]) -> list[Any]:
    out: list[Any] = []
    for a in args:
        if isinstance(a, list):
            out.extend(c for row in a for c in row if isinstance(c, int | float) and not isinstance(c, bool))
        else:
            out.append(_num(a))
    return out


_FUNCS: dict[str, Callable[[list[Any]], Any]] = {
    "SUM": lambda a: float(sum(_flat(a))),
    "MIN": lambda a: float(min(_flat(a), default=0)),
    "MAX": lambda a: float(max(_flat(a), default=0)),
    "COUNT": lambda a: float(len(_flat(a))),
    "AVERAGE": lambda a: (sum(_flat(a)) / len(_flat(a))) if _flat(a) else _raise("DIV_ZERO"),
    "CONCATENATE": lambda a: "".join(_text(x) for x in a),
    "IF": lambda a: (a[1] if len(a) > 1 else True) if _truthy(a[0]) else (a[2] if len(a) > 2 else False),
    "ROUND": lambda a: float(round(_num(a[0]), int(_num(a[1])) if len(a) > 1 else 0)),
    "ABS": lambda a: abs(_num(a[0])),
    "LEN": lambda a: float(len(_text(a[0]))),
    "UPPER": lambda a: _text(a[0]).upper(),
    "LOWER": lambda a: _text(a[0]).lower(),
    "TRUE": lambda a: True,
    "FALSE": lambda a: False,
}


def _raise(kind: str) -> Any:
    raise FormulaError(kind, ERROR_TEXT[kind], "Function AVERAGE parameter 1 value is 0. It should be greater than 0." if kind == "DIV_ZERO" else kind)


def _truthy(v: Any) -> bool:
    if isinstance(v, str):
        if v.upper() in ("TRUE", "FALSE"):
            return v.upper() == "TRUE"
        raise FormulaError("VALUE", "#VALUE!", f"Function IF parameter 1 expects boolean values. But '{v}' is a text and cannot be coerced to a boolean.")
    return bool(_num(v))


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], resolve: Resolver) -> None:
        self.t = tokens
        self.i = 0
        self.resolve = resolve

    def peek(self) -> tuple[str, str] | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self, op: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (op is not None and tok[1] != op):
            raise FormulaError("ERROR", "#ERROR!", "Formula parse error.")
        self.i += 1
        return tok

    def expr(self) -> Any:
        left = self.concat()
        while (tok := self.peek()) and tok[0] == "op" and tok[1] in ("=", "<>", "<", ">", "<=", ">="):
            self.i += 1
            right = self.concat()
            left = _compare(tok[1], left, right)
        return left

    def concat(self) -> Any:
        left = self.additive()
        while (tok := self.peek()) and tok[1] == "&":
            self.i += 1
            left = _text(left) + _text(self.additive())
        return left

    def additive(self) -> Any:
        left = self.term()
        while (tok := self.peek()) and tok[0] == "op" and tok[1] in "+-":
            self.i += 1
            right = self.term()
            left = _num(left) + _num(right) if tok[1] == "+" else _num(left) - _num(right)
        return left

    def term(self) -> Any:
        left = self.power()
        while (tok := self.peek()) and tok[0] == "op" and tok[1] in "*/":
            self.i += 1
            right = self.power()
            if tok[1] == "*":
                left = _num(left) * _num(right)
            else:
                d = _num(right)
                if d == 0:
                    raise FormulaError("DIV_ZERO", "#DIV/0!", "Function DIVIDE parameter 2 cannot be zero.")
                left = _num(left) / d
        return left

    def power(self) -> Any:
        base = self.unary()
        if (tok := self.peek()) and tok[1] == "^":
            self.i += 1
            return _num(base) ** _num(self.power())
        return base

    def unary(self) -> Any:
        tok = self.peek()
        if tok and tok[0] == "op" and tok[1] in "+-":
            self.i += 1
            v = _num(self.unary())
            return -v if tok[1] == "-" else v
        value = self.atom()
        if (tok := self.peek()) and tok[1] == "%":
            self.i += 1
            value = _num(value) / 100
        return value

    def atom(self) -> Any:
        kind, text = self.take()
        if kind == "num":
            return float(text)
        if kind == "str":
            return text[1:-1].replace('""', '"')
        if kind == "ref":
            sheet, _, cells = text.rpartition("!")
            title = None
            if sheet:
                title = sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet
            rows = self.resolve(title, cells.replace("$", ""))
            return rows if ":" in cells else (rows[0][0] if rows and rows[0] else None)
        if kind == "name":
            name = text.upper()
            nxt = self.peek()
            if nxt and nxt[1] == "(":
                self.i += 1
                args: list[Any] = []
                if self.peek() and self.peek()[1] != ")":  # type: ignore[index]
                    args.append(self.expr())
                    while self.peek() and self.peek()[1] == ",":  # type: ignore[index]
                        self.i += 1
                        args.append(self.expr())
                self.take(")")
                if name not in _FUNCS:
                    raise FormulaError("NAME", "#NAME?", f"Unknown function: '{text}'.")
                return _FUNCS[name](args)
            if name in ("TRUE", "FALSE"):
                return name == "TRUE"
            try:
                rows = self.resolve(None, text)
            except KeyError:
                raise FormulaError("NAME", "#NAME?", f"Unknown range name: '{text}'.") from None
            return rows
        if kind == "op" and text == "(":
            value = self.expr()
            self.take(")")
            return value
        raise FormulaError("ERROR", "#ERROR!", "Formula parse error.")


def _compare(op: str, a: Any, b: Any) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        x, y = _text(a).lower(), _text(b).lower()
    else:
        x, y = _num(a), _num(b)  # type: ignore[assignment]
    return {"=": x == y, "<>": x != y, "<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[op]
