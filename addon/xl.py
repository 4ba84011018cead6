"""What the workbook's buttons call (xlwings `RunPython`), acting on the workbook that called them.

    RunPython "import addon.xl; addon.xl.check_now()"

Each entry point takes `xw.Book.caller()` (or a book passed in, for scripts and tests), reads the
configuration beside and inside that workbook (see addon.xl_settings), runs the same engine as the
command line through the live-Excel backend, reports progress and results in Excel's status bar,
and shows problems in a message box in the workbook's language. Nothing is ever raised back to
xlwings, because xlwings would show the Python traceback to a sales rep; details go to a log file
whose path the message names. Only the open-source parts of xlwings are used.
"""

from __future__ import annotations

import logging
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from addon.backends.base import SourceUnavailable
from addon.backends.xlwings_live import XlwingsBackend
from addon.config import Config, ConfigError, load_config
from addon.core.fields import OWNED_TABS, lang_index
from addon.core.reminders import skipped_text
from addon.i18n import progress_step, text
from addon.model import OutCell, StyledCell, TabSpec, WriteSet
from addon.xl_settings import (
    find_settings_tab,
    settings_tab_name,
    settings_tab_rows,
    workbook_config,
)

log = logging.getLogger(__name__)

LOG_NAME = "excel-buttons.log"

MESSAGES = {
    "app": ("跟进助手", "Follow-up Add-on"),
    "prefix": ("跟进助手：", "Follow-up: "),
    "starting": ("正在启动…", "starting…"),
    # keyed by the pipeline's steps (addon.i18n.PROGRESS_STEPS), worded for the status bar
    "reading": ("正在读取工作簿…", "reading the workbook…"),
    "validating rows": ("正在校验数据…", "checking the data…"),
    "applying cadence rules": ("正在计算跟进状态和 KPI…", "applying cadence rules and computing KPIs…"),
    "writing owned": ("正在写入结果…", "writing results…"),
    "writing_tab": ("正在写入“{name}”…", "writing “{name}”…"),
    "planning reminders": ("正在准备提醒…", "preparing reminders…"),
    "sending reminders": ("正在发送提醒…", "sending reminders…"),
    "checked": (
        "检查完成：{customers} 位客户，{overdue} 位逾期，{due} 位今日/即将到期；{errors} 个错误，{warnings} 个警告{issues}。",
        "Check done: {customers} customers, {overdue} overdue, {due} due today or soon; {errors} errors, {warnings} warnings{issues}.",
    ),
    "see_issues": ("（详见“{tab}”表）", " (see the “{tab}” tab)"),
    "kpis_done": ("KPI 已更新：“{tab}”表（截至 {as_of}）。", "KPIs refreshed in the “{tab}” tab (as of {as_of})."),
    "nothing_to_send": ("今天没有需要发送的提醒{already}。", "No reminders are due today{already}."),
    "already": ("（{n} 封今天已发送过）", " ({n} already sent today)"),
    "confirm_title": ("确认发送提醒", "Send reminders?"),
    "confirm": (
        "现在发送 {n} 封提醒邮件吗？\n\n收件人：{to}\n方式：{how}{skipped}",
        "Send {n} reminder e-mails now?\n\nTo: {to}\nHow: {how}{skipped}",
    ),
    "via_outbox": ("只写入文件夹 {path}（不会真正发出）", "written to the folder {path} (nothing leaves this computer)"),
    "via_smtp": ("通过 SMTP 服务器 {host} 以 {sender} 发送", "through the SMTP server {host} as {sender}"),
    "via_console": ("只在控制台显示（不会发出）", "shown on the console only (nothing is sent)"),
    "not_composed": ("\n\n有 {n} 封无法生成，将跳过：{detail}", "\n\n{n} cannot be composed and will be skipped: {detail}"),
    "cancelled": ("已取消，未发送任何提醒。", "Cancelled; no reminders were sent."),
    "sent": ("已发送 {sent} 封提醒。", "{sent} reminders sent."),
    "sent_partly": (
        "已发送 {sent} 封；{failed} 封未送达，下次运行会重试：\n{detail}",
        "{sent} sent; {failed} not delivered and will be retried on the next run:\n{detail}",
    ),
    "settings_made": (
        "已新建“{tab}”表：在 B 列填写要修改的值，留空的项使用 config.yaml 或默认值。",
        "Made the “{tab}” tab: fill in column B for what you want to change; blank rows use config.yaml or the defaults.",
    ),
    "settings_open": ("“{tab}”表：B 列的值优先于 config.yaml。", "“{tab}” tab: values in column B win over config.yaml."),
    "config_error": (
        "设置有误，请修改后再试：\n\n{problems}\n\n设置来自：{source}",
        "Please fix the settings and try again:\n\n{problems}\n\nSettings come from: {source}",
    ),
    "source_error": ("无法读取或写入工作簿：\n\n{detail}", "Cannot read or write the workbook:\n\n{detail}"),
    "unexpected": (
        "出现意外错误：{detail}\n\n详细信息已写入：{log}\n请把该文件发给管理员。",
        "Something went wrong: {detail}\n\nDetails are in: {log}\nPlease send that file to your administrator.",
    ),
    "failed_status": ("出错了，详见弹出的消息。", "failed; see the message box."),
}

