"""A local Google Sheets API v4 emulator for tests (loopback HTTP, real gspread on top).

    with running_emulator(seed={"abc": {"Customers": rows}}) as emu:
        key = emu.make_service_account_key(tmp_path / "key.json")
        creds = Credentials.from_service_account_file(key, scopes=[SCOPE_SHEETS])
        gc = client_for(creds, endpoint=emu.base_url)

See ``server.Emulator`` for the Python API and ``python -m tests.sheets_emulator --help`` for the CLI.
"""

from .auth import SCOPE_DRIVE, SCOPE_SHEETS, SCOPE_SHEETS_RO
from .discovery import validate_request
from .server import Emulator, Fault, running_emulator, seed_cell
from .store import ApiError, Spreadsheet

__all__ = [
    "SCOPE_DRIVE",
    "SCOPE_SHEETS",
    "SCOPE_SHEETS_RO",
    "ApiError",
    "Emulator",
    "Fault",
    "Spreadsheet",
    "running_emulator",
    "seed_cell",
    "validate_request",
]
