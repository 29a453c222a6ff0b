"""Read the CLI's `--output-format stream-json` lines into typed events.

This is the only module that knows the CLI's output format (CLI.md §2). It is a small state
machine because two facts need memory across lines:

* the CLI streams each upstream message as `stream_event` deltas and then repeats it whole in
  an `assistant` line; we yield the deltas and skip the repeat;
* when an upstream stream breaks, the CLI abandons the partial blocks (`abandoned_blocks` on
  `message_stop`) and retries without streaming, so the answer then arrives only as a whole
  `assistant` line. Text we already yielded must not be yielded twice: if the retry starts
  with it we yield the rest, otherwise a `TextReset` and the whole new text.
"""

from __future__ import annotations

import json
from typing import Any

from claude_max.core import web_search
from claude_max.core.events import (
    ControlRequest,
    Event,
    MessageEnd,
    PlanUpdate,
    Result,
    Retrying,
    SignatureDelta,
    Started,
    TextDelta,
    TextReset,
    ThinkingDelta,
    ToolInputDelta,
    ToolUse,
    ToolUseStart,
    Usage,
    WebSearchCall,
)
from claude_max.core.plan import PlanReading


def usage_from(raw: dict[str, Any] | None) -> Usage:
    raw = raw or {}
    return Usage(
        input_tokens=int(raw.get("input_tokens") or 0),
        output_tokens=int(raw.get("output_tokens") or 0),
        cache_read_input_tokens=int(raw.get("cache_read_input_tokens") or 0),
        cache_creation_input_tokens=int(raw.get("cache_creation_input_tokens") or 0),
    )


