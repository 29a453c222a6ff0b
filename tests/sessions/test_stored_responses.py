"""Stored Responses API responses: a chain expands oldest first, store:false is not kept,
old responses expire, unknown ids are ResponseNotFound."""

from __future__ import annotations

import pytest

from claude_max.core.errors import InvalidRequest, ResponseNotFound
from claude_max.sessions import stored_responses
from claude_max.sessions.store import SessionStore


@pytest.fixture
def store(tmp_path):
    with SessionStore(tmp_path / "sessions.db") as s:
        yield s


def answer(response_id: str, text: str) -> dict:
    message = {"type": "message", "role": "assistant", "content": [{"type": "output_text",
                                                                    "text": text}]}  # fmt: skip
    return {"id": response_id, "status": "completed", "output": [message]}


def test_a_chain_expands_oldest_first(store):
    stored_responses.record(store, {"input": "one"}, answer("resp_1", "A1"))
    second = {"input": [{"role": "user", "content": "two"}], "previous_response_id": "resp_1"}
    stored_responses.record(store, second, answer("resp_2", "A2"))
    body = {"input": "three", "previous_response_id": "resp_2", "instructions": "I"}
    expanded = stored_responses.expand(store, body)
    texts = [
        item["content"] if isinstance(item["content"], str) else item["content"][0]["text"]
        for item in expanded["input"]
    ]
    assert texts == ["one", "A1", "two", "A2", "three"]
    assert expanded["instructions"] == "I" and expanded["previous_response_id"] == "resp_2"
    assert stored_responses.expand(store, {"input": "x"}) == {"input": "x"}


def test_store_false_and_failed_responses_are_not_kept(store):
    stored_responses.record(store, {"input": "x", "store": False}, answer("resp_a", "A"))
    stored_responses.record(store, {"input": "x"}, {**answer("resp_b", "B"), "status": "failed"})
    for response_id in ("resp_a", "resp_b"):
        with pytest.raises(ResponseNotFound):
            stored_responses.get(store, response_id)


def test_get_delete_and_expiry(store):
    stored_responses.record(store, {"input": "x"}, answer("resp_1", "A"))
    assert stored_responses.get(store, "resp_1")["output"][0]["content"][0]["text"] == "A"
    assert stored_responses.delete(store, "resp_1")["deleted"] is True
    with pytest.raises(ResponseNotFound):
        stored_responses.delete(store, "resp_1")
    store.responses.save("resp_old", None, "[]", "{}", keep_seconds=3600)
    store.responses.save("resp_new", None, "[]", "{}", keep_seconds=0)  # sweeps the older one
    assert store.responses.find("resp_old") is None


def test_unknown_or_bad_previous_ids(store):
    with pytest.raises(ResponseNotFound) as missing:
        stored_responses.expand(store, {"input": "x", "previous_response_id": "resp_gone"})
    assert missing.value.status == 404 and missing.value.param == "previous_response_id"
    with pytest.raises(InvalidRequest):
        stored_responses.expand(store, {"input": "x", "previous_response_id": 5})
