"""Validation (SPEC §4): the user's rows in → typed records + plain-language issues out.

Pure: tables, config and the as-of date in, a Dataset out; never raises on cell content.
Every non-blank row yields a record or an issue. Error rows are kept out of cadence/KPIs
(customers stay listed with valid=False so their status can say "invalid"; follow-ups with
errors are dropped); warning rows are used.

Decisions (also in the report): follow-up dates after as_of are errors (a contact not yet made);
unknown tier → default tier, unknown customer stage → "new", unknown channel or follow-up stage →
None, each with a warning; customer e-mail problems are warnings, Team e-mail problems errors
(reminders cannot reach the person); a name is required when the Customers tab has a name column.
Missing Customers/FollowUps tabs are reported by the pipeline; a missing Team tab is a warning here.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from dataclasses import fields as dataclass_fields
from datetime import date, datetime, time, timedelta
from typing import Final

from addon.config import Config
from addon.core.fields import (
    FALSE_WORDS,
    FIELDS,
    REQUIRED,
    TAB_NAMES,
    TRUE_WORDS,
    VOCAB,
    find_header_row,
    header_aliases,
    lang_index,
    normalize,
    value_label,
    vocab_table,
)
from addon.core.parse import (
    EXCEL_ERRORS,
    Invalid,
    ParsedDate,
    display,
    email_fix,
    email_parts,
    is_email,
    is_placeholder,
    parse_bool,
    parse_date,
    parse_number,
    phone_check,
)
from addon.gc_pause import gc_paused
from addon.i18n import Catalog, text
from addon.model import Cell, Customer, Dataset, FollowUp, Issue, Member, Severity, Table

ROLES: Final = ("customers", "followups", "team")

_ABSENT: Final = 1 << 30  # column index of a missing column: every `index < len(row)` test fails

# Extra words for Team "active": 在职/离职 and English status words.
ACTIVE_TRUE: Final = TRUE_WORDS | {"在职", "启用", "正常", "有效", "active", "enabled", "current"}
ACTIVE_FALSE: Final = FALSE_WORDS | {"已离职", "禁用", "无效", "inactive", "disabled", "left", "former"}

MESSAGES: Catalog = {
    "columns.missing": (
        "“{tab}”表缺少必需的列：{what}（前 30 行中没有匹配的表头；第 {row} 行的表头：{found}）",
        "Tab '{tab}' is missing required columns: {what} (no matching header in the first 30 rows; headers in row {row}: {found})",
    ),
    "columns.missing.fix": (
        "无需改表头：在 config.yaml 中把您的表头对应到字段，例如 columns: {role}: {field}: [您的表头]",
        "No need to rename: map your header in config.yaml, e.g. `columns: {role}: {field}: [Your Header]`",
    ),
    "tab.missing": (
        "没有团队工作表：无法核对负责人，提醒也没有收件地址",
        "No Team tab: owners cannot be checked and reminders have no addresses",
    ),
    "tab.missing.fix": (
        "添加“团队”工作表（姓名、邮箱、上级、上级邮箱、在职），或在 config.yaml 中设置 tabs: team: <工作表名>",
        "Add a Team tab (Name, Email, Manager, Manager email, Active), or set `tabs: team: <tab name>` in config.yaml",
    ),
    "team.no_email_column": (
        "团队工作表没有邮箱列：提醒无法发给任何人",
        "The Team tab has no Email column: reminders cannot reach anyone",
    ),
    "team.no_email_column.fix": (
        "添加“邮箱”列，或在 config.yaml 中设置 columns: team: email: [您的表头]",
        "Add an Email column, or map yours with `columns: team: email: [Your Header]`",
    ),
    "cell.error": ("{column}显示公式错误 {value}{effect}", "{column} shows the formula error {value}{effect}"),
    "cell.error.fix": ("修正公式，或直接填写值", "Fix the formula or type the value"),
    "required.missing": ("{column}为空", "{column} is empty"),
    "required.missing.fix": ("请填写{column}", "Fill in {column}"),
    "required.customer": ("没有填写客户（{column}为空）", "No customer given ({column} is empty)"),
    "required.customer.fix": ("填写这次跟进的客户编号或客户名称", "Fill in the ID or name of the customer this contact was with"),
    "date.unparseable": ("{column}“{value}”不是可识别的日期{effect}", "{column} '{value}' is not a date{effect}"),
    "date.unparseable.fix": (
        "请写成 2025-01-02 或 2025年1月2日，或把单元格设为日期格式",
        "Write dates like 2025-01-02 or 2025年1月2日, or format the cell as a date",
    ),
    "date.nonexistent": ("{column}“{value}”不是真实存在的日期{effect}", "{column} '{value}' is not a real calendar date{effect}"),
    "date.nonexistent.fix": ("检查月份（1–12）和日期；日期请写成 2025-01-02", "Check the month (1–12) and the day; write dates like 2025-01-02"),
    "date.ambiguous": ("{column}“{value}”有歧义：可能是 {a}，也可能是 {b}{effect}", "{column} '{value}' is ambiguous: {a} or {b}{effect}"),
    "date.ambiguous.fix": ("请按年-月-日书写，例如 {a}", "Write it year first, e.g. {a}"),
    "date.no_year": ("{column}“{value}”没有写年份{effect}", "{column} '{value}' has no year{effect}"),
    "date.no_year.fix": ("写上年份，例如 {a}", "Add the year, e.g. {a}"),
    "date.weekday": ("{column}“{value}”的星期与日期不符：{a} 是{b}{effect}", "{column} '{value}': {a} is a {b}, not the weekday written{effect}"),
    "date.weekday.fix": ("核对日期和星期，改正写错的那一个", "Check the date and the weekday, and correct the one that is wrong"),
    "date.time_only": ("{column}“{value}”只有时间没有日期{effect}", "{column} '{value}' is a time without a date{effect}"),
    "date.time_only.fix": ("补上日期，例如 2025-01-02 14:30", "Add the date, e.g. 2025-01-02 14:30"),
    "date.out_of_range": ("{column}“{value}”的年份不在 1900–2100 之间{effect}", "{column} '{value}' has a year outside 1900–2100{effect}"),
    "date.out_of_range.fix": ("检查年份", "Check the year"),
    "date.future": ("跟进日期 {value} 晚于今天（{today}）", "Follow-up date {value} is after today ({today})"),
    "date.future.fix": (
        "跟进记录只记录已经发生的联系；计划中的联系请写在“{next}”列",
        "Log a contact once it has happened; put a planned contact in '{next}'",
    ),
    "followup.before_created": (
        "跟进日期 {value} 早于客户的创建日期 {created}（“{tab}”表第 {row} 行）",
        "Follow-up on {value} is before the customer was created ({created}, {tab} row {row})",
    ),
    "followup.before_created.fix": ("检查两个日期是否填错", "Check both dates"),
    "followup.next_before_date": ("{column} {value} 早于本次跟进日期 {date}{effect}", "{column} {value} is before this contact ({date}){effect}"),
    "followup.next_before_date.fix": ("下次跟进日期应在本次跟进之后", "The next follow-up should come after this contact"),
    "email.invalid": ("{column}“{value}”不是有效的邮箱地址{effect}", "{column} '{value}' is not a valid e-mail address{effect}"),
    "email.invalid.fix": ("邮箱格式如 name@example.com", "Write an address like name@example.com"),
    "email.invalid.fix_to": ("是不是 {fixed}？", "Did you mean {fixed}?"),
    "phone.not_mobile": ("{column}“{value}”不是大陆手机号（固话或境外号码）", "{column} '{value}' is not a mainland mobile number (landline or international)"),
    "phone.not_mobile.fix": ("可以拨打；短信和微信需要手机号，如 138 0013 8000", "Fine for calls; SMS and WeChat need a mobile number like 138 0013 8000"),
    "phone.invalid": ("{column}“{value}”不是有效的电话号码", "{column} '{value}' is not a valid phone number"),
    "phone.invalid.fix": (
        "手机号如 13800138000（可带 +86），固话如 010-12345678",
        "Write a mobile number like 13800138000 (+86 allowed) or a landline like 010-12345678",
    ),
    "number.unparseable": ("{column}“{value}”不是金额，已忽略", "{column} '{value}' is not an amount; ignored"),
    "number.unparseable.fix": ("请写数字，如 12000、¥12,000 或 1.2万", "Write a number such as 12000, ¥12,000 or 1.2万"),
    "bool.unknown": ("{column}“{value}”不是是/否，按“{default}”处理", "{column} '{value}' is not yes/no; treated as {default}"),
    "bool.unknown.fix": ("请填写 Y/N 或 是/否", "Use Y/N or 是/否"),
    "vocab.unknown": ("未知的{column}“{value}”，{effect}", "Unknown {column} '{value}'; {effect}"),
    "vocab.unknown.fix": (
        "{nearest}可用的值：{known}。如是自定义叫法，可在 config.yaml 中添加 vocab: {kind}: <标准值>: [{value}]",
        "{nearest}Known values: {known}. For your own word, add `vocab: {kind}: <canonical>: [{value}]` to config.yaml",
    ),
    "vocab.nearest": ("是不是“{label}”？", "Did you mean '{label}'? "),
    "effect.default_tier": ("按默认等级 {tier} 处理", "using the default tier {tier}"),
    "effect.stage_new": ("按“{label}”处理", "treated as '{label}'"),
    "effect.ignored": ("已忽略", "ignored"),
    "effect.ignored_suffix": ("，已忽略", "; ignored"),
    "effect.excluded": ("", ""),
    "row.totals": ("合计行（“{value}”）不是客户或跟进记录，已跳过", "Totals row ('{value}') is not a customer or a contact; skipped"),
    "row.totals.fix": ("把合计放到数据区域之外（表头上方或另一个工作表），这条提示就会消失",
                       "Keep totals outside the data rows (above the header or on another tab) and this warning goes away"),
    "customer.duplicate_id": ("客户编号 {value} 已在第 {first} 行使用", "Customer ID {value} is already used on row {first}"),
    "customer.duplicate_id.fix": ("每个客户用一个独立编号；若是同一客户请合并两行", "Give each customer its own ID, or merge the rows if they are the same customer"),
    "customer.probable_duplicate": ("可能与第 {other} 行是同一客户（{reasons}）", "Probably the same customer as row {other} ({reasons})"),
    "customer.probable_duplicate.fix": ("如是同一客户，请合并两行（线索去重）", "If they are the same customer, merge the rows"),
    "reason.name": ("名称相同", "same name"),
    "reason.phone": ("电话相同", "same phone"),
    "reason.email": ("邮箱相同", "same e-mail"),
    "followup.orphan": ("“{tab}”表中没有{column}为“{value}”的客户", "No customer in {tab} with {column} '{value}'"),
    "followup.orphan.fix": ("检查拼写，或先在“{tab}”表中添加该客户", "Check the spelling, or add the customer to {tab} first"),
    "followup.orphan.fix_name": (
        "客户名称“{name}”对应编号 {id}（“{tab}”表第 {row} 行）：编号是否写错？",
        "The name '{name}' belongs to ID {id} ({tab} row {row}): is the ID mistyped?",
    ),
    "followup.orphan.fix_short": (
        "是不是“{name}”（“{tab}”表第 {row} 行）？请写客户全称或客户编号",
        "Did you mean '{name}' ({tab} row {row})? Write the customer's full name or ID",
    ),
    "followup.ambiguous": ("“{value}”对应 {count} 个客户（“{tab}”表第 {rows} 行）", "'{value}' matches {count} customers ({tab} rows {rows})"),
    "followup.ambiguous.fix": ("填写客户编号以区分", "Give the customer ID to say which one"),
    "followup.name_mismatch": (
        "编号 {id} 是客户“{name}”（“{tab}”表第 {row} 行），但本行写的是“{value}”",
        "ID {id} is '{name}' ({tab} row {row}), but this row says '{value}'",
    ),
    "followup.name_mismatch.fix": ("检查客户编号是否写错；本行按编号计入", "Check the ID; this row is counted for the ID"),
    "owner.not_in_team": ("负责人“{value}”不在“{team}”表中", "Owner '{value}' is not in the {team} tab"),
    "owner.not_in_team.fix": (
        "{nearest}把{value}加入“{team}”表并填写邮箱，或改正姓名",
        "{nearest}Add {value} to the {team} tab with an e-mail address, or correct the name",
    ),
    "owner.several": (
        "负责人写了 {count} 个人（{names}）：每位客户只有一位负责人，按第一位（{first}）计算和提醒",
        "Owner names {count} people ({names}): a customer has one owner; counted and reminded as {first}",
    ),
    "owner.several.fix": ("只保留一位负责人，其他人可写在备注中", "Keep one owner; mention the others in Notes"),
    "team.no_email": ("{value}没有邮箱：提醒发不到此人", "{value} has no e-mail address: reminders cannot reach them"),
    "team.no_email.fix": ("在{column}列填写邮箱", "Fill in {column}"),
    "team.bad_email.effect": ("：提醒发不到此人", ": reminders cannot reach this person"),
    "team.duplicate": ("{value}重复出现（另见第 {first} 行）", "{value} is listed twice (also row {first})"),
    "team.duplicate.fix": ("每人保留一行", "Keep one row per person"),
    "webhook.invalid": ("{column}“{value}”不是网址", "{column} '{value}' is not a web address"),
    "webhook.invalid.fix": ("填写机器人的完整 https:// 地址", "Use the full https:// address of the bot"),
    "none": ("无", "none"),
}

_DATE_CODES: Final = ("date.unparseable", "date.nonexistent", "date.ambiguous", "date.no_year", "date.weekday", "date.time_only", "date.out_of_range")
_SEVERAL_NAMES: Final = re.compile(r"\s*(?:[/、,，;；&＆+]|\band\b|和)\s*")
_WEEKDAY_NAMES: Final = (("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
                         ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"))


class _Marker:
    """Sentinels that cannot be confused with cell text."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_ERR: Final = _Marker("formula-error")
