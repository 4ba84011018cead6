"""The package (OPC) layer: parts, relationships, content types - edited as an overlay on the source zip.

Nothing here re-serialises a user's part: relationships and content types are edited by
inserting or cutting single elements, and the parts that end up unreferenced because of
our edits (an old chart of a replaced tab, a deleted tab's drawing) are removed by a
reachability sweep that never touches parts that were already unreferenced before.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from addon.backends.xlsx_xml import (
    attrs,
    element_re,
    escape_attr,
    from_text,
    local,
    masked,
    start_tag_re,
    to_text,
)
from addon.backends.xlsx_zip import ZipSource, part_key

CONTENT_TYPES = "[Content_Types].xml"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_RELS = "application/vnd.openxmlformats-package.relationships+xml"

_REL_TAG = start_tag_re("Relationship")
_REL_ELEMENT = element_re("Relationship")


@dataclass(frozen=True)
class Rel:
    id: str
    type: str
    target: str
    external: bool
    part: str | None  # resolved part name (no leading '/'), None when external

    @property
    def kind(self) -> str:
        """The last segment of the type URI: worksheet, drawing, chart, styles…"""
        return self.type.rsplit("/", 1)[-1]


def rels_name(part: str) -> str:
    """Where a part's relationships live: dir/_rels/name.rels ('' is the package itself)."""
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def resolve(source: str, target: str) -> str:
    target = unquote(target.split("#", 1)[0])
    if target.startswith("/"):
        return posixpath.normpath(target).lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target)).lstrip("/")


def relative(source: str, part: str) -> str:
    """A Target value from `source` to `part`."""
    return quote(posixpath.relpath(part, posixpath.dirname(source) or "."), safe="/.-_~")


