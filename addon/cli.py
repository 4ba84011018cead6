"""`followup` / `python runner.py`: a thin layer over addon's library functions.

Human output goes to stderr, `--json` documents to stdout; exit codes: 0 ok, 1 data errors,
2 configuration error, 3 source unavailable or locked.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

from addon import pipeline
from addon.backends import Backend, open_backend
from addon.backends.base import SourceUnavailable
from addon.config import DEFAULT_CONFIG_NAME, Config, ConfigError, default_locale, load_config
from addon.core.fields import lang_index
from addon.i18n import Catalog, locale_for_lang, progress_text, status_label, text
from addon.model import STATUS_ORDER

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C


def _as_of(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-11-23") from None


# argparse's own complaints (Python 3.11+ wording) in Chinese; anything else is shown as argparse says it.
_ARGPARSE_ZH: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), zh) for p, zh in (
    (r"^unrecognized arguments: (?P<a>.*)$", "无法识别的参数：{a}"),
    (r"^the following arguments are required: (?P<a>.*)$", "缺少必需的参数：{a}"),
    (r"^one of the arguments (?P<a>.*) is required$", "必须提供以下参数之一：{a}"),
    (r"^argument (?P<a>[^:]+): not allowed with argument (?P<b>.*)$", "参数 {a} 不能与参数 {b} 同时使用"),
    (r"^argument (?P<a>[^:]+): invalid choice: (?P<b>.*) \(choose from (?P<c>.*)\)$", "参数 {a}：无效的取值 {b}（可选：{c}）"),
    (r"^argument (?P<a>[^:]+): expected one argument$", "参数 {a} 需要一个值"),
    (r"^argument (?P<a>[^:]+): (?P<b>'.*') is not a date like (?P<c>.*)$", "参数 {a}：{b} 不是日期，应写作 {c}"),
    (r"^ambiguous option: (?P<a>\S+) could match (?P<b>.*)$", "选项 {a} 有歧义，可能是：{b}"),
))


def _argparse_words(message: str, locale: str) -> str:
    if lang_index(locale) != 0:
        return message
    for pattern, zh in _ARGPARSE_ZH:
        found = pattern.match(message)
        if found:
            return zh.format(**found.groupdict())
    return message


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors in the environment's language (LANG, else Chinese) and a pointer to --help."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        locale = default_locale()
        self.exit(pipeline.EXIT_CONFIG, text(SAY, locale, "usage_error", prog=self.prog, message=_argparse_words(message, locale)) + "\n")


def _config_path(given: str | None) -> Path | None:
    """--config, else ./config.yaml if present, else built-in defaults (the demo workbook)."""
    if given:
        return Path(given)
    default = Path(DEFAULT_CONFIG_NAME)
    return default if default.exists() else None


def _load(args: argparse.Namespace) -> Config:
    config = load_config(_config_path(args.config))
    args.locale = config.locale  # for messages printed after the command fails
    return config


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _progress(args: argparse.Namespace, locale: str = "en"):
    return (lambda _m: None) if getattr(args, "quiet", False) else (lambda m: _say(f"… {progress_text(m, locale)}"))


def _open(args: argparse.Namespace, config: Config) -> tuple[Backend, pipeline.Progress]:
    """The workbook, opened once for the pass, and progress lines in the language the pass will speak:
    the workbook's when the config sets no `locale:` (else an English workbook's run would start in Chinese)."""
    backend = open_backend(config)
    return backend, _progress(args, pipeline.in_workbook_language(config, backend.sheet_names()).locale)


def _print_json(doc: Any) -> None:
    json.dump(doc, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


# What the CLI says, in both languages (English counts arrive already pluralised by _count).
SAY: Catalog = {
    "title": ("跟进助手 — {mode} · {source} · 截至 {as_of}", "Follow-up Add-on — {mode} · {source} · as of {as_of}"),
    "records": ("  客户 {customers} 位，跟进记录 {followups} 条", "  {customers_n}, {followups_n}"),
    "issues": ("  数据问题：{errors} 个错误，{warnings} 个警告", "  Data issues: {errors_n}, {warnings_n}"),
    "statuses": ("  状态：{parts}", "  Status: {parts}"),
    "needing": ("  需跟进（逾期/升级/公海）：{n}", "  Needing contact (overdue/escalated/pool): {n}"),
    "reminders": ("  提醒：{parts}", "  Reminders: {parts}"),
    "written": ("  已写入：{where}", "  Written to: {where}"),
    "blocked": ("  未计算状态、未发送提醒：{message}", "  No statuses computed, no reminders sent: {message}"),
    "took": ("  用时 {seconds} 秒", "  Took {seconds} s"),
    "list": ("，", ", "),
    "message": ("  {outcome}：{kind} → {to}（{n} 位客户）", "  {outcome}: {kind} → {to} ({customers_n})"),
    "usage_error": ("{prog}：{message}\n用法见：{prog} --help", "{prog}: error: {message}\nsee: {prog} --help"),
    "undelivered": ("    未送达：{kind} → {to}：{detail}", "    not delivered: {kind} → {to}: {detail}"),
    "issue": ("  [{severity}] {where} {column}：{message}", "  [{severity}] {where} {column}: {message}"),
    "suggestion": (" — {suggestion}", " — {suggestion}"),
    "error": ("错误", "error"),
    "warning": ("警告", "warning"),
    "more_issues": ("  …另有 {n} 个问题：加 --all 全部列出；运行 run 后也都在“数据问题”工作表中",
                    "  … and {n} more: add --all to list every one; after a run they are all on the Issues tab"),
    "cannot_use": ("无法使用 {where}：{detail}", "Cannot use {where}: {detail}"),
    "cannot_use_source": ("无法使用数据源：{detail}", "Cannot use the source: {detail}"),
    "interrupted": ("已中断；没有写入任何不完整的内容。", "Interrupted; nothing partial was written."),
    "open_demo": ("打开演示工作簿：{path}", "Open the demo workbook: {path}"),
    "demo_again": ("再次运行：python3 runner.py run --config {path}", "Run it again: python3 runner.py run --config {path}"),
    "demo_mail": ("提醒邮件（.eml）：{path}", "Reminder emails (.eml): {path}"),
}


def _count(n: int, noun: str) -> str:
    """'1 customer', '2 customers' (English only; Chinese counts need no plural)."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _say_messages(result: pipeline.RunResult) -> None:
    """One line per planned message: what happened, which kind, to whom, for how many customers."""
    from addon.core.reminders import kind_label
    from addon.notify.send import OUTCOME_LABELS

    locale = result.config.locale
    for m in result.messages:
        n = len(m.customers)
        _say(text(SAY, locale, "message", outcome=text(OUTCOME_LABELS, locale, m.outcome), kind=kind_label(m.kind, locale),
                  to=m.to, n=n, customers_n=_count(n, "customer")))