_UNKNOWN: Final = _Marker("unknown-word")
_MISS: Final = _Marker("miss")


def _text(cell: Cell) -> str | _Marker | None:
    """Stripped text as seen; None when blank; _ERR for a formula error ('#N/A')."""
    if cell is None:
        return None
    if type(cell) is str:
        value = cell.strip()
        if not value:
            return None
        if value[0] == "#" and value.upper() in EXCEL_ERRORS:
            return _ERR
        return value
    value = display(cell)
    return value or None


def _blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


# A row whose first filled cell says 合计 or Total sums the rows above it: not a customer, not a contact.
# Compared without spaces, a trailing colon or case ("合  计：", "Grand total").
_TOTAL_LABELS: Final = frozenset({"合计", "总计", "小计", "共计", "总合计", "total", "totals", "subtotal", "sub-total", "grandtotal", "sum"})
_TOTAL_INITIALS: Final = frozenset(label[0] for label in _TOTAL_LABELS) | {"T", "S", "G"}


def _totals_label(row: Sequence[Cell]) -> str | None:
    """The label of a totals row ('合计', 'Total' …) as written, None for any other row."""
    head = row[0] if row else None
    if type(head) is str and head and head[0] not in _TOTAL_INITIALS and not head[0].isspace():
        return None  # the usual row, decided by its first character
    for cell in row:
        if _blank(cell):
            continue
        if type(cell) is str and "".join(cell.split()).rstrip(":：").casefold() in _TOTAL_LABELS:
            return cell.strip()
        return None
    return None


