"""Read a JSON request body with a size limit, as a clear 400/413 rather than a crash.

What JSON allows but no API does is refused here, once for every field of both protocols:
NaN, Infinity and numbers too large for a float (1e400) are not JSON, and a lone UTF-16
surrogate ("\\ud800") cannot be written as UTF-8 to the CLI's stdin or a file.

Not Starlette's own `max_body_size`: it answers a too-large declared body itself, in plain
text, before any handler could answer in the caller's protocol (tried; test_errors.py).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from claude_max.core.errors import InvalidRequest, RequestTooLarge
from claude_max.protocols.validate import NotJSON, strict_loads

if TYPE_CHECKING:
    from starlette.requests import Request

DEFAULT_LIMIT = 32 * 1024 * 1024  # large enough for several images as base64

# A \uD800-\uDFFF escape in the raw bytes: only then can the parsed body hold a surrogate
# (UTF-8 cannot encode one), so the walk below runs only for bodies that have one.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


async def read_json(request: Request, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
        chunks.append(chunk)
    return parse_json(b"".join(chunks))


def parse_json(raw: bytes) -> dict[str, Any]:
    """A request body as a JSON object, or an InvalidRequest that says what is wrong."""
    try:
        body = strict_loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidRequest("The request body is not valid UTF-8.") from None
    except RecursionError:
        raise InvalidRequest("The request body is nested too deeply.") from None
    except NotJSON as exc:
        raise InvalidRequest(f"The request body is not valid JSON: {exc}") from None
    except ValueError as exc:
        raise InvalidRequest(f"The request body is not valid JSON: {exc}.") from None
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    if _SURROGATE_ESCAPE.search(raw):
        where = lone_surrogate(body)
        if where is not None:
            raise InvalidRequest(
                f"'{where}' contains a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff "
                "escape), which is not valid Unicode text.",
                param=where,
            )
    return body


def lone_surrogate(value: Any) -> str | None:
    """The path of the first string (or key) holding a lone surrogate, else None."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if _LONE_SURROGATE.search(item):
                return path or "(body)"
        elif isinstance(item, dict):
            for key, child in item.items():
                where = f"{path}.{key}" if path else str(key)
                if _LONE_SURROGATE.search(key):
                    return _LONE_SURROGATE.sub("?", where)
                stack.append((where, child))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", child) for i, child in enumerate(item))
    return None
