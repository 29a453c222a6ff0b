"""The one exception tree of claude-max; each face renders it in its own way.

    ClaudeMaxError                 message + optional hint
      InvalidRequest(param)        the caller sent something we cannot run   -> 400
      RequestTooLarge              body over the configured limit            -> 413
      ModelNotFound(model)         not a model this proxy accepts            -> 404
      CLINotFound                  no `claude` executable                    -> 503
      CLIAuthError                 the CLI is not logged in / key refused    -> 401
      CLIProcessError(exit_code)   the CLI died or printed no result         -> 502
      CLITimeout                   the CLI went silent or ran too long       -> 504
      ServerShuttingDown           the server stopped mid-request            -> 503
      UpstreamError(status, kind)  Anthropic's API answered with an error    -> 429/502/529...

The HTTP face (server/errors.py) turns these into OpenAI or Anthropic error bodies;
the terminal face prints `Error: <message>` and the hint. Nothing else decides a status.
"""

from __future__ import annotations

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
        self, message: str, *, exit_code: int | None = None, stderr_tail: str = "", hint=None
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