class Package:
    """The source zip plus our edits: changed/added parts and removed parts, by case-insensitive name."""

    def __init__(self, source: ZipSource) -> None:
        self.source = source
        self.names = {key: entry.name.replace("\\", "/").lstrip("/") for key, entry in source.by_key.items()}
        self.changed: dict[str, bytes] = {}
        self.added: dict[str, bytes] = {}
        self.removed: set[str] = set()
        backslashes = sum("\\" in entry.name for entry in source.entries)
        self.separator = "\\" if backslashes > len(source.entries) // 2 else "/"
        self._types: str | None = None
        self._types_original = b""

    # --- parts -----------------------------------------------------------------------------

    def exists(self, part: str) -> bool:
        key = part_key(part)
        return key in self.added or (key in self.names and key not in self.removed)

    def name(self, part: str) -> str:
        """The stored spelling of a part name."""
        key = part_key(part)
        return self.names.get(key, part)

    def read(self, part: str) -> bytes:
        key = part_key(part)
        if key in self.added:
            return self.added[key]
        if key in self.removed:
            raise KeyError(part)
        if key in self.changed:
            return self.changed[key]
        return self.source.read(key)

    def write(self, part: str, data: bytes) -> None:
        key = part_key(part)
        entry = self.source.by_key.get(key)
        if entry is not None:
            self.removed.discard(key)
            if entry.info.file_size == len(data) and self.source.read(key) == data:
                self.changed.pop(key, None)  # the original bytes again: copy it raw
            else:
                self.changed[key] = data
        else:
            self.added[key] = data
            self.names.setdefault(key, part)

    def remove(self, part: str) -> None:
        key = part_key(part)
        self.added.pop(key, None)
        self.changed.pop(key, None)
        if key in self.source.by_key:
            self.removed.add(key)

    def all_parts(self) -> list[str]:
        keys = [k for k in self.source.by_key if k not in self.removed] + [k for k in self.added if k not in self.source.by_key]
        return [self.names[k] for k in keys]

    def free_name(self, pattern: str) -> str:
        """The first `pattern.format(n)` (n = 1, 2, …) that names no part."""
        n = 1
        while self.exists(pattern.format(n)):
            n += 1
        return pattern.format(n)

    # --- relationships ---------------------------------------------------------------------

    def rels(self, part: str) -> list[Rel]:
        name = rels_name(part)
        if not self.exists(name):
            return []
        text = masked(to_text(self.read(name)))
        out = []
        for m in _REL_TAG.finditer(text):
            a = {local(k): v for k, v in attrs(m.group(0)).items()}
            external = a.get("TargetMode", "").lower() == "external"
            target = a.get("Target", "")
            out.append(Rel(a.get("Id", ""), a.get("Type", ""), target, external, None if external else resolve(part, target)))
        return out

    def add_rel(self, part: str, rel_type: str, target_part: str, rid: str | None = None) -> str:
        """Add a relationship from `part` to `target_part`; returns its Id."""
        name = rels_name(part)
        existing = self.rels(part)
        if rid is None:
            used = {r.id for r in existing}
            n = 1 + max([int(m.group(1)) for r in existing if (m := re.fullmatch(r"rId(\d+)", r.id))] or [0])
            while f"rId{n}" in used:
                n += 1
            rid = f"rId{n}"
        element = f'<Relationship Id="{rid}" Type="{escape_attr(rel_type)}" Target="{escape_attr(relative(part, target_part))}"/>'
        if self.exists(name):
            raw = self.read(name)
            text = to_text(raw)
            scan = masked(text)
            root = re.search(r"""<((?:[\w.-]+:)?)Relationships\b(?:[^>"']|"[^"]*"|'[^']*')*?(/?)>""", scan)
            if root is None:
                raise ValueError(f"{name} is not a relationships part")
            p = root.group(1)
            element = element.replace("<Relationship", f"<{p}Relationship", 1)
            if root.group(2):
                text = text[: root.end() - 2].rstrip() + ">" + element + f"</{p}Relationships>" + text[root.end() :]
            else:
                close = scan.rfind("</")
                text = text[:close] + element + text[close:]
            self.write(name, from_text(text, raw))
        else:
            self.write(
                name,
                (
                    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{element}</Relationships>'
                ).encode(),
            )
            self.add_override(name, CT_RELS, only_if_no_default=True)
        return rid

    def remove_rel(self, part: str, rid: str) -> None:
        name = rels_name(part)
        raw = self.read(name)
        text = to_text(raw)
        scan = masked(text)
        for m in _REL_ELEMENT.finditer(scan):
            a = {local(k): v for k, v in attrs(text[m.start() : m.end()].split(">", 1)[0] + ">").items()}
            if a.get("Id") == rid:
                text = text[: m.start()] + text[m.end() :]
                break
        self.write(name, from_text(text, raw))

    # --- content types ---------------------------------------------------------------------

    def _types_text(self) -> str:
        if self._types is None:
            self._types_original = self.source.read(part_key(CONTENT_TYPES))
            self._types = to_text(self._types_original)
        return self._types

    def _overrides(self) -> list[tuple[int, int, str, str]]:
        """(start, end, part key, content type) of each Override element."""
        text = self._types_text()
        out = []
        for m in element_re("Override").finditer(masked(text)):
            a = attrs(text[m.start() : m.end()].split(">", 1)[0] + ">")
            out.append((m.start(), m.end(), part_key(unquote(a.get("PartName", ""))), a.get("ContentType", "")))
        return out

    def content_type(self, part: str) -> str | None:
        key = part_key(part)
        for _, _, k, ct in self._overrides():
            if k == key:
                return ct
        ext = part.rsplit(".", 1)[-1].lower() if "." in part else ""
        for m in start_tag_re("Default").finditer(masked(self._types_text())):
            a = attrs(m.group(0))
            if a.get("Extension", "").lower() == ext:
                return a.get("ContentType")
        return None

    def add_override(self, part: str, content_type: str, *, only_if_no_default: bool = False) -> None:
        """Declare a part's content type (kept where it is when already declared so)."""
        if only_if_no_default and self.content_type(part) == content_type:
            return
        key = part_key(part)
        text = self._types_text()
        for start, end, k, ct in self._overrides():
            if k == key:
                if ct == content_type:
                    return
                text = text[:start] + text[end:]
                break
        close = masked(text).rfind("</")
        prefix = re.match(r"</((?:[\w.-]+:)?)", text[close:])
        p = prefix.group(1) if prefix else ""
        element = f'<{p}Override PartName="/{escape_attr(quote(self.name(part), safe="/.-_~"))}" ContentType="{escape_attr(content_type)}"/>'
        self._types = text[:close] + element + text[close:]

    def finish_types(self) -> None:
        """Drop the Overrides of parts we removed, then store [Content_Types].xml if it changed."""
        text = self._types_text()
        for start, end, key, _ in reversed(self._overrides()):
            if key in self.removed and key not in self.added:
                text = text[:start] + text[end:]
        self._types = text
        data = from_text(text, self._types_original)
        if data != self._types_original:
            self.write(CONTENT_TYPES, data)

    # --- reachability ----------------------------------------------------------------------

    def reachable(self) -> set[str]:
        """Keys of parts reachable from the package relationships (plus those .rels parts)."""
        seen: set[str] = set()
        stack = [""]
        while stack:
            part = stack.pop()
            rels_part = rels_name(part)
            if not self.exists(rels_part):
                continue
            seen.add(part_key(rels_part))
            for rel in self.rels(part):
                if rel.part is None:
                    continue
                key = part_key(rel.part)
                if key not in seen and self.exists(rel.part):
                    seen.add(key)
                    stack.append(rel.part)
        return seen
