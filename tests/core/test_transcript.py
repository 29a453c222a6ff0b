"""The transcript a long history is written as: what the CLI reads back on --resume."""

from __future__ import annotations

import json

from claude_max.core import stdin, transcript
from claude_max.core.conversation import TextPart, ToolCallPart, ToolResultPart, Turn

ASK = Turn("user", (TextPart("Read a"),))
CALL = Turn("assistant", (ToolCallPart("toolu_1", "read_file", '{"path":"a"}'),))
RESULT = Turn("user", (ToolResultPart("toolu_1", (TextPart("alpha"),)),))
ANSWER = Turn("assistant", (TextPart("It says alpha."),))


def entries(tmp_path, turns):
    path = transcript.path({"CLAUDE_CONFIG_DIR": str(tmp_path)}, "/srv/my_app.x", "abc-1")
    transcript.write(path, turns, "/srv/my_app.x")
    assert path == tmp_path / "projects" / "-srv-my-app-x" / "abc-1.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_turns_are_one_chain_with_the_seeding_lines_messages(tmp_path):
    lines = entries(tmp_path, (ASK, CALL, RESULT, ANSWER))
    assert lines[0]["type"] == "system" and lines[0]["parentUuid"] is None
    for parent, child in zip(lines, lines[1:], strict=False):
        assert child["parentUuid"] == parent["uuid"]
        assert child["sessionId"] == "abc-1"
    assert lines[1]["message"] == stdin.user_line(ASK, query=False)["message"]
    call = dict(lines[2]["message"])
    assert call.pop("id").startswith("msg_")
    assert call == stdin.assistant_line(CALL)["message"]
    assert [e["type"] for e in lines] == ["system", "user", "assistant", "user", "assistant"]


def test_a_trailing_user_turn_is_followed_by_an_entry_the_model_never_sees(tmp_path):
    lines = entries(tmp_path, (ASK, CALL, RESULT))
    assert lines[-1]["isApiErrorMessage"] is True
    assert lines[-1]["parentUuid"] == lines[-2]["uuid"]


def test_a_last_tool_call_stays_out_of_the_transcript():
    assert transcript.split((ASK, CALL)) == 1
    assert transcript.split((ASK, CALL, RESULT, ANSWER)) == 4
    assert transcript.split(()) == 0


def test_only_long_histories_in_a_known_project_directory_pay():
    long = (ASK, ANSWER) * (transcript.SEED_LIMIT // 2 + 1)
    assert transcript.pays(long, "/srv/app")
    assert not transcript.pays(long[: transcript.SEED_LIMIT], "/srv/app")
    assert not transcript.pays(long, "/" + "d" * 250)  # the CLI hashes such names its way