MODES = {"run": ("运行", "run"), "check": ("检查", "check"), "remind": ("提醒", "remind"), "demo": ("演示", "demo"), "serve": ("定时服务", "serve")}


def print_summary(result: pipeline.RunResult) -> None:
    """The one-screen summary every run ends with."""
    from addon.core.reminders import kind_label, skipped_text

    s, locale = result.summary(), result.config.locale
    sep = text(SAY, locale, "list")
    counts = result.status_counts()
    urgent_first = sorted(counts.items(), key=lambda kv: STATUS_ORDER.index(kv[0]) if kv[0] in STATUS_ORDER else len(STATUS_ORDER))
    lines = [
        text(SAY, locale, "title", mode=text(MODES, locale, s["mode"]), source=s["source"], as_of=s["as_of"]),
        text(SAY, locale, "records", customers=s["customers"], followups=s["followups"],
             customers_n=_count(s["customers"], "customer"), followups_n=_count(s["followups"], "follow-up")),
        text(SAY, locale, "issues", errors=s["errors"], warnings=s["warnings"],
             errors_n=_count(s["errors"], "error"), warnings_n=_count(s["warnings"], "warning")),
        text(SAY, locale, "statuses", parts=sep.join(f"{status_label(k, locale)} {v}" for k, v in urgent_first if v) or "—"),
        text(SAY, locale, "needing", n=s["overdue"]),
    ]
    if s["messages"]:
        from addon.notify.send import OUTCOME_LABELS

        lines.append(text(SAY, locale, "reminders", parts=sep.join(f"{text(OUTCOME_LABELS, locale, k)} {v}" for k, v in s["messages"].items())))
        for m in result.messages:  # each one that did not go out, and the server's reason (exit code 4)
            if not m.ok:
                lines.append(text(SAY, locale, "undelivered", kind=kind_label(m.kind, locale), to=m.to,
                                  detail=m.detail or text(OUTCOME_LABELS, locale, m.outcome)))
    if s["reminders_skipped"]:
        lines.append(text(SAY, locale, "reminders", parts=skipped_text(s["reminders_skipped"], locale)))
    for message in s["blocked"]:
        lines.append(text(SAY, locale, "blocked", message=message))
    if s["written"]:
        lines.append(text(SAY, locale, "written", where=s["source"]))
    lines.append(text(SAY, locale, "took", seconds=s["seconds"]))
    _say("\n".join(lines))


