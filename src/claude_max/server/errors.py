"""ClaudeMaxError -> an HTTP error in the caller's protocol; never a traceback or HTML."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse

from claude_max.core.errors import ClaudeMaxError
from claude_max.protocols import anthropic, openai

if TYPE_CHECKING:
    from starlette.requests import Request

log = logging.getLogger("claude_max.server")


def is_anthropic(path: str, headers: Mapping[str, str]) -> bool:
    """The Messages API lives under /v1/messages (or /messages); /v1/models answers whoever
    asks."""
    if path.startswith(("/v1/models", "/models")):
        return "anthropic-version" in headers
    return path.startswith(("/v1/messages", "/messages"))


def error_body(path: str, headers: Mapping[str, str], exc: ClaudeMaxError) -> dict[str, Any]:
    """The error in the caller's protocol: Anthropic's shape or OpenAI's."""
    if is_anthropic(path, headers):
        return anthropic.error_body(exc)
    return openai.error_body(exc)


def error_response(request: Request, exc: ClaudeMaxError) -> JSONResponse:
    headers = {}
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        headers["retry-after"] = str(int(retry_after))
    body = error_body(request.url.path, request.headers, exc)
    return JSONResponse(body, status_code=exc.status, headers=headers)


async def on_claude_max_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ClaudeMaxError)
    log.info("%s %s -> %s %s", request.method, request.url.path, exc.status, exc.message)
    return error_response(request, exc)


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("internal error on %s %s", request.method, request.url.path)
    error = ClaudeMaxError(f"Internal error: {type(exc).__name__}")
    return error_response(request, error)


async def on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    status = getattr(exc, "status_code", 500)
    detail = getattr(exc, "detail", "") or "error"
    error = ClaudeMaxError(str(detail))
    error.status = status
    error.kind = {404: "not_found_error", 405: "invalid_request_error"}.get(status, "api_error")
    return error_response(request, error)
