"""Stop sequences, applied to streamed text as it arrives.

The CLI has no stop-sequence option, so claude-max cuts the answer itself. To stream without
ever sending text past a stop sequence, it holds back only the tail that could still become
one (the longest suffix that is a prefix of some sequence), usually nothing.
"""

from __future__ import annotations

from collections.abc import Iterable


class StopScanner:
    def __init__(self, stops: Iterable[str]) -> None:
        self.stops = [s for s in stops if s]
        self.held = ""

    def feed(self, text: str) -> tuple[str, str | None]:
        """Text that is safe to emit now, and the stop sequence found (None if none)."""
        if not self.stops:
            return text, None
        buf = self.held + text
        found: tuple[int, str] | None = None
        for stop in self.stops:
            at = buf.find(stop)
            if at >= 0 and (found is None or at < found[0]):
                found = (at, stop)
        if found is not None:
            self.held = ""
            return buf[: found[0]], found[1]
        keep = 0
        for k in range(min(len(buf), max(len(s) for s in self.stops) - 1), 0, -1):
            if any(s.startswith(buf[-k:]) for s in self.stops):
                keep = k
                break
        self.held = buf[len(buf) - keep :] if keep else ""
        return buf[: len(buf) - keep], None

    def flush(self) -> str:
        """The held-back tail, once the text is known to have ended."""
        held, self.held = self.held, ""
        return held
