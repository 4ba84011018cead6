"""Shared fixtures: a clean working folder per test, and a fixed 'today' for reproducible runs."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "xlsx-corpus"
if not CORPUS.exists():  # CI clones the project beside shared/
    CORPUS = Path(__file__).resolve().parents[2] / "shared" / "reference" / "xlsx-corpus"

AS_OF = date(2026, 11, 23)  # a Monday


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "libreoffice: opens files with LibreOffice headless (soffice)")


@pytest.fixture(autouse=True)
def _neutral_language(monkeypatch: pytest.MonkeyPatch) -> None:
    """The add-on speaks the environment's language when a config does not say (config.default_locale):
    every test starts from a neutral environment, so results do not depend on the machine's LANG."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")


@pytest.fixture
def as_of() -> date:
    return AS_OF


@pytest.fixture
def soffice() -> str:
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if path is None:
        pytest.fail("LibreOffice (soffice) is required: .ci/run installs it; locally run apt-get install libreoffice-calc-nogui")
    return path
