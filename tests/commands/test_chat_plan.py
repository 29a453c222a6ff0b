"""`claude-max chat` and `claude-max usage` with the plan's lines (recorded subscription-mode
transcripts replayed by the fake CLI)."""

from __future__ import annotations

import json

from claude_max.core import plan


def test_retries_are_said_while_waiting(invoke, fake_cli):
    fake_cli.use("transcript:err_429_stream_json_retries2")
    result = invoke("chat", "hi")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("rate limited, retrying in 1 s (1/2)")
    assert lines[1].startswith("rate limited, retrying in 1 s (2/2)")


def test_plan_limit_names_the_window_and_reset(invoke, fake_cli):
    fake_cli.use("transcript:plan_limit_429_stream_json")
    result = invoke("chat", "hi")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: Your 5-hour limit is reached; it resets at Fri 01 Jan 00:00 UTC, in "
    )


def test_extra_usage_line_and_plan_in_usage_output(invoke, fake_cli, claude_max_home):
    fake_cli.use("transcript:plan_allowed_extra_usage_stream_json")
    result = invoke("chat", "-u", "hi")
    assert result.exit_code == 0
    assert "This request drew from extra usage" in result.stderr
    assert "Plan: 5-hour 93% (resets at Fri 01 Jan 00:00 UTC" in result.stderr
    saved = plan.load(claude_max_home)
    assert saved is not None and saved.status == "allowed_warning"

    shown = invoke("usage")
    assert shown.exit_code == 0
    [window, extra, status] = shown.stdout.splitlines()
    assert window.startswith("5-hour  [") and " 93%  allowed warning  resets at " in window
    assert extra == "Extra usage: allowed, in use"
    assert status.startswith("Status: allowed warning · read ")
    as_json = json.loads(invoke("usage", "--json").stdout)
    assert as_json["windows"]["five_hour"]["utilization"] == 0.93


def test_usage_probes_when_there_is_no_reading(invoke, fake_cli):
    fake_cli.use("transcript:plan_allowed_extra_usage_stream_json")
    result = invoke("usage", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "allowed_warning"
    assert len(fake_cli.calls()) == 1  # one tiny request


def test_usage_without_a_plan_says_why(invoke, fake_cli):
    result = invoke("usage")  # the echo fake reports no plan (like an API key)
    assert result.exit_code == 1
    assert "no plan state" in result.stderr