class StreamParser:
    """Feed it stdout lines in order; it returns the events each line carries."""

    def __init__(self) -> None:
        self.session_id = ""
        self.model = ""
        self._started = False
        self._streamed: set[str] = set()  # api message ids whose deltas we yielded
        self._text_by_block: dict[tuple[str, int], str] = {}
        self._tool_blocks: dict[tuple[str, int], list[str]] = {}  # id, name, input JSON so far
        self._abandoned_text = ""  # yielded text that a broken stream took back
        self._done_usage = Usage()  # usage of finished upstream messages
        self._current_usage = Usage()  # of the message being streamed
        self.text = ""  # the answer so far, as yielded
        self.plan: PlanReading | None = None  # the latest rate_limit_event of this run
        # The model that answered this turn. The result's modelUsage covers the whole session
        # (a resumed session switched to another model lists both, the first model first).
        self._turn_model = ""
        self._searches: dict[str, str] = {}  # WebSearch call id -> its query

    @property
    def usage(self) -> Usage:
        return self._done_usage + self._current_usage

    @staticmethod
    def control_response(line: bytes | str) -> dict[str, Any] | None:
        """The `response` of a control_response line (None for any other line)."""
        try:
            obj = json.loads(line)
        except ValueError:
            return None
        if isinstance(obj, dict) and obj.get("type") == "control_response":
            response = obj.get("response")
            return response if isinstance(response, dict) else None
        return None

    def feed(self, line: bytes | str) -> list[Event]:
        try:
            obj = json.loads(line)
        except ValueError:
            return []  # stray non-JSON output is not ours to interpret
        if not isinstance(obj, dict):
            return []
        return self.feed_obj(obj)

    def feed_obj(self, obj: dict[str, Any]) -> list[Event]:
        kind = obj.get("type")
        if kind == "system" and obj.get("subtype") == "init":
            self.session_id = obj.get("session_id") or self.session_id
            self.model = obj.get("model") or self.model
            if not self._started:
                self._started = True
                return [Started(self.session_id, self.model)]
            return []
        if kind == "system" and obj.get("subtype") == "api_retry":
            status = obj.get("error_status")
            return [
                Retrying(
                    attempt=int(obj.get("attempt") or 0),
                    max_retries=int(obj.get("max_retries") or 0),
                    delay_s=float(obj.get("retry_delay_ms") or 0) / 1000,
                    status=status if isinstance(status, int) else None,
                    error=str(obj.get("error") or ""),
                )
            ]
        if kind == "rate_limit_event":
            info = obj.get("rate_limit_info")
            if not isinstance(info, dict):
                return []
            reading = PlanReading.from_event(info)
            if reading is None:
                return []
            self.plan = reading
            return [PlanUpdate(reading)]
        if kind == "stream_event":
            return self._stream_event(obj.get("event") or {}, obj)
        if kind == "assistant":
            return self._assistant(obj)
        if kind == "result":
            return [self._result(obj)]
        if kind == "user":
            return self._user(obj)
        if kind == "control_request":
            request = obj.get("request")
            if isinstance(request, dict):
                return [ControlRequest(str(obj.get("request_id") or ""), request)]
        return []

    def _stream_event(self, event: dict[str, Any], line: dict[str, Any]) -> list[Event]:
        message_id: str | None = line.get("api_message_id")
        etype = event.get("type")
        if etype == "message_start":
            message = event.get("message") or {}
            self.model = message.get("model") or self.model
            self._turn_model = message.get("model") or self._turn_model
            self._current_usage = usage_from(message.get("usage"))
            return [self.usage]
        key = (message_id or "", int(event.get("index") or 0))
        if etype == "content_block_start":
            block = event.get("content_block") or {}
            if block.get("type") != "tool_use":
                return []
            if message_id:
                self._streamed.add(message_id)
            self._tool_blocks[key] = [str(block.get("id") or ""), str(block.get("name") or ""), ""]
            return [ToolUseStart(self._tool_blocks[key][0], self._tool_blocks[key][1])]
        if etype == "content_block_stop":
            tool = self._tool_blocks.pop(key, None)
            if tool is None:
                return []
            try:
                arguments = json.loads(tool[2]) if tool[2].strip() else {}
            except ValueError:
                arguments = {}
            return self._tool_use(
                ToolUse(tool[0], tool[1], arguments if isinstance(arguments, dict) else {})
            )
        if etype == "content_block_delta":
            delta = event.get("delta") or {}
            dtype = delta.get("type")
            if message_id:
                self._streamed.add(message_id)
            if dtype == "input_json_delta" and key in self._tool_blocks:
                fragment = str(delta.get("partial_json") or "")
                self._tool_blocks[key][2] += fragment
                return [ToolInputDelta(self._tool_blocks[key][0], fragment)] if fragment else []
            if dtype == "text_delta":
                text = delta.get("text") or ""
                self._text_by_block[key] = self._text_by_block.get(key, "") + text
                self.text += text
                return [TextDelta(text)] if text else []
            if dtype == "thinking_delta":
                return [ThinkingDelta(delta.get("thinking") or "")]
            if dtype == "signature_delta":
                return [SignatureDelta(delta.get("signature") or "")]
            return []
        if etype == "message_delta":
            usage = event.get("usage") or {}
            current = self._current_usage
            self._current_usage = Usage(
                input_tokens=int(usage.get("input_tokens") or current.input_tokens),
                output_tokens=int(usage.get("output_tokens") or current.output_tokens),
                cache_read_input_tokens=int(
                    usage.get("cache_read_input_tokens") or current.cache_read_input_tokens
                ),
                cache_creation_input_tokens=int(
                    usage.get("cache_creation_input_tokens") or current.cache_creation_input_tokens
                ),
            )
            stop = (event.get("delta") or {}).get("stop_reason")
            return [self.usage, MessageEnd(stop)]
        if etype == "message_stop":
            self._done_usage = self._done_usage + self._current_usage
            self._current_usage = Usage()
            abandoned = line.get("abandoned_blocks") or event.get("abandoned_blocks")
            if abandoned and message_id:
                start = int(abandoned.get("from_block_index") or 0)
                lost = "".join(
                    text
                    for (mid, index), text in sorted(self._text_by_block.items())
                    if mid == message_id and index >= start
                )
                self._abandoned_text += lost
                self._streamed.discard(message_id)
            return []
        return []

    def _assistant(self, obj: dict[str, Any]) -> list[Event]:
        if obj.get("is_api_error_message"):
            return []  # the result line carries the error
        message = obj.get("message") or {}
        if message.get("model") == "<synthetic>":
            return []
        self._turn_model = message.get("model") or self._turn_model
        if message.get("id") in self._streamed:
            return []
        events: list[Event] = []
        for block in message.get("content") or []:
            btype = block.get("type")
            if btype == "text":
                events.extend(self._unstreamed_text(block.get("text") or ""))
            elif btype == "thinking":
                events.append(ThinkingDelta(block.get("thinking") or ""))
                if block.get("signature"):
                    events.append(SignatureDelta(block["signature"]))
            elif btype == "tool_use":
                call = ToolUse(block.get("id", ""), block.get("name", ""), block.get("input") or {})
                events.extend(self._tool_use(call))
        if message.get("usage") and message.get("stop_reason"):
            # A whole (non-streamed) message: its usage is final, and it has ended.
            self._done_usage = self._done_usage + usage_from(message["usage"])
            events.extend([self.usage, MessageEnd(message["stop_reason"])])
        return events

    def _tool_use(self, call: ToolUse) -> list[Event]:
        """A whole tool call; a call of the CLI's WebSearch is also a `WebSearchCall`."""
        if call.name != web_search.TOOL:
            return [call]
        query = str(call.input.get("query") or "")
        self._searches[call.id] = query
        return [call, WebSearchCall(call.id, query)]

    def _user(self, obj: dict[str, Any]) -> list[Event]:
        """A tool result the CLI hands the model: the outcome of a WebSearch call."""
        content = (obj.get("message") or {}).get("content")
        blocks = content if isinstance(content, list) else []
        events: list[Event] = []
        for block in blocks:
            if not isinstance(block, dict) or block.get("type") != "tool_result":
                continue
            call_id = str(block.get("tool_use_id") or "")
            if call_id in self._searches:
                query = self._searches.pop(call_id)
                summary = obj.get("tool_use_result") if len(blocks) == 1 else None
                events.append(web_search.result(call_id, query, block, summary))
        return events

    def _unstreamed_text(self, text: str) -> list[Event]:
        lost, self._abandoned_text = self._abandoned_text, ""
        if lost and text.startswith(lost):
            rest = text[len(lost) :]
            self.text += rest
            return [TextDelta(rest)] if rest else []
        events: list[Event] = []
        if lost:
            self.text = self.text[: len(self.text) - len(lost)]
            events.append(TextReset(keep=len(self.text)))
        self.text += text
        if text:
            events.append(TextDelta(text))
        return events

    def _result(self, obj: dict[str, Any]) -> Result:
        self.session_id = obj.get("session_id") or self.session_id
        usage = usage_from(obj.get("usage"))
        if usage == Usage() and self.usage != Usage():
            usage = self.usage  # an interrupted turn reports zeros; keep what streamed
        model_usage = obj.get("modelUsage") or {}
        model = self._turn_model or next(iter(model_usage), None) or self.model
        self._turn_model = ""
        return Result(
            text=self.text,
            stop_reason=obj.get("stop_reason"),
            usage=usage,
            session_id=self.session_id,
            model=model,
            cost_usd=float(obj.get("total_cost_usd") or 0.0),
            duration_ms=obj.get("duration_ms"),
            num_turns=int(obj.get("num_turns") or 0),
            is_error=bool(obj.get("is_error")),
            raw=obj,
            plan=self.plan,
        )


