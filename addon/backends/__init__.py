"""Backends: where the sheet lives. `open_backend` picks one from the config's `source:`."""

from __future__ import annotations

from addon.backends.base import Backend, SourceUnavailable
from addon.config import Config

__all__ = ["Backend", "SourceUnavailable", "open_backend"]


def open_backend(config: Config) -> Backend:
    source = config.source
    if source.excel is not None:
        from addon.backends.excel import ExcelBackend

        backup_dir = config.path(config.excel.backup_dir) if config.excel.backup_dir else None
        return ExcelBackend(config.path(source.excel), backups=config.excel.backups, backup_dir=backup_dir)
    from addon.backends.google import GoogleBackend  # imported lazily: gspread is only needed for Google

    return GoogleBackend.from_config(config)