# --- commands -------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    from addon.service.lock import workbook_lock

    config = _load(args)
    # With `workbooks:`, one pass per workbook (as `serve` does); a failing one doesn't stop the rest.
    targets = [config.for_workbook(wb) for wb in config.workbooks] or [config]
    exit_code, documents = pipeline.EXIT_OK, []
    for target in targets:
        try:
            # One pass per workbook at a time (shared with `serve`); a second one exits 3 with a clear message.
            with nullcontext() if args.dry_run else workbook_lock(target):
                backend, progress = _open(args, target)
                result = pipeline.run(
                    target,
                    as_of=args.as_of,
                    dry_run=args.dry_run,
                    send=not args.no_send,
                    force=args.force,
                    backend=backend,
                    progress=progress,
                )
        except SourceUnavailable as error:
            if len(targets) == 1:
                raise
            where = target.source.excel or target.source.google
            _say(text(SAY, target.locale, "cannot_use", where=where, detail=error.text(target.locale)))
            exit_code = max(exit_code, pipeline.EXIT_SOURCE)
            continue
        if args.dry_run:
            _say_messages(result)
        documents.append(result.to_json())
        print_summary(result)
        exit_code = max(exit_code, result.exit_code)
    if args.json:
        _print_json(documents[0] if len(targets) == 1 and documents else documents)
    return exit_code


def cmd_check(args: argparse.Namespace) -> int:
    config = _load(args)
    backend, progress = _open(args, config)
    result = pipeline.check(config, as_of=args.as_of, backend=backend, progress=progress)
    if args.json:
        doc = result.to_json()
        doc.pop("kpi", None)
        doc.pop("messages", None)
        _print_json(doc)
    else:
        _say_issues(result, show_all=args.all)
    print_summary(result)
    return result.exit_code


ISSUES_SHOWN = 100  # a messy workbook can have thousands; the summary must stay in view


def _say_issues(result: pipeline.RunResult, *, show_all: bool) -> None:
    """Errors first (each group in sheet order), at most ISSUES_SHOWN unless asked for all."""
    locale = result.config.locale
    issues = sorted(result.dataset.issues, key=lambda i: i.severity != "error")
    shown = issues if show_all else issues[:ISSUES_SHOWN]
    for issue in shown:
        where = f"{issue.tab}!{issue.row}" if issue.row else issue.tab
        line = text(SAY, locale, "issue", severity=text(SAY, locale, issue.severity), where=where, column=issue.column, message=issue.message)
        _say(line + (text(SAY, locale, "suggestion", suggestion=issue.suggestion) if issue.suggestion else ""))
    rest = len(issues) - len(shown)
    if rest:
        _say(text(SAY, locale, "more_issues", n=rest))


def cmd_kpi(args: argparse.Namespace) -> int:
    config = _load(args)
    backend, progress = _open(args, config)
    result = pipeline.check(config, as_of=args.as_of, backend=backend, progress=progress)
    if result.kpis is None:  # a missing tab or required column: the summary says which
        if args.json:
            _print_json(None)
        print_summary(result)
    elif args.json:
        _print_json(result.kpis.to_json())
    else:
        from addon.core.kpi_tab import headline_lines

        print("\n".join(headline_lines(result.kpis, result.config.locale)))
    return result.exit_code


def cmd_remind(args: argparse.Namespace) -> int:
    config = _load(args)
    backend, progress = _open(args, config)
    result = pipeline.remind(config, as_of=args.as_of, force=args.force, backend=backend, progress=progress)
    _say_messages(result)
    if args.json:
        _print_json({"summary": result.summary(), "messages": result.to_json()["messages"]})
    print_summary(result)
    return result.exit_code


