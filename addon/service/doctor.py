"""`python runner.py doctor`: check everything a run needs, and say what to fix, before a run fails at 09:00.

Each check prints ✔ (fine), ⚠ (works, but worth a look) or ✘ (will fail) with a fix, in the configured
language. Nothing is changed and no mail is sent: sources are opened read-only, the SMTP check stops
after EHLO/STARTTLS/AUTH, and writability is tested with a temp file that is removed at once.
Exit code: 0 when nothing failed, 1 when a check failed, 2 when the configuration cannot be loaded.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from addon.backends.base import SourceUnavailable
from addon.config import Config, ConfigError, Invalid, default_locale, load_config, locale_in

OK, WARN, FAIL = "ok", "warn", "fail"
MARKS = {OK: "✔", WARN: "⚠", FAIL: "✘"}


@dataclass
class Check:
    """One line of the report: what was checked, how it went, and what to do about it."""

    title: str
    status: str
    detail: str = ""
    fix: str = ""


def _zh(locale: str) -> bool:
    return locale.lower().startswith("zh")


def _pick(locale: str, zh: str, en: str) -> str:
    return zh if _zh(locale) else en


# --- individual checks --------------------------------------------------------------------------------


def check_config(path: Path | None, locale: str) -> tuple[Config | None, list[Check]]:
    try:
        config = load_config(path)
    except ConfigError as error:
        fix = _pick(locale, "按上面的提示修改配置文件中对应的键，然后再运行 doctor",
                    "edit the keys named above in the configuration file, then run doctor again")
        return None, [Check(_config_title(locale), FAIL, f"{_shown(path, locale)}: " + "; ".join(error.lines(locale)), fix)]
    return config, [_config_loaded(path, locale)]


def _config_title(locale: str) -> str:
    return _pick(locale, "配置文件", "Configuration")


def _shown(path: Path | None, locale: str) -> str:
    return str(path) if path else _pick(locale, "（内置默认配置）", "(built-in defaults)")


def _config_loaded(path: Path | None, locale: str) -> Check:
    return Check(_config_title(locale), OK, _pick(locale, f"已读取 {_shown(path, locale)}", f"loaded {_shown(path, locale)}"))


def check_environment(config: Config) -> list[Check]:
    """Environment variables referenced as ${VAR} but unset, for keys that will be used."""
    loc = config.locale
    checks = []
    used_smtp = config.reminders.transport == "smtp" or any(
        (w.model_extra or {}).get("reminders", {}).get("transport") == "smtp" for w in config.workbooks
    )
    for key, name in sorted(config.missing_env.items()):
        title = _pick(loc, "环境变量", "Environment variable")
        if key.startswith("reminders.smtp") and not used_smtp:  # the shipped config with the outbox: nothing to fix yet
            checks.append(Check(title, OK, _pick(loc, f"{name}（{key}）未设置；提醒写入发件箱文件夹时不需要",
                                                 f"{name} ({key}) is not set; not needed while reminders go to the outbox")))
            continue
        checks.append(Check(
            title,
            FAIL,
            _pick(loc, f"{key} 引用的 {name} 未设置", f"{name} (used by {key}) is not set"),
            _pick(loc, f"运行前设置 {name}（例如 export {name}=...，或写入 systemd 单元的 EnvironmentFile）",
                  f"set {name} before running (export {name}=..., or an EnvironmentFile in the systemd unit)"),
        ))
    return checks


def check_timezone(config: Config) -> Check:
    loc = config.locale
    now = datetime.now(UTC).astimezone(config.zone)
    return Check(_pick(loc, "时区", "Time zone"), OK,
                 _pick(loc, f"{config.timezone}，当地时间 {now:%Y-%m-%d %H:%M}",
                       f"{config.timezone}, local time {now:%Y-%m-%d %H:%M}"))


def _probe_writable(folder: Path) -> str | None:
    """None when files can be created in `folder`, else the reason. Creates nothing that stays.

    A folder that does not exist yet is fine when its nearest existing parent is writable (runs create it).
    """
    target = folder
    while not target.exists():
        if target.parent == target:
            return "no such folder"
        target = target.parent
    if not target.is_dir():
        return f"{target} is not a folder"
    if target != folder:
        return None if os.access(target, os.W_OK | os.X_OK) else f"cannot create folders in {target}"
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".doctor-", suffix=".tmp")
        os.close(fd)
        os.unlink(name)
    except OSError as error:
        return error.strerror or str(error)
    return None


def check_state_dir(config: Config) -> list[Check]:
    from addon.service.health import read_status, status_path
    from addon.service.lock import SERVICE_LOCK, is_locked, read_pid

    loc = config.locale
    folder = config.state_path
    reason = _probe_writable(folder)
    title = _pick(loc, "状态目录", "State directory")
    if reason:
        return [Check(title, FAIL, f"{folder}: {reason}",
                      _pick(loc, "把 state_dir 指向运行服务的用户可写的本地文件夹", "point state_dir to a local folder the service's user can write"))]
    checks = [Check(title, OK, _pick(loc, f"{folder} 可写", f"{folder} is writable"))]
    if is_locked(folder / SERVICE_LOCK):
        pid = read_pid(folder / SERVICE_LOCK)
        checks.append(Check(_pick(loc, "服务", "Service"), OK,
                            _pick(loc, f"正在运行（pid {pid}）；`python runner.py status` 查看详情", f"running (pid {pid}); see `python runner.py status`")))
    elif read_status(status_path(config)):
        checks.append(Check(_pick(loc, "服务", "Service"), WARN,
                            _pick(loc, "当前没有运行", "not running now"),
                            _pick(loc, "如需定时运行，启动 `python runner.py serve`（见 docs/deployment.md）",
                                  "to run on schedule, start `python runner.py serve` (see docs/deployment.md)")))
    return checks


def check_schedule(config: Config) -> Check:
    from addon.service.scheduling import Plan, describe, next_slot

    loc = config.locale
    title = _pick(loc, "运行计划", "Schedule")
    try:
        plan = Plan.from_config(config)
    except ValueError as error:
        detail = "; ".join(p.text(loc) for p in error.problems) if isinstance(error, Invalid) else str(error)
        return Check(title, FAIL, detail, _pick(loc, "修改 schedule:", "fix schedule:"))
    slot = next_slot(plan, datetime.now(UTC))
    if slot is None:
        return Check(title, FAIL, describe(plan, loc), _pick(loc, "schedule.days 不包含任何运行日", "schedule.days yields no run day"))
    when = slot.local(config.zone).strftime("%Y-%m-%d %H:%M")
    return Check(title, OK, describe(plan, loc) + _pick(loc, f"；下次运行 {when}", f"; next run {when}"))


def _excel_checks(config: Config, name: str) -> tuple[list[Check], Any]:
    """File-level checks of an Excel source; returns the checks and an open backend (or None)."""
    from addon.backends import open_backend
    from addon.backends.excel import check_readable

    loc = config.locale
    path = config.path(config.source.excel)  # type: ignore[arg-type]
    title = _pick(loc, f"工作簿 {name}", f"Workbook {name}")
    try:
        check_readable(path)
    except SourceUnavailable as error:
        return [Check(title, FAIL, error.text(loc), _fix_for_source(str(error), loc))], None
    checks = []
    locks = _lock_files(path)
    if locks:
        checks.append(Check(title, FAIL,
                            _pick(loc, f"{path.name} 正被 Excel 或 LibreOffice 打开（锁文件 {locks[0].name}）",
                                  f"{path.name} is open in Excel or LibreOffice (lock file {locks[0].name})"),
                            _pick(loc, f"关闭该工作簿；如果没有人打开它，说明锁文件是崩溃后遗留的：删除 {locks[0]}",
                                  f"close the workbook; if nobody has it open, the lock file is left over from a crash: delete {locks[0]}")))
    writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)
    if not writable:
        checks.append(Check(title, FAIL, _pick(loc, f"{path} 或其所在文件夹不可写", f"{path} or its folder is not writable"),
                            _pick(loc, "给运行服务的用户写权限（需要在同一文件夹中创建临时文件再替换）",
                                  "give the service's user write access (the writer creates a temp file in that folder, then replaces)")))
    try:
        backend = open_backend(config)
        backend.sheet_names()
    except SourceUnavailable as error:
        checks.append(Check(title, FAIL, error.text(loc), _fix_for_source(str(error), loc)))
        return checks, None
    if not checks:
        checks.append(Check(title, OK, _pick(loc, f"{path} 可读、可写，未被占用", f"{path} is readable, writable and not open elsewhere")))
    return checks, backend


def _lock_files(path: Path) -> list[Path]:
    try:
        from addon.backends.safe_file import lock_files
    except ImportError:  # pragma: no cover - the writer's helper ships with the package
        return [p for p in (path.with_name(f"~${path.name}"), path.with_name(f".~lock.{path.name}#")) if p.exists()]
    return lock_files(path)


def _fix_for_source(message: str, locale: str) -> str:
    text = message.lower()
    if "not found" in text:
        return _pick(locale, "检查 source: excel: 的路径（相对于配置文件所在文件夹）", "check the `source: excel:` path (relative to the config file's folder)")
    if "password" in text:
        return _pick(locale, "在 Excel 中取消工作簿密码（文件 ▸ 信息 ▸ 保护工作簿），或改用未加密的副本",
                     "remove the password in Excel (File ▸ Info ▸ Protect Workbook) or use an unprotected copy")
    if "credential" in text or "auth" in text or "permission" in text or "403" in text:
        return _pick(locale, "检查 source.credentials（或 GOOGLE_APPLICATION_CREDENTIALS），并把表格共享给服务账号的邮箱",
                     "check source.credentials (or GOOGLE_APPLICATION_CREDENTIALS) and share the sheet with the service account's e-mail")
    return _pick(locale, "按上面的说明修复数据源后再运行 doctor", "fix the source as described, then run doctor again")


def _google_checks(config: Config, name: str) -> tuple[list[Check], Any]:
    from addon.backends import open_backend

    loc = config.locale
    title = _pick(loc, f"Google 表格 {name}", f"Google Sheet {name}")
    creds = config.source.credentials
    if creds is not None and not config.path(creds).exists():
        return [Check(title, FAIL, _pick(loc, f"凭据文件不存在：{config.path(creds)}", f"credentials file not found: {config.path(creds)}"),
                      _pick(loc, "下载服务账号密钥 JSON，并把 source.credentials 指向它", "download the service account key (JSON) and point source.credentials to it"))], None
    try:
        backend = open_backend(config)
        names = backend.sheet_names()
    except Exception as error:  # noqa: BLE001 - any failure here is the answer the user needs
        message = str(error) or type(error).__name__
        return [Check(title, FAIL, message, _fix_for_source(message, loc))], None
    return [Check(title, OK, _pick(loc, f"凭据有效，可访问（{len(names)} 个工作表）", f"credentials valid, sheet reachable ({len(names)} tabs)"))], backend


def check_tabs(config: Config, backend: Any, name: str) -> list[Check]:
    """Customers and FollowUps tabs found, with headers that name the required fields; Team is optional."""
    from addon.core.fields import REQUIRED, find_header_row, header_aliases
    from addon.pipeline import find_roles, guessed_tab_words

    loc = config.locale
    checks: list[Check] = []
    try:
        names = backend.sheet_names()
        found_roles = find_roles(backend, config, names)
        roles = found_roles.tabs
        tables = {tab: found_roles.tables[tab] for tab in (roles[r] for r in ("customers", "followups", "team")) if tab}  # read (or raised) here
    except Exception as error:  # noqa: BLE001
        detail = error.text(loc) if isinstance(error, SourceUnavailable) else str(error)
        return [Check(_pick(loc, f"工作表 {name}", f"Tabs of {name}"), FAIL, detail, _fix_for_source(str(error), loc))]
    labels = {"customers": ("客户", "Customers"), "followups": ("跟进记录", "FollowUps"), "team": ("团队", "Team")}
    for role in ("customers", "followups", "team"):
        label = labels[role][0 if _zh(loc) else 1]
        title = _pick(loc, f"{name} {label}工作表", f"{name}: {label} tab")
        tab = roles.get(role)
        if tab is None:
            configured = getattr(config.tabs, role)
            severity = WARN if role == "team" else FAIL
            detail = _pick(loc, f"找不到（现有工作表：{', '.join(names)}）", f"not found (tabs in the workbook: {', '.join(names)})")
            if configured:
                detail = _pick(loc, f"配置的工作表 {configured!r} 不存在；", f"configured tab {configured!r} does not exist; ") + detail
            fix = _pick(loc, f"在配置中设置 tabs: {role}: <工作表名>，或用 `python runner.py init --excel` 添加模板工作表",
                        f"set `tabs: {role}: <tab name>` in the config, or add the template tabs with `python runner.py init --excel`")
            if role == "team":
                fix = _pick(loc, "没有团队工作表就无法按人发送提醒；添加“团队”工作表（姓名、邮箱、经理…）",
                            "without a Team tab reminders cannot be addressed; add a Team tab (name, email, manager…)")
            checks.append(Check(title, severity, detail, fix))
            continue
        table = tables.get(tab)
        rows = table.rows if table is not None else []
        aliases = header_aliases(role, getattr(config.columns, role))
        header_index, found = find_header_row(rows, aliases)
        missing = [group for group in REQUIRED[role] if not any(f in found for f in group)]
        if missing:
            need = " / ".join(" | ".join(g) for g in missing)
            checks.append(Check(title, FAIL,
                                _pick(loc, f"工作表 {tab!r} 缺少必需的列：{need}", f"tab {tab!r} lacks required columns: {need}"),
                                _pick(loc, f"添加这些列，或在配置中映射你的表头，例如 columns: {role}: {{{missing[0][0]}: [你的表头]}}",
                                      f"add them, or map your own headers in the config, e.g. columns: {role}: {{{missing[0][0]}: [Your header]}}")))
            continue
        detail = _pick(loc, f"工作表 {tab!r}，表头在第 {header_index + 1} 行，识别 {len(found)} 列",
                       f"tab {tab!r}, headers on row {header_index + 1}, {len(found)} columns recognised")
        if role in found_roles.guessed:
            why, fix = guessed_tab_words(role, *found_roles.guessed[role], loc)
            checks.append(Check(title, WARN, why, fix))
            continue
        if role == "team" and "email" not in found:
            checks.append(Check(title, WARN, detail + _pick(loc, "；没有邮箱列", "; no email column"),
                                _pick(loc, "添加“邮箱”列，否则无法给销售发送提醒", "add an Email column, or reps cannot be reminded")))
            continue
        checks.append(Check(title, OK, detail))
    return checks


def check_reminders(config: Config, seen: set[tuple[Any, ...]]) -> list[Check]:
    """Outbox writable, or SMTP reachable (connect, EHLO, STARTTLS, AUTH; no mail), once per distinct setting."""
    loc = config.locale
    reminders = config.reminders
    checks: list[Check] = []
    if reminders.transport == "outbox":
        folder = config.path(reminders.outbox)
        if ("outbox", str(folder)) in seen:
            return []
        seen.add(("outbox", str(folder)))
        title = _pick(loc, "发件箱文件夹", "Outbox folder")
        reason = _probe_writable(folder)
        if reason:
            checks.append(Check(title, FAIL, f"{folder}: {reason}",
                                _pick(loc, "把 reminders.outbox 指向可写的文件夹", "point reminders.outbox to a writable folder")))
        else:
            checks.append(Check(title, OK, _pick(loc, f"{folder} 可写（提醒写成 .eml 文件，不会真正发出）",
                                                 f"{folder} is writable (reminders are written as .eml files, not sent)")))
    elif reminders.transport == "smtp":
        smtp = reminders.smtp
        key = ("smtp", smtp.host, smtp.port, smtp.security, smtp.username, smtp.password)
        if key not in seen:
            seen.add(key)
            checks.append(check_smtp(config))
    else:
        if ("console",) not in seen:
            seen.add(("console",))
            checks.append(Check(_pick(loc, "提醒发送方式", "Reminder transport"), WARN,
                                _pick(loc, "console：提醒只打印在屏幕上，不会发出", "console: reminders are printed, not sent"),
                                _pick(loc, "正式使用时设置 reminders.transport: smtp", "set reminders.transport: smtp for real use")))
    return checks


def check_smtp(config: Config) -> Check:
    from addon.notify.transports import DeliveryError, SmtpTransport

    loc = config.locale
    smtp = config.reminders.smtp
    title = _pick(loc, "SMTP 服务器", "SMTP server")
    where = f"{smtp.host}:{smtp.port} ({smtp.security})"
    ca_file = config.path(smtp.ca_file) if smtp.ca_file else None
    transport = SmtpTransport(smtp, ca_file=ca_file)
    try:
        transport.connect()
    except DeliveryError as error:
        return Check(title, FAIL, f"{where}: {error}", _smtp_fix(str(error), smtp.security, smtp.port, loc))
    finally:
        transport.close()
    who = _pick(loc, f"，已用 {smtp.username} 登录", f", logged in as {smtp.username}") if smtp.username else ""
    return Check(title, OK, _pick(loc, f"{where} 可连接{who}（未发送邮件）", f"{where} reachable{who} (no mail sent)"))


_USUAL_PORT = {"ssl": 465, "starttls": 587, "none": 25}


def _smtp_fix(message: str, security: str, port: int, locale: str) -> str:
    text = message.lower()
    usual = _USUAL_PORT[security]
    if "refused" in text or "unreachable" in text or "no route" in text:
        return _pick(locale, f"该地址没有 SMTP 服务在监听：检查 reminders.smtp.host 和 port（{security} 通常用端口 {usual}）",
                     f"nothing listens there: check reminders.smtp.host and port ({security} usually uses port {usual})")
    if "did not answer" in text or "timed out" in text:
        return _pick(locale, f"服务器无响应：检查防火墙和端口（{security} 通常用 {usual}）",
                     f"no answer: check the firewall and the port ({security} usually uses {usual})")
    if "rejected the login" in text:
        return _pick(locale, "检查 reminders.smtp.username 和密码环境变量（例如 SMTP_PASSWORD）；部分邮箱需要“授权码”而不是登录密码",
                     "check reminders.smtp.username and the password variable (e.g. SMTP_PASSWORD); some providers need an app password")
    if "certificate" in text:
        return _pick(locale, "把 reminders.smtp.ca_file 指向服务器的 CA 证书，或在可信内网中设置 verify_certificate: false",
                     "point reminders.smtp.ca_file to the server's CA certificate, or verify_certificate: false on a trusted network")
    if "starttls" in text or "tls" in text or "ssl" in text:
        return _pick(locale, "security 与端口不匹配：ssl 通常配 465，starttls 配 587",
                     "security and port do not match: ssl usually goes with 465, starttls with 587")
    return _pick(locale, "检查 reminders.smtp 的各项设置", "check the reminders.smtp settings")


def check_admin(config: Config) -> Check | None:
    if config.reminders.admin:
        return None
    loc = config.locale
    return Check(_pick(loc, "管理员邮箱", "Administrator address"), WARN,
                 _pick(loc, "未设置 reminders.admin", "reminders.admin is not set"),
                 _pick(loc, "设置 reminders.admin，服务连续失败和无法送达的提醒才能通知到人",
                       "set reminders.admin so service failures and undeliverable reminders reach someone"))


# --- the whole report ----------------------------------------------------------------------------------


def _report_locale(path: Path | None) -> str:
    """The report language when the config cannot be loaded: its `locale:` line if readable."""
    try:
        return locale_in(path.read_text(encoding="utf-8-sig")) if path is not None else default_locale()
    except OSError:
        return default_locale()


def run_checks(path: Path | None) -> tuple[str, list[Check]]:
    """All checks in order; (locale, checks). Never raises for a problem it can describe."""
    locale = _report_locale(path)
    config, checks = check_config(path, locale)
    if config is None:
        return locale, checks
    config = _in_workbook_language(config)
    if config.locale != locale:  # the line above was written before the language was known
        checks = [_config_loaded(path, config.locale)]
    locale = config.locale
    checks += check_environment(config)
    checks.append(check_timezone(config))
    checks += check_state_dir(config)
    checks.append(check_schedule(config))
    from addon.service.serve import workbook_configs

    seen: set[tuple[Any, ...]] = set()
    for name, merged, problem, _label in workbook_configs(config):
        if merged is None:
            checks.append(Check(_pick(locale, f"工作簿 {name}", f"Workbook {name}"), FAIL, problem or "",
                                _pick(locale, "修改 workbooks: 中这一项的设置", "fix this entry under workbooks:")))
            continue
        checks.extend(_workbook_checks(merged, name))
        checks.extend(check_reminders(merged, seen))
    admin = check_admin(config)
    if admin:
        checks.append(admin)
    return locale, checks


def _in_workbook_language(config: Config) -> Config:
    """Without `locale:`, a run speaks its workbook's language (pipeline.in_workbook_language); so does
    the report about it. With `workbooks:` (one document, possibly several languages), or a workbook that
    cannot be opened (its own check says why), the report speaks the environment's (Config.service_locale)."""
    if "locale" in config.model_fields_set:
        return config
    elsewhere = config.model_copy(update={"locale": config.service_locale})  # the environment's language
    if config.workbooks:
        return elsewhere
    from addon.backends import open_backend
    from addon.pipeline import find_roles, in_workbook_language

    try:
        backend = open_backend(config)
        try:
            names = backend.sheet_names()
            # Tab names that say nothing (Sheet1): the headers decide, as in a run (pipeline.spoken_locale).
            return in_workbook_language(config, names, lambda: find_roles(backend, config, names).headers(config))
        finally:
            _let_go(backend)
    except Exception:  # noqa: BLE001 - the source check below reports the problem in full
        return elsewhere


