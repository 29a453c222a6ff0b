"""Read a JSON request body with a size limit, as a clear 400/413 rather than a crash.

Not Starlette's own `max_body_size`: it answers a too-large declared body itself, in plain
text, before any handler could answer in the caller's protocol (tried; test_errors.py).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from claude_max.core.errors import InvalidRequest, RequestTooLarge

if TYPE_CHECKING:
    from starlette.requests import Request

DEFAULT_LIMIT = 32 * 1024 * 1024  # large enough for several images as base64


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
    raw = b"".join(chunks)
    try:
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidRequest("The request body is not valid UTF-8.") from None
    except RecursionError:
        raise InvalidRequest("The request body is nested too deeply.") from None
    except ValueError as exc:
        raise InvalidRequest(f"The request body is not valid JSON: {exc}.") from None
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    return body
