"""Small checks shared by both wire adapters, each failing with the offending field's path."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from claude_max.core.conversation import ImagePart, Part, Role, TextPart, Turn
from claude_max.core.errors import InvalidRequest

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def expect(value: Any, kind: type | tuple[type, ...], param: str, what: str) -> Any:
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _tuple(kind)):
        raise InvalidRequest(f"'{param}' must be {what}.", param=param)
    return value


def _tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def optional_int(body: dict[str, Any], key: str, *, minimum: int = 1) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    expect(value, int, key, "an integer")
    if value < minimum:
        raise InvalidRequest(f"'{key}' must be at least {minimum}.", param=key)
    return int(value)


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
    return tuple(Turn(role, tuple(parts)) for role, parts in merged)
