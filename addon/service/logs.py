"""The service's log: human-readable, rotating, in the state directory, and never holding a secret.

A service that runs for months is judged by its log; a log that leaks the SMTP password gets copied
into a ticket. So every line passes through one masker: it hides the secret values the configuration
holds (SMTP password, environment values with PASSWORD/TOKEN/SECRET/KEY in their names) and anything
shaped like a credential (`password=…`, `token: …`, `Authorization: Bearer …`, `user:pass@` in URLs).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
from collections.abc import Iterable
from datetime import datetime, tzinfo
from pathlib import Path

from addon.config import Config

LOG_FILE = "followup.log"
MAX_BYTES = 1_000_000
BACKUPS = 5
MASK = "***"

_SECRET_ENV = re.compile(r"PASS|TOKEN|SECRET|KEY|CREDENTIAL|AUTH", re.I)
_PATTERNS = (
    # key=value / key: value / "key": "value" for password-like keys
    re.compile(
        r"""(?P<key>["']?\b(?:password|passwd|pwd|secret|token|access_token|refresh_token|api[_-]?key|client_secret|private_key)\b["']?\s*[:=]\s*)(?P<q>["']?)(?P<value>[^\s"',;}]+)""",
        re.I,
    ),
    re.compile(r"(?P<key>\b(?:Authorization|Proxy-Authorization)\s*:\s*(?:Bearer|Basic|Token)?\s*)(?P<q>)(?P<value>\S+)", re.I),
    re.compile(r"(?P<key>\bBearer\s+)(?P<q>)(?P<value>[A-Za-z0-9._~+/=-]{8,})"),
    re.compile(r"(?P<key>\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)(?P<q>)(?P<value>[^@\s/]+)(?=@)", re.I),
)


class SecretMasker:
    """Replaces known secret values and credential-shaped text with ***."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret containing another is hidden whole; very short values would
        # mask ordinary words, so they are left to the patterns.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: f"{m.group('key')}{m.group('q')}{MASK}", text)
        return text


def secrets_of(configs: Iterable[Config]) -> set[str]:
    """The secret values in these configurations and the environment."""
    found: set[str] = set()
    for config in configs:
        smtp = config.reminders.smtp
        if smtp.password:
            found.add(smtp.password)
    for name, value in os.environ.items():
        if _SECRET_ENV.search(name) and value and len(value) >= 6 and not value.startswith(("/", ".")):
            found.add(value)
    return found


class MaskingFormatter(logging.Formatter):
    """A formatter whose whole output (message, arguments, traceback) goes through the masker."""

    def __init__(self, masker: SecretMasker, fmt: str | None = None, datefmt: str | None = None, zone: tzinfo | None = None) -> None:
        super().__init__(fmt, datefmt)
        self.masker = masker
        self.zone = zone

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging API
        """Times in the team's time zone (as `status` shows them), with the offset in the file."""
        moment = datetime.fromtimestamp(record.created, self.zone) if self.zone else datetime.fromtimestamp(record.created).astimezone()
        return moment.strftime(datefmt or "%Y-%m-%d %H:%M:%S%z")

    def format(self, record: logging.LogRecord) -> str:
        return self.masker.mask(super().format(record))


class MaskingFilter(logging.Filter):
    """For handlers we do not own (e.g. a test's capture): mask the message before it is stored."""

    def __init__(self, masker: SecretMasker) -> None:
        super().__init__()
        self.masker = masker

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.masker.mask(record.getMessage())
        record.args = None
        return True


FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def setup_logging(
    config: Config,
    *,
    verbose: bool = False,
    extra_configs: Iterable[Config] = (),
    console: bool = True,
) -> list[logging.Handler]:
    """Send the root logger to `state_dir/followup.log` (rotating) and stderr, masked; return the handlers.

    The caller removes the returned handlers when done (tests run serve in-process too).
    """
    masker = SecretMasker(secrets_of([config, *extra_configs]))
    level = logging.DEBUG if verbose else getattr(logging, config.log_level, logging.INFO)
    state = config.state_path
    state.mkdir(parents=True, exist_ok=True)
    handlers: list[logging.Handler] = []
    file_handler = logging.handlers.RotatingFileHandler(
        state / LOG_FILE, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=False
    )
    file_handler.setFormatter(MaskingFormatter(masker, FORMAT, "%Y-%m-%d %H:%M:%S%z", config.zone))
    handlers.append(file_handler)
    if console:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(MaskingFormatter(masker, FORMAT, "%H:%M:%S", config.zone))
        handlers.append(stream)
    root = logging.getLogger()
    # The CLI's basicConfig handler would print every warning twice and unmasked.
    for existing in list(root.handlers):
        if type(existing) is logging.StreamHandler and getattr(existing, "stream", None) in (sys.stderr, sys.stdout):
            root.removeHandler(existing)
        else:
            existing.addFilter(MaskingFilter(masker))
    for handler in handlers:
        handler.setLevel(level)
        root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("schedule").setLevel(max(level, logging.INFO))  # its DEBUG line every tick would flood the file
    logging.captureWarnings(True)  # e.g. "no CN holiday data for 2027" belongs in the service's log, not a lost stderr
    return handlers


def teardown_logging(handlers: Iterable[logging.Handler]) -> None:
    root = logging.getLogger()
    for handler in handlers:
        root.removeHandler(handler)
        handler.close()
    logging.captureWarnings(False)


def log_path(config: Config) -> Path:
    return config.state_path / LOG_FILE
