"""The one exception tree of claude-max; each face renders it in its own way.

    ClaudeMaxError                 message + optional hint
      InvalidRequest(param)        the caller sent something we cannot run   -> 400
        ContextTooLong             the conversation exceeds the context      -> 400
      RequestTooLarge              body over the configured limit            -> 413
      ModelNotFound(model)         not a model this proxy accepts            -> 404
      CLINotFound                  no `claude` executable                    -> 503
      CLIAuthError                 the CLI is not logged in / key refused    -> 401
      CLIProcessError(exit_code)   the CLI died or printed no result         -> 502
      CLITimeout                   the CLI went silent or ran too long       -> 504
      ServerShuttingDown           the server stopped mid-request            -> 503
      UpstreamError(status, kind)  Anthropic's API answered with an error    -> 429/502/529...
      AnswerRetracted              a broken stream took back streamed text   -> 502
      SessionNotFound(prefix)      no saved session matches                  -> 404
      AmbiguousSession(prefix)     a prefix matches several sessions         -> 409
      SessionBusy(id)              another turn is running on the session    -> 409
      SessionExists(id)            the id is taken                           -> 409
      StoreUnreadable(path)        sessions.db is corrupt or not a database  -> 503
      ServerBusy                   concurrency limit and queue are full      -> 429
      Refused(status, kind)        the guard turned the request away         -> 401/403/...
      CannotListen                 `serve` cannot take its address           (terminal only)
      ResponseNotFound(param)      no stored Responses API response by that id -> 404
        PlanLimitReached           a window of the subscription is used up   -> 429
        ThirdPartyBilled           "Third-party apps now draw from extra usage" -> 400
      LoopDetected                 a CLI claude-max started reached claude-max -> 508

The HTTP face (server/errors.py) turns these into OpenAI or Anthropic error bodies;
the terminal face prints `Error: <message>` and the hint. Nothing else decides a status.
"""

from __future__ import annotations

from claude_max.core.ids import distinct_short_ids, short_id

# One wording for the two fixes a user meets most, wherever they are printed.
INSTALL_CLI = "npm install -g @anthropic-ai/claude-code"
LOGIN_HINT = "Run: claude auth login"  # the CLI's own advice (`claude auth status --text`)