def fold_id(value: str) -> str:
    """IDs compare ignoring case and full-width forms (C001 = c001 = Ｃ００１), never spaces or zeros."""
    return value.lower() if value.isascii() else unicodedata.normalize("NFKC", value).casefold()


# Legal-form endings, compared on normalize()d text (so "Co., Ltd." is "coltd"), longest first.
_LEGAL_ENDINGS: Final = tuple(sorted(
    {normalize(word) for word in (
        "股份有限公司", "有限责任公司", "有限公司", "集团", "公司", "Co., Ltd.", "Ltd", "Limited", "Inc", "LLC",
        "Corp", "Corporation", "GmbH", "PLC", "Pte Ltd",
    )},
    key=len, reverse=True,
))


def dedupe_name(key: str) -> str:
    """A normalize()d name folded for 线索去重: legal-form endings (有限公司, Ltd, Inc …) dropped,
    as long as two characters remain (so "Zinc" stays "zinc")."""
    for _ in range(2):
        if not key.endswith(_LEGAL_ENDINGS):
            break
        for ending in _LEGAL_ENDINGS:
            if key.endswith(ending):
                if len(key) - len(ending) < 2:
                    return key
                key = key[: -len(ending)]
                break
    return key


@dataclass
class _Tab:
    """One located tab: where its header is and which column holds which field."""

    role: str
    name: str
    header_row: int  # sheet row of the header
    cols: dict[str, int]
    headers: dict[str, str]  # field -> header as written in the sheet
    data: list[list[Cell]]
    first_data_row: int

    def col(self, key: str) -> int:
        return self.cols.get(key, _ABSENT)

    def header(self, key: str) -> str:
        return self.headers.get(key, "")


