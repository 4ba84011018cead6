"""Configuration for people who live in Excel: config.yaml beside the workbook, and a Settings / 设置 tab.

Which wins, from weakest to strongest:

1. the built-in defaults;
2. `config.yaml` in the workbook's folder (same format as for the command line);
3. the Settings / 设置 tab of the workbook: one setting per row, the key in column A written as
   a dotted config path (`cadence.by_tier.A`, `locale`, `reminders.transport`), the value in
   column B, anything after that is a note. Blank values, blank keys and rows whose key starts
   with `#` are ignored, so the tab can list every key with its default left empty.

The data source is always the calling workbook itself: `source` and `workbooks` are refused in
the tab and replaced when they come from config.yaml. Passwords never go in a workbook: a
`…password` value must be an environment reference such as `${SMTP_PASSWORD}`.

Values are read as Excel hands them over and converted to what each key expects: a number for a
duration means days, `Y`/`是`/TRUE for yes-no keys, a comma list (`3d, 7d, 30d` or `a，b`) for list
keys, and whole numbers lose Excel's `.0`.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel

from addon.config import (
    BUILT_IN,
    DEFAULT_CONFIG_NAME,
    Config,
    ConfigError,
    Problem,
    load_config,
    validate_config,
)
from addon.core.fields import FALSE_WORDS, TRUE_WORDS, normalize, workbook_locale
from addon.model import Cell

# Tab names recognised as the settings tab (compared after normalize()); the first two are the template names.
SETTINGS_TABS: tuple[str, ...] = ("设置", "Settings", "配置", "参数设置", "跟进助手设置", "Setting", "Config", "Configuration")

# Header words of the key column, skipped when they head the tab.
_HEADER_WORDS = frozenset(normalize(w) for w in ("key", "setting", "settings", "设置项", "键", "配置项", "参数", "名称", "项目"))

_REFUSED = {
    "source": Problem("the data source is always this workbook; remove this row", "数据源总是这个工作簿；请删除这一行"),
    "workbooks": Problem("`workbooks` is for the scheduled service; remove this row", "`workbooks` 只用于定时服务；请删除这一行"),
}
_HIDDEN = frozenset({"base_dir", "missing_env"})
_LIST_SPLIT = re.compile(r"\s*[,，;；、\n]\s*")
_ENV_REF = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")


def find_settings_tab(names: Sequence[str]) -> str | None:
    """The workbook's settings tab, matched like the data tabs (case, width and spaces folded)."""
    by_norm = {normalize(n): n for n in names}
    for candidate in SETTINGS_TABS:
        if normalize(candidate) in by_norm:
            return by_norm[normalize(candidate)]
    return None


# --- what each key expects, read off the Config model -----------------------------------------

