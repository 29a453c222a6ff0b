"""X-Session-Id: a conversation carries on across requests, sending nothing to the model twice."""

from __future__ import annotations

import pytest
from fake_cli import messages


def ask(client, messages, session="s-1", path="/v1/chat/completions", **extra):
    body = {"model": "opus", "messages": messages, **extra}
    if path == "/v1/messages":
        body.setdefault("max_tokens", 100)
    return client.post(path, json=body, headers={"X-Session-Id": session} if session else {})


def user(text):
    return {"role": "user", "content": text}


def assistant(text):
    return {"role": "assistant", "content": text}


def sent(run) -> list[tuple[str, object]]:
    return [(line["type"], line["message"]["content"]) for line in messages(run)]


def test_new_message_only_client(client, fake_cli):
    first = ask(client, [user("one")])
    assert first.status_code == 200
    assert first.headers["x-session-id"] == "s-1"
    second = ask(client, [user("two")], path="/v1/messages")
    assert second.json()["content"][0]["text"] == "ECHO:two"
    run1, run2 = fake_cli.calls()
    assert "--no-session-persistence" not in run1["argv"]
    assert not any(a.startswith("--resume=") for a in run1["argv"])
    assert [a for a in run2["argv"] if a.startswith("--resume=")]
    assert sent(run2) == [("user", "two")]  # the CLI already has turn one


def test_full_history_client_sends_only_what_is_new(client, fake_cli):
    ask(client, [user("one")])
    ask(client, [user("one"), assistant("ECHO:one"), user("two")])
    ask(
        client,
        [user("one"), assistant("ECHO:one"), user("two"), assistant("ECHO:two"), user("three")],
    )
    runs = fake_cli.calls()
    assert [sent(r) for r in runs] == [[("user", "one")], [("user", "two")], [("user", "three")]]
    # each turn runs in a fork of the CLI session the last recorded turn left
    assert all("--fork-session" in r["argv"] for r in runs[1:])
    resumes = [next(a for a in r["argv"] if a.startswith("--resume=")) for r in runs[1:]]
    assert resumes[0] != resumes[1]


def test_edited_history_forks_a_new_cli_session(client, fake_cli):
    ask(client, [user("one")])
    ask(client, [user("one"), assistant("ECHO:one"), user("two")])
    edited = ask(client, [user("one"), assistant("something else"), user("three")])
    assert edited.status_code == 200
    branch = edited.headers["x-session-id"]  # the client is told: a new session id
    assert branch != "s-1" and branch.startswith("s-1~")
    [fork] = [c for c in fake_cli.calls() if sent(c)[-1] == ("user", "three")]
    assert not any(a.startswith("--resume=") for a in fork["argv"])  # never the old session
    assert sent(fork) == [
        ("user", "one"),
        ("assistant", [{"type": "text", "text": "something else"}]),
        ("user", "three"),
    ]
    after = ask(client, [user("four")], session=branch)  # and it carries on from the branch
    assert after.status_code == 200
    assert [("user", "four")] in [sent(c) for c in fake_cli.calls()]
    store = client.app.state.store  # the original session is left as it was
    assert [t["text"] for t in store.get("s-1").transcript] == [
        "one",
        "ECHO:one",
        "two",
        "ECHO:two",
    ]
    assert [t["text"] for t in store.get(branch).transcript][-2:] == ["four", "ECHO:four"]


def test_sessions_are_separate(client, fake_cli):
    ask(client, [user("a1")], session="alice")
    ask(client, [user("b1")], session="bob")
    ask(client, [user("a2")], session="alice")
    a1, b1, a2 = fake_cli.calls()
    assert not any(a.startswith("--resume=") for a in b1["argv"])
    resume = next(a for a in a2["argv"] if a.startswith("--resume="))
    assert resume not in b1["argv"]


def test_no_header_keeps_the_cli_session_for_automatic_continuation(client, fake_cli):
    response = ask(client, [user("x")], session=None)
    assert "x-session-id" not in response.headers
    assert "--no-session-persistence" not in fake_cli.call()["argv"]
    assert client.app.state.store.recent() == []  # not a named session: nothing to list
    [(cli_session_id, _)] = client.app.state.store.kept.oldest_first()  # remembered for pruning
    assert len(cli_session_id) == 36


def test_without_auto_continue_no_header_is_stateless(settings, fake_cli):
    from dataclasses import replace

    from starlette.testclient import TestClient

    from claude_max.server.app import create_app

    app = create_app(replace(settings, auto_continue=False))
    with TestClient(app, base_url="http://127.0.0.1:8080") as client:
        assert ask(client, [user("x")], session=None).status_code == 200
        assert "--no-session-persistence" in fake_cli.call()["argv"]
        assert client.app.state.store is None


@pytest.mark.parametrize("key", ["x" * 129, "tab\there"])
def test_bad_session_ids_are_400(client, fake_cli, key):
    response = client.post(
        "/v1/chat/completions",
        json={"model": "opus", "messages": [user("x")]},
        headers={"X-Session-Id": key},
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "X-Session-Id"


def test_streaming_turns_are_recorded_too(client, fake_cli):
    stream = ask(client, [user("one")], stream=True)
    assert stream.status_code == 200 and stream.headers["x-session-id"] == "s-1"
    ask(client, [user("one"), assistant("ECHO:one"), user("two")])
    assert sent(fake_cli.calls()[-1]) == [("user", "two")]


def test_a_bad_request_on_a_session_lets_go_of_it(client, fake_cli):
    """A request refused before it ran (here a non-boolean `stream`) takes no lock or slot."""
    bad = ask(client, [user("one")], stream="yes")
    assert bad.status_code == 400
    assert client.app.state.limiter.active == 0  # its slot was never taken, or given back
    assert ask(client, [user("one")]).status_code == 200  # not 409: the session is free
