"""`followup` / `python runner.py`: a thin layer over addon's library functions.

Human output goes to stderr, `--json` documents to stdout; exit codes: 0 ok, 1 data errors,
2 configuration or usage error, 3 source unavailable or locked, 4 reminders not delivered.
Help and usage errors speak the environment's language; everything after the config is read, its own.
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
    args.locale = config.service_locale  # for messages printed after the command fails (a pass then says its workbook's)
    return config


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _progress(args: argparse.Namespace, locale: str = "en"):
    return (lambda _m: None) if getattr(args, "quiet", False) else (lambda m: _say(f"… {progress_text(m, locale)}"))


def _open(args: argparse.Namespace, config: Config) -> tuple[Backend, pipeline.Progress]:
    """The workbook, opened once for the pass, and progress lines in the language the pass will speak:
    the workbook's when the config sets no `locale:` (else an English workbook's run would start in Chinese)."""
    backend = open_backend(config)
    args.locale = pipeline.in_workbook_language(config, backend.sheet_names()).locale  # also for a failure after this point
    return backend, _progress(args, args.locale)


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
    "why": ("：{detail}", ": {detail}"),
    "undelivered": ("    未送达：{kind} → {to}：{detail}", "    not delivered: {kind} → {to}: {detail}"),
    "issue": ("  [{severity}] {where}：{message}", "  [{severity}] {where}: {message}"),
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
        line = text(SAY, locale, "message", outcome=text(OUTCOME_LABELS, locale, m.outcome), kind=kind_label(m.kind, locale),
                    to=m.to, n=n, customers_n=_count(n, "customer"))
        _say(line + (text(SAY, locale, "why", detail=m.detail) if not m.ok and m.detail else ""))


MODES = {"run": ("运行", "run"), "check": ("检查", "check"), "remind": ("提醒", "remind"), "demo": ("演示", "demo"), "serve": ("定时服务", "serve")}


def print_summary(result: pipeline.RunResult, *, messages_listed: bool = False) -> None:
    """The one-screen summary every run ends with. When the messages were just listed one per line
    (`remind`, `run --dry-run`), the undelivered ones are not listed again."""
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
            if not m.ok and not messages_listed:
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
        print_summary(result, messages_listed=args.dry_run)
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
        where = (f"{issue.tab}!{issue.row}" if issue.row else issue.tab) + (f" {issue.column}" if issue.column else "")
        line = text(SAY, locale, "issue", severity=text(SAY, locale, issue.severity), where=where, message=issue.message)
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
    print_summary(result, messages_listed=True)
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

    args.locale = locale_for_lang(args.lang) if args.lang else default_locale()
    config = load_config(_config_path(args.config)) if _config_path(args.config) else None  # its tabs:, columns:, locale:
    if args.excel:
        try:
            message = init_excel(Path(args.excel), lang=args.lang, config=config)
        except NotAWorkbookName as error:
            _say(error.text(args.locale))
            return pipeline.EXIT_CONFIG
    else:
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


# Every text of --help, in both languages; argparse's own words ("usage:", "options") are set in _Formatter
# and _parser_words. The language is the environment's (LANG, else Chinese): no config is read to print help.
HELP: Catalog = {
    "description": ("跟进助手：在销售表格上做数据校验、跟进节奏、KPI 和提醒。",
                    "Follow-up Add-on (跟进助手): validation, cadence, KPIs and reminders on your sales spreadsheet."),
    "command": ("命令", "COMMAND"),
    "usage": ("用法：", "usage: "),
    "positionals": ("位置参数", "positional arguments"),
    "options": ("选项", "options"),
    "help": ("显示此帮助并退出", "show this help message and exit"),
    "config": ("config.yaml 配置文件（默认：当前文件夹的 config.yaml，否则用内置默认配置）",
               "config.yaml (default: ./config.yaml, else built-in defaults)"),
    "as_of": ("按这一天计算（默认：所配置时区的今天）", "evaluate as of this date (default: today in the configured timezone)"),
    "json": ("在标准输出打印一个 JSON 文档", "print one JSON document on stdout"),
    "quiet": ("不显示进度行", "no progress lines"),
    "demo": ("生成一个带逼真数据的演示工作簿，并在上面完整运行一遍", "make a demo workbook with realistic data and run everything on it"),
    "demo.dir": ("存放演示工作簿、发件箱和状态的文件夹（默认：./demo）", "folder for the demo workbook, outbox and state (default: ./demo)"),
    "lang": ("工作表、表头和消息的语言：zh 中文，en 英文（默认：zh）", "language of tabs, headers and messages: zh Chinese, en English (default: zh)"),
    "run": ("完整运行一遍：校验、应用跟进节奏、写入本工具的列和工作表、发送提醒",
            "one full pass: validate, apply cadence, write owned columns and tabs, send reminders"),
    "run.dry_run": ("只计算并显示将写入和发送的内容，不做任何改动", "compute and show what would be written and sent; change nothing"),
    "run.no_send": ("写入表格，但不发送提醒", "write the sheet but send no reminders"),
    "force": ("重新发送今天已发过的提醒", "resend reminders already sent today"),
    "check": ("只校验并列出问题，不写入任何内容（有错误时退出码为 1）", "validate only and list problems; writes nothing (exit 1 if any error)"),
    "check.all": ("列出全部问题（默认：先错误后警告，前 {n} 个）", "list every problem (default: the first {n}, errors first)"),
    "kpi": ("计算 KPI 指标，不写入任何内容", "compute the KPI figures; writes nothing"),
    "remind": ("发送今天应发的提醒，不改动表格", "send the reminders owed today; leaves the sheet alone"),
    "init": ("在新的或已有的工作簿 / Google 表格中创建模板工作表", "create the template tabs in a new or existing workbook or Google Sheet"),
    "init.excel": (".xlsx/.xlsm 文件（不存在时新建）", "an .xlsx/.xlsm file (created if missing)"),
    "init.lang": ("模板工作表、表头和消息的语言：zh 中文，en 英文（默认：已有工作簿的语言；新工作簿按环境变量 LANG，否则 zh）",
                  "language of the template tabs, headers and messages: zh Chinese, en English (default: an existing "
                  "workbook's own; for a new one the environment's LANG, else zh)"),
    "init.google": ("Google 表格的 ID 或网址", "a Google Sheet id or URL"),
    "serve": ("作为定时服务运行（时间、日期和工作簿来自配置）", "run as a scheduled service (times, days and workbooks from config)"),
    "serve.verbose": ("输出调试日志", "debug logging"),
    "status": ("显示定时服务的健康状况：最近几次运行、结果、下次运行", "show the service's health: last runs, outcomes, next run"),
    "doctor": ("检查配置、数据源、SMTP 和状态文件夹，并说明如何修复", "check config, sources, SMTP and state folder, and say what to fix"),
}


class _Formatter(argparse.HelpFormatter):
    """argparse's help layout, with its "usage:" prefix in the help's language."""

    usage_prefix = HELP["usage"][1]

    def add_usage(self, usage, actions, groups, prefix=None) -> None:  # type: ignore[no-untyped-def]
        super().add_usage(usage, actions, groups, self.usage_prefix if prefix is None else prefix)


def _formatter(locale: str) -> type[argparse.HelpFormatter]:
    return type("Formatter", (_Formatter,), {"usage_prefix": text(HELP, locale, "usage")})


def _parser_words(parser: argparse.ArgumentParser, locale: str) -> argparse.ArgumentParser:
    """argparse's group titles and -h/--help line in the help's language (they are fixed English otherwise)."""
    parser._positionals.title = text(HELP, locale, "positionals")
    parser._optionals.title = text(HELP, locale, "options")
    parser.add_argument("-h", "--help", action="help", help=text(HELP, locale, "help"))
    return parser


def build_parser(locale: str | None = None) -> argparse.ArgumentParser:
    locale = locale or default_locale()

    def say(key: str, **params: object) -> str:
        return text(HELP, locale, key, **params)

    words = {"formatter_class": _formatter(locale), "add_help": False}
    parser = _parser_words(_Parser(prog="followup", description=say("description"), **words), locale)
    sub = parser.add_subparsers(dest="command", required=True, metavar=say("command"), parser_class=_Parser)

    def add(name: str, handler, *, config: bool = True, as_of: bool = True, json_flag: bool = True):
        p = _parser_words(sub.add_parser(name, help=say(name), description=say(name), **words), locale)
        if config:
            p.add_argument("--config", "-c", metavar="FILE", help=say("config"))
        if as_of:
            p.add_argument("--as-of", type=_as_of, metavar="YYYY-MM-DD", help=say("as_of"))
        if json_flag:
            p.add_argument("--json", action="store_true", help=say("json"))
        p.add_argument("--quiet", "-q", action="store_true", help=say("quiet"))
        p.set_defaults(handler=handler)
        return p

    p = add("demo", cmd_demo, config=False)
    p.add_argument("--dir", default="demo", help=say("demo.dir"))
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help=say("lang"))

    p = add("run", cmd_run)
    p.add_argument("--dry-run", action="store_true", help=say("run.dry_run"))
    p.add_argument("--no-send", action="store_true", help=say("run.no_send"))
    p.add_argument("--force", action="store_true", help=say("force"))

    p = add("check", cmd_check)
    p.add_argument("--all", action="store_true", help=say("check.all", n=ISSUES_SHOWN))
    add("kpi", cmd_kpi)
    p = add("remind", cmd_remind)
    p.add_argument("--force", action="store_true", help=say("force"))

    p = add("init", cmd_init, as_of=False, json_flag=False)
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--excel", metavar="PATH", help=say("init.excel"))
    target.add_argument("--google", metavar="SHEET_ID", help=say("init.google"))
    p.add_argument("--lang", choices=["zh", "en"], help=say("init.lang"))

    p = add("serve", cmd_serve, as_of=False, json_flag=False)
    p.add_argument("--verbose", "-v", action="store_true", help=say("serve.verbose"))
    add("status", cmd_status, as_of=False)
    add("doctor", cmd_doctor, as_of=False, json_flag=False)
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