class _Run:
    """State of one validate() call: locale, precomputed tables, caches and the issues found."""

    def __init__(self, config: Config, as_of: date) -> None:
        self.config = config
        self.locale = config.locale
        self.zh = lang_index(config.locale) == 0
        self.as_of = as_of
        self.zone = config.zone
        self.found: list[tuple[tuple[int, int, int, int], Issue]] = []
        self.vocab = {kind: vocab_table(kind, getattr(config.vocab, kind)) for kind in VOCAB}
        self.vocab_cache: dict[str, dict[tuple[type, object], str | _Marker | None]] = {kind: {} for kind in VOCAB}
        self.words: dict[str, dict[str, str | _Marker | None]] = {kind: {} for kind in VOCAB}  # text cells, no tuple key
        self.hint_cache: dict[tuple[str, str], str] = {}
        self.norm_cache: dict[str, str] = {}

    # --- messages ---
    def t(self, key: str, **params: object) -> str:
        return text(MESSAGES, self.locale, key, **params)

    def add(
        self,
        tab: _Tab,
        row: int | None,
        field: str | None,
        value: str,
        severity: Severity,
        code: str,
        /,
        *,
        msg: str | None = None,
        fix: str | None = None,
        **params: object,
    ) -> None:
        column = tab.header(field) if field else ""
        params.setdefault("column", column or self._field_label(tab.role, field))
        params.setdefault("value", value)
        params.setdefault("effect", "")
        params.setdefault("tab", tab.name)
        message = self.t(msg or code, **params)
        suggestion = fix if fix is not None else self.t(f"{msg or code}.fix", **params)
        if suggestion == f"{msg or code}.fix":
            suggestion = ""
        order = (ROLES.index(tab.role), -1 if row is None else row, tab.cols.get(field or "", -1), len(self.found))
        issue = Issue(tab=tab.name, row=row, column=column, value=value, severity=severity, message=message, suggestion=suggestion, code=code)
        self.found.append((order, issue))

    def _field_label(self, role: str, field: str | None) -> str:
        for item in FIELDS.get(role, ()):
            if item.key == field:
                return item.zh if self.zh else item.en
        return field or ""

    def norm(self, value: str) -> str:
        hit = self.norm_cache.get(value)
        if hit is None:
            hit = self.norm_cache[value] = normalize(value)
        return hit

    # --- shared cell checks ---
    def text(self, tab: _Tab, row: int, field: str, cell: Cell, severity: Severity = "warning") -> str | None:
        if cell is None:
            return None
        if type(cell) is str:  # the common case, without a second call
            value = cell.strip()
            if not value or value[0] != "#":
                return value or None
        value = _text(cell)
        if value is _ERR:
            effect = "" if severity == "error" else self.t("effect.ignored_suffix")
            self.add(tab, row, field, display(cell), severity, "cell.error", effect=effect)
            return None
        return value  # type: ignore[return-value]

    def optional(self, tab: _Tab, row: int, field: str, cell: Cell, severity: Severity = "warning") -> str | None:
        """An optional text cell, where 无, -, N/A and the like mean blank (parse.is_placeholder)."""
        return None if is_placeholder(cell) else self.text(tab, row, field, cell, severity)

    def date(self, tab: _Tab, row: int, field: str, cell: Cell, severity: Severity) -> ParsedDate | None:
        """A date cell; problems are issues of the given severity and the value then counts as missing.
        Only for optional dates: a placeholder (待定, -, N/A) is a blank cell."""
        parsed = parse_date(cell, self.zone)
        if parsed is None or isinstance(parsed, ParsedDate):
            return parsed
        if is_placeholder(cell):
            return None
        self.bad_date(tab, row, field, cell, parsed, severity)
        return None

    def bad_date(self, tab: _Tab, row: int, field: str, cell: Cell, problem: Invalid, severity: Severity) -> None:
        effect = "" if severity == "error" else self.t("effect.ignored_suffix")
        code = problem.code if problem.code in _DATE_CODES or problem.code == "cell.error" else "date.unparseable"
        a, _, b = problem.detail.partition("|")
        if code == "date.no_year":
            a, b = self._with_year(int(a or 1), int(b or 2), past=field == "date"), ""
        elif code == "date.weekday":
            b = _WEEKDAY_NAMES[0 if self.zh else 1][int(b)]
        self.add(tab, row, field, display(cell), severity, code, effect=effect, a=a, b=b)

    def _with_year(self, month: int, day: int, *, past: bool) -> str:
        """The example a fix shows for a month and day: the nearest such day this year or after, or on
        or before today for a contact that cannot lie in the future (only words: nothing is applied)."""
        step = -1 if past else 1
        year = self.as_of.year
        for candidate in range(self.as_of.year, self.as_of.year + 8 * step, step):
            try:
                day_then = date(candidate, month, day)
            except ValueError:  # 2月29日 outside a leap year
                continue
            if not (past and day_then > self.as_of):
                year = candidate
                break
        return f"{year}年{month}月{day}日" if self.zh else f"{year}-{month:02d}-{day:02d}"

    def vocab_value(self, kind: str, cell: Cell) -> str | _Marker | None:
        """Canonical value, None when blank, _UNKNOWN or _ERR; cached per distinct cell value."""
        cache = self.vocab_cache[kind]
        try:
            key = (type(cell), cell)
            hit = cache.get(key, _MISS)
        except TypeError:  # an unhashable foreign object
            key, hit = None, _MISS  # type: ignore[assignment]
        if hit is not _MISS:
            return hit
        shown = _text(cell)
        result: str | _Marker | None
        if shown is None or shown is _ERR:
            result = shown
        else:
            table = self.vocab[kind]
            result = table.get(self.norm(shown), _UNKNOWN)  # type: ignore[arg-type]
            if result is _UNKNOWN and kind == "channel":  # "电话+微信": the first of several known channels
                parts = [table.get(self.norm(part)) for part in _SEVERAL_NAMES.split(shown) if part.strip()]  # type: ignore[arg-type]
                if len(parts) > 1 and all(parts):
                    result = parts[0]  # type: ignore[assignment]
        if key is not None:
            cache[key] = result
        if type(cell) is str:
            self.words[kind][cell] = result  # type: ignore[index]
        return result

    def unknown_word(self, tab: _Tab, row: int, field: str, kind: str, cell: Cell, effect: str) -> None:
        shown = display(cell)
        fix = self.hint_cache.get((kind, shown))
        if fix is None:
            table = self.vocab[kind]
            close = difflib.get_close_matches(normalize(shown), list(table), n=1, cutoff=0.6)
            nearest = self.t("vocab.nearest", label=value_label(kind, table[close[0]], self.locale)) if close else ""
            known = ", ".join(value_label(kind, value, self.locale) for value in dict.fromkeys(table.values()))
            fix = self.t("vocab.unknown.fix", nearest=nearest, known=known, kind=kind, value=shown)
            self.hint_cache[(kind, shown)] = fix
        self.add(tab, row, field, shown, "warning", "vocab.unknown", effect=effect, fix=fix)

    def issues(self) -> list[Issue]:
        return [issue for _, issue in sorted(self.found, key=lambda pair: pair[0])]


# --- tabs and headers -----------------------------------------------------------------------


def _locate(run: _Run, role: str, table: Table) -> _Tab | None:
    """Find the header row and map columns; a tab without its required columns is an error."""
    aliases = header_aliases(role, getattr(run.config.columns, role))
    rows = table.rows
    index, cols = find_header_row(rows, aliases)
    header_cells = rows[index] if index < len(rows) else []
    headers = {key: display(header_cells[col]) for key, col in cols.items()}
    tab = _Tab(role, table.name, table.first_row + index, cols, headers, rows[index + 1 :] if cols else [], table.first_row + index + 1)
    missing = [group for group in REQUIRED[role] if not any(key in cols for key in group)]
    if not missing:
        return tab
    labels = {item.key: item for item in FIELDS[role]}
    if run.zh:
        what = "；".join(" 或 ".join(f"{labels[key].zh}（{labels[key].en}）" for key in group) for group in missing)
    else:
        what = "; ".join(" or ".join(f"{labels[key].en} ({labels[key].zh})" for key in group) for group in missing)
    if not cols:  # nothing matched: show the first row that looks like a header (two or more cells)
        index = next((i for i, r in enumerate(rows[:30]) if sum(not _blank(c) for c in r) >= 2), index)
        header_cells = rows[index] if index < len(rows) else []
    found = ", ".join(shown for shown in (display(cell) for cell in header_cells) if shown) or run.t("none")
    run.add(
        tab, None, None, "", "error", "columns.missing",
        what=what, found=found, row=table.first_row + index, role=role, field=missing[0][0],
    )
    return None


# --- team -----------------------------------------------------------------------------------


@dataclass
class _Roster:
    """Who is in the Team tab, for the owner check (by normalized name or e-mail)."""

    keys: dict[str, str]  # normalize(name) or casefolded e-mail -> the member's name as written in Team
    names: list[str]  # as written, for "did you mean"
    seen: dict[str, str | None] = dc_field(default_factory=dict)  # owner as written -> member name (None: unknown)

    def member(self, owner: str) -> str | None:
        """The Team name an owner refers to ('li  si', 'lisi@example.com' → 'Li Si'), else None."""
        hit = self.seen.get(owner, _MISS)
        if hit is _MISS:
            hit = self.seen[owner] = self.keys.get(normalize(owner)) or self.keys.get(owner.casefold())
        return hit  # type: ignore[return-value]

    def several(self, owner: str) -> list[str] | None:
        """The Team names of a cell that names several people ('张三/李四', 'Ann & Bob'), when every one
        of them is in Team; None otherwise (then it is one unknown name)."""
        parts = [part.strip() for part in _SEVERAL_NAMES.split(owner) if part.strip()]
        if len(parts) < 2:
            return None
        names = [self.member(part) for part in parts]
        return names if all(names) else None  # type: ignore[return-value]


