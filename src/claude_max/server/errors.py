"""ClaudeMaxError -> an HTTP error in the caller's protocol; never a traceback or HTML."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse

from claude_max.core.errors import ClaudeMaxError, CLIAuthError, InvalidRequest, ModelNotFound
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


def reason(exc: ClaudeMaxError) -> str:
    """Why a request failed, for the log line: the message, except where it could quote the
    client's own text (a bad request, an unknown model), which stays out of logs."""
    if isinstance(exc, InvalidRequest):
        return f"invalid request ({exc.param})" if exc.param else "invalid request"
    if isinstance(exc, ModelNotFound):
        return "unknown model"
    return exc.message


async def on_claude_max_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ClaudeMaxError)
    request.state.error_reason = reason(exc)
    if isinstance(exc, CLIAuthError):
        from claude_max.server.health import mark_logged_out

        mark_logged_out(request.app.state)
    return error_response(request, exc)


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("internal error on %s %s", request.method, request.url.path)
    request.state.error_reason = f"internal error: {type(exc).__name__}"
    error = ClaudeMaxError(f"Internal error: {type(exc).__name__}")
    return error_response(request, error)


async def on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    status = getattr(exc, "status_code", 500)
    detail = getattr(exc, "detail", "") or "error"
    error = ClaudeMaxError(str(detail))
    error.status = status
    error.kind = {404: "not_found_error", 405: "invalid_request_error"}.get(status, "api_error")
    request.state.error_reason = f"{status} {detail}"
    return error_response(request, error)