def cmd_demo(args: argparse.Namespace) -> int:
    from addon.demo import DEMO_CONFIGS, run_demo

    args.locale = locale_for_lang(args.lang)
    result = run_demo(Path(args.dir), lang=args.lang, as_of=args.as_of, progress=_progress(args, args.locale))
    if args.json:
        _print_json(result.to_json())
    print_summary(result)
    locale = result.config.locale
    _say(text(SAY, locale, "open_demo", path=result.location))
    _say(text(SAY, locale, "demo_mail", path=result.config.path(result.config.reminders.outbox)))
    _say(text(SAY, locale, "demo_again", path=Path(args.dir) / DEMO_CONFIGS[args.lang]))  # as the user named the folder
    return pipeline.EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from addon.setup import NotAWorkbookName, init_excel, init_google

    args.locale = locale_for_lang(args.lang)
    if args.excel:
        try:
            message = init_excel(Path(args.excel), lang=args.lang)
        except NotAWorkbookName as error:
            _say(error.text(args.locale))
            return pipeline.EXIT_CONFIG
    else:
        config = load_config(_config_path(args.config)) if _config_path(args.config) else None
        message = init_google(args.google, lang=args.lang, config=config)
    _say(message)
    return pipeline.EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from addon.service.serve import serve

    return serve(_load(args), verbose=args.verbose)


def cmd_status(args: argparse.Namespace) -> int:
    from addon.service.health import print_status

    return print_status(_load(args), as_json=args.json)


def cmd_doctor(args: argparse.Namespace) -> int:
    from addon.service.doctor import doctor

    return doctor(_config_path(args.config))


# --- parser ----------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="followup",
        description="Follow-up Add-on (跟进助手): validation, cadence, KPIs and reminders on your sales spreadsheet.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    def add(name: str, handler, help_text: str, *, config: bool = True, as_of: bool = True, json_flag: bool = True):
        p = sub.add_parser(name, help=help_text, description=help_text)
        if config:
            p.add_argument("--config", "-c", metavar="FILE", help="config.yaml (default: ./config.yaml, else built-in defaults)")
        if as_of:
            p.add_argument("--as-of", type=_as_of, metavar="YYYY-MM-DD", help="evaluate as of this date (default: today in the configured timezone)")
        if json_flag:
            p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
        p.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
        p.set_defaults(handler=handler)
        return p

    p = add("demo", cmd_demo, "make a demo workbook with realistic data and run everything on it", config=False)
    p.add_argument("--dir", default="demo", help="folder for the demo workbook, outbox and state (default: ./demo)")
    p.add_argument("--lang", choices=["zh", "en"], default="zh")

    p = add("run", cmd_run, "one full pass: validate, apply cadence, write owned columns and tabs, send reminders")
    p.add_argument("--dry-run", action="store_true", help="compute and show what would be written and sent; change nothing")
    p.add_argument("--no-send", action="store_true", help="write the sheet but send no reminders")
    p.add_argument("--force", action="store_true", help="resend reminders already sent today")

    p = add("check", cmd_check, "validate only and list problems; writes nothing (exit 1 if any error)")
    p.add_argument("--all", action="store_true", help=f"list every problem (default: the first {ISSUES_SHOWN}, errors first)")
    add("kpi", cmd_kpi, "compute the KPI figures; writes nothing")
    p = add("remind", cmd_remind, "send the reminders owed today; leaves the sheet alone")
    p.add_argument("--force", action="store_true", help="resend reminders already sent today")

    p = add("init", cmd_init, "create the template tabs in a new or existing workbook or Google Sheet", as_of=False, json_flag=False)
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--excel", metavar="PATH", help="an .xlsx/.xlsm file (created if missing)")
    target.add_argument("--google", metavar="SHEET_ID", help="a Google Sheet id or URL")
    p.add_argument("--lang", choices=["zh", "en"], default="zh")

    p = add("serve", cmd_serve, "run as a scheduled service (times, days and workbooks from config)", as_of=False, json_flag=False)
    p.add_argument("--verbose", "-v", action="store_true", help="debug logging")
    add("status", cmd_status, "show the service's health: last runs, outcomes, next run", as_of=False)
    add("doctor", cmd_doctor, "check config, sources, SMTP and state folder, and say what to fix", as_of=False, json_flag=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.handler(args) or 0)
    except ConfigError as error:
        _say(error.text())
        return pipeline.EXIT_CONFIG
    except SourceUnavailable as error:
        locale = getattr(args, "locale", default_locale())
        _say(text(SAY, locale, "cannot_use_source", detail=error.text(locale)))
        return pipeline.EXIT_SOURCE
    except KeyboardInterrupt:
        _say(text(SAY, getattr(args, "locale", default_locale()), "interrupted"))
        return EXIT_INTERRUPTED


def entry() -> None:
    """The process's entry point (the `followup` script, runner.py, python -m addon)."""
    code = main()
    if code == EXIT_INTERRUPTED:
        # A tab still loading in a reader thread would hold the exit until it is parsed (seconds for
        # a large tab), and there is nothing left to finish once main has returned: leave at once.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