def _workbook_checks(config: Config, name: str) -> Iterator[Check]:
    if config.source.excel is not None:
        found, backend = _excel_checks(config, name)
    else:
        found, backend = _google_checks(config, name)
    yield from found
    if backend is not None:
        yield from check_tabs(config, backend, name)
        _let_go(backend)


def _let_go(backend: Any) -> None:
    """Close what holds a file (the Excel backend); a Google backend holds nothing to close."""
    close = getattr(backend, "close", None)
    if close is not None:
        close()


def render(locale: str, checks: list[Check], path: Path | None) -> str:
    failed = sum(1 for c in checks if c.status == FAIL)
    warned = sum(1 for c in checks if c.status == WARN)
    shown = str(path) if path else _pick(locale, "内置默认配置", "built-in defaults")
    lines = [_pick(locale, f"跟进助手体检 — {shown}", f"Follow-up Add-on doctor — {shown}"), ""]
    for check in checks:
        colon = "：" if _zh(locale) else ": "
        lines.append(f"{MARKS[check.status]} {check.title}{colon}{check.detail}" if check.detail else f"{MARKS[check.status]} {check.title}")
        if check.fix and check.status != OK:
            lines.append(_pick(locale, f"    修复：{check.fix}", f"    fix: {check.fix}"))
    lines.append("")
    if failed:
        lines.append(_pick(locale, f"✘ {failed} 项需要修复，{warned} 项提示", f"✘ {failed} problem(s) to fix, {warned} warning(s)"))
    else:
        lines.append(_pick(locale, f"✔ 全部检查通过（{warned} 项提示）", f"✔ all checks passed ({warned} warning(s))"))
    return "\n".join(lines)


def doctor(config_path: Path | None) -> int:
    """Print the report; 0 if nothing failed, 1 if a check failed, 2 if the configuration cannot be loaded."""
    locale, checks = run_checks(config_path)
    print(render(locale, checks, config_path), flush=True)
    if checks and checks[0].status == FAIL:
        return 2
    return 1 if any(c.status == FAIL for c in checks) else 0
