"""Automatic continuation with the real CLI: a stateless client that sends the whole history
each time is continued from the CLI's own session, which still holds the model's thinking
(the client never sends it back); an edited history is seeded afresh instead."""

from __future__ import annotations

import httpx
import openai
import pytest
from helpers import blocks, dialogue
from waiting import wait_until

pytestmark = pytest.mark.e2e

THINKS = {"type": "thinking", "thinking": "Pondering.", "text": "ECHO:reply"}


@pytest.fixture
def client(real_server):
    with openai.OpenAI(base_url=f"{real_server.url}/v1", api_key="unused", max_retries=0) as c:
        yield c


def _ask(client, messages):
    raw = client.chat.completions.with_raw_response.create(model="sonnet", messages=messages)
    return raw.parse().choices[0].message.content, float(raw.headers["x-claude-max-cost-usd"])


def _warm(real_server) -> dict:
    return httpx.get(f"{real_server.url}/health", timeout=10).json()["warm"]


def test_full_history_client_is_continued_from_the_cli_session(client, fake_upstream, real_server):
    fake_upstream.set_script({"default": THINKS})
    one = [{"role": "user", "content": "first"}]
    answer, first_cost = _ask(client, one)
    assert answer == "ECHO:reply"
    two = [*one, {"role": "assistant", "content": answer}, {"role": "user", "content": "second"}]
    _, second_cost = _ask(client, two)
    warm = _warm(real_server)["size"] > 0
    if warm:  # a continued conversation's next turn is started ahead, after this one's CLI exits
        assert wait_until(lambda: _warm(real_server)["starting"] == 0, 30)
        before = _warm(real_server)
    three = [
        *two,
        {"role": "assistant", "content": "ECHO:reply"},
        {"role": "user", "content": "third"},
    ]
    _, third_cost = _ask(client, three)
    if warm:  # ... and turn three took it: a hit, no miss
        after = _warm(real_server)
        assert (after["hits"] - before["hits"], after["misses"]) == (1, before["misses"])

    bodies = fake_upstream.message_requests()
    assert len(bodies) == 3  # one model call per request, nothing sent twice
    assert dialogue(bodies[2]) == [
        ("user", "first"),
        ("assistant", "ECHO:reply"),
        ("user", "second"),
        ("assistant", "ECHO:reply"),
        ("user", "third"),
    ]
    # The earlier answers' thinking came back: only the CLI's own session has it.
    assert [b["thinking"] for b in blocks(bodies[2], "thinking")] == ["Pondering.", "Pondering."]
    # Each request's cost is its own, not the session's running total.
    # (A fork carries its parent's running total on; each turn here costs a little more
    # than the one before, as the history grows.)
    assert first_cost < second_cost < third_cost < 2 * first_cost


def test_edited_history_is_seeded_not_continued(client, fake_upstream):
    fake_upstream.set_script({"default": THINKS})
    one = [{"role": "user", "content": "alpha"}]
    _ask(client, one)
    edited = [
        *one,
        {"role": "assistant", "content": "not what was said"},
        {"role": "user", "content": "beta"},
    ]
    _ask(client, edited)
    body = fake_upstream.message_requests()[-1]
    assert dialogue(body) == [
        ("user", "alpha"),
        ("assistant", "not what was said"),
        ("user", "beta"),
    ]
    assert blocks(body, "thinking") == []  # the client's history, as sent


def test_a_stop_sequence_answer_is_not_continued(client, fake_upstream, real_server):
    """The CLI's session holds what the model wrote past the cut; the client never saw it."""
    fake_upstream.set_script({"default": {"type": "text", "text": "keep STOP hidden", "chunks": 3}})
    one = [{"role": "user", "content": "go"}]
    reply = httpx.post(
        f"{real_server.url}/v1/chat/completions",
        json={"model": "sonnet", "messages": one, "stop": ["STOP"]},
        timeout=60,
    ).json()
    answer = reply["choices"][0]["message"]["content"]
    assert answer == "keep "
    fake_upstream.clear()
    _ask(
        client,
        [*one, {"role": "assistant", "content": answer}, {"role": "user", "content": "more"}],
    )
    [body] = fake_upstream.message_requests()
    assert "hidden" not in str(body["messages"])
