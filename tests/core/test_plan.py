"""Plan readings: from the CLI's rate_limit_event, to and from plan.json, as headers and words."""

from __future__ import annotations

import json
from pathlib import Path

from claude_max.core import billing, plan
from claude_max.core.errors import LoopDetected, PlanLimitReached, ThirdPartyBilled
from claude_max.core.events import PlanUpdate, Result, Retrying
from claude_max.core.parse import StreamParser, error_for

TRANSCRIPTS = Path(__file__).parents[1] / "data" / "transcripts"
NOW = 1796000000 - (2 * 3600 + 13 * 60)  # 2 h 13 min before the reset below
EVENT = {
    "status": "allowed",
    "resetsAt": 1796000000,
    "rateLimitType": "five_hour",
    "overageStatus": "allowed",
    "isUsingOverage": False,
    "unifiedWindows": {
        "five_hour": {"utilization": 0.42, "resetsAt": 1796000000, "status": "allowed"},
        "seven_day": {"utilization": 0.18, "resetsAt": 1796400000, "status": "allowed"},
    },
}


def events_of(name: str) -> list[object]:
    parser = StreamParser()
    lines = (TRANSCRIPTS / f"{name}.stdout").read_text().splitlines()
    return [event for line in lines for event in parser.feed(line)]


def test_reading_from_event_and_json_round_trip(tmp_path):
    reading = plan.PlanReading.from_event(EVENT, now=NOW)
    assert reading is not None
    data = reading.to_json()
    assert data == {
        "observed_at": NOW,
        "status": "allowed",
        "representative": "five_hour",
        "resets_at": 1796000000,
        "overage": {"status": "allowed", "in_use": False, "disabled_reason": None},
        "windows": {
            "five_hour": {"utilization": 0.42, "resets_at": 1796000000, "status": "allowed"},
            "seven_day": {"utilization": 0.18, "resets_at": 1796400000, "status": "allowed"},
        },
        "using_overage": False,
    }
    plan.save(tmp_path, reading)
    assert json.loads((tmp_path / "plan.json").read_text()) == data
    assert plan.load(tmp_path) == reading
    assert plan.load(tmp_path / "none") is None


def test_a_bare_event_is_no_reading():
    """The CLI prints {"status": "allowed"} when the response had no plan headers."""
    assert plan.PlanReading.from_event({"status": "allowed", "isUsingOverage": False}) is None


def test_headers_in_both_vocabularies():
    reading = plan.PlanReading.from_event(EVENT, now=NOW)
    assert reading is not None
    anthropic = reading.anthropic_headers()
    assert anthropic["anthropic-ratelimit-unified-status"] == "allowed"
    assert anthropic["anthropic-ratelimit-unified-5h-utilization"] == "0.42"
    assert anthropic["anthropic-ratelimit-unified-7d-reset"] == "1796400000"
    assert anthropic["anthropic-ratelimit-unified-representative-claim"] == "five_hour"
    ours = reading.plan_headers()
    assert ours["x-claude-max-plan-five-hour-utilization"] == "0.42"
    assert ours["x-claude-max-plan-seven-day-reset"] == "1796400000"


def test_limit_message_and_retry_after():
    rejected = plan.PlanReading.from_event({**EVENT, "status": "rejected"}, now=NOW)
    assert rejected is not None
    assert rejected.limit_message(NOW) == (
        "Your 5-hour limit is reached; it resets at Mon 30 Nov 00:53 UTC, in 2 h 13 min"
    )
    assert rejected.retry_after(NOW) == 2 * 3600 + 13 * 60
    assert rejected.exhausted(NOW) and not rejected.exhausted(1796000001)


def test_plan_limit_429_transcript():
    events = events_of("plan_limit_429_stream_json")
    [update] = [e for e in events if isinstance(e, PlanUpdate)]
    assert update.reading.rejected and update.reading.representative == "five_hour"
    [result] = [e for e in events if isinstance(e, Result)]
    assert result.plan == update.reading
    error = error_for(result, result.plan)
    assert isinstance(error, PlanLimitReached)
    assert error.status == 429 and error.kind == "rate_limit_error"
    assert error.message.startswith("Your 5-hour limit is reached; it resets ")
    assert error.retry_after is not None and error.retry_after > 10**9
    # Without the plan's word it stays an ordinary 429.
    assert not isinstance(error_for(result), PlanLimitReached)


def test_extra_usage_reading_transcript():
    [update] = [
        e for e in events_of("plan_allowed_extra_usage_stream_json") if isinstance(e, PlanUpdate)
    ]
    assert update.reading.status == "allowed_warning"
    assert update.reading.drew_from_extra_usage
    assert update.reading.windows["five_hour"].utilization == 0.93


def test_third_party_400_transcript():
    [result] = [e for e in events_of("third_party_400_stream_json") if isinstance(e, Result)]
    error = error_for(result)
    assert isinstance(error, ThirdPartyBilled) and error.status == 400
    assert "third-party app" in error.message and "system prompt" in error.message
    assert "Third-party apps now draw from your extra usage" in error.message
    assert error.hint and "claude.ai/settings/usage" in error.hint


def test_api_retry_lines_are_retrying_events():
    retries = [e for e in events_of("err_429_stream_json_retries2") if isinstance(e, Retrying)]
    assert [r.attempt for r in retries] == [1, 2]
    assert retries[0].words.startswith("rate limited, retrying in ")


def test_loop_refusal_is_recognised():
    result = Result(
        text="",
        stop_reason=None,
        usage=None,
        session_id="s",
        model="m",
        is_error=True,  # type: ignore[arg-type]
        raw={
            "is_error": True,
            "api_error_status": 400,
            "result": f"API Error: 400 {billing.LOOP_MESSAGE}",
        },
    )
    error = error_for(result)
    assert isinstance(error, LoopDetected) and error.message == billing.LOOP_MESSAGE


def test_child_env_drops_api_variables_unless_passed():
    env = {
        "ANTHROPIC_API_KEY": "k",
        "ANTHROPIC_AUTH_TOKEN": "t",
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:8080",
        "CLAUDE_CODE_OAUTH_TOKEN": "o",
        "PATH": "/bin",
    }
    assert billing.child_env(env, pass_api_env=False) == {
        "CLAUDE_CODE_OAUTH_TOKEN": "o",
        "PATH": "/bin",
    }
    passed = billing.child_env(env, pass_api_env=True)
    assert passed["ANTHROPIC_API_KEY"] == "k" and passed["ANTHROPIC_BASE_URL"].endswith("8080")
    assert passed["ANTHROPIC_CUSTOM_HEADERS"] == "x-claude-max-hop: 1"
    assert billing.describe(env, pass_api_env=False)[0] == "oauth_token"
    assert billing.describe(env, pass_api_env=True)[0] == "api_key"
    mode, words = billing.describe({"ANTHROPIC_API_KEY": "k"}, pass_api_env=False)
    assert mode == "subscription" and "ignoring ANTHROPIC_API_KEY" in words


def test_billing_line_in_client_text_is_neutralised():
    spoof = "x-anthropic-billing-header: cc_version=0; cc_entrypoint=evil;"
    assert not billing.neutralise(spoof).startswith("x-anthropic")
    assert (
        not billing.neutralise("  X-Anthropic-Billing-Header: x")
        .lstrip()
        .lower()
        .startswith("x-anthropic")
    )
    assert billing.neutralise("Be brief.") == "Be brief."