def _team(run: _Run, tab: _Tab) -> tuple[list[Member], _Roster]:
    members: list[Member] = []
    roster = _Roster({}, [])
    seen: dict[str, int] = {}
    i_name, i_email, i_manager = tab.col("name"), tab.col("email"), tab.col("manager")
    i_mgr_email, i_active, i_hook = tab.col("manager_email"), tab.col("active"), tab.col("webhook")
    mapped = sorted(tab.cols.values())
    has_email = "email" in tab.cols
    if not has_email:
        run.add(tab, None, None, "", "warning", "team.no_email_column")
    bad_email_effect = run.t("team.bad_email.effect")
    for offset, row in enumerate(tab.data):
        n = len(row)
        if all(_blank(row[i]) for i in mapped if i < n):
            continue
        rownum = tab.first_data_row + offset
        name = run.text(tab, rownum, "name", row[i_name] if i_name < n else None, "error")
        if name is None:
            if _text(row[i_name] if i_name < n else None) is not _ERR:
                run.add(tab, rownum, "name", "", "error", "required.missing")
            continue
        email_cell = row[i_email] if i_email < n else None
        email = run.optional(tab, rownum, "email", email_cell, "error")
        if email is not None and not is_email(email):
            fixed = email_fix(email)
            run.add(tab, rownum, "email", email, "error", "email.invalid", effect=bad_email_effect,
                    fix=run.t("email.invalid.fix_to", fixed=fixed) if fixed else None)
            email = None
        elif email is None and has_email and (is_placeholder(email_cell) or _text(email_cell) is None):
            run.add(tab, rownum, "email", name, "warning", "team.no_email")
        manager = run.optional(tab, rownum, "manager", row[i_manager] if i_manager < n else None)
        manager_email = run.optional(tab, rownum, "manager_email", row[i_mgr_email] if i_mgr_email < n else None, "error")
        if manager_email is not None and not is_email(manager_email):
            fixed = email_fix(manager_email)
            run.add(tab, rownum, "manager_email", manager_email, "error", "email.invalid", effect=bad_email_effect,
                    fix=run.t("email.invalid.fix_to", fixed=fixed) if fixed else None)
            manager_email = None
        active_cell = row[i_active] if i_active < n else None
        active = parse_bool(active_cell, ACTIVE_TRUE, ACTIVE_FALSE)
        if isinstance(active, Invalid):
            yes = "是" if run.zh else "yes"
            code = "cell.error" if active.code == "cell.error" else "bool.unknown"
            run.add(tab, rownum, "active", display(active_cell), "warning", code, default=yes, effect=run.t("effect.ignored_suffix"))
            active = True
        hook = run.text(tab, rownum, "webhook", row[i_hook] if i_hook < n else None)
        if hook is not None and not re.match(r"https?://\S+$", hook, re.I):
            run.add(tab, rownum, "webhook", hook, "warning", "webhook.invalid")
            hook = None
        key = run.norm(name)
        if key in seen:
            run.add(tab, rownum, "name", name, "warning", "team.duplicate", first=seen[key])
        else:
            seen[key] = rownum
        roster.keys.setdefault(key, name)
        roster.names.append(name)
        if email:
            roster.keys.setdefault(email.casefold(), name)
        members.append(Member(name=name, email=email, manager=manager, manager_email=manager_email,
                              active=True if active is None else active, webhook=hook, row=rownum))
    return members, roster


# --- customers ------------------------------------------------------------------------------


@dataclass
class _Index:
    """How follow-ups find their customer."""

    by_id: dict[str, Customer]  # fold_id(customer_id) -> first customer with it
    by_name: dict[str, list[Customer]]  # normalize(name) -> customers (duplicate-ID rows left out)


