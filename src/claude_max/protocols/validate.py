"""Small checks shared by both wire adapters, each failing with the offending field's path."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from claude_max.core import catalog
from claude_max.core.conversation import (
    DocumentPart,
    ImagePart,
    Part,
    Role,
    TextPart,
    Tool,
    ToolCallPart,
    ToolResultPart,
    Turn,
)
from claude_max.core.errors import InvalidRequest

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def expect(value: Any, kind: type | tuple[type, ...], param: str, what: str) -> Any:
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _tuple(kind)):
        raise InvalidRequest(f"'{param}' must be {what}.", param=param)
    return value


def _tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def optional_int(
    body: dict[str, Any], key: str, *, minimum: int = 1, maximum: int | None = None
) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    expect(value, int, key, "an integer")
    if value < minimum:
        raise InvalidRequest(f"'{key}' must be at least {minimum}.", param=key)
    if maximum is not None and value > maximum:
        raise InvalidRequest(f"'{key}' must be at most {maximum}.", param=key)
    return int(value)


def max_output_tokens() -> int:
    """The largest `max_tokens` any model takes: what the real APIs refuse beyond."""
    from claude_max.core import catalog

    return max(m.max_output_tokens for m in catalog.MODELS)


def string_list(value: Any, param: str) -> tuple[str, ...]:
    """A string or a list of strings (stop sequences)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    expect(value, list, param, "a string or a list of strings")
    for i, item in enumerate(value):
        expect(item, str, f"{param}[{i}]", "a string")
    return tuple(value)


def image(media_type: str, data: str, param: str) -> ImagePart:
    if media_type not in IMAGE_TYPES:
        raise InvalidRequest(
            f"'{param}' has unsupported image type '{media_type}' "
            f"(supported: {', '.join(IMAGE_TYPES)}).",
            param=param,
        )
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest(f"'{param}' is not valid base64 image data.", param=param) from None
    return ImagePart(media_type, data)


_DATA_URL = re.compile(r"^data:(?P<type>[\w/+.-]+);base64,(?P<data>.*)$", re.S)


def data_url(value: str) -> tuple[str, str] | None:
    """(media type, base64 data) of a base64 `data:` URL; None for anything else (a web URL,
    another encoding), which the caller refuses or passes on as it sees fit."""
    match = _DATA_URL.match(value)
    return (match["type"], match["data"]) if match else None


DOCUMENT_TYPES = ("application/pdf", "text/plain")
MAX_URL = 2048


