"""The server's own log output: configured here, since uvicorn configures only its loggers.

Everything under the `claude_max` logger goes to stderr, as text or (`--log-format json`) one
JSON object per line with the request's fields at the top level, for log shippers.

Log hygiene, too: no secrets in the access log, no log floods.

* A key sent in a query string (`?key=...`, `?api_key=...`) would be written to the access
  log with the path: query values are replaced by `***` (the names stay, for debugging).
* An error repeated in a tight loop (uvicorn's "Too many open files" on every accept) would
  fill the disk: the same message is logged at most `burst` times per `window` seconds,
  then once more with a count of what was dropped.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        first = record.args[0] if isinstance(record.args, tuple) and record.args else None
        fields = getattr(first, "record", None)
        if isinstance(fields, dict):
            out.update(fields)
        else:
            out["message"] = record.getMessage()
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def configure(level: str, fmt: str) -> None:
    """Send `claude_max.*` records at `level` and above to stderr in `fmt` (text or json)."""
    logger = logging.getLogger("claude_max")
    for handler in list(logger.handlers):
        if getattr(handler, "_claude_max", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._claude_max = True  # type: ignore[attr-defined]
    if fmt == "json":
        handler.setFormatter(JSONFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
        )
    logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False


_QUERY_VALUE = re.compile(r"=([^&#\s]*)")


def redact_query(path: str) -> str:
    base, sep, query = path.partition("?")
    return base + sep + _QUERY_VALUE.sub("=***", query) if sep else path


class RedactQuery(logging.Filter):
    """For uvicorn's access log: args are (client, method, path with query, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_query(args[2]), *args[3:])
        return True


class Repeats(logging.Filter):
    """Let through at most `burst` records with the same message per `window` seconds."""

    def __init__(self, burst: int = 5, window: float = 60.0, max_keys: int = 256) -> None:
        super().__init__()
        self.burst, self.window, self.max_keys = burst, window, max_keys
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}  # -> (window start, count)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, _message_of(record))
        now = time.monotonic()
        start, count = self._seen.get(key, (now, 0))
        if now - start >= self.window:
            if count > self.burst:
                record.msg = f"{record.getMessage()} (and {count - self.burst} more like it)"
                record.args = None
            start, count = now, 0
        if len(self._seen) >= self.max_keys and key not in self._seen:
            self._seen.clear()
        self._seen[key] = (start, count + 1)
        return count < self.burst


def _message_of(record: logging.LogRecord) -> str:
    text = record.getMessage()
    if record.exc_info and record.exc_info[1] is not None:
        text += f" {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
    return text[:500]


def install() -> None:
    """Attach the filters to uvicorn's and claude-max's loggers (after uvicorn has set up
    logging, which replaces earlier configuration)."""
    logging.getLogger("uvicorn.access").addFilter(RedactQuery())
    repeats = Repeats()
    for name in ("uvicorn.error", "uvicorn", "asyncio", "claude_max.server"):
        logging.getLogger(name).addFilter(repeats)