def _customers(run: _Run, tab: _Tab, roster: _Roster | None, team_tab: str) -> tuple[list[Customer], _Index]:
    config = run.config
    default_tier = config.defaults.tier
    cols = {key: tab.col(key) for key in (f.key for f in FIELDS["customers"])}
    i_id, i_name = cols["customer_id"], cols["name"]
    has_name = "name" in tab.cols
    mapped = sorted(tab.cols.values())
    customers: list[Customer] = []
    index = _Index({}, {})
    used_keys: set[str] = set()
    first_name: dict[str, int] = {}
    first_phone: dict[str, int] = {}
    first_email: dict[str, int] = {}
    owner_checked: dict[str, str | None] = {}
    new_label = value_label("stage", "new", run.locale)
    tier_effect = run.t("effect.default_tier", tier=default_tier)
    stage_effect = run.t("effect.stage_new", label=new_label)
    ignored = run.t("effect.ignored_suffix")

    i_owner, i_tier, i_stage, i_created, i_next = cols["owner"], cols["tier"], cols["stage"], cols["created"], cols["next_follow_up"]
    i_value, i_protected, i_contact, i_phone = cols["value"], cols["protected"], cols["contact"], cols["phone"]
    i_email, i_source, i_notes = cols["email"], cols["source"], cols["notes"]

    for offset, row in enumerate(tab.data):
        n = len(row)
        id_cell = row[i_id] if i_id < n else None
        name_cell = row[i_name] if i_name < n else None
        if _blank(id_cell) and _blank(name_cell) and all(_blank(row[i]) for i in mapped if i < n):
            continue
        rownum = tab.first_data_row + offset
        totals = _totals_label(row)
        if totals is not None:
            run.add(tab, rownum, None, totals, "warning", "row.totals")
            continue
        valid = True
        customer_id = run.text(tab, rownum, "customer_id", id_cell, "error")
        if customer_id is None and _text(id_cell) is _ERR:
            valid = False
        name = run.text(tab, rownum, "name", name_cell, "error")
        if name is None:
            if _text(name_cell) is _ERR:
                valid = False
            elif has_name:
                run.add(tab, rownum, "name", "", "error", "required.missing")
                valid = False
            elif customer_id is None:
                run.add(tab, rownum, "customer_id", "", "error", "required.missing")
                valid = False
        # The join key: the ID, else the normalized name; kept unique so no record hides another.
        duplicate_of: int | None = None
        if customer_id is not None:
            folded = fold_id(customer_id)
            first = index.by_id.get(folded)
            if first is not None:
                duplicate_of = first.row
                run.add(tab, rownum, "customer_id", customer_id, "error", "customer.duplicate_id", first=first.row)
                valid = False
            key = customer_id
        else:
            key = run.norm(name) if name else f"#row{rownum}"
        if key in used_keys:
            key = f"{key}#row{rownum}"
        used_keys.add(key)

        owner = run.optional(tab, rownum, "owner", (row[i_owner] if i_owner < n else None))
        if owner is not None and roster is not None:
            member = roster.member(owner)
            several = roster.several(owner) if member is None else None
            if member is not None:
                owner = member  # one spelling per person downstream (reminders, leaderboard)
            elif several is not None:
                run.add(tab, rownum, "owner", owner, "warning", "owner.several", count=len(several),
                        names=("、" if run.zh else ", ").join(several), first=several[0])
                owner = several[0]
            else:
                if owner not in owner_checked:
                    close = difflib.get_close_matches(owner, roster.names, n=1, cutoff=0.6)
                    owner_checked[owner] = run.t("vocab.nearest", label=close[0]) if close else ""
                run.add(tab, rownum, "owner", owner, "warning", "owner.not_in_team", team=team_tab, nearest=owner_checked[owner])

        tier_cell = (row[i_tier] if i_tier < n else None)
        tier_value = run.vocab_value("tier", tier_cell)
        tier, tier_given = default_tier, False
        if isinstance(tier_value, str):
            tier, tier_given = tier_value, True
        elif tier_value is _UNKNOWN:
            run.unknown_word(tab, rownum, "tier", "tier", tier_cell, tier_effect)
        elif tier_value is _ERR:
            run.add(tab, rownum, "tier", display(tier_cell), "warning", "cell.error", effect=ignored)

        stage_cell = (row[i_stage] if i_stage < n else None)
        stage_value = run.vocab_value("stage", stage_cell)
        stage = "new"
        if isinstance(stage_value, str):
            stage = stage_value
        elif stage_value is _UNKNOWN:
            run.unknown_word(tab, rownum, "stage", "stage", stage_cell, stage_effect)
        elif stage_value is _ERR:
            run.add(tab, rownum, "stage", display(stage_cell), "warning", "cell.error", effect=ignored)

        created_cell = row[i_created] if i_created < n else None
        created = run.date(tab, rownum, "created", created_cell, "warning") if created_cell is not None else None
        next_cell = row[i_next] if i_next < n else None
        next_follow_up = run.date(tab, rownum, "next_follow_up", next_cell, "warning") if next_cell is not None else None

        value_cell = (row[i_value] if i_value < n else None)
        value = parse_number(value_cell)
        if isinstance(value, Invalid):
            code = "cell.error" if value.code == "cell.error" else "number.unparseable"
            run.add(tab, rownum, "value", display(value_cell), "warning", code, effect=ignored)
            value = None

        protected_cell = (row[i_protected] if i_protected < n else None)
        protected = parse_bool(protected_cell)
        if isinstance(protected, Invalid):
            code = "cell.error" if protected.code == "cell.error" else "bool.unknown"
            run.add(tab, rownum, "protected", display(protected_cell), "warning", code,
                    default="否" if run.zh else "no", effect=ignored)
            protected = False

        phone = run.optional(tab, rownum, "phone", (row[i_phone] if i_phone < n else None))
        phones: list[str] = []
        if phone is not None:
            kind, phones = phone_check(phone)
            if kind != "mobile":
                run.add(tab, rownum, "phone", phone, "warning", "phone.not_mobile" if kind == "other" else "phone.invalid")

        email = run.optional(tab, rownum, "email", (row[i_email] if i_email < n else None))
        emails: list[str] = []
        if email is not None:
            emails = email_parts(email)
            if not emails or not all(is_email(part) for part in emails):
                fixed = email_fix(email)
                run.add(tab, rownum, "email", email, "warning", "email.invalid", effect=ignored,
                        fix=run.t("email.invalid.fix_to", fixed=fixed) if fixed else None)
                email, emails = None, []

        customer = Customer(
            key=key,
            row=rownum,
            name=name or customer_id or "",
            customer_id=customer_id,
            owner=owner,
            tier=tier,
            stage=stage,
            created=created.at if created else None,
            next_follow_up=next_follow_up.day if next_follow_up else None,
            value=value,
            protected=bool(protected),
            contact=run.optional(tab, rownum, "contact", (row[i_contact] if i_contact < n else None)),
            phone=phone,
            email=email,
            source=run.text(tab, rownum, "source", (row[i_source] if i_source < n else None)),
            notes=run.text(tab, rownum, "notes", (row[i_notes] if i_notes < n else None)),
            valid=valid,
            tier_given=tier_given,
        )
        customers.append(customer)
        if duplicate_of is not None:
            continue  # a copy of an earlier ID: not a separate lead, not a match target
        if customer_id is not None:
            index.by_id[fold_id(customer_id)] = customer
        if name:
            index.by_name.setdefault(run.norm(name), []).append(customer)
        # 线索去重: the first row seen with each folded name, phone and e-mail.
        earlier: dict[str, int] = {}
        if name and has_name:  # without a name column the name is the ID, and equal IDs are errors already
            first = first_name.setdefault(dedupe_name(run.norm(name)), rownum)
            if first != rownum:
                earlier["name"] = first
        if phones:
            for value in phones:
                first = first_phone.setdefault(value, rownum)
                if first != rownum:
                    earlier.setdefault("phone", first)
        for part in emails:
            first = first_email.setdefault(part.casefold(), rownum)
            if first != rownum:
                earlier.setdefault("email", first)
        if earlier:
            _probable_duplicate(run, tab, customer, earlier)
    return customers, index


def _probable_duplicate(run: _Run, tab: _Tab, customer: Customer, earlier: dict[str, int]) -> None:
    """The warning for a row that shares a name, phone or e-mail with earlier rows: it names the
    earliest such row and every reason that points to it."""
    other = min(earlier.values())
    reasons = [reason for reason in _REASONS if earlier.get(reason) == other]
    shown = {"name": customer.name, "phone": customer.phone or "", "email": customer.email or ""}
    sep = "、" if run.zh else ", "
    run.add(tab, customer.row, reasons[0], shown[reasons[0]], "warning", "customer.probable_duplicate",
            other=other, reasons=sep.join(run.t(f"reason.{reason}") for reason in reasons))


_REASONS: Final = ("name", "phone", "email")


# --- follow-ups -----------------------------------------------------------------------------