def web_url(value: str, param: str) -> str:
    """An http(s) URL for the API to download itself; claude-max never fetches it."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or len(value) > MAX_URL
        or any(c.isspace() for c in value)
    ):
        raise InvalidRequest(
            f"'{param}' must be a base64 data: URL or an http(s) URL of at most {MAX_URL} "
            "characters.",
            param=param,
        )
    return value


def document(media_type: str, data: str, param: str, *, title: str | None = None) -> DocumentPart:
    """A base64 PDF stays base64; base64 plain text becomes a text document."""
    if media_type not in DOCUMENT_TYPES:
        raise InvalidRequest(
            f"'{param}' has unsupported document type '{media_type}' "
            f"(supported: {', '.join(DOCUMENT_TYPES)}; send images as image_url).",
            param=param,
        )
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest(f"'{param}' is not valid base64 data.", param=param) from None
    if media_type == "text/plain":
        try:
            return DocumentPart(media_type, text=raw.decode("utf-8"), title=title)
        except UnicodeDecodeError:
            raise InvalidRequest(f"'{param}' is not UTF-8 text.", param=param) from None
    if not raw.startswith(b"%PDF-"):
        raise InvalidRequest(f"'{param}' is not a PDF (it must start with %PDF-).", param=param)
    return DocumentPart(media_type, data=data, title=title)


def merge_turns(turns: list[tuple[Role, list[Part]]]) -> tuple[Turn, ...]:
    """Drop empty turns and join neighbours of the same role, as the Messages API does."""
    merged: list[tuple[Role, list[Part]]] = []
    for role, parts in turns:
        parts = [p for p in parts if not (isinstance(p, TextPart) and not p.text)]
        if not parts:
            continue
        if merged and merged[-1][0] == role:
            merged[-1][1].extend(parts)
        else:
            merged.append((role, list(parts)))
    # A user turn's tool results come before its text, as the Messages API requires.
    return tuple(
        Turn(role, tuple(sorted(parts, key=lambda p: not isinstance(p, ToolResultPart))))
        for role, parts in merged
    )


_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAX_SCHEMA_BYTES = 100_000  # a --json-schema value travels in argv (128 KB per argument)


def tool_name(value: Any, param: str) -> str:
    expect(value, str, param, "a string")
    if not _TOOL_NAME.match(value):
        raise InvalidRequest(
            f"'{param}' must be 1-64 letters, digits, '_' or '-'; got {value!r}.", param=param
        )
    return str(value)


_TOOL_ID = re.compile(r"^[a-zA-Z0-9_-]+$")


def add_tool(
    tools: list[Tool],
    spec: dict[str, Any],
    where: str,
    schema_key: str,
    *,
    default_schema: dict[str, Any] | None = None,
) -> None:
    """Read one tool declaration (name, description, JSON Schema) onto `tools`; a name may
    be declared once. `where` is the path of the object holding those fields."""
    name = tool_name(spec.get("name"), f"{where}.name")
    if any(t.name == name for t in tools):
        raise InvalidRequest(f"Tool {name!r} is declared twice.", param=f"{where}.name")
    description = spec.get("description") or ""
    expect(description, str, f"{where}.description", "a string")
    input_schema = schema(spec.get(schema_key), f"{where}.{schema_key}", default=default_schema)
    tools.append(Tool(name, description, input_schema))


def tool_id(value: Any, param: str) -> str:
    expect(value, str, param, "a string")
    if not _TOOL_ID.match(value) or len(value) > 256:
        raise InvalidRequest(
            f"'{param}' must be letters, digits, '_' or '-' (as the Messages API requires); "
            f"got {value!r}.",
            param=param,
        )
    return str(value)


def schema(value: Any, param: str, *, default: dict[str, Any] | None = None) -> str:
    """A JSON Schema object as canonical JSON (its root must describe an object)."""
    from claude_max.core.client_tools import canonical

    if value is None and default is not None:
        value = default
    expect(value, dict, param, "a JSON Schema object")
    if value.get("type", "object") != "object":
        raise InvalidRequest(f"'{param}' must describe an object (type: object).", param=param)
    check_schema(value, param)
    text = canonical({"type": "object", **value})
    if len(text.encode()) > MAX_SCHEMA_BYTES:
        raise InvalidRequest(f"'{param}' is larger than {MAX_SCHEMA_BYTES} bytes.", param=param)
    return text


def tool_input(value: Any, param: str) -> str:
    """A tool call's arguments (an object, or OpenAI's JSON text of one) as canonical JSON."""
    from claude_max.core.client_tools import canonical

    if isinstance(value, str):
        try:
            value = strict_loads(value) if value.strip() else {}
        except ValueError:
            raise InvalidRequest(f"'{param}' is not valid JSON.", param=param) from None
    expect(value, dict, param, "a JSON object")
    return canonical(value)


class NotJSON(ValueError):
    """What Python's json reads but JSON does not have: NaN, Infinity, 1e400."""


def strict_loads(text: str) -> Any:
    """json.loads without NaN, Infinity and numbers too large for a float (the real APIs
    refuse them; a tool input with one would reach the model as null or fail later)."""
    return json.loads(text, parse_constant=_no_constant, parse_float=_finite)


def _no_constant(name: str) -> Any:
    raise NotJSON(f"{name} is not a JSON number.")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise NotJSON(f"the number {text[:40]} is too large.")
    return value


