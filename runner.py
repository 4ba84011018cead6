"""`python runner.py <command>`: the same as the `followup` console script."""

from addon.cli import entry

if __name__ == "__main__":
    entry()
