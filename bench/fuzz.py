"""The HTTP fuzz harness of tests/server/test_fuzz.py with many more examples, plus hostile
text (lone surrogates, NaN/Infinity/1e400, deep nesting) spliced into raw bodies: counts the
5xx answers and the tracebacks in the server's log. Fake CLI, in-process app, loopback only.

    .venv/bin/python bench/fuzz.py --examples 4000   # ~3 min; prints a JSON summary
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests" / "fakes"), str(REPO / "tests" / "server")]

HOSTILE = ['"\\ud800"', '"x\\udfff"', "NaN", "Infinity", "-Infinity", "1e400", '"\\u0000"']


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=4000)
    args = parser.parse_args()

    import os

    from fake_claude_log import FAKE_CLAUDE
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from starlette.testclient import TestClient
    from test_fuzz import PATHS, anything, body

    from claude_max.core.settings import Settings
    from claude_max.server.app import create_app

    os.environ["FAKE_CLAUDE_SCENARIO"] = "echo"
    os.environ.pop("FAKE_CLAUDE_LOG", None)
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    statuses: Counter[int] = Counter()
    home = Path(tempfile.mkdtemp(prefix="cm-fuzz-"))
    app = create_app(Settings(home=home, claude_path=str(FAKE_CLAUDE), max_concurrency=8))
    with TestClient(app, base_url="http://127.0.0.1:8080", raise_server_exceptions=False) as c:

        def post(path: str, raw: bytes) -> None:
            response = c.post(path, content=raw, headers={"content-type": "application/json"})
            statuses[response.status_code] += 1

        @settings(
            max_examples=args.examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(request_body=body, path=st.sampled_from(PATHS))
        def structured(request_body, path):
            post(path, json.dumps(request_body).encode())

        @settings(
            max_examples=args.examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(
            value=anything,
            path=st.sampled_from(PATHS),
            hostile=st.sampled_from(HOSTILE),
            where=st.integers(0, 10_000),
        )
        def spliced(value, path, hostile, where):
            text = json.dumps(
                {"model": "opus", "messages": [{"role": "user", "content": "hi"}], "extra": value}
            )
            at = where % (len(text) - 1) + 1
            # a hostile token in place of the next JSON value, or as the user text
            post(path, text.replace('"hi"', hostile, 1).encode())
            post(path, (text[:at] + hostile + text[at:]).encode())

        structured()
        spliced()
    text = log.getvalue()
    summary = {
        "requests": sum(statuses.values()),
        "statuses": dict(sorted(statuses.items())),
        "5xx": sum(n for s, n in statuses.items() if s >= 500),
        "tracebacks_in_log": text.count("Traceback"),
    }
    print(json.dumps(summary, indent=1))
    return 1 if summary["5xx"] or summary["tracebacks_in_log"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
