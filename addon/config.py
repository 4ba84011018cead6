"""config.yaml: schema, defaults, `${VAR}` from the environment, and errors an administrator can act on.

Every error names the key path, the bad value and the fix; the CLI turns ConfigError into exit code 2.
"""

from __future__ import annotations

import difflib
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

from addon.core.fields import CHANNELS, FIELDS, STAGES, TIERS

DEFAULT_CONFIG_NAME = "config.yaml"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(d|day|days|h|hour|hours|w|week|weeks|m|min|minute|minutes|s|sec|seconds|天|小时|周)?\s*$", re.I)
_UNITS = {
    "d": "days", "day": "days", "days": "days", "天": "days",
    "h": "hours", "hour": "hours", "hours": "hours", "小时": "hours",
    "w": "weeks", "week": "weeks", "weeks": "weeks", "周": "weeks",
    "m": "minutes", "min": "minutes", "minute": "minutes", "minutes": "minutes",
    "s": "seconds", "sec": "seconds", "seconds": "seconds",
}


class ConfigError(Exception):
    """A configuration problem, phrased as key path, value and fix."""

    def __init__(self, problems: list[str], source: str = "config") -> None:
        self.problems = problems
        self.source = source
        super().__init__(f"{source}: " + "; ".join(problems))

    def __str__(self) -> str:
        lines = [f"Configuration error in {self.source}:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


def parse_duration(value: Any) -> timedelta:
    """'7d', '24h', '2w', '15m', a bare number of days, or a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration like 7d, 24h or 2w")
    if isinstance(value, int | float):
        return timedelta(days=value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError("expected a duration like 7d, 24h or 2w")
    amount, unit = float(match.group(1)), (match.group(2) or "d").lower()
    return timedelta(**{_UNITS[unit]: amount})


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


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
            raise ValueError("give exactly one of `excel: path/to/file.xlsx` or `google: <sheet id or URL>`")
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
                    raise ValueError(f"unknown field {key!r} in columns.{tab}; known fields: {', '.join(sorted(known))}")
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
                raise ValueError(f"{item!r} is not a time like 09:00 (24-hour HH:MM)")
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
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai or Europe/London") from None
        return value

    @model_validator(mode="after")
    def _vocabulary(self) -> Config:
        problems = []
        for tier in self.cadence.by_tier:
            if tier not in TIERS and tier not in self.vocab.tier:
                problems.append(f"cadence.by_tier has tier {tier!r}; known tiers: A, B, C (or add it under vocab.tier)")
        if self.defaults.tier not in self.cadence.by_tier:
            problems.append(f"defaults.tier {self.defaults.tier!r} has no interval in cadence.by_tier")
        known_stages = set(STAGES) | set(self.vocab.stage)
        for stage in self.cadence.by_stage:
            if stage not in known_stages:
                problems.append(f"cadence.by_stage has stage {stage!r}; known stages: {', '.join(STAGES)}")
        for group in ("order", "open", "won", "lost", "inactive"):
            for stage in getattr(self.stages, group):
                if stage not in known_stages:
                    problems.append(f"stages.{group} has stage {stage!r}; known stages: {', '.join(STAGES)}")
        for channel in self.vocab.channel:
            if channel not in CHANNELS:
                pass  # a team may add its own channels; they are accepted as-is
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # --- derived helpers used across the engine ---
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
        override = workbook.model_dump(mode="python", exclude={"name"}, exclude_none=True)
        merged = _deep_merge(data, override)
        return validate_config(merged, base_dir=self.base_dir, source=f"workbooks[{workbook.name}]")


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


def _format_errors(error: ValidationError, data: Mapping[str, Any]) -> list[str]:
    problems = []
    for item in error.errors():
        loc = ".".join(str(p) for p in item["loc"] if not str(p).startswith("function-"))
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            problems.append(f"{loc}: unknown key (value {item['input']!r}); {_known_keys_hint(item['loc'])}")
            continue
        value = item.get("input")
        shown = "" if isinstance(value, Mapping) or loc == "" else f" = {value!r}"
        fix = _FIXES.get(item["type"], "")
        problems.append(f"{loc or '(top level)'}{shown}: {message}{fix}")
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


def _known_keys_hint(loc: tuple[Any, ...]) -> str:
    model = _model_at(loc)
    if model is None:
        return "check its spelling or remove it"
    keys = [name for name, info in model.model_fields.items() if not info.exclude]
    close = difflib.get_close_matches(str(loc[-1]), keys, n=1, cutoff=0.75)
    hint = f"did you mean `{close[0]}`? " if close else ""
    return f"{hint}known keys here: {', '.join(keys)}"


_FIXES = {
    "literal_error": "",
    "int_parsing": " (write a whole number)",
    "bool_parsing": " (write true or false)",
    "missing": " (add this key)",
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
        raise ConfigError(_format_errors(error, raw), source) from None
    return config


def load_config(path: str | Path | None = None, overrides: Mapping[str, Any] | None = None) -> Config:
    """Read config.yaml (or the built-in defaults when path is None) and validate it."""
    if path is None:
        return validate_config(overrides or {}, base_dir=Path.cwd(), source="built-in defaults")
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError([f"file not found: {path}; create it with `python runner.py init` or pass --config"], str(path)) from None
    except OSError as error:
        raise ConfigError([f"cannot read {path}: {error.strerror}"], str(path)) from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError([f"not valid YAML{where}: {getattr(error, 'problem', error)}; check indentation and quotes"], str(path)) from None
    if not isinstance(data, Mapping):
        raise ConfigError(["the file must be a mapping of keys (like `source:`), not a list or a single value"], str(path))
    if overrides:
        data = _deep_merge(dict(data), overrides)
    return validate_config(data, base_dir=path.resolve().parent, source=str(path))


def require_env(config: Config, key_path: str) -> None:
    """Fail with a precise message when a key that is about to be used referenced an unset variable."""
    name = config.missing_env.get(key_path)
    if name:
        raise ConfigError([f"{key_path}: environment variable {name} is not set; export {name}=... before running"], "environment")
