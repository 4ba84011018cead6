"""Workbooks as a sales team makes them, with tab names and headers of their own."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl


def own_names_workbook(path: Path, *, second_log: bool = False) -> Path:
    """A team's own workbook: a customer list and a follow-up log under names of their own."""
    book = openpyxl.Workbook()
    accounts = book.active
    accounts.title = "Accounts"
    for row in (["Company", "Sales Rep", "Level", "Phase"], ["Acme", "Ann", "A", "negotiation"], ["Beta", "Bob", "B", "new"]):
        accounts.append(row)
    tabs = ["Calls", "Calls 2025"] if second_log else ["Calls"]
    for name in tabs:
        calls = book.create_sheet(name)
        for row in (["Company", "Contact date", "By", "Type"], ["Acme", date(2026, 11, 20), "Ann", "phone"]):
            calls.append(row)
    book.save(path)
    return path