def _strip(annotation: Any) -> Any:
    """Annotated[X, ...] -> X; X | None -> X."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _kind(annotation: Any) -> tuple[str, Any]:
    plain = _strip(annotation)
    origin = get_origin(plain)
    if isinstance(plain, type) and issubclass(plain, BaseModel):
        return "model", plain
    if origin is dict:
        return "dict", get_args(plain)[1]
    if origin is list:
        return "list", get_args(plain)[0]
    if plain is bool:
        return "bool", None
    if plain is int:
        return "int", None
    if plain is timedelta:
        return "duration", None
    if plain in (str, Path) or origin is Literal:
        return "text", None
    return "other", None


def key_kind(path: Sequence[str]) -> str:
    """What the value of a dotted key must be: text, bool, int, duration, list or other. KeyError if unknown."""
    model: type[BaseModel] = Config
    for index, part in enumerate(path):
        fields = model.model_fields
        if part not in fields or part in _HIDDEN:
            raise KeyError(part)
        kind, inner = _kind(fields[part].annotation)
        rest = path[index + 1:]
        if kind == "model":
            if not rest:
                raise KeyError(part)  # a whole section needs a key below it
            model = inner
            continue
        if kind == "dict":
            if len(rest) != 1 or not rest[0]:
                raise KeyError(part)
            return _kind(inner)[0]
        if rest:
            raise KeyError(rest[0])
        return kind
    raise KeyError(".".join(path))


def known_keys() -> list[str]:
    """Every settable dotted key (dict sections shown with a <name> placeholder), for suggestions and docs."""
    out: list[str] = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, info in model.model_fields.items():
            if name in _HIDDEN or (not prefix and name in _REFUSED):
                continue
            kind, inner = _kind(info.annotation)
            if kind == "model":
                walk(inner, f"{prefix}{name}.")
            elif kind == "dict":
                out.append(f"{prefix}{name}.<name>")
            else:
                out.append(f"{prefix}{name}")

    walk(Config, "")
    return out


# --- converting what Excel hands over --------------------------------------------------------

def _whole(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def convert(value: Cell, kind: str) -> Any:
    """A cell value as the config key expects it; anything unconvertible is passed on for validation to explain."""
    if isinstance(value, str):
        value = value.strip()
    if isinstance(value, datetime | date):
        value = value.isoformat()
    if kind == "bool":
        if isinstance(value, str):
            folded = normalize(value)
            if folded in TRUE_WORDS:
                return True
            if folded in FALSE_WORDS:
                return False
        if isinstance(value, float) and value in (0.0, 1.0):
            return bool(value)
        return value
    if kind == "int":
        return _whole(value) if isinstance(value, float) else value
    if kind == "list":
        if isinstance(value, str):
            return [item for item in _LIST_SPLIT.split(value) if item]
        if isinstance(value, float):
            return [_whole(value)]
        return [value]
    if kind == "text":
        if isinstance(value, float):
            return str(_whole(value))
        if isinstance(value, bool | int):
            return str(value).lower() if isinstance(value, bool) else str(value)
        return value
    if kind == "duration" and isinstance(value, float):
        return _whole(value)
    return value


def _set(tree: dict[str, Any], path: Sequence[str], value: Any) -> None:
    node = tree
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def parse_settings(rows: Sequence[Sequence[Cell]], tab: str, *, first_row: int = 1) -> tuple[dict[str, Any], dict[str, int]]:
    """(nested overrides, dotted key -> sheet row) from the tab's rows; ConfigError lists every bad row."""
    tree: dict[str, Any] = {}
    where: dict[str, int] = {}
    problems: list[Problem] = []
    keys = known_keys()
    for offset, row in enumerate(rows):
        line = first_row + offset
        if not row:
            continue
        raw_key = row[0]
        if raw_key is None or (isinstance(raw_key, str) and not raw_key.strip()):
            continue
        key = str(raw_key).strip()
        if key.startswith(("#", "//", "'")) or (offset < 3 and normalize(key) in _HEADER_WORDS):
            continue
        value = row[1] if len(row) > 1 else None
        if value is None or (isinstance(value, str) and not value.strip()):
            continue  # blank = not set here
        path = [p.strip() for p in key.split(".")]
        if path[0] in _REFUSED:
            refused = _REFUSED[path[0]]
            problems.append(Problem(f"row {line}: {key}: {refused}", f"第 {line} 行：{key}：{refused.zh}"))
            continue
        try:
            kind = key_kind(path)
        except KeyError:
            close = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
            hint = (f"; did you mean {close[0]}?", f"；是不是想写 {close[0]}？") if close else (
                "; see docs/excel-buttons.md for the keys", "；可用的设置见 docs/excel-buttons.md")
            problems.append(Problem(f"row {line}: unknown setting {key!r}{hint[0]}", f"第 {line} 行：未知的设置 {key!r}{hint[1]}"))
            continue
        dotted = ".".join(path)
        if dotted in where:
            problems.append(Problem(f"row {line}: {dotted} is also set on row {where[dotted]}; keep one of them",
                                    f"第 {line} 行：{dotted} 在第 {where[dotted]} 行也设置了；请只保留一行"))
            continue
        converted = convert(value, kind)
        if path[-1] == "password" and not (isinstance(converted, str) and _ENV_REF.match(converted)):
            problems.append(Problem(
                f"row {line}: {dotted}: never type a password into the workbook; write ${{SMTP_PASSWORD}} "
                "and set that environment variable on the computer that sends",
                f"第 {line} 行：{dotted}：不要把密码写进工作簿；请填写 ${{SMTP_PASSWORD}}，并在发送邮件的电脑上设置这个环境变量"))
            continue
        where[dotted] = line
        _set(tree, path, converted)
    if problems:
        raise ConfigError(problems, _tab_source(tab))
    return tree, where


def _tab_source(tab: str) -> Problem:
    return Problem(f"{tab} tab", f"“{tab}”工作表")


# --- putting it together ----------------------------------------------------------------------

def _locale_set_in(path: Path) -> bool:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
    except (OSError, yaml.YAMLError):
        return True  # load_config will report the problem; don't guess over it
    return isinstance(data, Mapping) and data.get("locale") not in (None, "")


