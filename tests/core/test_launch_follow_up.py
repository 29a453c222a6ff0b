"""`launch.follow_up`: the launch spec of a long conversation's next request, known before it
comes, is exactly the one that request gets (so the pool can hand it the CLI started ahead),
and no other request's."""

from __future__ import annotations

import json
from dataclasses import replace

from fake_claude_log import FAKE_CLAUDE

from claude_max.core.conversation import (
    Conversation,
    TextPart,
    Tool,
    ToolCallPart,
    ToolResultPart,
    Turn,
)
from claude_max.core.launch import follow_up, launch_spec
from claude_max.core.settings import Settings
from claude_max.core.transcript import SEED_LIMIT

SCHEMA = json.dumps({"type": "object", "properties": {"path": {"type": "string"}}})
TOOLS = (Tool("read_file", "Read a file", SCHEMA), Tool("list_dir", "List a directory", SCHEMA))


def agent(exchanges: int) -> Conversation:
    turns = [Turn("user", (TextPart("Read the files."),))]
    for i in range(exchanges):
        call = ToolCallPart(f"toolu_{i}", "list_dir", json.dumps({"path": f"d{i}"}))
        turns += [
            Turn("assistant", (call,)),
            Turn("user", (ToolResultPart(f"toolu_{i}", (TextPart(f"line {i}"),)),)),
        ]
    return Conversation(tuple(turns), system="Be brief.", model="sonnet", tools=TOOLS)


def step(conv: Conversation, call_id: str, result: str) -> Conversation:
    """The client's next request: the model's text and call, then the tool's result."""
    said = Turn(
        "assistant",
        (TextPart("Reading."), ToolCallPart(call_id, "read_file", '{"path":"a.txt"}')),
    )
    results = Turn("user", (ToolResultPart(call_id, (TextPart(result),)),))
    return replace(conv, turns=(*conv.turns, said, results))


def test_an_agent_s_next_step_has_the_spec_started_ahead(tmp_path):
    settings = Settings(home=tmp_path, claude_path=str(FAKE_CLAUDE))
    conv = agent(SEED_LIMIT // 2 + 1)
    ahead = follow_up(conv)
    assert ahead is not None
    spec = launch_spec(ahead, settings)
    assert spec.own_session and spec.history is not None
    # Whatever the call and its result are, the next step takes the CLI started ahead...
    for call_id, result in (("toolu_x", "alpha"), ("toolu_y", "a much longer result")):
        assert launch_spec(step(conv, call_id, result), settings) == spec
    # ...and a request whose earlier turns differ in any byte does not.
    edited = replace(conv, turns=(Turn("user", (TextPart("Read the files!"),)), *conv.turns[1:]))
    assert launch_spec(step(edited, "toolu_x", "alpha"), settings).history != spec.history
    other_system = replace(conv, system="Be verbose.")
    assert launch_spec(step(other_system, "toolu_x", "alpha"), settings) != spec


def test_the_next_question_after_an_answer_has_the_spec_started_ahead(tmp_path):
    settings = Settings(home=tmp_path, claude_path=str(FAKE_CLAUDE))
    conv = agent(SEED_LIMIT // 2 + 1)
    ahead = follow_up(conv, "All read.")
    assert ahead is not None
    said = Turn("assistant", (TextPart("All read."),))
    asked = Turn("user", (TextPart("Now summarise."),))
    following = replace(conv, turns=(*conv.turns, said, asked))
    assert launch_spec(following, settings) == launch_spec(ahead, settings)
    other = replace(following, turns=(*conv.turns, Turn("assistant", (TextPart("Done."),)), asked))
    assert launch_spec(other, settings) != launch_spec(ahead, settings)


def test_a_short_history_or_no_tools_starts_nothing_ahead():
    assert follow_up(agent(2)) is None
    assert follow_up(agent(2), "ok") is None
    plain = Conversation(tuple(Turn("user", (TextPart(f"q{i}"),)) for i in range(SEED_LIMIT + 3)))
    assert follow_up(plain) is None  # no tool the model could have called