def _followups(run: _Run, tab: _Tab, index: _Index, customer_tab: str, roster: _Roster | None) -> list[FollowUp]:
    cols = {key: tab.col(key) for key in (f.key for f in FIELDS["followups"])}
    i_id, i_name, i_date = cols["customer_id"], cols["customer_name"], cols["date"]
    i_owner, i_channel, i_outcome = cols["owner"], cols["channel"], cols["outcome"]
    i_notes, i_next, i_stage = cols["notes"], cols["next_date"], cols["stage"]
    mapped = sorted(tab.cols.values())
    ref_field = "customer_id" if "customer_id" in tab.cols else "customer_name"
    as_of, zone = run.as_of, run.zone
    next_header = tab.header("next_date") or ("下次跟进日期" if run.zh else "Next date")
    today = as_of.isoformat()
    by_id, by_name = index.by_id, index.by_name
    by_raw = {c.customer_id: c for c in by_id.values() if c.customer_id is not None}  # exact IDs: no folding
    after_today = datetime.combine(as_of, time(0)) + timedelta(days=1)
    vocab_value, norm = run.vocab_value, run.norm
    channel_words, stage_words = run.words["channel"], run.words["stage"]
    known_owners = roster.seen if roster is not None else {}
    placeholder_seen: dict[str, bool] = {}
    ignored = run.t("effect.ignored_suffix")
    ignored_word = run.t("effect.ignored")
    out: list[FollowUp] = []
    append = out.append
    hints: dict[str, str | None] = {}

    def short_name_hint(ref_name: str) -> str | None:
        """"云启" for 上海云启科技有限公司: the one customer whose name contains the name written (searched for
        the first 200 distinct unknown names only: a log that names nobody right needs a mapping, not hints)."""
        if ref_name in hints:
            return hints[ref_name]
        hint = None
        wanted = norm(ref_name)
        if len(hints) < 200 and len(wanted) >= 2:
            matches = [c for key, group in by_name.items() if wanted in key for c in group]
            if len(matches) == 1:
                hint = run.t("followup.orphan.fix_short", name=matches[0].name, row=matches[0].row, tab=customer_tab)
        hints[ref_name] = hint
        return hint

    for offset, row in enumerate(tab.data):
        n = len(row)
        id_cell = row[i_id] if i_id < n else None
        name_cell = row[i_name] if i_name < n else None
        date_cell = row[i_date] if i_date < n else None
        if type(date_cell) is not datetime and _blank(date_cell) and _blank(id_cell) and _blank(name_cell) \
                and all(_blank(row[i]) for i in mapped if i < n):
            continue
        rownum = tab.first_data_row + offset
        totals = _totals_label(row)
        if totals is not None:
            run.add(tab, rownum, None, totals, "warning", "row.totals")
            continue
        ok = True

        # When: required, not in the future.
        if type(date_cell) is datetime and date_cell.tzinfo is None and 1900 <= date_cell.year <= 2100:
            at = date_cell
            has_time = (date_cell.hour or date_cell.minute or date_cell.second or date_cell.microsecond) != 0
        elif type(date_cell) is date:
            at, has_time = datetime(date_cell.year, date_cell.month, date_cell.day), False
        else:
            parsed = parse_date(date_cell, zone)
            if isinstance(parsed, ParsedDate):
                at, has_time = parsed.at, parsed.has_time
            else:
                at, has_time = None, False
                ok = False
                if parsed is None:
                    run.add(tab, rownum, "date", "", "error", "required.missing")
                else:
                    run.bad_date(tab, rownum, "date", date_cell, parsed, "error")
        if at is not None and at >= after_today:
            run.add(tab, rownum, "date", display(date_cell), "error", "date.future", today=today, next=next_header)
            ok = False

        # Who: by ID first, else by normalized name.
        customer: Customer | None = None
        ref_id = id_cell.strip() or None if type(id_cell) is str and "#" not in id_cell[:8] else _text(id_cell)
        if type(name_cell) is str and "#" not in name_cell[:8]:
            ref_name = name_cell.strip() or None
        else:
            ref_name = _text(name_cell) if name_cell is not None else None
        ref_error = False
        if ref_id is _ERR:
            run.add(tab, rownum, "customer_id", display(id_cell), "error", "cell.error")
            ref_id, ok, ref_error = None, False, True
        if ref_name is _ERR:
            severity: Severity = "warning" if ref_id else "error"
            run.add(tab, rownum, "customer_name", display(name_cell), severity, "cell.error",
                    effect="" if severity == "error" else ignored)
            ok = ok and severity == "warning"
            ref_name, ref_error = None, ref_error or severity == "error"
        if ref_id is not None:
            customer = by_raw.get(ref_id) or by_id.get(fold_id(ref_id))  # type: ignore[arg-type]
            if customer is None:
                ok = False
                hint = None
                if ref_name is not None:
                    same = by_name.get(norm(ref_name))  # type: ignore[arg-type]
                    if same and len(same) == 1 and same[0].customer_id:
                        hint = run.t("followup.orphan.fix_name", name=ref_name, id=same[0].customer_id, row=same[0].row, tab=customer_tab)
                run.add(tab, rownum, "customer_id", ref_id, "error", "followup.orphan", tab=customer_tab, fix=hint)  # type: ignore[arg-type]
            elif (ref_name is not None and ref_name != customer.name and customer.name
                  and norm(ref_name) != norm(customer.name) and customer.name != customer.customer_id):  # type: ignore[arg-type]
                run.add(tab, rownum, "customer_name", ref_name, "warning", "followup.name_mismatch",  # type: ignore[arg-type]
                        id=ref_id, name=customer.name, row=customer.row, tab=customer_tab)
        elif ref_name is not None:
            found = by_name.get(norm(ref_name))  # type: ignore[arg-type]
            if not found:
                ok = False
                run.add(tab, rownum, "customer_name", ref_name, "error", "followup.orphan", tab=customer_tab,  # type: ignore[arg-type]
                        fix=short_name_hint(ref_name))  # type: ignore[arg-type]
            elif len(found) > 1:
                ok = False
                rows = ", ".join(str(c.row) for c in found[:5]) + (" …" if len(found) > 5 else "")
                run.add(tab, rownum, "customer_name", ref_name, "error", "followup.ambiguous",  # type: ignore[arg-type]
                        count=len(found), rows=rows, tab=customer_tab)
            else:
                customer = found[0]
        elif not ref_error:
            run.add(tab, rownum, ref_field, "", "error", "required.missing", msg="required.customer")
            ok = False

        # A contact on or after the creation moment is never early: one comparison for most rows.
        if at is not None and customer is not None and customer.created is not None and at < customer.created:
            created = customer.created
            early = at < created if has_time and created.time() != time(0) else at.date() < created.date()
            if early:
                run.add(tab, rownum, "date", display(date_cell), "warning", "followup.before_created",
                        created=display(created), row=customer.row, tab=customer_tab)

        # The rest: optional, each problem a warning.
        owner_cell = row[i_owner] if i_owner < n else None
        if type(owner_cell) is str and "#" not in owner_cell[:8]:
            owner = owner_cell.strip() or None
        else:
            owner = run.text(tab, rownum, "owner", owner_cell) if owner_cell is not None else None
        if owner is not None and owner not in known_owners:  # a rep's name is the usual case: no check
            blank = placeholder_seen.get(owner)
            if blank is None:
                blank = placeholder_seen[owner] = is_placeholder(owner)
            if blank:
                owner = None
        if owner is None:
            owner = customer.owner if customer is not None else None
        elif roster is not None:
            member = known_owners.get(owner, _MISS)
            if member is _MISS:
                member = roster.member(owner)
                if member is None:  # a joint visit ('张三/李四') counts for the first of them
                    member = roster.seen[owner] = (roster.several(owner) or [None])[0]
            owner = member or owner  # type: ignore[assignment]

        channel: str | None = None
        channel_cell = row[i_channel] if i_channel < n else None
        if channel_cell is not None and channel_cell != "":  # readers give "" or None for empty cells
            value = channel_words.get(channel_cell, _MISS) if type(channel_cell) is str else _MISS
            if value is _MISS:
                value = vocab_value("channel", channel_cell)
            if isinstance(value, str):
                channel = value
            elif value is _UNKNOWN:
                run.unknown_word(tab, rownum, "channel", "channel", channel_cell, ignored_word)
            elif value is _ERR:
                run.add(tab, rownum, "channel", display(channel_cell), "warning", "cell.error", effect=ignored)

        stage: str | None = None
        stage_cell = row[i_stage] if i_stage < n else None
        if stage_cell is not None and stage_cell != "":
            value = stage_words.get(stage_cell, _MISS) if type(stage_cell) is str else _MISS
            if value is _MISS:
                value = vocab_value("stage", stage_cell)
            if isinstance(value, str):
                stage = value
            elif value is _UNKNOWN:
                run.unknown_word(tab, rownum, "stage", "stage", stage_cell, ignored_word)
            elif value is _ERR:
                run.add(tab, rownum, "stage", display(stage_cell), "warning", "cell.error", effect=ignored)

        next_date: date | None = None
        next_cell = row[i_next] if i_next < n else None
        if next_cell is not None and next_cell != "":
            if type(next_cell) is date:
                next_date = next_cell
            else:
                planned = run.date(tab, rownum, "next_date", next_cell, "warning")
                next_date = planned.day if planned is not None else None
            if next_date is not None and at is not None and next_date < at.date():
                # Most likely a typo (a year off): as a due date it would escalate a customer just contacted.
                run.add(tab, rownum, "next_date", display(next_cell), "warning", "followup.next_before_date",
                        date=display(at.date()), effect=ignored)
                next_date = None

        outcome_cell = row[i_outcome] if i_outcome < n else None
        if type(outcome_cell) is str and "#" not in outcome_cell[:8]:
            outcome = outcome_cell.strip() or None
        else:
            outcome = run.text(tab, rownum, "outcome", outcome_cell) if outcome_cell is not None else None
        notes_cell = row[i_notes] if i_notes < n else None
        if type(notes_cell) is str and "#" not in notes_cell[:8]:
            notes = notes_cell.strip() or None
        else:
            notes = run.text(tab, rownum, "notes", notes_cell) if notes_cell is not None else None

        if ok and customer is not None and at is not None:
            append(make_followup(rownum, customer.key, at, has_time, owner, channel, outcome, notes, next_date, stage))
    return out


