"""`python runner.py <command>`: the same as the `followup` console script."""

import sys

from addon.cli import main

if __name__ == "__main__":
    sys.exit(main())
