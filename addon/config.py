"""config.yaml: schema, defaults, `${VAR}` from the environment, and errors an administrator can act on.

Every error names the key path, the bad value and the fix, in Chinese and in English (shown in the
config's `locale`); the CLI turns ConfigError into exit code 2.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from addon.core.fields import FIELDS, STAGES, TIERS, lang_index
from addon.i18n import span_params, span_text

DEFAULT_CONFIG_NAME = "config.yaml"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(d|day|days|h|hour|hours|w|week|weeks|m|min|minute|minutes|s|sec|seconds|天|小时|周)?\s*$", re.I)
_UNITS = {
    "d": "days", "day": "days", "days": "days", "天": "days",
    "h": "hours", "hour": "hours", "hours": "hours", "小时": "hours",
    "w": "weeks", "week": "weeks", "weeks": "weeks", "周": "weeks",
    "m": "minutes", "min": "minutes", "minute": "minutes", "minutes": "minutes",
    "s": "seconds", "sec": "seconds", "seconds": "seconds",
}


class Problem(str):
    """One configuration problem: the English text (the string itself) and its Chinese twin.

    A str, so code and logs that treat problems as text keep working; shells show `text(locale)`."""

    zh: str

    def __new__(cls, en: str, zh: str | None = None) -> Problem:
        problem = super().__new__(cls, en)
        problem.zh = zh if zh is not None else getattr(en, "zh", en)
        return problem

    def text(self, locale: str) -> str:
        return self.zh if lang_index(locale) == 0 else str(self)


class Invalid(ValueError):
    """A validator's complaint in both languages; pydantic keeps the exception in the error's context."""

    def __init__(self, *problems: Problem) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


_LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE")


def default_locale() -> str:
    """The language to speak when the config does not say: the environment's if it is Chinese or
    English, else the product's default (zh-CN, as `locale:` defaults to)."""
    for name in _LOCALE_VARIABLES:
        value = os.environ.get(name, "").lower()
        if value.startswith("zh"):
            return "zh-CN"
        if value.startswith("en"):
            return "en"
    return "zh-CN"


def locale_of(value: Any) -> str:
    """A `locale:` value as written (valid or not) -> the language for messages about the config."""
    if isinstance(value, str) and value.strip().lower().startswith(("zh", "en")):
        return "zh-CN" if value.strip().lower().startswith("zh") else "en"
    return default_locale()


def locale_in(text: str) -> str:
    """The `locale:` line of a config file that may not even parse, for its error messages."""
    for line in text.splitlines():
        if line.strip().startswith("locale:"):
            return locale_of(line.split(":", 1)[1].split("#")[0].strip().strip("'\""))
    return default_locale()


class ConfigError(Exception):
    """A configuration problem, phrased as key path, value and fix; `text()` in the config's language."""

    def __init__(self, problems: list[str], source: str = "config", *, locale: str | None = None) -> None:
        self.problems = [p if isinstance(p, Problem) else Problem(p) for p in problems]
        self.source = source if isinstance(source, Problem) else Problem(source)
        self.locale = locale or default_locale()
        super().__init__(f"{source}: " + "; ".join(problems))

    def lines(self, locale: str | None = None) -> list[str]:
        return [p.text(locale or self.locale) for p in self.problems]

    def text(self, locale: str | None = None) -> str:
        locale = locale or self.locale
        zh = lang_index(locale) == 0
        head = f"配置有误（{self.source.text(locale)}）：" if zh else f"Configuration error in {self.source}:"
        return "\n".join([head] + [f"  - {p}" for p in self.lines(locale)])

    def __str__(self) -> str:
        return self.text("en")


_NOT_A_DURATION = Problem("expected a duration like 7d, 24h or 2w", "应为时长，例如 7d、24h 或 2w（也可写 7天、24小时、2周）")


