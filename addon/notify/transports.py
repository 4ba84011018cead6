"""Transports deliver already-composed emails and do nothing else: `send(msg)` or raise.

The interface is one method, `send(msg: EmailMessage) -> None`, plus `close()` for those holding a
connection. A transport raises TemporaryFailure (4xx, connection problems, timeouts: retry on the next
run) or PermanentFailure (5xx: recorded and reported, not retried that day). ConnectionFailure is a
TemporaryFailure that dooms the whole batch (cannot connect, TLS or login refused), so the caller stops
instead of hammering the server once per message.

Secrets: the SMTP password is used for AUTH only and never appears in an exception or a log line.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import smtplib
import ssl
import sys
import tempfile
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol, TextIO

from addon.config import Config, SmtpConfig, require_env

log = logging.getLogger("addon.notify")


class DeliveryError(Exception):
    """A message was not delivered; str() is safe to show and to log."""


class TemporaryFailure(DeliveryError):
    """Try again later (4xx reply, connection lost, timeout)."""


class PermanentFailure(DeliveryError):
    """The server refused this message for good (5xx reply)."""


class ConnectionFailure(TemporaryFailure):
    """No message can go through this transport now (connect, TLS or login failed): stop the batch."""


class Transport(Protocol):
    def send(self, msg: EmailMessage) -> None: ...

    def close(self) -> None: ...


_SAFE = re.compile(r"[^A-Za-z0-9-]+")  # no dots: no hidden files, no "..", no Windows surprises


def outbox_name(msg: EmailMessage) -> str:
    """`2026-11-23_digest_<id>.eml`: safe on every file system and stable per Message-ID (a resend overwrites)."""
    message_id = str(msg.get("Message-ID", "")).strip()
    if not message_id:
        raise PermanentFailure("the message has no Message-ID")
    local = message_id.strip("<>").partition("@")[0]
    token = _SAFE.sub("", local)[:40] or hashlib.sha256(message_id.encode()).hexdigest()[:32]
    day = _SAFE.sub("", str(msg.get("X-Followup-Day", "")))[:10]
    kind = _SAFE.sub("", str(msg.get("X-Followup-Kind", "")))[:20]
    return "_".join(part for part in (day, kind, token) if part) + ".eml"


class OutboxTransport:
    """Writes each message as an .eml file (CRLF, as on the wire) into a folder: the default, sends nothing."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, msg: EmailMessage) -> None:
        target = self.folder / outbox_name(msg)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            data = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))  # as smtplib sends it
            fd, temp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".eml")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temp, target)  # a reader never sees half a file
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as error:
            raise TemporaryFailure(f"cannot write {target}: {error.strerror or error}") from None

    def close(self) -> None:
        pass