def _caller() -> Any:
    import xlwings as xw

    return xw.Book.caller()


@dataclass
class ExcelUI:
    """Status bar and message boxes of the calling workbook's Excel, in the workbook's language."""

    book: Any
    locale: str = "zh-CN"
    log_path: Path | None = None
    shown: list[str] = field(default_factory=list)

    def t(self, key: str, **params: object) -> str:
        return text(MESSAGES, self.locale, key, **params)

    def status(self, message: str) -> None:
        try:
            self.book.app.status_bar = self.t("prefix") + message
        except Exception as error:  # the status bar is a courtesy; never fail a run on it
            log.debug("status bar: %s", error)

    def progress(self, message: str) -> None:
        """Translate the pipeline's progress lines into the workbook's language."""
        step = progress_step(message)
        self.status(self.t(step) if step in MESSAGES else message)

    def tab_progress(self, name: str) -> None:
        self.status(self.t("writing_tab", name=name))

    def alert(self, message: str, *, buttons: str = "ok", mode: str | None = "info", title: str | None = None) -> str:
        self.shown.append(message)
        try:
            answer = self.book.app.alert(message, title=title or self.t("app"), buttons=buttons, mode=mode)
        except Exception as error:  # no dialog possible: leave the text in the status bar instead
            log.warning("message box failed (%s): %s", error, message)
            self.status(message.replace("\n", " "))
            return "cancel" if buttons != "ok" else "ok"
        return str(answer or "ok")

    def error(self, message: str) -> None:
        self.status(self.t("failed_status"))
        self.alert(message, mode="critical")


# --- configuration of the calling workbook -----------------------------------------------------

def _folder(book: Any) -> Path | None:
    """The folder the workbook is saved in; None for an unsaved book or one only on the web."""
    try:
        fullname = str(book.fullname)
    except Exception:
        return None
    if "://" in fullname:
        return None
    path = Path(fullname)
    return path.parent if path.is_absolute() and path.parent.is_dir() else None


def fallback_dir() -> Path:
    """Where state and outbox go for a workbook that has no folder yet (unsaved, or on SharePoint only)."""
    return Path.home() / "FollowUp"


def load_book_config(book: Any, backend: XlwingsBackend | None = None) -> Config:
    """defaults < config.yaml in the workbook's folder < the Settings / 设置 tab; the source is the workbook."""
    backend = backend or XlwingsBackend(book)
    names = backend.sheet_names()
    tab = find_settings_tab(names)
    rows = backend.read([tab])[tab].rows if tab else None
    return workbook_config(
        fullname=backend.location,
        folder=_folder(book),
        sheet_names=names,
        settings_rows=rows,
        settings_tab=tab,
        fallback_dir=fallback_dir(),
    )


# --- the common frame of every button ---------------------------------------------------------

def _log_paths(config: Config | None) -> list[Path]:
    """Where a button's log goes: the state folder beside the workbook, else the temp folder."""
    fallback = Path(tempfile.gettempdir()) / "followup-excel" / LOG_NAME
    return [config.state_path / LOG_NAME, fallback] if config is not None else [fallback]


@contextmanager
def _file_log(config: Config | None) -> Iterator[Path | None]:
    """Send the add-on's log (and any traceback) to a file for one button; yields the file used."""
    handler: logging.Handler | None = None
    used: Path | None = None
    for path in _log_paths(config):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(path, encoding="utf-8")
            used = path
            break
        except OSError:
            continue
    root = logging.getLogger("addon")
    level = root.level
    if handler is not None:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        if level == logging.NOTSET or level > logging.INFO:
            root.setLevel(logging.INFO)
    try:
        yield used
    finally:
        if handler is not None:
            root.removeHandler(handler)
            root.setLevel(level)
            handler.close()


