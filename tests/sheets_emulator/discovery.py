"""Request bodies checked against the Sheets v4 discovery document.

The discovery document that google-api-python-client ships is Google's own machine-readable
description of the API, so a body our code sends that fails here would fail against Google
too. Messages imitate Google's ("Invalid JSON payload received. Unknown name ...") so the
emulator's strict mode can answer a bad body with the same 400 a real server gives.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import googleapiclient

# The body field name Google uses in error paths for methods whose body is a sub-message.
_BODY_FIELD = {
    "sheets.spreadsheets.values.update": "data",
    "sheets.spreadsheets.values.append": "data",
    "sheets.spreadsheets.create": "spreadsheet",
}

_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "uint32": (0, 2**32 - 1), "int64": (-(2**63), 2**63 - 1),
               "uint64": (0, 2**64 - 1)}


@cache
def document() -> dict[str, Any]:
    """The shipped sheets.v4 discovery document."""
    path = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "sheets.v4.json"
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def methods() -> dict[str, dict[str, Any]]:
    """Method id (e.g. ``sheets.spreadsheets.values.update``) -> method description."""
    out: dict[str, dict[str, Any]] = {}

    def walk(resource: dict[str, Any]) -> None:
        for method in resource.get("methods", {}).values():
            out[method["id"]] = method
        for sub in resource.get("resources", {}).values():
            walk(sub)

    walk(document())
    return out


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _at(path: str) -> str:
    return f" at '{path}'" if path else ""


def validate_request(method_id: str, body: Any) -> list[str]:
    """Problems with a request body for a method, worded like Google's 400 messages; [] if valid."""
    method = methods().get(method_id)
    if method is None:
        return [f"Unknown method: {method_id}"]
    ref = (method.get("request") or {}).get("$ref")
    if ref is None:
        return [] if body in (None, {}) else ["Invalid JSON payload received. This method takes no request body."]
    if body is None:
        body = {}
    errors: list[str] = []
    _check(body, {"$ref": ref}, _BODY_FIELD.get(method_id, ""), errors)
    return errors


def _type_name(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return f"type.googleapis.com/google.apps.sheets.v4.{schema['$ref']}"
    kind = schema.get("type")
    fmt = schema.get("format")
    if kind == "integer":
        return f"TYPE_{(fmt or 'int32').upper()}"
    if kind == "number":
        return "TYPE_DOUBLE" if fmt == "double" else "TYPE_FLOAT"
    if kind == "boolean":
        return "TYPE_BOOL"
    if kind == "string" and "enum" in schema:
        return "TYPE_ENUM"
    if kind == "string":
        return "TYPE_STRING"
    if kind == "array":
        items = schema.get("items", {})
        if items.get("type") in ("array", "any"):
            return "type.googleapis.com/google.protobuf.ListValue"
        return _type_name(items)
    return "type.googleapis.com/google.protobuf.Value"


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def _invalid(path: str, schema: dict[str, Any], value: Any) -> str:
    return f"Invalid value at '{path}' ({_type_name(schema)}), \"{_shown(value)}\""


def _check(value: Any, schema: dict[str, Any], path: str, errors: list[str]) -> None:
    if "$ref" in schema:
        target = document()["schemas"][schema["$ref"]]
        if value is None:
            return
        if not isinstance(value, dict):
            errors.append(_invalid(path, schema, value))
            return
        props = target.get("properties", {})
        for key, sub in value.items():
            if key not in props:
                errors.append(f"Invalid JSON payload received. Unknown name \"{key}\"{_at(path)}: Cannot find field.")
                continue
            if sub is None:
                continue
            child = f"{path}.{_snake(key)}" if path else _snake(key)
            _check(sub, props[key], child, errors)
        return
    kind = schema.get("type")
    if value is None or kind == "any":
        return
    if kind == "object":
        if not isinstance(value, dict):
            errors.append(_invalid(path, schema, value))
            return
        extra = schema.get("additionalProperties")
        if extra:
            for key, sub in value.items():
                _check(sub, extra, f"{path}[{key}]", errors)
        return
    if kind == "array":
        if not isinstance(value, list):
            errors.append(_invalid(path, schema, value))
            return
        items = schema.get("items", {})
        for i, item in enumerate(value):
            if items.get("type") == "array" and not isinstance(item, list):
                errors.append(_invalid(f"{path}[{i}]", items, item))
                continue
            _check(item, items, f"{path}[{i}]", errors)
        return
    if kind == "string":
        if "enum" in schema:
            if not isinstance(value, str | int) or isinstance(value, bool) or (
                    isinstance(value, str) and value not in schema["enum"]) or (
                    isinstance(value, int) and not 0 <= value < len(schema["enum"])):
                errors.append(_invalid(path, schema, value))
            return
        fmt = schema.get("format")
        if fmt in ("int64", "uint64"):
            if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"-?\d+", value))):
                errors.append(_invalid(path, {"type": "integer", "format": fmt}, value))
            return
        if not isinstance(value, str):
            errors.append(_invalid(path, schema, value))
        return
    if kind == "integer":
        number: Any = value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
            number = int(value)
        if isinstance(number, float) and number.is_integer():
            number = int(number)
        if isinstance(number, bool) or not isinstance(number, int):
            errors.append(_invalid(path, schema, value))
            return
        lo, hi = _INT_RANGES.get(schema.get("format", "int32"), _INT_RANGES["int32"])
        if not lo <= number <= hi:
            errors.append(_invalid(path, schema, value))
        return
    if kind == "number":
        if isinstance(value, bool) or not (isinstance(value, int | float) or value in ("NaN", "Infinity", "-Infinity")):
            if not (isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d*)?([eE][+-]?\d+)?", value)):
                errors.append(_invalid(path, schema, value))
        return
    if kind == "boolean":
        if not isinstance(value, bool) and value not in ("true", "false"):
            errors.append(_invalid(path, schema, value))
        return