def parse_duration(value: Any) -> timedelta:
    """'7d', '24h', '2w', '15m', a bare number of days, or a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise Invalid(_NOT_A_DURATION)
    if isinstance(value, int | float):
        return timedelta(days=value)
    match = _DURATION.match(str(value))
    if not match:
        raise Invalid(_NOT_A_DURATION)
    amount, unit = float(match.group(1)), (match.group(2) or "d").lower()
    return timedelta(**{_UNITS[unit]: amount})


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def duration_text(value: timedelta, locale: str) -> str:
    return span_text(span_params(value), locale)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceConfig(Strict):
    excel: Path | None = None
    google: str | None = None
    credentials: Path | None = None
    endpoint: str | None = None  # API base URL override (emulator, corporate proxy)
    oauth: bool = False  # use a desktop user's OAuth credentials instead of a service account

    @model_validator(mode="after")
    def _one_source(self) -> SourceConfig:
        if bool(self.excel) == bool(self.google):
            raise Invalid(Problem("give exactly one of `excel: path/to/file.xlsx` or `google: <sheet id or URL>`",
                                  "`excel: 文件路径.xlsx` 与 `google: <表格 ID 或网址>` 必须且只能写一个"))
        return self


class TabsConfig(Strict):
    customers: str | None = None
    followups: str | None = None
    team: str | None = None


class ColumnsConfig(Strict):
    customers: dict[str, list[str]] = Field(default_factory=dict)
    followups: dict[str, list[str]] = Field(default_factory=dict)
    team: dict[str, list[str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_fields(self) -> ColumnsConfig:
        for tab in ("customers", "followups", "team"):
            known = {f.key for f in FIELDS[tab]}
            for key in getattr(self, tab):
                if key not in known:
                    names = ", ".join(sorted(known))
                    raise Invalid(Problem(f"unknown field {key!r} in columns.{tab}; known fields: {names}",
                                          f"columns.{tab} 中有未知字段 {key!r}；可用的字段：{names}"))
        return self


class VocabConfig(Strict):
    stage: dict[str, list[str]] = Field(default_factory=dict)
    tier: dict[str, list[str]] = Field(default_factory=dict)
    channel: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("stage", "tier", "channel", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value


class StagesConfig(Strict):
    """Which canonical stages mean what; `order` is the funnel order."""

    order: list[str] = Field(default_factory=lambda: list(STAGES))
    open: list[str] = Field(default_factory=lambda: ["new", "qualified", "proposal", "negotiation"])
    won: list[str] = Field(default_factory=lambda: ["won", "after_sales"])
    lost: list[str] = Field(default_factory=lambda: ["lost"])
    inactive: list[str] = Field(default_factory=lambda: ["dormant"])


class Defaults(Strict):
    tier: str = "B"


class CadenceConfig(Strict):
    by_tier: dict[str, Duration] = Field(default_factory=lambda: {"A": timedelta(days=7), "B": timedelta(days=14), "C": timedelta(days=30)})
    by_stage: dict[str, Duration] = Field(default_factory=dict)
    first_response: Duration = timedelta(days=1)
    after_won: list[Duration] = Field(default_factory=lambda: [timedelta(days=3), timedelta(days=7), timedelta(days=30)])
    after_sales: Duration = timedelta(days=30)
    dormant: Duration = timedelta(days=90)
    due_soon: Duration = timedelta(days=2)
    escalate_after: Duration = timedelta(days=7)
    pool_after: Duration = timedelta(days=30)
    working_days: bool = False
    holidays: str | None = "CN"

    @model_validator(mode="after")
    def _intervals(self) -> CadenceConfig:
        """An interval under an hour is a slip (`1m` reads as a month but means a minute), never a cadence."""
        intervals: list[tuple[str, timedelta]] = [(f"by_tier.{k}", v) for k, v in self.by_tier.items()]
        intervals += [(f"by_stage.{k}", v) for k, v in self.by_stage.items()]
        intervals += [(f"after_won[{i}]", v) for i, v in enumerate(self.after_won)]
        intervals += [("first_response", self.first_response), ("after_sales", self.after_sales), ("dormant", self.dormant)]
        problems = [
            Problem(f"cadence.{key} is {duration_text(value, 'en')}: a follow-up interval is at least an hour (`m` means minutes; for a month write 30d)",
                    f"cadence.{key} 是 {duration_text(value, 'zh-CN')}：跟进间隔至少为 1 小时（`m` 表示分钟；一个月请写 30d）")
            for key, value in intervals
            if value < timedelta(hours=1)
        ]
        if problems:
            raise Invalid(*problems)
        return self


class KpiConfig(Strict):
    window: Duration = timedelta(days=30)
    trend_weeks: int = Field(default=12, ge=1, le=104)


class SmtpConfig(Strict):
    host: str = "localhost"
    port: int = Field(default=465, ge=1, le=65535)
    security: Literal["ssl", "starttls", "none"] = "ssl"
    username: str | None = None
    password: str | None = None
    sender: str = "followup@localhost"
    timeout: Duration = timedelta(seconds=30)
    rate_limit: int | None = Field(default=None, ge=1)  # messages per minute
    verify_certificate: bool = True
    ca_file: Path | None = None


class RemindersConfig(Strict):
    transport: Literal["outbox", "smtp", "console"] = "outbox"
    outbox: Path = Path("outbox")
    smtp: SmtpConfig = Field(default_factory=SmtpConfig)
    admin: str | None = None
    send_on: Literal["working_days", "every_day"] = "working_days"
    include_due_soon: bool = False
    pool_warning: Duration = timedelta(days=3)
    templates: Path | None = None  # a folder with the user's own Jinja2 templates
    link: str | None = None  # link to the sheet shown in messages; default: the source location


class ScheduleConfig(Strict):
    at: list[str] = Field(default_factory=lambda: ["09:00"])
    days: Literal["working_days", "every_day"] | list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = "working_days"
    every: Duration | None = None
    retries: int = Field(default=3, ge=0, le=20)
    alert_after_failures: int = Field(default=3, ge=1)

    @field_validator("at")
    @classmethod
    def _times(cls, value: list[str]) -> list[str]:
        for item in value:
            if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", str(item)):
                raise Invalid(Problem(f"{item!r} is not a time like 09:00 (24-hour HH:MM)", f"{item!r} 不是 09:00 这样的时间（24 小时制 HH:MM）"))
        return value


class ExcelConfig(Strict):
    backups: int = Field(default=5, ge=0, le=100)
    backup_dir: Path | None = None


class WorkbookConfig(BaseModel):
    """One entry of `workbooks:`: a name, a source, and any top-level key to override."""

    model_config = ConfigDict(extra="allow", frozen=True)
    name: str
    source: SourceConfig


class Config(Strict):
    source: SourceConfig = Field(default_factory=lambda: SourceConfig(excel=Path("demo/跟进助手演示.xlsx")))
    tabs: TabsConfig = Field(default_factory=TabsConfig)
    columns: ColumnsConfig = Field(default_factory=ColumnsConfig)
    vocab: VocabConfig = Field(default_factory=VocabConfig)
    stages: StagesConfig = Field(default_factory=StagesConfig)
    defaults: Defaults = Field(default_factory=Defaults)
    cadence: CadenceConfig = Field(default_factory=CadenceConfig)
    kpi: KpiConfig = Field(default_factory=KpiConfig)
    reminders: RemindersConfig = Field(default_factory=RemindersConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    workbooks: list[WorkbookConfig] = Field(default_factory=list)
    excel: ExcelConfig = Field(default_factory=ExcelConfig)
    timezone: str = "Asia/Shanghai"
    locale: Literal["zh-CN", "en"] = "zh-CN"
    state_dir: Path = Path(".followup")
    run_log_keep: int = Field(default=50, ge=1, le=10000)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # Not user keys: where the config came from, and env vars that were referenced but unset.
    base_dir: Path = Field(default_factory=Path.cwd, exclude=True)
    missing_env: dict[str, str] = Field(default_factory=dict, exclude=True)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid(Problem(f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai or Europe/London",
                                  f"未知的时区 {value!r}；请使用 IANA 名称，如 Asia/Shanghai 或 Europe/London")) from None
        return value

    @model_validator(mode="after")
    def _vocabulary(self) -> Config:
        problems: list[Problem] = []
        stages = ", ".join(STAGES)
        for tier in self.cadence.by_tier:
            if tier not in TIERS and tier not in self.vocab.tier:
                problems.append(Problem(f"cadence.by_tier has tier {tier!r}; known tiers: A, B, C (or add it under vocab.tier)",
                                        f"cadence.by_tier 中有等级 {tier!r}；已知等级：A、B、C（或在 vocab.tier 下添加它）"))
        if self.defaults.tier not in self.cadence.by_tier:
            problems.append(Problem(f"defaults.tier {self.defaults.tier!r} has no interval in cadence.by_tier",
                                    f"defaults.tier {self.defaults.tier!r} 在 cadence.by_tier 中没有跟进间隔"))
        known_stages = set(STAGES) | set(self.vocab.stage)
        for stage in self.cadence.by_stage:
            if stage not in known_stages:
                problems.append(Problem(f"cadence.by_stage has stage {stage!r}; known stages: {stages}",
                                        f"cadence.by_stage 中有阶段 {stage!r}；已知阶段：{stages}"))
        for group in ("order", "open", "won", "lost", "inactive"):
            for stage in getattr(self.stages, group):
                if stage not in known_stages:
                    problems.append(Problem(f"stages.{group} has stage {stage!r}; known stages: {stages}",
                                            f"stages.{group} 中有阶段 {stage!r}；已知阶段：{stages}"))
        # vocab.channel may name a team's own channels: they are accepted as they are.
        if problems:
            raise Invalid(*problems)
        return self

    # --- derived helpers used across the engine ---
    @property
    def service_locale(self) -> str:
        """The language where no workbook decides (the service's log, `status`, failure alerts): `locale:`
        when the file sets it, else the environment's (LANG, else zh-CN) rather than always Chinese."""
        return self.locale if "locale" in self.model_fields_set else default_locale()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def path(self, value: Path) -> Path:
        """A path from config, relative to the config file's folder."""
        return value if value.is_absolute() else (self.base_dir / value)

    @property
    def state_path(self) -> Path:
        return self.path(self.state_dir)

    def for_workbook(self, workbook: WorkbookConfig) -> Config:
        """This config with one `workbooks:` entry's overrides applied."""
        data = self.model_dump(mode="python", exclude={"workbooks"})
        if "locale" not in self.model_fields_set:
            del data["locale"]  # still the workbook's own language unless the entry sets one
        override = workbook.model_dump(mode="python", exclude={"name"}, exclude_none=True)
        merged = _deep_merge(data, override)
        return validate_config(merged, base_dir=self.base_dir, source=f"workbooks[{workbook.name}]")


def workbook_key(config: Config) -> str:
    """A stable, file-name-safe identity for the workbook a config points at."""
    source = config.source
    if source.excel is not None:
        ident = str(config.path(source.excel).resolve())
        label = config.path(source.excel).stem
    else:
        ident = f"google:{source.google}"
        label = "google"
    slug = re.sub(r"[^\w.-]+", "_", label)[:40] or "workbook"
    return f"{slug}-{hashlib.sha1(ident.encode('utf-8')).hexdigest()[:12]}"


def _deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping) and key != "source":
            out[key] = _deep_merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _expand_env(node: Any, path: str, missing: dict[str, str]) -> Any:
    """Replace ${VAR} in strings; an unset variable becomes '' and is remembered for a later, precise error."""
    if isinstance(node, Mapping):
        return {k: _expand_env(v, f"{path}.{k}" if path else str(k), missing) for k, v in node.items()}
    if isinstance(node, list):
        return [_expand_env(v, f"{path}[{i}]", missing) for i, v in enumerate(node)]
    if isinstance(node, str):
        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                missing[path] = name
                return ""
            return os.environ[name]

        return _ENV.sub(substitute, node)
    return node


