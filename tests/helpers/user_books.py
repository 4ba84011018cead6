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


NAMELESS_HEADERS = {
    "zh": (["客户名称", "负责人", "客户等级", "客户阶段"], ["客户名称", "跟进日期", "跟进人", "跟进方式"]),
    "en": (["Company", "Sales Rep", "Level", "Phase"], ["Company", "Contact date", "By", "Type"]),
}


def nameless_workbook(path: Path, lang: str) -> Path:
    """Excel's default tab names (Sheet1, Sheet2), which say nothing about the team's language; the
    headers do."""
    customer_headers, log_headers = NAMELESS_HEADERS[lang]
    book = openpyxl.Workbook()
    customers = book.active
    customers.title = "Sheet1"
    for row in (customer_headers, ["Acme", "Ann", "A", "negotiation"], ["Beta", "Bob", "B", "new"]):
        customers.append(row)
    log = book.create_sheet("Sheet2")
    for row in (log_headers, ["Acme", date(2026, 11, 20), "Ann", "phone"]):
        log.append(row)
    book.save(path)
    return path
