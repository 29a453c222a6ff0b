"""Request history with the real CLI: the fake upstream's exact token figures reach the store,
for streamed and whole answers in both protocols; /metrics counts them."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.e2e

USAGE = {
    "input_tokens": 11,
    "output_tokens": 7,
    "cache_read_input_tokens": 5,
    "cache_creation_input_tokens": 3,
}


def totals(url: str) -> dict:
    return httpx.get(f"{url}/v1/claude-max/stats?since=1h", timeout=30).json()["total"]


def tokens_counted(url: str) -> dict[str, float]:
    text = httpx.get(f"{url}/metrics", timeout=30).text
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name == "claude_max_tokens":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    kind = sample.labels["kind"]
                    found[kind] = found.get(kind, 0) + sample.value
    return found


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("protocol", ["openai", "anthropic"])
def test_the_history_row_has_the_upstream_figures(real_server, fake_upstream, protocol, stream):
    fake_upstream.set_script({"default": {"type": "echo", "prefix": "ECHO:", "usage": USAGE}})
    url = real_server.url
    before, counted = totals(url), tokens_counted(url)
    messages = [{"role": "user", "content": "hello there"}]
    if protocol == "openai":
        path, body = "/v1/chat/completions", {"model": "sonnet", "messages": messages}
    else:
        path, body = "/v1/messages", {"model": "sonnet", "max_tokens": 64, "messages": messages}
    response = httpx.post(f"{url}{path}", json=body | {"stream": stream}, timeout=120)
    assert response.status_code == 200, response.text
    assert "ECHO:hello there" in response.text
    after = totals(url)
    added = {k: after[k] - before[k] for k in before if isinstance(before[k], int)}
    assert added["requests"] == 1 and added["errors"] == 0
    assert (added["input_tokens"], added["output_tokens"]) == (11, 7)
    assert (added["cache_read_tokens"], added["cache_write_tokens"]) == (5, 3)
    assert added["cli_runs"] == 1
    assert after["cost_usd"] > before["cost_usd"]
    now = tokens_counted(url)
    assert now["input"] - counted.get("input", 0) == 11
    assert now["output"] - counted.get("output", 0) == 7
    assert now["cache_read"] - counted.get("cache_read", 0) == 5
    assert now["cache_write"] - counted.get("cache_write", 0) == 3