def check_tool_pairs(turns: tuple[Turn, ...], param: str) -> None:
    """Every tool result answers a call of the assistant turn just before it."""
    calls: set[str] = set()
    for turn in turns:
        if turn.role == "assistant":
            calls = {p.id for p in turn.parts if isinstance(p, ToolCallPart)}
            continue
        for part in turn.parts:
            if isinstance(part, ToolResultPart) and part.tool_use_id not in calls:
                raise InvalidRequest(
                    f"A tool result answers '{part.tool_use_id}', which the assistant message "
                    "just before it did not call.",
                    param=param,
                )


def effort(value: Any, cli_model: str, param: str) -> str:
    """An effort level the model takes (the CLI's list, else the catalog's); a model known to
    neither is left to the API. The CLI would lower or drop a level the model does not take
    (xhigh -> high on claude-opus-4-6): a 400 says so instead."""
    if value not in catalog.EFFORTS:
        raise InvalidRequest(f"'{param}' must be one of {', '.join(catalog.EFFORTS)}.", param=param)
    model = catalog.info(cli_model)
    if model is not None and value not in model.efforts:
        takes = f"takes {', '.join(model.efforts)}" if model.efforts else "takes no effort level"
        raise InvalidRequest(f"'{param}' {value!r}: the model {cli_model} {takes}.", param=param)
    return str(value)


def thinking_mode(mode: str | None, cli_model: str, param: str) -> None:
    """Adaptive thinking only on a model that has it (the CLI's list says which)."""
    model = catalog.info(cli_model)
    if mode == "adaptive" and model is not None and not model.adaptive:
        raise InvalidRequest(
            f"The model {cli_model} does not take adaptive thinking; use "
            '{"type": "enabled", "budget_tokens": N}.',
            param=param,
        )


_TYPES = {"object", "array", "string", "number", "integer", "boolean", "null"}
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_ONE = (
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
    "additionalItems",
)


def check_schema(value: Any, param: str) -> None:
    """The structural rules of JSON Schema that the API checks before the model sees a
    tool: a schema is an object or a boolean, `type` names JSON types, `required` lists
    strings, subschemas are schemas. (The upstream refuses anything else; through the CLI
    that would come back as a 5xx a client retries.)"""
    stack: list[tuple[str, Any]] = [(param, value)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, bool):
            continue
        if not isinstance(node, dict):
            raise InvalidRequest(f"'{where}' must be a JSON Schema (an object).", param=where)
        kind = node.get("type")
        if kind is not None:
            kinds = kind if isinstance(kind, list) else [kind]
            if not kinds or any(not isinstance(k, str) or k not in _TYPES for k in kinds):
                raise InvalidRequest(
                    f"'{where}.type' must be one of {', '.join(sorted(_TYPES))} "
                    f"(or a list of them); got {kind!r}.",
                    param=f"{where}.type",
                )
        required = node.get("required")
        if required is not None and (
            not isinstance(required, list) or not all(isinstance(r, str) for r in required)
        ):
            raise InvalidRequest(
                f"'{where}.required' must be an array of strings.", param=f"{where}.required"
            )
        enum = node.get("enum")
        if enum is not None and not isinstance(enum, list):
            raise InvalidRequest(f"'{where}.enum' must be an array.", param=f"{where}.enum")
        for key in _SCHEMA_MAPS:
            if (children := node.get(key)) is not None:
                expect(children, dict, f"{where}.{key}", "an object of schemas")
                stack.extend((f"{where}.{key}.{k}", child) for k, child in children.items())
        for key in _SCHEMA_LISTS:
            if (children := node.get(key)) is not None:
                expect(children, list, f"{where}.{key}", "an array of schemas")
                stack.extend((f"{where}.{key}[{i}]", c) for i, c in enumerate(children))
        for key in _SCHEMA_ONE:
            if key in node:
                child = node[key]
                if key == "items" and isinstance(child, list):  # draft 4-7 tuple form
                    stack.extend((f"{where}.items[{i}]", c) for i, c in enumerate(child))
                else:
                    stack.append((f"{where}.{key}", child))