class ClaudeMaxError(Exception):
    """Base class: a message for the user and an optional one-line hint."""

    status = 500
    kind = "api_error"  # Anthropic error.type; OpenAI type is derived from it

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class InvalidRequest(ClaudeMaxError):
    status = 400
    kind = "invalid_request_error"

    def __init__(self, message: str, *, param: str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.param = param


class ContextTooLong(InvalidRequest):
    """The conversation does not fit the model's context window: the CLI's own check
    ("Prompt is too long", no API call) or the API's. A client mistake, not a retry."""

    code = "context_length_exceeded"


class RequestTooLarge(ClaudeMaxError):
    status = 413
    kind = "request_too_large"


class ModelNotFound(ClaudeMaxError):
    status = 404
    kind = "not_found_error"

    def __init__(self, model: str, *, hint: str | None = None) -> None:
        super().__init__(
            f"The model '{model}' does not exist or is not served by claude-max.",
            hint=hint or "Run: claude-max models",
        )
        self.model = model


class CLINotFound(ClaudeMaxError):
    status = 503
    kind = "api_error"


class CLIAuthError(ClaudeMaxError):
    status = 401
    kind = "authentication_error"


class CLIProcessError(ClaudeMaxError):
    status = 502
    kind = "api_error"

    def __init__(
        self,
        message: str,
        *,
        exit_code: int | None = None,
        stderr_tail: str = "",
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.exit_code = exit_code
        self.stderr_tail = stderr_tail


class ServerShuttingDown(ClaudeMaxError):
    status = 503
    kind = "overloaded_error"


class CLITimeout(ClaudeMaxError):
    status = 504
    kind = "timeout_error"


class UpstreamError(ClaudeMaxError):
    """An error the Anthropic API returned to the CLI, carried through with its status."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        kind: str = "api_error",
        retry_after: float | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.kind = kind
        self.retry_after = retry_after


class AnswerRetracted(ClaudeMaxError):
    """A broken upstream stream took back text that a streaming client already received."""

    status = 502
    kind = "api_error"

    def __init__(self) -> None:
        super().__init__(
            "The upstream stream broke after part of the answer was sent, and the retried "
            "answer differs. Retry the request."
        )


# -- sessions


class SessionNotFound(ClaudeMaxError):
    status = 404
    kind = "not_found_error"

    def __init__(self, prefix: str, *, message: str | None = None, hint: str | None = None):
        super().__init__(
            message or f"no session matches '{prefix}'",
            hint=hint or "List the saved sessions: claude-max sessions",
        )
        self.prefix = prefix


class AmbiguousSession(ClaudeMaxError):
    status = 409
    kind = "invalid_request_error"

    def __init__(self, prefix: str, matches: list[str], *, total: int | None = None) -> None:
        total = len(matches) if total is None else total
        shown = distinct_short_ids(matches)
        listed = ", ".join(shown[:5])
        if total > 5:
            listed += f" and {total - 5} more"
        super().__init__(
            f"'{prefix}' matches {total} sessions: {listed}",
            hint="Give more characters of the id.",
        )
        self.prefix = prefix
        self.matches = matches  # full ids, newest first (at most 10)


class SessionBusy(ClaudeMaxError):
    status = 409
    kind = "invalid_request_error"

    def __init__(self, id: str) -> None:
        super().__init__(
            f"Session {short_id(id)} is busy: another request or chat is answering a turn in it.",
            hint="Retry when that answer has finished, or continue in a new session "
            "(a request without X-Session-Id, a chat without -r/-c)",
        )
        self.id = id


class StoreUnreadable(ClaudeMaxError):
    """sessions.db is not a database SQLite can read (corrupt, truncated, another file)."""

    status = 503
    kind = "api_error"

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(
            f"the session store {path} cannot be read ({reason})",
            hint="Run: claude-max sessions repair  (moves it aside, keeps it, starts a new one)",
        )
        self.path = path
        self.reason = reason


class SessionExists(ClaudeMaxError):
    status = 409
    kind = "invalid_request_error"

    def __init__(self, id: str) -> None:
        super().__init__(f"Session {short_id(id)} already exists.")
        self.id = id


# -- the server


class ServerBusy(ClaudeMaxError):
    """Past the concurrency limit and its queue."""

    status = 429
    kind = "rate_limit_error"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"claude-max is busy: {limit} requests are running and the queue is full.",
            hint="Retry shortly, or start the server with a higher --max-concurrency",
        )
        self.retry_after = 1.0


class Refused(ClaudeMaxError):
    """A request the guard turns away (key, Host, Origin), with its own status."""

    def __init__(self, status: int, kind: str, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.kind = kind


class CannotListen(ClaudeMaxError):
    """`serve` cannot take its address: in use, not allowed, or unsafe without a key."""

    def __init__(self, message: str, *, hint: str | None = None, cause: OSError | None = None):
        super().__init__(message, hint=hint)
        self.cause = cause


class ResponseNotFound(ClaudeMaxError):
    """A Responses API response id that is not (or no longer) stored."""

    status = 404
    kind = "not_found_error"

    def __init__(self, response_id: str, *, param: str | None = None) -> None:
        super().__init__(f"Response with id '{response_id}' not found.")
        self.param = param


class PlanLimitReached(UpstreamError):
    """The subscription's plan refused the request: a window is used up until its reset."""

    def __init__(self, message: str, *, retry_after: float | None, window: str | None) -> None:
        super().__init__(
            message,
            status=429,
            kind="rate_limit_error",
            retry_after=retry_after,
            hint="Wait for the reset, or turn on extra usage at claude.ai/settings/usage",
        )
        self.window = window


THIRD_PARTY_MARKERS = ("third-party apps", "out of extra usage")


class ThirdPartyBilled(UpstreamError):
    """Anthropic classed the request as another app's (CLI.md §12): it draws from extra usage,
    and there is none to draw from."""

    def __init__(self, upstream_message: str) -> None:
        super().__init__(
            "Anthropic billed this request as a third-party app, which draws from your extra "
            "usage instead of your plan limits, and it was refused "
            f"(upstream: {upstream_message.strip()}). The client's own system prompt is the "
            "usual trigger: Anthropic recognises other harnesses by it.",
            status=400,
            kind="invalid_request_error",
            hint="Send the request without the client's harness system prompt, or add extra "
            "usage at claude.ai/settings/usage (see the README: 'Third-party apps' errors)",
        )


class LoopDetected(ClaudeMaxError):
    """A CLI that claude-max started sent its request to claude-max (CLI.md §12 marker)."""

    status = 508
    kind = "api_error"
