"""A fake Anthropic Messages API on loopback, for driving the real Claude Code CLI in tests.

Stdlib only. Start it, point the CLI at it with :func:`cli_env`, and script its answers::

    with FakeUpstream({"default": {"type": "echo", "prefix": "ECHO:"}}) as fake:
        env = cli_env(fake.url, tmp_path)
        subprocess.run([claude, "-p", "hi", ...], env=env, stdin=subprocess.DEVNULL, timeout=30)
        assert fake.message_requests()[0]["tools"] == []

Script language (the one used to record ``/work/shared/claude-cli/transcripts``)::

    {"default": reply,
     "rules": [{"when": cond, "reply": reply}, ...],
     "replies": [reply (+ "times": n, default 1), ...]}

For every ``POST /v1/messages`` the reply is the head of the ``replies`` queue (each entry is
used ``times`` times, then dropped), else the ``reply`` of the first rule whose ``when`` holds
(all given keys must hold), else ``default``.

Conditions: ``contains`` (substring of the last user message's text), ``last_is_tool_result``
(bool), ``model_contains``, ``tool_named`` (a tool of that name is in ``tools``), ``stream``
(bool), ``system_contains`` (substring of the joined system text).

Replies (``type``):

- ``echo``: text = ``prefix`` (default "") + the last user message's text.
- ``text``: ``text`` (default "ok").
- ``thinking``: a thinking block (``thinking``; ``thinking_delta`` chunks, then a
  ``signature_delta`` "fake-signature"), then a text block (``text``, default "ok").
- ``tool_use``: optional ``text`` block, then a tool_use block (``name``, ``input``, optional
  ``id``), or one per entry of ``calls`` (a list of such objects: parallel calls), input
  streamed as ``input_json_delta``; stop_reason ``tool_use``.
- ``web_search``: what the API answers a request carrying its ``web_search_2025xxxx`` server
  tool (Anthropic's web search docs): a ``server_tool_use`` block (name ``web_search``, input
  ``{"query": ...}``; ``query`` defaults to the last user text), a ``web_search_tool_result``
  block whose content is one ``web_search_result`` per entry of ``results`` (``url``, ``title``,
  optional ``page_age``; ``encrypted_content`` is made up), then ``text`` (default "Found it.")
  in a text block citing the first result (a ``web_search_result_location`` citation; streamed
  as a ``citations_delta``); ``usage.server_tool_use.web_search_requests`` is 1. Results outside
  the request's ``allowed_domains`` or inside its ``blocked_domains`` are left out, as the API
  does.
- ``error``: HTTP ``status`` (default 500) with ``{"type":"error","error":{"type":..,
  "message":..}}``; ``error_type`` defaults by status, ``message`` defaults to the error type,
  ``headers`` are extra response headers (e.g. ``{"x-should-retry": "false"}``).
- ``hang``: read the request, never answer (until :meth:`FakeUpstream.stop`).

Options of the content replies (echo, text, thinking, tool_use): ``chunks`` (deltas per block,
default 1), ``delay_ms`` (between deltas), ``stop_reason`` (default ``end_turn``, ``tool_use``
for tool_use), ``usage`` (any of ``input_tokens``, ``output_tokens``,
``cache_read_input_tokens``, ``cache_creation_input_tokens``: sent exactly; ``message_start``
carries the input and cache fields, ``message_delta`` the output tokens), ``sse_error``
(``{"after_deltas": n}``: after n deltas an SSE ``error`` event (overloaded_error; ``error_type``
and ``message`` may override) ends the stream), ``model`` (reported model; default the request's).
Any reply may carry ``initial_delay_ms`` (wait before answering at all) and ``headers`` (extra
response headers; :func:`plan_headers` builds the subscription plan's, CLI.md §12).

"The last user message's text": the last ``messages`` entry with role ``user`` (``system`` role
entries, which the CLI inserts, are skipped); its string content, or its ``text`` blocks joined
with "\\n". Text injected by the CLI is left out: ``<system-reminder>`` blocks, the
``<local-command-…>``/``<command-name>`` blocks of a ``/clear`` and the ``[Image: source: …]``
note. (The fake that recorded the transcripts echoed only the last text block.)

Beyond the basic interface: ``FakeUpstream(script, port=N)``, ``.port``,
``.wait_for_requests(n, timeout)``, ``.verbose`` (request lines to stderr) and ``.keep_requests``
(False: log nothing, for long benchmark runs).

Run standalone (``--script`` takes JSON or ``@file``)::

    python tests/fakes/upstream.py --port 8765 --script '{"default":{"type":"echo"}}'

It prints its URL on the first stdout line and serves until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import select
import signal
import socket
import socketserver
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["DEFAULT_SCRIPT", "FakeUpstream", "cli_env", "last_user_text", "plan_headers"]

DEFAULT_SCRIPT: dict[str, Any] = {"default": {"type": "echo"}}

ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}

REPLY_TYPES = frozenset({"echo", "text", "thinking", "tool_use", "web_search", "error", "hang"})
DEFAULT_SEARCH_RESULTS: list[dict[str, Any]] = [
    {"url": "https://example.com/news", "title": "Example News", "page_age": "2 days ago"},
    {"url": "https://docs.example.org/guide", "title": "The Guide"},
]
CONDITION_KEYS = frozenset(
    {"contains", "last_is_tool_result", "model_contains", "tool_named", "stream", "system_contains"}
)
SIGNATURE = "fake-signature"

# Text blocks the CLI adds to user messages by itself; not part of "the user's text".
_INJECTED_PREFIXES = (
    "<system-reminder>",
    "<local-command-caveat>",
    "<command-name>",
    "<local-command-stdout>",
    "<local-command-stderr>",
    "[Image: source: ",
)


# --------------------------------------------------------------------------- script handling


def _validate_reply(reply: Any, where: str) -> None:
    if not isinstance(reply, dict):
        raise ValueError(f"{where}: a reply must be an object, got {reply!r}")
    kind = reply.get("type")
    if kind not in REPLY_TYPES:
        raise ValueError(f"{where}: unknown reply type {kind!r} (known: {sorted(REPLY_TYPES)})")
    if kind == "tool_use":
        calls = reply.get("calls")
        if calls is not None and not (
            isinstance(calls, list) and calls and all(isinstance(c, dict) for c in calls)
        ):
            raise ValueError(f"{where}: 'calls' must be a non-empty list of objects")
        if not all(isinstance(c.get("name"), str) for c in calls or [reply]):
            raise ValueError(f"{where}: a tool_use reply needs a 'name' (in each of 'calls')")
    chunks = reply.get("chunks", 1)
    if not isinstance(chunks, int) or chunks < 1:
        raise ValueError(f"{where}: 'chunks' must be an int >= 1")
    usage = reply.get("usage")
    if usage is not None and not isinstance(usage, dict):
        raise ValueError(f"{where}: 'usage' must be an object")


def _validate_script(script: Any) -> dict[str, Any]:
    if not isinstance(script, dict):
        raise ValueError(f"a script must be an object, got {script!r}")
    unknown = set(script) - {"default", "rules", "replies"}
    if unknown:
        raise ValueError(f"unknown script keys: {sorted(unknown)}")
    script = copy.deepcopy(script)
    script.setdefault("default", {"type": "echo"})
    _validate_reply(script["default"], "default")
    for i, rule in enumerate(script.setdefault("rules", [])):
        if not isinstance(rule, dict) or not isinstance(rule.get("when", {}), dict):
            raise ValueError(f"rules[{i}] must be {{'when': {{...}}, 'reply': {{...}}}}")
        bad = set(rule.get("when", {})) - CONDITION_KEYS
        if bad:
            raise ValueError(f"rules[{i}]: unknown conditions {sorted(bad)}")
        _validate_reply(rule.get("reply"), f"rules[{i}].reply")
    for i, reply in enumerate(script.setdefault("replies", [])):
        _validate_reply(reply, f"replies[{i}]")
        times = reply.get("times", 1)
        if not isinstance(times, int) or times < 1:
            raise ValueError(f"replies[{i}]: 'times' must be an int >= 1")
    return script


def _block_text(block: Any) -> str | None:
    if isinstance(block, str):
        return block
    if (
        isinstance(block, dict)
        and block.get("type") == "text"
        and isinstance(block.get("text"), str)
    ):
        return block["text"]
    return None


def _last_user_message(body: dict[str, Any]) -> dict[str, Any] | None:
    messages = body.get("messages")
    if not isinstance(messages, list):
        return None
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return message
    return None


def last_user_text(body: dict[str, Any]) -> str:
    """The text of the last user message, without the text the CLI injects (see module doc)."""
    message = _last_user_message(body)
    if message is None:
        return ""
    content = message.get("content")
    blocks = content if isinstance(content, list) else [content]
    texts = [t for t in map(_block_text, blocks) if t is not None]
    return "\n".join(t for t in texts if not t.lstrip().startswith(_INJECTED_PREFIXES))


def last_is_tool_result(body: dict[str, Any]) -> bool:
    message = _last_user_message(body)
    if message is None or not isinstance(message.get("content"), list):
        return False
    return any(isinstance(b, dict) and b.get("type") == "tool_result" for b in message["content"])


def system_text(body: dict[str, Any]) -> str:
    system = body.get("system")
    if isinstance(system, str):
        return system
    if isinstance(system, list):
        return "\n".join(t for t in map(_block_text, system) if t is not None)
    return ""


def _tool_names(body: dict[str, Any]) -> list[str]:
    tools = body.get("tools")
    if not isinstance(tools, list):
        return []
    return [t["name"] for t in tools if isinstance(t, dict) and isinstance(t.get("name"), str)]


def _matches(when: dict[str, Any], body: dict[str, Any]) -> bool:
    for key, want in when.items():
        if key == "contains":
            ok = str(want) in last_user_text(body)
        elif key == "last_is_tool_result":
            ok = last_is_tool_result(body) == bool(want)
        elif key == "model_contains":
            ok = str(want) in str(body.get("model", ""))
        elif key == "tool_named":
            ok = want in _tool_names(body)
        elif key == "stream":
            ok = (body.get("stream") is True) == bool(want)
        elif key == "system_contains":
            ok = str(want) in system_text(body)
        else:  # pragma: no cover - rejected by _validate_script
            ok = False
        if not ok:
            return False
    return True


def _split(text: str, chunks: int) -> list[str]:
    """``chunks`` nearly equal pieces, longer ones first ("Hello world, streaming!" / 3 ->
    "Hello wo", "rld, str", "eaming!"); fewer if the text is shorter; none if empty."""
    if not text:
        return []
    n = min(chunks, len(text))
    size, extra = divmod(len(text), n)
    out, pos = [], 0
    for i in range(n):
        step = size + (1 if i < extra else 0)
        out.append(text[pos : pos + step])
        pos += step
    return out


def _hex(n: int) -> str:
    return uuid.uuid4().hex[:n]


# --------------------------------------------------------------------------- reply rendering


class _Plan:
    """A content reply resolved against one request: blocks, usage, stop reason."""

    def __init__(self, reply: dict[str, Any], body: dict[str, Any], body_bytes: int) -> None:
        kind = reply["type"]
        self.blocks: list[dict[str, Any]] = []
        if kind == "echo":
            self.blocks.append(
                {"type": "text", "text": str(reply.get("prefix", "")) + last_user_text(body)}
            )
        elif kind == "text":
            self.blocks.append({"type": "text", "text": str(reply.get("text", "ok"))})
        elif kind == "thinking":
            thinking = str(reply.get("thinking", "Let me think about this."))
            self.blocks.append({"type": "thinking", "thinking": thinking, "signature": SIGNATURE})
            self.blocks.append({"type": "text", "text": str(reply.get("text", "ok"))})
        elif kind == "tool_use":
            if reply.get("text"):
                self.blocks.append({"type": "text", "text": str(reply["text"])})
            for call in reply.get("calls") or [reply]:
                self.blocks.append(
                    {
                        "type": "tool_use",
                        "id": str(call.get("id") or f"toolu_{_hex(24)}"),
                        "name": call["name"],
                        "input": call.get("input", {}),
                    }
                )
        elif kind == "web_search":
            self._web_search(reply, body)
        self.chunks: int = reply.get("chunks", 1)
        self.delay = float(reply.get("delay_ms", 0)) / 1000
        default_stop = "tool_use" if kind == "tool_use" else "end_turn"
        self.stop_reason: str = reply.get("stop_reason", default_stop)
        self.model = str(reply.get("model") or body.get("model") or "claude-fake")
        self.message_id = f"msg_fake_{_hex(20)}"
        out_chars = sum(len(self._payload(b)) for b in self.blocks)
        usage: dict[str, Any] = {
            "input_tokens": max(1, body_bytes // 4),
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": max(1, (out_chars + 3) // 4),
        }
        if kind == "web_search":
            usage["server_tool_use"] = {"web_search_requests": 1, "web_fetch_requests": 0}
        usage.update(reply.get("usage") or {})
        self.usage = usage
        sse_error = reply.get("sse_error")
        self.sse_error: dict[str, Any] | None = sse_error if isinstance(sse_error, dict) else None

    def _web_search(self, reply: dict[str, Any], body: dict[str, Any]) -> None:
        tool = next(
            (
                t
                for t in body.get("tools") or []
                if isinstance(t, dict) and str(t.get("type", "")).startswith("web_search_")
            ),
            {},
        )
        allowed = tool.get("allowed_domains") or []
        blocked = tool.get("blocked_domains") or []

        def keep(url: str) -> bool:
            host = url.split("://", 1)[-1].split("/", 1)[0]

            def within(domain: str) -> bool:
                return host == domain or host.endswith("." + domain)

            if allowed and not any(within(d) for d in allowed):
                return False
            return not any(within(d) for d in blocked)

        call_id = f"srvtoolu_{_hex(24)}"
        query = str(reply.get("query") or last_user_text(body) or "news")
        results = [
            {
                "type": "web_search_result",
                "url": r["url"],
                "title": r["title"],
                "encrypted_content": f"enc_{_hex(16)}",
                **({"page_age": r["page_age"]} if r.get("page_age") else {}),
            }
            for r in reply.get("results") or DEFAULT_SEARCH_RESULTS
            if keep(r["url"])
        ]
        self.blocks.append(
            {
                "type": "server_tool_use",
                "id": call_id,
                "name": "web_search",
                "input": {"query": query},
            }
        )
        self.blocks.append(
            {"type": "web_search_tool_result", "tool_use_id": call_id, "content": results}
        )
        text: dict[str, Any] = {"type": "text", "text": str(reply.get("text", "Found it."))}
        if results:
            text["citations"] = [
                {
                    "type": "web_search_result_location",
                    "url": results[0]["url"],
                    "title": results[0]["title"],
                    "encrypted_index": f"idx_{_hex(16)}",
                    "cited_text": "A sentence from the first result.",
                }
            ]
        self.blocks.append(text)

    @staticmethod
    def _payload(block: dict[str, Any]) -> str:
        if block["type"] == "thinking":
            return block["thinking"]
        if block["type"] in ("tool_use", "server_tool_use"):
            return json.dumps(block["input"])
        if block["type"] == "web_search_tool_result":
            return ""
        return block["text"]

    def message(self) -> dict[str, Any]:
        return {
            "id": self.message_id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": copy.deepcopy(self.blocks),
            "stop_reason": self.stop_reason,
            "stop_sequence": None,
            "usage": dict(self.usage),
        }

    def events(self) -> Iterator[tuple[str, dict[str, Any]] | float]:
        """SSE events in order; a float means "wait this many seconds"."""
        start_usage = {k: v for k, v in self.usage.items() if k != "output_tokens"}
        start_usage["output_tokens"] = 1
        yield (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": self.message_id,
                    "type": "message",
                    "role": "assistant",
                    "model": self.model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": start_usage,
                },
            },
        )
        yield "ping", {"type": "ping"}
        deltas = 0
        for index, block in enumerate(self.blocks):
            kind = block["type"]
            if kind == "text":
                start: dict[str, Any] = {"type": "text", "text": ""}
                pieces = [
                    {"type": "citations_delta", "citation": c} for c in block.get("citations", [])
                ]
                pieces += [
                    {"type": "text_delta", "text": p} for p in _split(block["text"], self.chunks)
                ]
                if "citations" in block:
                    start["citations"] = []
            elif kind == "thinking":
                start = {"type": "thinking", "thinking": "", "signature": ""}
                pieces = [
                    {"type": "thinking_delta", "thinking": p}
                    for p in _split(block["thinking"], self.chunks)
                ]
                pieces.append({"type": "signature_delta", "signature": block["signature"]})
            elif kind == "web_search_tool_result":
                start, pieces = copy.deepcopy(block), []
            else:
                start = {"type": kind, "id": block["id"], "name": block["name"], "input": {}}
                pieces = [
                    {"type": "input_json_delta", "partial_json": p}
                    for p in _split(json.dumps(block["input"]), self.chunks)
                ]
            yield (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": start,
                },
            )
            for delta in pieces:
                if self._error_due(deltas):
                    yield self._error_event()
                    return
                if deltas and self.delay:
                    yield self.delay
                yield (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": delta,
                    },
                )
                deltas += 1
            yield "content_block_stop", {"type": "content_block_stop", "index": index}
        if self.sse_error is not None:  # fewer deltas than after_deltas: fail at the end
            yield self._error_event()
            return
        yield (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": self.stop_reason, "stop_sequence": None},
                "usage": {
                    k: v for k, v in self.usage.items() if k in ("output_tokens", "server_tool_use")
                },
            },
        )
        yield "message_stop", {"type": "message_stop"}

    def _error_due(self, deltas_sent: int) -> bool:
        return self.sse_error is not None and deltas_sent >= int(
            self.sse_error.get("after_deltas", 0)
        )

    def _error_event(self) -> tuple[str, dict[str, Any]]:
        assert self.sse_error is not None
        return "error", {
            "type": "error",
            "error": {
                "type": self.sse_error.get("error_type", "overloaded_error"),
                "message": self.sse_error.get("message", "Overloaded"),
            },
        }

    def delta_count(self) -> int:
        n = 0
        for block in self.blocks:
            n += max(1, len(_split(self._payload(block), self.chunks)))
        return n


# --------------------------------------------------------------------------- HTTP plumbing


class _Headers(dict):  # type: ignore[type-arg]
    """A plain dict of request headers (keys lower-cased) that also answers any-case lookups."""

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key.lower() if isinstance(key, str) else key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() joins the handler threads itself, with a deadline
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], fake: FakeUpstream) -> None:
        self.fake = fake
        self.live_sockets: set[socket.socket] = set()
        self.live_threads: set[threading.Thread] = set()
        self.track_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup: skip it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"fake-upstream-{client_address[1] if client_address else '?'}",
            daemon=True,
        )
        with self.track_lock:
            self.live_sockets.add(request)
            self.live_threads.add(thread)
        thread.start()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.track_lock:
                self.live_sockets.discard(request)
                self.live_threads.discard(threading.current_thread())

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)) or self.fake.stopping.is_set():
            return
        if isinstance(exc, OSError):
            return
        sys.stderr.write(f"fake upstream: error while handling {client_address}:\n")
        traceback.print_exc(file=sys.stderr)


class _ClientGone(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-anthropic/1.0"
    sys_version = ""
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.fake.verbose:
            sys.stderr.write(f"fake upstream: {format % args}\n")

    # BaseHTTPRequestHandler dispatches on do_<METHOD>; route every method through one place.
    def handle_one_request(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.requestline = self.request_version = self.command = ""
                self.send_error(414)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self._dispatch()
            self.wfile.flush()
        except (_ClientGone, OSError):
            # Broken pipe, reset, socket shut down by stop(): nobody to answer.
            self.close_connection = True
        except Exception as exc:  # a bug here or a malformed request: answer, don't die
            self.close_connection = True
            if not self.server.fake.stopping.is_set():
                traceback.print_exc(file=sys.stderr)
            try:
                self._send_error_json(500, "api_error", f"fake upstream failed: {exc!r}")
            except Exception:
                pass

    # -- helpers

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise _ClientGone
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("request-id", f"req_fake_{_hex(20)}")
        for name, value in (headers or {}).items():
            self.send_header(str(name), str(value))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_error_json(
        self, status: int, error_type: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        self._send_json(
            status, {"type": "error", "error": {"type": error_type, "message": message}}, headers
        )

    def _wait(self, seconds: float) -> None:
        if seconds > 0 and self.server.fake.stopping.wait(seconds):
            raise _ClientGone  # shutting down

    def _hang(self) -> None:
        """Never answer; return (by raising _ClientGone) on stop() or when the client leaves."""
        while not self.server.fake.stopping.wait(0.05):
            readable, _, _ = select.select([self.connection], [], [], 0)
            if readable:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        break
                except OSError:
                    break
        raise _ClientGone

    # -- routing

    def _dispatch(self) -> None:
        fake = self.server.fake
        if self.command == "CONNECT":
            fake._log(self.command, self.path, self.headers, None)
            self.close_connection = True
            self._send_error_json(405, "invalid_request_error", "CONNECT is not supported")
            return
        raw = self._read_body()
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        fake._log(self.command, self.path, self.headers, body)
        route = self.path.split("?", 1)[0].rstrip("/")
        if route == "/v1/messages":
            if self.command != "POST":
                self._send_error_json(405, "invalid_request_error", f"{self.command} not allowed")
            elif not isinstance(body, dict):
                self._send_error_json(400, "invalid_request_error", "body must be a JSON object")
            else:
                self._messages(body, len(raw))
        elif route == "/v1/messages/count_tokens":
            if self.command != "POST":
                self._send_error_json(405, "invalid_request_error", f"{self.command} not allowed")
            else:
                self._send_json(200, {"input_tokens": max(1, len(raw) // 4)})
        else:
            self._send_error_json(404, "not_found_error", f"Not found: {self.command} {self.path}")

    def _messages(self, body: dict[str, Any], body_bytes: int) -> None:
        fake = self.server.fake
        reply = fake._next_reply(body)
        self._wait(float(reply.get("initial_delay_ms", 0)) / 1000)
        kind = reply["type"]
        if kind == "hang":
            self._hang()
        if kind == "error":
            status = int(reply.get("status", 500))
            error_type = str(reply.get("error_type") or ERROR_TYPES.get(status, "api_error"))
            message = str(reply.get("message", error_type))
            self._send_error_json(status, error_type, message, reply.get("headers"))
            return
        plan = _Plan(reply, body, body_bytes)
        headers = reply.get("headers") or {}
        if body.get("stream") is not True:
            self._wait(plan.delay * max(0, plan.delta_count() - 1))
            self._send_json(200, plan.message(), headers)
            return
        self._stream(plan, headers)

    def _stream(self, plan: _Plan, headers: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("request-id", f"req_fake_{_hex(20)}")
        for name, value in headers.items():
            self.send_header(str(name), str(value))
        self.end_headers()
        for item in plan.events():
            if isinstance(item, float):
                self._wait(item)
                continue
            name, data = item
            self._chunk(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            if name == "error":
                self.close_connection = True
                break
        self.wfile.write(b"0\r\n\r\n")

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


# --------------------------------------------------------------------------- public API


class FakeUpstream:
    """A scripted fake of the Anthropic Messages API on ``127.0.0.1`` (see the module doc)."""

    def __init__(self, script: dict[str, Any] | None = None, *, port: int = 0) -> None:
        self._lock = threading.Lock()
        self._script: dict[str, Any] = _validate_script(DEFAULT_SCRIPT)
        self._queue: list[list[Any]] = []  # [reply, uses left]
        self._requests: list[dict[str, Any]] = []
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._arrived = threading.Condition(self._lock)
        self.stopping = threading.Event()
        self.verbose = False  # log each request line to stderr
        self.keep_requests = True  # False: log nothing (long benchmark runs)
        self.set_script(script if script is not None else DEFAULT_SCRIPT)

    # -- lifecycle

    def start(self) -> FakeUpstream:
        if self._server is not None:
            raise RuntimeError("FakeUpstream already started")
        self.stopping.clear()
        server = _Server(("127.0.0.1", self._port), self)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name="fake-upstream-accept",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self.stopping.set()  # wakes hanging and delayed replies
        server.shutdown()  # no new connections after this returns
        if thread is not None:
            thread.join(timeout=5)
        with server.track_lock:
            sockets = list(server.live_sockets)
            threads = list(server.live_threads)
        for sock in sockets:  # unblock handlers waiting on keep-alive reads or slow writes
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + 5
        for t in threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))
        server.server_close()
        self._server = self._thread = None

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeUpstream not started")
        return self._server.server_port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- script

    def set_script(self, script: dict[str, Any]) -> None:
        """Replace the script; the ``replies`` queue starts over."""
        checked = _validate_script(script)
        with self._lock:
            self._script = checked
            self._queue = [[r, r.get("times", 1)] for r in checked["replies"]]

    def _next_reply(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if self._queue:
                entry = self._queue[0]
                entry[1] -= 1
                if entry[1] <= 0:
                    self._queue.pop(0)
                return dict(entry[0])
            for rule in self._script["rules"]:
                if _matches(rule.get("when", {}), body):
                    return dict(rule["reply"])
            return dict(self._script["default"])

    # -- request log

    def _log(self, method: str, path: str, headers: Any, body: Any) -> None:
        hdrs = _Headers()
        for name, value in headers.items():
            key = name.lower()
            hdrs[key] = f"{hdrs[key]}, {value}" if key in hdrs else value
        entry = {"method": method, "path": path, "headers": hdrs, "body": body}
        with self._arrived:
            if self.keep_requests:
                self._requests.append(entry)
            self._arrived.notify_all()

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every request received, in order: ``{"method", "path", "headers", "body"}``.

        ``headers`` is a dict with lower-cased keys (lookups in any case work); ``body`` is the
        parsed JSON or None. A snapshot: later requests do not appear in it."""
        with self._lock:
            return list(self._requests)

    def message_requests(self) -> list[dict[str, Any]]:
        """Bodies of the model calls (``POST /v1/messages``, any query string), in order.

        ``/v1/messages/count_tokens`` calls are not included."""
        return [
            r["body"]
            for r in self.requests
            if r["method"] == "POST" and r["path"].split("?", 1)[0].rstrip("/") == "/v1/messages"
        ]

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> bool:
        """Block until at least ``count`` requests were logged; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self._requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._arrived.wait(left)
            return True

    def clear(self) -> None:
        """Forget the logged requests (the script and its queue are kept)."""
        with self._lock:
            self._requests.clear()


def cli_env(upstream_url: str, home: Path | str, **extra: str) -> dict[str, str]:
    """The CLI.md §0 environment for running the real CLI against ``upstream_url``.

    A fresh ``HOME`` (``home``), ``CLAUDE_CONFIG_DIR`` (``home/.claude``) and ``TMPDIR``
    (``home/tmp``, where the CLI leaves its probes and saved images), key ``sk-fake`` (and
    ``CLAUDE_MAX_PASS_API_ENV=1``, so that a claude-max run in it passes them on), proxies
    pointing at the fake, ``CLAUDE_CODE_MAX_RETRIES=0``, and ``PATH`` = the directory of
    ``sys.executable`` + ``/usr/bin:/bin``; then ``extra`` (which wins)."""
    home = Path(home)
    tmpdir = home / "tmp"
    tmpdir.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/bin", "/bin"]),
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(home / ".claude"),
        "TMPDIR": str(tmpdir),
        "ANTHROPIC_BASE_URL": upstream_url,
        "ANTHROPIC_API_KEY": "sk-fake",
        "CLAUDE_MAX_PASS_API_ENV": "1",  # claude-max passes the two above on only when asked
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
        "CLAUDE_CODE_MAX_RETRIES": "0",
        "HTTPS_PROXY": upstream_url,
        "HTTP_PROXY": upstream_url,
        "NO_PROXY": "127.0.0.1,localhost",
    }
    env.update(extra)
    return env


def plan_headers(
    status: str = "allowed",
    *,
    window: str = "five_hour",
    five_hour: float = 0.42,
    five_hour_reset: int = 1796000000,
    seven_day: float = 0.18,
    seven_day_reset: int = 1796400000,
    overage_status: str = "allowed",
    overage_in_use: bool = False,
    overage_disabled_reason: str | None = None,
) -> dict[str, str]:
    """The ``anthropic-ratelimit-unified-*`` headers of a subscription's response (CLI.md §12);
    the CLI reads them only in subscription mode (``CLAUDE_CODE_OAUTH_TOKEN``)."""
    p = "anthropic-ratelimit-unified-"
    five_status = "rejected" if status == "rejected" and window == "five_hour" else "allowed"
    seven_status = "rejected" if status == "rejected" and window == "seven_day" else "allowed"
    out = {
        f"{p}status": status,
        f"{p}reset": str(five_hour_reset if window == "five_hour" else seven_day_reset),
        f"{p}representative-claim": window,
        f"{p}5h-status": five_status,
        f"{p}5h-utilization": str(five_hour),
        f"{p}5h-reset": str(five_hour_reset),
        f"{p}7d-status": seven_status,
        f"{p}7d-utilization": str(seven_day),
        f"{p}7d-reset": str(seven_day_reset),
        f"{p}overage-status": overage_status,
        f"{p}overage-in-use": "true" if overage_in_use else "false",
    }
    if overage_disabled_reason:
        out[f"{p}overage-disabled-reason"] = overage_disabled_reason
    return out


# --------------------------------------------------------------------------- standalone


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fake Anthropic Messages API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument(
        "--script",
        default=json.dumps(DEFAULT_SCRIPT),
        help="script as JSON, or @path to a JSON file",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log requests to stderr")
    args = parser.parse_args(argv)
    text = Path(args.script[1:]).read_text() if args.script.startswith("@") else args.script
    fake = FakeUpstream(json.loads(text), port=args.port)
    fake.verbose = args.verbose
    fake.keep_requests = False  # nobody can read them; don't grow without bound
    done = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with fake:
        print(fake.url, flush=True)
        while not done.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
