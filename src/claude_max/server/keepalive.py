"""Keep an idle event stream open: send the protocol's own keep-alive after each stretch of
silence, so proxies and SDKs that drop idle connections (60-100 s is common) do not cut a
stream while the model thinks with its thinking hidden or writes a long tool input.

The source runs in one task of its own (its timeouts and cancel scopes stay in one task);
this generator waits on it with a deadline and fills the gaps.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from types import ModuleType

SSE_COMMENT = ": keep-alive\n\n"  # ignored by every SSE parser (OpenAI, Responses)

_END = object()


def chunk_for(protocol: ModuleType) -> str:
    """The protocol's keep-alive: its `KEEPALIVE` (Anthropic: a `ping` event), else an SSE
    comment line."""
    return getattr(protocol, "KEEPALIVE", SSE_COMMENT)


def wrap(protocol: ModuleType, chunks: AsyncIterator[str], interval: float) -> AsyncIterator[str]:
    """A protocol's SSE chunks with its own keep-alive in the silences."""
    return keep_alive(chunks, chunk_for(protocol), interval)


async def keep_alive(chunks: AsyncIterator[str], ping: str, interval: float) -> AsyncIterator[str]:
    """`chunks` as they come, with `ping` after every `interval` seconds without one.
    An interval of 0 (or less) turns keep-alives off."""
    if interval <= 0:
        async for chunk in chunks:
            yield chunk
        return
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=1)

    async def pump() -> None:
        try:
            async for chunk in chunks:
                await queue.put(chunk)
        except Exception as exc:  # handed to the reader, which raises it
            await queue.put(exc)
            return
        await queue.put(_END)

    task = asyncio.ensure_future(pump())
    getter: asyncio.Future[object] | None = None
    try:
        while True:
            if getter is None:
                getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({getter}, timeout=interval)
            if not done:
                yield ping
                continue
            item, getter = getter.result(), None
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        for pending in (getter, task):
            if pending is not None and not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pending
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