Action = Callable[[Any, Config, XlwingsBackend, ExcelUI], Any]


def _button(action: Action, book: Any | None, *, needs_config: bool = True) -> Any:
    """Run one button: resolve the caller, load config, run, and turn every failure into a message box."""
    book = book if book is not None else _caller()
    ui = ExcelUI(book)
    config: Config | None = None
    from addon.pipeline import spoken_locale

    try:
        ui.locale = spoken_locale([s.name for s in book.sheets])  # until the config, then the run, says
    except Exception:
        pass
    ui.status(ui.t("starting"))
    try:
        backend = XlwingsBackend(book, progress=ui.tab_progress)
        try:
            config = load_book_config(book, backend)
        except ConfigError:
            if needs_config:
                raise
            config = None
        if config is not None and "locale" in config.model_fields_set:
            ui.locale = config.locale
        with _file_log(config):
            return action(book, config, backend, ui)  # type: ignore[arg-type]
    except ConfigError as error:
        ui.error(ui.t("config_error", problems="\n".join(f"• {p}" for p in error.lines(ui.locale)), source=error.source.text(ui.locale)))
    except SourceUnavailable as error:
        ui.error(ui.t("source_error", detail=error.text(ui.locale)))
    except Exception as error:
        with _file_log(config) as path:
            log.exception("Excel button failed")
        ui.error(ui.t("unexpected", detail=f"{type(error).__name__}: {error}", log=path or "-"))
    return None


# --- the buttons ----------------------------------------------------------------------------

def check_now(book: Any | None = None) -> Any:
    """Check now / 立即检查: validate, apply the cadence rules, write the owned columns and tabs; send nothing."""
    return _button(_check_now, book)


def refresh_kpis(book: Any | None = None) -> Any:
    """Refresh KPIs / 刷新 KPI: recompute and rewrite the KPI tab only."""
    return _button(_refresh_kpis, book)


def send_reminders(book: Any | None = None) -> Any:
    """Send reminders / 发送提醒: plan today's reminders, ask for confirmation, then send them."""
    return _button(_send_reminders, book)


def open_settings(book: Any | None = None) -> Any:
    """Settings / 设置: go to the Settings tab, making it (with every common key explained) if missing."""
    return _button(_open_settings, book, needs_config=False)


def _spoken(config: Config, ui: ExcelUI) -> Config:
    """The config a run used, whose language the dialogs after it speak (without `locale:` the run
    judges it from the workbook: pipeline.in_workbook_language)."""
    ui.locale = config.locale
    return config


def _check_now(book: Any, config: Config, backend: XlwingsBackend, ui: ExcelUI) -> Any:
    from addon import pipeline

    result = pipeline.run(config, send=False, backend=backend, progress=ui.progress, mode="excel")
    config = _spoken(result.config, ui)
    counts = result.status_counts()
    errors = result.errors
    warnings = len(result.dataset.issues) - errors
    issues_tab = OWNED_TABS["issues"][lang_index(config.locale)]
    ui.status(ui.t(
        "checked",
        customers=len(result.dataset.customers),
        overdue=counts["overdue"] + counts["escalated"] + counts["pool"],
        due=counts["due_today"] + counts["due_soon"],
        errors=errors,
        warnings=warnings,
        issues=ui.t("see_issues", tab=issues_tab) if result.dataset.issues else "",
    ))
    return result


def _refresh_kpis(book: Any, config: Config, backend: XlwingsBackend, ui: ExcelUI) -> Any:
    from addon import pipeline
    from addon.core.kpi_tab import kpi_tab

    result = pipeline.run(config, send=False, write=False, backend=backend, progress=ui.progress, mode="kpi")
    config = _spoken(result.config, ui)
    tab: TabSpec = kpi_tab(result.kpis, result.dataset, config.locale)
    other = OWNED_TABS["kpi"][1 - lang_index(config.locale)]
    stale = [other] if other in backend.sheet_names() and other != tab.name else []
    writes = pipeline.without_theirs(WriteSet(columns=None, tabs=[tab], stale_tabs=stale), result)
    if not writes.tabs:  # a KPI tab of the team's own: never replaced; the run's Issue says what to do
        issue = next(i for i in result.dataset.issues if i.code == "tab.not_ours" and i.tab.casefold() == tab.name.casefold())
        ui.status(issue.message)
        ui.alert(f"{issue.message}\n{issue.suggestion}")
        return result
    ui.status(ui.t("writing owned"))
    backend.write(writes)
    ui.status(ui.t("kpis_done", tab=tab.name, as_of=result.as_of.isoformat()))
    return result