# result.terminal_reason when the conversation does not fit: "blocking_limit" is the CLI's
# own check before any API call, "prompt_too_long" the API's 400 (measured, 2.1.330).
TOO_LONG_REASONS = ("blocking_limit", "prompt_too_long")


def error_for(result: Result, plan: PlanReading | None = None) -> Exception | None:
    """The exception an error `result` line stands for (None when it is a success).

    The CLI marks API errors as `subtype: success` with `is_error: true` (CLI.md §2), so the
    flag and `api_error_status` decide, not the subtype. `plan` is the run's latest plan
    reading: a 429 that it says is the plan's limit names the window and its reset.
    """
    from claude_max.core import billing, errors

    if not result.is_error:
        return None
    raw = result.raw
    status = raw.get("api_error_status")
    message = str(raw.get("result") or "; ".join(raw.get("errors") or []) or "the CLI failed")
    if raw.get("terminal_reason") in TOO_LONG_REASONS or message.startswith("Prompt is too long"):
        return errors.ContextTooLong(
            message, hint="Shorten the conversation (or its system prompt, tools, images)"
        )
    if "Not logged in" in message or (
        status is None and raw.get("error") == "authentication_failed"
    ):
        return errors.CLIAuthError("The Claude Code CLI is not logged in.", hint=errors.LOGIN_HINT)
    if status == 401 or status == 403:
        return errors.CLIAuthError(
            message, hint=f"{errors.LOGIN_HINT}  (or check the CLI's API key)"
        )
    if status == 404:
        if "model" in message:
            return errors.ModelNotFound(result.model or "?", hint=message)
        return errors.UpstreamError(message, status=404, kind="not_found_error")
    if billing.LOOP_MESSAGE[:40] in message:
        return errors.LoopDetected(billing.LOOP_MESSAGE)
    if status == 429:
        if plan is not None and plan.rejected:
            return errors.PlanLimitReached(
                plan.limit_message(), retry_after=plan.retry_after(), window=plan.representative
            )
        return errors.UpstreamError(message, status=429, kind="rate_limit_error")
    if status == 400 and any(m in message.lower() for m in errors.THIRD_PARTY_MARKERS):
        return errors.ThirdPartyBilled(_api_message(message))
    if status == 529:
        return errors.UpstreamError(message, status=529, kind="overloaded_error")
    if status in (400, 413):
        kind = "invalid_request_error" if status == 400 else "request_too_large"
        return errors.UpstreamError(message, status=status, kind=kind)
    if status is not None:
        return errors.UpstreamError(message, status=502, kind="api_error")
    return errors.CLIProcessError(message, exit_code=None)


def _api_message(text: str) -> str:
    """The API's own message inside the CLI's `API Error: 400 {...}` text, if it is there."""
    start = text.find("{")
    if start >= 0:
        try:
            obj = json.loads(text[start:])
        except ValueError:
            return text
        message = (obj.get("error") or {}).get("message") if isinstance(obj, dict) else None
        if isinstance(message, str):
            return message
    return text.removeprefix("API Error: 400").strip()