def workbook_config(
    *,
    fullname: str,
    folder: Path | None,
    sheet_names: Sequence[str],
    settings_rows: Sequence[Sequence[Cell]] | None,
    settings_tab: str | None,
    fallback_dir: Path,
) -> Config:
    """The effective config for a workbook: defaults < config.yaml beside it < its Settings tab."""
    overrides: dict[str, Any] = {}
    where: dict[str, int] = {}
    if settings_rows is not None and settings_tab:
        overrides, where = parse_settings(settings_rows, settings_tab)
    yaml_path = folder / DEFAULT_CONFIG_NAME if folder is not None else None
    has_yaml = yaml_path is not None and yaml_path.is_file()
    by_names = workbook_locale(sheet_names, otherwise="")  # when the tab names are silent the run decides
    if by_names and "locale" not in overrides and not (has_yaml and _locale_set_in(yaml_path)):  # type: ignore[arg-type]
        overrides["locale"] = by_names
    overrides["source"] = {"excel": fullname}
    base_dir = folder or fallback_dir
    if has_yaml:
        base = load_config(yaml_path, overrides={"source": overrides["source"]})
    else:
        base = validate_config({"source": overrides["source"]}, base_dir=base_dir, source=BUILT_IN)
    _keep_siblings(overrides, where, base)
    try:
        if has_yaml:
            config = load_config(yaml_path, overrides=overrides)
        else:
            config = validate_config(overrides, base_dir=base_dir, source=_tab_source(settings_tab or "Settings"))
    except ConfigError as error:
        if where:
            source = Problem(f"{yaml_path} + {settings_tab} tab", f"{yaml_path} + “{settings_tab}”工作表") if has_yaml else error.source
            error = ConfigError(_locate(error.problems, where, settings_tab or ""), source, locale=error.locale)
        raise error from None
    return config.model_copy(update={"workbooks": []})


def _dict_parent(path: Sequence[str]) -> list[str] | None:
    """The part of a key naming a mapping section (`cadence.by_tier` of `cadence.by_tier.A`), if any."""
    model: type[BaseModel] = Config
    for index, part in enumerate(path):
        info = model.model_fields.get(part)
        if info is None:
            return None
        kind, inner = _kind(info.annotation)
        if kind == "dict":
            return list(path[: index + 1])
        if kind != "model":
            return None
        model = inner
    return None


def _keep_siblings(overrides: dict[str, Any], where: Mapping[str, int], base: Config) -> None:
    """`cadence.by_tier.A` in the tab changes A only: B and C keep their config.yaml/default values.

    A mapping given in config.yaml replaces the default one whole (so a team can drop a tier), but
    one row of the tab must not wipe the rest of its section.
    """
    for dotted in where:
        parent = _dict_parent(dotted.split("."))
        if parent is None:
            continue
        current = _current(base, ".".join(parent))
        node: Any = overrides
        for part in parent:
            node = node.setdefault(part, {})
        if isinstance(current, Mapping):
            for key, value in current.items():
                node.setdefault(key, value)


def _locate(problems: list[Problem], where: Mapping[str, int], tab: str) -> list[Problem]:
    """Point a validation problem at the Settings row it came from, when it did."""
    out = []
    for problem in problems:
        key = problem.split(" ", 1)[0].rstrip(":")
        row = where.get(key)
        out.append(Problem(f"{tab} row {row}: {problem}", f"“{tab}”第 {row} 行：{problem.zh}") if row else problem)
    return out


# --- a Settings tab to start from -------------------------------------------------------------