_FOLLOWUP_FIELDS: Final = ("row", "customer_key", "at", "has_time", "owner", "channel", "outcome", "notes", "next_date", "stage")
_new = object.__new__
_set = object.__setattr__


def _fast_followup(
    row: int, customer_key: str, at: datetime, has_time: bool, owner: str | None, channel: str | None,
    outcome: str | None, notes: str | None, next_date: date | None, stage: str | None,
) -> FollowUp:
    """FollowUp(...) without the frozen dataclass's ten guarded setattr calls: one dict, one set.

    Used only while FollowUp is a plain (non-slots, no __post_init__) dataclass with exactly these
    fields (checked at import); it is the largest single cost when 500,000 rows are validated."""
    item = _new(FollowUp)
    _set(item, "__dict__", {
        "row": row, "customer_key": customer_key, "at": at, "has_time": has_time, "owner": owner,
        "channel": channel, "outcome": outcome, "notes": notes, "next_date": next_date, "stage": stage,
    })
    return item


make_followup = (
    _fast_followup
    if tuple(f.name for f in dataclass_fields(FollowUp)) == _FOLLOWUP_FIELDS
    and not hasattr(FollowUp, "__slots__")
    and not hasattr(FollowUp, "__post_init__")
    else FollowUp
)


# --- entry point ----------------------------------------------------------------------------


def validate(tables: Mapping[str, Table | None], config: Config, as_of: date) -> Dataset:
    """Rows in → records + issues out (SPEC §4). Tables are keyed by role; unknown roles are ignored."""
    with gc_paused():  # ~10^6 acyclic records
        return _validate(tables, config, as_of)


def _validate(tables: Mapping[str, Table | None], config: Config, as_of: date) -> Dataset:
    run = _Run(config, as_of)
    tabs: dict[str, str] = {}
    header_rows: dict[str, int] = {}

    def locate(role: str) -> _Tab | None:
        # Looked up only when its turn comes: a backend may still be loading the next tab.
        table = tables.get(role)
        if table is None:
            return None
        tabs[role] = table.name
        tab = _locate(run, role, table)
        if tab is not None:
            header_rows[role] = tab.header_row
        return tab

    team: list[Member] = []
    roster: _Roster | None = None
    team_tab = locate("team")
    team_name = tabs.get("team") or _default_tab_name("team", run, config.tabs.team)
    if team_tab is not None:
        team, roster = _team(run, team_tab)
    elif tables.get("team") is None:
        placeholder = _Tab("team", team_name, 0, {}, {}, [], 0)
        run.add(placeholder, None, None, "", "warning", "tab.missing")

    customers: list[Customer] = []
    index = _Index({}, {})
    customer_tab = locate("customers")
    customer_name = tabs.get("customers") or _default_tab_name("customers", run, config.tabs.customers)
    if customer_tab is not None:
        customers, index = _customers(run, customer_tab, roster, team_name)

    followups: list[FollowUp] = []
    followup_tab = locate("followups")
    if followup_tab is not None:
        followups = _followups(run, followup_tab, index, customer_name, roster)

    tabs = {role: tabs[role] for role in ROLES if role in tabs}
    header_rows = {role: header_rows[role] for role in ROLES if role in header_rows}
    return Dataset(customers=customers, followups=followups, team=team, issues=run.issues(), tabs=tabs, header_rows=header_rows)


def _default_tab_name(role: str, run: _Run, configured: str | None) -> str:
    return configured or TAB_NAMES[role][0 if run.zh else 1]


__all__: list[str] = ["ACTIVE_FALSE", "ACTIVE_TRUE", "MESSAGES", "REQUIRED", "dedupe_name", "fold_id", "validate"]