def _format_errors(error: ValidationError) -> list[Problem]:
    problems = []
    for item in error.errors():
        loc = ".".join(str(p) for p in item["loc"] if not str(p).startswith("function-"))
        if item["type"] == "extra_forbidden":
            hint = _known_keys_hint(item["loc"])
            problems.append(Problem(f"{loc}: unknown key (value {item['input']!r}); {hint}", f"{loc}：未知的键（值 {item['input']!r}）；{hint.zh}"))
            continue
        value = item.get("input")
        shown = "" if isinstance(value, Mapping) or loc == "" else f" = {value!r}"
        where = loc or "(top level)"
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, Invalid):  # our own validators say it in both languages, possibly several things
            for p in cause.problems:  # a problem that names its own key is shown as it is
                named = bool(loc) and p.startswith(loc + ".")
                problems.append(p if named else Problem(f"{where}{shown}: {p}", f"{loc or '（顶层）'}{shown}：{p.zh}"))
            continue
        message = item["msg"].removeprefix("Value error, ")
        en_fix, zh_template = _FIXES.get(item["type"], ("", ""))
        context = {k: str(v).replace(" or ", " 或 ") for k, v in (item.get("ctx") or {}).items()}
        try:
            zh = zh_template.format(**context) if zh_template else f"取值无效（{message}）"
        except (KeyError, IndexError):
            zh = f"取值无效（{message}）"
        problems.append(Problem(f"{where}{shown}: {message}{en_fix}", f"{loc or '（顶层）'}{shown}：{zh}"))
    return problems


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The settings model that owns the last key of `loc` (list positions and dict keys skipped)."""
    model: type[BaseModel] = Config
    for part in loc[:-1]:
        if not isinstance(part, str) or part not in model.model_fields:
            continue
        nested = [t for t in _types_in(model.model_fields[part].annotation) if isinstance(t, type) and issubclass(t, BaseModel)]
        if not nested:
            return None
        model = nested[0]
    return model


def _types_in(annotation: Any) -> list[Any]:
    """A type and everything inside it: Optional[X], list[X], dict[str, X] all yield X."""
    found = [annotation]
    for arg in getattr(annotation, "__args__", ()) or ():
        found.extend(_types_in(arg))
    return found


def _known_keys_hint(loc: tuple[Any, ...]) -> Problem:
    model = _model_at(loc)
    if model is None:
        return Problem("check its spelling or remove it", "请检查拼写，或删除这个键")
    keys = ", ".join(name for name, info in model.model_fields.items() if not info.exclude)
    close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1, cutoff=0.75)
    en, zh = (f"did you mean `{close[0]}`? ", f"是不是想写 `{close[0]}`？") if close else ("", "")
    return Problem(f"{en}known keys here: {keys}", f"{zh}这里可用的键：{keys}")


# pydantic error type -> (fix appended to its English message, the whole message in Chinese from its context)
_FIXES = {
    "literal_error": ("", "只能是 {expected}"),
    "int_parsing": (" (write a whole number)", "应为整数"),
    "int_from_float": (" (write a whole number)", "应为整数"),
    "int_type": (" (write a whole number)", "应为整数"),
    "float_parsing": ("", "应为数字"),
    "float_type": ("", "应为数字"),
    "bool_parsing": (" (write true or false)", "应为 true 或 false"),
    "bool_type": (" (write true or false)", "应为 true 或 false"),
    "missing": (" (add this key)", "缺少这个键（请添加）"),
    "string_type": ("", "应为文本"),
    "path_type": ("", "应为文件或文件夹路径"),
    "list_type": ("", "应为列表，如 [a, b]"),
    "dict_type": ("", "应为键值映射，如 {{key: value}}"),
    "model_type": ("", "应为一组键值，如 {{key: value}}"),
    "model_attributes_type": ("", "应为一组键值，如 {{key: value}}"),
    "greater_than_equal": ("", "不能小于 {ge}"),
    "less_than_equal": ("", "不能大于 {le}"),
    "greater_than": ("", "必须大于 {gt}"),
    "less_than": ("", "必须小于 {lt}"),
}


def validate_config(data: Mapping[str, Any] | None, *, base_dir: Path, source: str = "config") -> Config:
    raw = dict(data or {})
    if raw.get("source") is None:
        raw.pop("source", None)
    missing: dict[str, str] = {}
    expanded = _expand_env(raw, "", missing)
    try:
        config = Config.model_validate({**expanded, "base_dir": base_dir, "missing_env": missing})
    except ValidationError as error:
        raise ConfigError(_format_errors(error), source, locale=locale_of(raw.get("locale"))) from None
    return config


BUILT_IN = Problem("built-in defaults", "内置默认配置")


def load_config(path: str | Path | None = None, overrides: Mapping[str, Any] | None = None) -> Config:
    """Read config.yaml (or the built-in defaults when path is None) and validate it."""
    if path is None:
        return validate_config(overrides or {}, base_dir=Path.cwd(), source=BUILT_IN)
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError([Problem(f"file not found: {path}; pass --config with the path of your config.yaml, or start from the "
                                   "commented config.yaml that comes with the add-on (README ▸ Configuration)",
                                   f"找不到文件 {path}；请用 --config 指定 config.yaml 的路径，或以随附加组件提供的带注释的 "
                                   "config.yaml 为起点（见 README ▸ Configuration）")], str(path)) from None
    except OSError as error:
        raise ConfigError([Problem(f"cannot read {path}: {error.strerror}", f"无法读取 {path}：{error.strerror}")], str(path)) from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = (f" at line {mark.line + 1}, column {mark.column + 1}", f"（第 {mark.line + 1} 行第 {mark.column + 1} 列）") if mark else ("", "")
        problem = getattr(error, "problem", error)
        raise ConfigError([Problem(f"not valid YAML{where[0]}: {problem}; check indentation and quotes",
                                   f"不是有效的 YAML{where[1]}：{problem}；请检查缩进和引号")], str(path), locale=locale_in(text)) from None
    if not isinstance(data, Mapping):
        raise ConfigError([Problem("the file must be a mapping of keys (like `source:`), not a list or a single value",
                                   "文件内容必须是一组键值（如 `source:`），而不是列表或单个值")], str(path))
    if overrides:
        data = _deep_merge(dict(data), overrides)
    return validate_config(data, base_dir=path.resolve().parent, source=str(path))


def require_env(config: Config, key_path: str) -> None:
    """Fail with a precise message when a key that is about to be used referenced an unset variable."""
    name = config.missing_env.get(key_path)
    if name:
        raise ConfigError([Problem(f"{key_path}: environment variable {name} is not set; export {name}=... before running",
                                   f"{key_path}：环境变量 {name} 未设置；运行前请先 export {name}=...")],
                          Problem("environment", "环境变量"), locale=config.locale)