# key -> (zh note, en note); the order is the order on the tab.
SETTING_NOTES: dict[str, tuple[str, str]] = {
    "locale": ("界面和结果表的语言：zh-CN 或 en", "Language of results and messages: zh-CN or en"),
    "timezone": ("时区（决定“今天”是哪天）", "Time zone that decides what 'today' is"),
    "cadence.by_tier.A": ("A 类客户跟进间隔（7d = 7 天）", "Interval for tier A customers (7d = 7 days)"),
    "cadence.by_tier.B": ("B 类客户跟进间隔", "Interval for tier B customers"),
    "cadence.by_tier.C": ("C 类客户跟进间隔", "Interval for tier C customers"),
    "cadence.by_stage.negotiation": ("报价谈判阶段的间隔（优先于等级）", "Interval in negotiation (overrides the tier)"),
    "cadence.first_response": ("新客户首次响应时限", "First response time for a new customer"),
    "cadence.after_won": ("成交后的回访节点，逗号分隔", "Touch points after a win, comma separated"),
    "cadence.after_sales": ("售后客户的跟进间隔", "Interval for after-sales customers"),
    "cadence.due_soon": ("提前多久标记“即将到期”", "How early a customer shows as due soon"),
    "cadence.escalate_after": ("逾期多久升级给上级", "Overdue this long escalates to the manager"),
    "cadence.pool_after": ("多久未联系建议退回公海", "No contact this long proposes a return to the pool"),
    "cadence.dormant": ("多久未联系视为休眠", "No contact this long counts as dormant"),
    "cadence.working_days": ("TRUE = 只按工作日计算", "TRUE = count working days only"),
    "cadence.holidays": ("节假日日历（CN、US、DE…）", "Holiday calendar (CN, US, DE …)"),
    "defaults.tier": ("等级为空时按此等级", "Tier used when the cell is blank"),
    "kpi.window": ("KPI 统计窗口", "KPI window"),
    "tabs.customers": ("客户表的名称（留空自动识别）", "Name of the customers tab (blank: found automatically)"),
    "tabs.followups": ("跟进记录表的名称（留空自动识别）", "Name of the follow-ups tab (blank: found automatically)"),
    "tabs.team": ("团队表的名称（留空自动识别）", "Name of the team tab (blank: found automatically)"),
    "reminders.transport": ("outbox = 只生成邮件文件；smtp = 真正发送", "outbox = write .eml files only; smtp = really send"),
    "reminders.outbox": ("邮件文件保存的文件夹（相对本工作簿）", "Folder for .eml files (relative to this workbook)"),
    "reminders.admin": ("管理员邮箱（收不到提醒的人转给他）", "Administrator's address (gets what cannot be delivered)"),
    "reminders.include_due_soon": ("TRUE = 每日提醒也包含即将到期", "TRUE = digests also list customers due soon"),
    "reminders.link": ("提醒邮件中的表格链接", "Link to this workbook shown in reminders"),
    "reminders.smtp.host": ("SMTP 服务器", "SMTP server"),
    "reminders.smtp.port": ("SMTP 端口", "SMTP port"),
    "reminders.smtp.security": ("ssl、starttls 或 none", "ssl, starttls or none"),
    "reminders.smtp.username": ("SMTP 用户名", "SMTP user name"),
    "reminders.smtp.password": ("只能写 ${SMTP_PASSWORD}，并在电脑上设置该环境变量", "Only ${SMTP_PASSWORD}; set that environment variable"),
    "reminders.smtp.sender": ("发件人地址", "Sender address"),
}

_TITLES = {
    "title": ("跟进助手设置（此表优先于同一文件夹中的 config.yaml；值留空 = 使用默认值）",
              "Follow-up Add-on settings (this tab wins over config.yaml in the same folder; blank value = default)"),
    "key": ("设置项", "Key"),
    "value": ("值（留空 = 不在此设置）", "Value (blank = not set here)"),
    "current": ("创建本表时的生效值", "In effect when this tab was made"),
    "note": ("说明", "Note"),
}


def _display(value: Any) -> Cell:
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        if seconds % 86400 == 0:
            return f"{seconds // 86400}d"
        if seconds % 3600 == 0:
            return f"{seconds // 3600}h"
        return f"{seconds // 60}m"
    if isinstance(value, list):
        return ", ".join(str(_display(v)) for v in value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def _current(config: Config, key: str) -> Any:
    node: Any = config
    for part in key.split("."):
        if isinstance(node, Mapping):
            node = node.get(part)
        else:
            node = getattr(node, part, None)
        if node is None:
            return None
    return node


def settings_tab_rows(config: Config, locale: str) -> list[list[Cell]]:
    """Title, header, then one row per common key: an empty value to fill in, the value in effect, a note.

    The value column starts empty on purpose: a value copied there would silently override
    config.yaml from then on; column C only shows what applies now.
    """
    i = 0 if locale.lower().startswith("zh") else 1
    rows: list[list[Cell]] = [
        ["# " + _TITLES["title"][i]],
        [_TITLES["key"][i], _TITLES["value"][i], _TITLES["current"][i], _TITLES["note"][i]],
    ]
    for key, notes in SETTING_NOTES.items():
        value = _current(config, key)
        if key == "reminders.smtp.password":
            value = "${SMTP_PASSWORD}" if value else None
        rows.append([key, None, _display(value), notes[i]])
    return rows


def settings_tab_name(locale: str) -> str:
    return SETTINGS_TABS[0] if locale.lower().startswith("zh") else SETTINGS_TABS[1]
