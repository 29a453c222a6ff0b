"""Who may use the server: API key, Host (DNS rebinding) and Origin (drive-by) checks, CORS.

A pure ASGI middleware, so it adds no buffering to streams. Refusals are errors in the
caller's protocol, like every other error.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from claude_max.core import billing
from claude_max.core.errors import Refused
from claude_max.core.settings import Settings
from claude_max.server.errors import error_body

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
PUBLIC_PATHS = {"/health"}
# Pages a browser opens: a 401 there asks for the key with the browser's own login prompt
# (HTTP Basic, any user name, the key as password); the page's fetches then carry it.
BROWSER_PATHS = {"/", "/dashboard"}
CORS_HEADERS = (
    "authorization, content-type, x-api-key, anthropic-version, anthropic-beta, x-session-id"
)


def _host_name(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def _basic_password(credentials: str) -> str | None:
    """The password of HTTP Basic credentials (base64 of `user:password`)."""
    import base64
    import binascii

    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2] if ":" in decoded else None


class Guard:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.keys = [(label, key.encode()) for label, key in settings.all_keys()]
        self.origins = set(settings.cors_origins)
        self.any_host = is_wildcard(settings.host)
        self.hosts = LOOPBACK_NAMES | {settings.host.lower().strip("[]")}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        origin = headers.get("origin")
        try:
            self._check_host(headers)
            self._check_origin(origin)
            if scope["method"] == "OPTIONS" and origin:
                await self._preflight(send, origin)
                return
            if billing.LOOP_HEADER in headers:
                # The CLI shows a 4xx's message; a 5xx it would retry and hide.
                raise Refused(400, "invalid_request_error", billing.LOOP_MESSAGE)
            label = self._key_label(headers)
            if label is None and scope["path"] not in PUBLIC_PATHS:
                raise Refused(
                    401,
                    "authentication_error",
                    "Invalid or missing API key.",
                    hint="Send it as 'Authorization: Bearer <key>' or 'x-api-key: <key>'",
                )
            # Which key called ("" without keys): sessions are scoped by it, and /health
            # shows more to a caller with a key.
            scope.setdefault("state", {})["key_label"] = label
        except Refused as exc:
            await self._refuse(scope, headers, send, exc, origin)
            return
        if origin:
            send = self._with_cors(send, origin)
        await self.app(scope, receive, send)

    def _check_host(self, headers: dict[str, str]) -> None:
        if self.any_host:
            return
        host = _host_name(headers.get("host", ""))
        if host not in self.hosts:
            raise Refused(
                403,
                "permission_error",
                f"Host '{headers.get('host', '')}' is not allowed (DNS rebinding protection).",
            )

    def _check_origin(self, origin: str | None) -> None:
        if origin is not None and origin not in self.origins and "*" not in self.origins:
            raise Refused(
                403,
                "permission_error",
                f"Browser requests from origin '{origin}' are not allowed.",
                hint="Allow it with --cors-origin",
            )

    def _key_label(self, headers: dict[str, str]) -> str | None:
        """The label of the key the request carries; "" when no keys are set; None when it
        carries none of them. Every key is compared, in constant time."""
        if not self.keys:
            return ""
        given = headers.get("x-api-key")
        auth = headers.get("authorization", "")
        if given is None and auth[:7].lower() == "bearer ":
            given = auth[7:].strip()
        if given is None and auth[:6].lower() == "basic ":
            given = _basic_password(auth[6:].strip())
        if given is None:
            return None
        raw = given.encode("latin-1")
        found = None
        for label, key in self.keys:
            if hmac.compare_digest(raw, key) and found is None:
                found = label
        return found

    async def _preflight(self, send: Send, origin: str) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [
                    (b"access-control-allow-origin", origin.encode("latin-1")),
                    (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
                    (b"access-control-allow-headers", CORS_HEADERS.encode()),
                    (b"access-control-max-age", b"600"),
                    (b"vary", b"Origin"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    def _with_cors(self, send: Send, origin: str) -> Send:
        async def cors_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"access-control-allow-origin", origin.encode("latin-1")),
                    (
                        b"access-control-expose-headers",
                        b"x-claude-max-cost-usd, x-session-id, x-request-id, retry-after",
                    ),
                    (b"vary", b"Origin"),
                ]
            await send(message)

        return cors_send

    async def _refuse(
        self, scope: Scope, headers: dict[str, str], send: Send, exc: Refused, origin: str | None
    ) -> None:
        scope.setdefault("state", {})["error_reason"] = exc.message
        body = error_body(scope["path"], headers, exc)
        extra = (
            [(b"access-control-allow-origin", origin.encode("latin-1"))]
            if (origin and origin in self.origins)
            else []
        )
        if exc.status == 401 and scope["path"] in BROWSER_PATHS:
            extra.append((b"www-authenticate", b'Basic realm="claude-max", charset="UTF-8"'))
        await send(
            {
                "type": "http.response.start",
                "status": exc.status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"x-should-retry", b"false"),  # the CLI retries 4xx otherwise (CLI.md §5)
                    *extra,
                ],
            }
        )
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})
