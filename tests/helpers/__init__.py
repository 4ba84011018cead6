"""Helpers shared by tests (fixtures that build workbooks)."""
