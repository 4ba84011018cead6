"""Partial responses: the ``fields`` query parameter (a FieldMask) applied to a JSON answer.

Supports the syntax clients send: ``a.b``, ``a/b``, comma lists, ``a(b,c)`` sub-selections and
``*``. Google keeps containers that end up empty (``{"sheets": [{"properties": {}}]}``), so we do too.
"""

from __future__ import annotations

from typing import Any

Tree = dict[str, "Tree | None"]


class FieldMaskError(ValueError):
    """A malformed mask, answered with a 400 like Google's."""


def parse(mask: str) -> Tree | None:
    """Mask string -> tree of selected keys (None = everything below)."""
    mask = mask.strip()
    if mask in ("", "*"):
        return None
    tree: Tree = {}
    pos = _parse_list(mask, 0, tree)
    if pos != len(mask):
        raise FieldMaskError(mask)
    return tree


def _merge(tree: Tree, key: str, sub: Tree | None) -> None:
    if key in tree:
        if tree[key] is None or sub is None:
            tree[key] = None
        else:
            for k, v in sub.items():
                _merge(tree[key], k, v)  # type: ignore[arg-type]
    else:
        tree[key] = sub


def _parse_list(s: str, i: int, tree: Tree) -> int:
    while True:
        i = _parse_path(s, i, tree)
        if i < len(s) and s[i] == ",":
            i += 1
            continue
        return i


def _parse_path(s: str, i: int, tree: Tree) -> int:
    start = i
    while i < len(s) and s[i] not in ",()./":
        i += 1
    key = s[start:i].strip()
    if not key:
        raise FieldMaskError(s)
    if i < len(s) and s[i] in "./":
        sub: Tree = {}
        i = _parse_path(s, i + 1, sub)
        _merge(tree, key, None if key == "*" else sub)
        return i
    if i < len(s) and s[i] == "(":
        sub = {}
        i = _parse_list(s, i + 1, sub)
        if i >= len(s) or s[i] != ")":
            raise FieldMaskError(s)
        _merge(tree, key, sub)
        return i + 1
    _merge(tree, key, None)
    return i


def apply(value: Any, tree: Tree | None) -> Any:
    """Keep only the selected parts of a JSON value."""
    if tree is None:
        return value
    if isinstance(value, list):
        return [apply(v, tree) for v in value]
    if not isinstance(value, dict):
        return value
    if "*" in tree and len(tree) == 1:
        return value
    out: dict[str, Any] = {}
    for key, sub in tree.items():
        if key in value:
            out[key] = apply(value[key], sub)
    return out
