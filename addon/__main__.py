from addon.cli import entry

entry()