class ConsoleTransport:
    """Prints a readable rendering (headers decoded, the plain-text part) for trying things out."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, msg: EmailMessage) -> None:
        out = self.stream or sys.stdout
        body = msg.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        rule = "=" * 72
        lines = [rule, f"From:    {msg['From']}", f"To:      {msg['To']}", f"Subject: {msg['Subject']}", f"Date:    {msg['Date']}", rule]
        out.write("\n".join(lines) + "\n" + text.replace("\r\n", "\n").rstrip() + "\n\n")
        out.flush()

    def close(self) -> None:
        pass


class SmtpTransport:
    """SMTP over SSL, STARTTLS or plain; AUTH when a username is set; one connection reused per batch.

    `rate_limit` spaces sends to at most N per minute. Before reusing the connection a NOOP checks it is
    alive, so a reconnect never happens in the middle of a transaction (which could duplicate a message).
    """

    def __init__(
        self,
        settings: SmtpConfig,
        *,
        ca_file: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.ca_file = ca_file if ca_file is not None else settings.ca_file
        self._clock, self._sleep = clock, sleep
        self._conn: smtplib.SMTP | None = None
        self._last_send: float | None = None

    @property
    def where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def _context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        if not self.settings.verify_certificate:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def connect(self) -> None:
        """Open, secure and log in; ConnectionFailure with a message that says what to fix."""
        s = self.settings
        timeout = s.timeout.total_seconds()
        conn: smtplib.SMTP | None = None
        try:
            if s.security == "ssl":
                conn = smtplib.SMTP_SSL(s.host, s.port, timeout=timeout, context=self._context())
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=timeout)
            conn.ehlo()
            if s.security == "starttls":
                if not conn.has_extn("starttls"):
                    raise ConnectionFailure(
                        f"SMTP server {self.where} does not offer STARTTLS; set reminders.smtp.security to ssl "
                        "(usually port 465) or check the port"
                    )
                conn.starttls(context=self._context())
                conn.ehlo()
            if s.username:
                conn.login(s.username, s.password or "")
        except ConnectionFailure:
            _quietly_close(conn)
            raise
        except smtplib.SMTPAuthenticationError as error:
            _quietly_close(conn)
            raise ConnectionFailure(
                f"SMTP server {self.where} rejected the login for user {s.username!r} ({error.smtp_code} "
                f"{_reply(error.smtp_error)}); check reminders.smtp.username and the password variable"
            ) from None
        except smtplib.SMTPNotSupportedError:
            _quietly_close(conn)
            raise ConnectionFailure(
                f"SMTP server {self.where} does not offer AUTH on this connection; use security: starttls or ssl, "
                "or remove reminders.smtp.username"
            ) from None
        except ssl.SSLCertVerificationError as error:
            _quietly_close(conn)
            raise ConnectionFailure(
                f"the certificate of {self.where} is not trusted ({error.verify_message}); set reminders.smtp.ca_file "
                "to the server's CA certificate, or verify_certificate: false on a trusted network"
            ) from None
        except ssl.SSLError as error:
            _quietly_close(conn)
            raise ConnectionFailure(
                f"TLS with {self.where} failed ({error.reason or error}); check reminders.smtp.security and port "
                "(ssl is usually 465, starttls 587)"
            ) from None
        except smtplib.SMTPResponseException as error:
            _quietly_close(conn)
            raise ConnectionFailure(f"SMTP server {self.where} answered {error.smtp_code} {_reply(error.smtp_error)}") from None
        except TimeoutError:
            _quietly_close(conn)
            raise ConnectionFailure(f"SMTP server {self.where} did not answer within {timeout:g}s") from None
        except (OSError, smtplib.SMTPException) as error:
            _quietly_close(conn)
            raise ConnectionFailure(f"cannot connect to SMTP server {self.where}: {_os_error(error)}") from None
        self._conn = conn

    def _alive(self) -> bool:
        if self._conn is None:
            return False
        try:
            return self._conn.noop()[0] == 250
        except (OSError, smtplib.SMTPException):
            self._drop()
            return False

    def _throttle(self) -> None:
        if not self.settings.rate_limit or self._last_send is None:
            return
        wait = 60.0 / self.settings.rate_limit - (self._clock() - self._last_send)
        if wait > 0:
            self._sleep(wait)

    def send(self, msg: EmailMessage) -> None:
        if not self._alive():
            self._drop()
            self.connect()
        assert self._conn is not None
        self._throttle()
        self._last_send = self._clock()
        try:
            refused = self._conn.send_message(msg)
        except smtplib.SMTPRecipientsRefused as error:
            self._reset()
            raise _for_recipients(error.recipients) from None
        except smtplib.SMTPResponseException as error:  # MAIL FROM or DATA refused
            self._reset()
            raise _for_code(error.smtp_code, _reply(error.smtp_error)) from None
        except TimeoutError:
            self._drop()
            raise TemporaryFailure(f"SMTP server {self.where} timed out during the transaction") from None
        except (OSError, smtplib.SMTPException) as error:
            self._drop()
            raise TemporaryFailure(f"connection to {self.where} lost: {_os_error(error)}") from None
        if refused:  # some recipients accepted, some not: report the refused ones
            raise _for_recipients(refused)

    def _reset(self) -> None:
        try:
            if self._conn is not None:
                self._conn.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def _drop(self) -> None:
        _quietly_close(self._conn, quit=False)
        self._conn = None

    def close(self) -> None:
        _quietly_close(self._conn)
        self._conn = None


def _reply(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return " ".join(text.split())


def _os_error(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


def _for_code(code: int, reply: str) -> DeliveryError:
    text = f"{code} {reply}".strip()
    if 400 <= code < 500:
        return TemporaryFailure(text)
    return PermanentFailure(text)


def _for_recipients(recipients: dict[str, tuple[int, bytes]]) -> DeliveryError:
    """Any temporary refusal makes the whole message temporary (it will be retried); else permanent."""
    parts = [f"{addr}: {code} {_reply(reply)}" for addr, (code, reply) in recipients.items()]
    text = "; ".join(parts)
    if any(400 <= code < 500 for code, _ in recipients.values()):
        return TemporaryFailure(text)
    return PermanentFailure(text)


def _quietly_close(conn: smtplib.SMTP | None, quit: bool = True) -> None:
    if conn is None:
        return
    try:
        if quit:
            conn.quit()
        else:
            conn.close()
    except (OSError, smtplib.SMTPException):
        try:
            conn.close()
        except OSError:
            pass


def build_transport(config: Config, *, stream: TextIO | None = None) -> Transport:
    """The configured transport; for smtp, fails early with a ConfigError when a ${VAR} is unset."""
    reminders = config.reminders
    if reminders.transport == "console":
        return ConsoleTransport(stream)
    if reminders.transport == "smtp":
        for key in ("reminders.smtp.password", "reminders.smtp.username", "reminders.smtp.host", "reminders.smtp.sender"):
            require_env(config, key)
        ca_file = config.path(reminders.smtp.ca_file) if reminders.smtp.ca_file else None
        return SmtpTransport(reminders.smtp, ca_file=ca_file)
    return OutboxTransport(config.path(reminders.outbox))
