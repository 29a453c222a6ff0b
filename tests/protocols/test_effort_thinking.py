"""Effort and thinking: what each protocol accepts, what the CLI is given for it, and the 400s
for values the model does not take."""

from __future__ import annotations

import pytest

from claude_max.core import argv as cli
from claude_max.core import catalog
from claude_max.core.errors import InvalidRequest
from claude_max.core.events import Result, Usage
from claude_max.core.run import Reply
from claude_max.core.settings import Settings
from claude_max.protocols import anthropic, openai

USER = [{"role": "user", "content": "hi"}]


def claude_args(body: dict, protocol=anthropic) -> list[str]:
    conv = protocol.to_conversation({"messages": USER, **body})
    return [
        a
        for a in cli.build_argv("claude", conv)
        if a.startswith(("--effort", "--thinking", "--max-thinking"))
    ]


def claude_env(body: dict, tmp_path) -> dict[str, str]:
    conv = anthropic.to_conversation({"messages": USER, **body})
    return cli.build_env(Settings(home=tmp_path), conv, base={})


@pytest.mark.parametrize("level", ["low", "medium", "high", "xhigh", "max"])
def test_anthropic_effort_is_passed(level):
    assert claude_args({"output_config": {"effort": level}}) == [f"--effort={level}"]


def test_effort_sits_beside_a_structured_output_format():
    body = {"output_config": {"effort": "low", "format": {"type": "json_schema", "schema": {}}}}
    conv = anthropic.to_conversation({"messages": USER, **body})
    assert conv.options.effort == "low" and conv.options.json_schema


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"output_config": {"effort": "extreme"}}, "output_config.effort"),
        ({"output_config": {"effort": 3}}, "output_config.effort"),
        ({"thinking": {"type": "adaptive", "display": "full"}}, "thinking.display"),
        ({"thinking": {"type": "sometimes"}}, "thinking.type"),
    ],
)
def test_bad_values_are_400(body, param):
    with pytest.raises(InvalidRequest) as info:
        anthropic.to_conversation({"messages": USER, **body})
    assert info.value.param == param


@pytest.mark.parametrize(
    ("thinking", "args"),
    [
        ({"type": "adaptive"}, ["--thinking=adaptive"]),
        (
            {"type": "adaptive", "display": "summarized"},
            ["--thinking=adaptive", "--thinking-display=summarized"],
        ),
        (
            {"type": "adaptive", "display": "omitted"},
            ["--thinking=adaptive", "--thinking-display=omitted"],
        ),
        (
            {"type": "enabled", "budget_tokens": 2048, "display": "summarized"},
            ["--thinking=enabled", "--max-thinking-tokens=2048", "--thinking-display=summarized"],
        ),
        ({"type": "disabled"}, ["--thinking=disabled"]),
    ],
)
def test_thinking_modes_and_display(thinking, args):
    assert claude_args({"thinking": thinking}) == args


def test_omitted_display_turns_off_the_clis_own_display(tmp_path):
    """Measured: without this variable the CLI sends display "updates" whatever the flag."""
    omitted = claude_env({"thinking": {"type": "adaptive", "display": "omitted"}}, tmp_path)
    assert omitted["CLAUDE_CODE_THINKING_DISPLAY_UPDATES"] == "0"
    plain = claude_env({"thinking": {"type": "adaptive"}}, tmp_path)
    assert "CLAUDE_CODE_THINKING_DISPLAY_UPDATES" not in plain


def test_omitted_thinking_is_not_returned():
    reply = Reply(
        "4",
        "because",
        "sig",
        (),
        Result("4", "end_turn", Usage(1, 1, 0, 0), "s", "claude-opus-5-5"),
    )
    shown = anthropic.response(reply, {"thinking": {"type": "adaptive"}})
    hidden = anthropic.response(reply, {"thinking": {"type": "adaptive", "display": "omitted"}})
    assert shown["content"][0]["type"] == "thinking"
    assert [b["type"] for b in hidden["content"]] == ["text"]


@pytest.mark.parametrize(
    ("sent", "passed"), [("minimal", "low"), ("low", "low"), ("xhigh", "xhigh"), ("max", "max")]
)
def test_openai_reasoning_effort(sent, passed):
    assert claude_args({"reasoning_effort": sent}, openai) == [f"--effort={passed}"]


def _nova(efforts: tuple[str, ...], adaptive: bool = True) -> None:
    full = catalog.Model(
        "claude-nova-6-0", "nova", "Nova", 0, 0, efforts=efforts, adaptive=adaptive
    )
    alias = catalog.Model("nova", "nova", "Nova", 0, 0, efforts=efforts, adaptive=adaptive)
    catalog.adopt([full, alias.__class__(**{**_fields(alias), "resolved": full.id})])


def _fields(model: catalog.Model) -> dict:
    return {name: getattr(model, name) for name in model.__slots__}


def test_a_level_the_model_does_not_take_is_400_in_both_protocols():
    _nova(("low", "high"))
    assert claude_args({"model": "nova", "output_config": {"effort": "high"}}) == ["--effort=high"]
    with pytest.raises(InvalidRequest, match="claude-nova|nova.*takes low, high") as info:
        anthropic.to_conversation(
            {"model": "claude-nova-6-0", "messages": USER, "output_config": {"effort": "max"}}
        )
    assert info.value.param == "output_config.effort"
    with pytest.raises(InvalidRequest, match="takes low, high"):
        openai.to_conversation({"model": "nova", "messages": USER, "reasoning_effort": "medium"})


def test_a_model_without_effort_or_adaptive_thinking_says_so():
    _nova((), adaptive=False)
    with pytest.raises(InvalidRequest, match="takes no effort level"):
        anthropic.to_conversation(
            {"model": "nova", "messages": USER, "output_config": {"effort": "low"}}
        )
    with pytest.raises(InvalidRequest, match="adaptive") as info:
        anthropic.to_conversation(
            {"model": "nova", "messages": USER, "thinking": {"type": "adaptive"}}
        )
    assert info.value.param == "thinking.type"
    conv = anthropic.to_conversation(
        {"model": "nova", "messages": USER, "thinking": {"type": "enabled", "budget_tokens": 1024}}
    )
    assert conv.options.thinking == "enabled"


def test_a_model_outside_every_list_is_left_to_the_api():
    body = {"model": "claude-opus-9-1", "output_config": {"effort": "max"}}
    assert claude_args({**body, "thinking": {"type": "adaptive"}}) == [
        "--thinking=adaptive",
        "--effort=max",
    ]
