"""The server's own log output: configured here, since uvicorn configures only its loggers.

Everything under the `claude_max` logger goes to stderr, as text or (`--log-format json`) one
JSON object per line with the request's fields at the top level, for log shippers.
"""

from __future__ import annotations

import json
import logging
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