def _how(config: Config, ui: ExcelUI) -> str:
    reminders = config.reminders
    if reminders.transport == "outbox":
        return ui.t("via_outbox", path=config.path(reminders.outbox))
    if reminders.transport == "smtp":
        return ui.t("via_smtp", host=f"{reminders.smtp.host}:{reminders.smtp.port}", sender=reminders.smtp.sender)
    return ui.t("via_console")


def _send_reminders(book: Any, config: Config, backend: XlwingsBackend, ui: ExcelUI) -> Any:
    from addon import pipeline
    from addon.notify.send import ALREADY_SENT, DRY_RUN, SENT

    preview = pipeline.run(config, dry_run=True, backend=backend, progress=ui.progress, mode="remind")
    config = _spoken(preview.config, ui)
    due = [m for m in preview.messages if m.outcome == DRY_RUN]
    broken = [m for m in preview.messages if m.outcome not in (DRY_RUN, ALREADY_SENT, "already_refused", "in_progress")]
    already = sum(1 for m in preview.messages if m.outcome == ALREADY_SENT)
    if not due:
        if preview.reminders_skipped:
            reason = skipped_text(preview.reminders_skipped, ui.locale)  # a sentence of its own in a dialog
            message = reason[0].upper() + reason[1:] + ("。" if lang_index(ui.locale) == 0 else ".")
        else:
            message = ui.t("nothing_to_send", already=ui.t("already", n=already) if already else "")
        ui.status(message)
        ui.alert(message)
        return preview
    recipients = sorted({m.to for m in due})
    shown = ", ".join(recipients[:8]) + (f" … (+{len(recipients) - 8})" if len(recipients) > 8 else "")
    skipped = ui.t("not_composed", n=len(broken), detail=broken[0].detail) if broken else ""
    answer = ui.alert(ui.t("confirm", n=len(due), to=shown, how=_how(config, ui), skipped=skipped),
                      buttons="yes_no", mode="info", title=ui.t("confirm_title"))
    if answer != "yes":
        ui.status(ui.t("cancelled"))
        return preview
    result = pipeline.remind(config, as_of=preview.as_of, backend=backend, progress=ui.progress)
    outcomes = Counter(m.outcome for m in result.messages)
    failed = [m for m in result.messages if not m.ok]
    if failed:
        detail = "\n".join(f"• {m.to}: {m.detail or m.outcome}" for m in failed[:5])
        message = ui.t("sent_partly", sent=outcomes[SENT], failed=len(failed), detail=detail)
        ui.status(message.split("\n", 1)[0])
        ui.alert(message, mode="critical")
    else:
        message = ui.t("sent", sent=outcomes[SENT])
        ui.status(message)
        ui.alert(message)
    return result


def _open_settings(book: Any, config: Config | None, backend: XlwingsBackend, ui: ExcelUI) -> Any:
    names = backend.sheet_names()
    tab = find_settings_tab(names)
    if tab is None:
        shown = config or _defaults_for(book, ui.locale)
        tab = settings_tab_name(ui.locale)
        rows: list[list[OutCell]] = [list(r) for r in settings_tab_rows(shown, ui.locale)]
        rows[0] = [StyledCell(rows[0][0], "subtle")]
        rows[1] = [StyledCell(c, "header") for c in rows[1]]
        backend.write(WriteSet(columns=None, tabs=[TabSpec(
            name=tab, rows=rows, widths={0: 30, 1: 24, 2: 24, 3: 64}, role="settings",
        )]))
        message = ui.t("settings_made", tab=tab)
    else:
        message = ui.t("settings_open", tab=tab)
    book.sheets[tab].activate()
    ui.status(message)
    if config is None:  # the settings are broken: say what is wrong now that the tab is in front
        load_book_config(book, backend)
    return tab


def _defaults_for(book: Any, locale: str) -> Config:
    """The config a broken Settings tab would be compared with: config.yaml beside the book, else defaults."""
    folder = _folder(book)
    candidate = folder / "config.yaml" if folder else None
    try:
        if candidate is not None and candidate.is_file():
            return load_config(candidate, overrides={"locale": locale})
    except ConfigError:
        pass
    return load_config(None, overrides={"locale": locale})
