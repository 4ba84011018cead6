"""``python -m tests.sheets_emulator --port 8765 --seed ID=book.xlsx --key key.json``"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .server import Emulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.sheets_emulator",
                                     description="Local Google Sheets API v4 emulator on loopback.")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (loopback only is sensible)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", action="append", default=[], metavar="ID=PATH.xlsx",
                        help="load an .xlsx as spreadsheet ID (repeatable)")
    parser.add_argument("--key", metavar="PATH", help="write a service-account key file trusted by this emulator")
    parser.add_argument("--lenient", action="store_true", help="do not reject bodies that break the discovery schema")
    args = parser.parse_args(argv)
    emu = Emulator(host=args.host, port=args.port, strict=not args.lenient)
    for item in args.seed:
        sid, sep, path = item.partition("=")
        if not sep:
            parser.error(f"--seed wants ID=PATH, got {item!r}")
        emu.seed_xlsx(sid, path)
    if args.key:
        emu.make_service_account_key(args.key)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    emu.start()
    print(f"Sheets emulator on {emu.base_url} (token_uri {emu.token_uri}); seeded: "
          f"{', '.join(emu.spreadsheets) or 'none'}", flush=True)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
