"""Telling the administrator that a workbook keeps failing: one mail per failure streak.

Sent through the configured transport (outbox, smtp, console) like any reminder, so an install that
sends nothing still leaves the alert in its outbox folder for someone to find.
"""

from __future__ import annotations

import logging
import socket
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from addon.config import Config

log = logging.getLogger("addon.service")


def _clean(value: str) -> str:
    return " ".join(str(value).replace("\r", " ").replace("\n", " ").split())


def compose_alert(config: Config, workbook: str, entry: dict[str, Any], *, now: datetime | None = None) -> EmailMessage:
    """The alert mail for `workbook` whose status entry shows `consecutive_failures` failures in a row."""
    now = now or datetime.now(config.zone)
    zh = config.service_locale.lower().startswith("zh")
    failures = int(entry.get("consecutive_failures") or 0)
    last = entry.get("last_run") or {}
    host = socket.gethostname()
    if zh:
        subject = f"[跟进助手] 工作簿「{workbook}」已连续 {failures} 次运行失败"
        body = [
            "您好，",
            "",
            f"跟进助手服务（主机 {host}）处理工作簿「{workbook}」已连续 {failures} 次失败，",
            "提醒邮件和 KPI 可能没有更新。",
            "",
            f"数据源：{entry.get('source', '')}",
            f"最近一次：{last.get('finished', '')}，退出码 {last.get('exit_code')}",
            f"原因：{last.get('message') or '（见日志）'}",
            f"上次成功：{entry.get('last_success') or '（无记录）'}",
            f"日志：{config.state_path / 'followup.log'}",
            "",
            "排查：在服务器上运行 `python runner.py doctor --config <配置文件>`，它会逐项检查并给出修复方法；",
            "`python runner.py status` 显示服务状态。恢复成功后本提醒会重新启用。",
        ]
    else:
        subject = f"[Follow-up Add-on] workbook '{workbook}' failed {failures} runs in a row"
        body = [
            "Hello,",
            "",
            f"The Follow-up Add-on service on {host} failed to process workbook '{workbook}' {failures} times in a row;",
            "reminders and KPIs may be out of date.",
            "",
            f"Source: {entry.get('source', '')}",
            f"Last attempt: {last.get('finished', '')}, exit code {last.get('exit_code')}",
            f"Reason: {last.get('message') or '(see the log)'}",
            f"Last success: {entry.get('last_success') or '(none recorded)'}",
            f"Log: {config.state_path / 'followup.log'}",
            "",
            "To find the cause, run `python runner.py doctor --config <your config>` on the server: it checks each part",
            "and says what to fix. `python runner.py status` shows the service's state. This alert is sent again",
            "only after a successful run.",
        ]
    msg = EmailMessage()
    sender = config.reminders.smtp.sender
    msg["From"] = _clean(sender)
    msg["To"] = _clean(config.reminders.admin or "")
    msg["Subject"] = _clean(subject)
    msg["Date"] = format_datetime(now)
    domain = sender.rpartition("@")[2].strip(" >") or "localhost"
    msg["Message-ID"] = make_msgid("followup-alert", domain=domain)
    msg["X-Followup-Kind"] = "service-alert"
    msg["X-Followup-Day"] = now.date().isoformat()
    msg.set_content("\n".join(body) + "\n")
    return msg


def send_alert(config: Config, workbook: str, entry: dict[str, Any]) -> bool:
    """Send the alert; True when delivered. Never raises: a broken mail setup must not stop the service."""
    if not config.reminders.admin:
        log.warning("workbook %s failed %s times in a row, but reminders.admin is not set: no alert can be sent",
                    workbook, entry.get("consecutive_failures"))
        return False
    try:
        from addon.notify.transports import build_transport

        transport = build_transport(config)
        try:
            transport.send(compose_alert(config, workbook, entry))
        finally:
            transport.close()
    except Exception as error:  # noqa: BLE001 - reported, retried at the next failure
        log.error("could not send the failure alert for %s to %s: %s", workbook, config.reminders.admin, error)
        return False
    log.warning("alerted %s: workbook %s failed %s times in a row", config.reminders.admin, workbook,
                entry.get("consecutive_failures"))
    return True
