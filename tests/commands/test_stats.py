"""`claude-max stats` on a store with known rows (no server running)."""

from __future__ import annotations

import json
import time

import pytest

from claude_max.sessions.db import DB_NAME
from claude_max.usage import history

DAY = 86400.0
WIDE = {"COLUMNS": "120"}


def row(ago: float, **figures) -> history.Row:
    base = dict(
        protocol="openai",
        endpoint="/v1/chat/completions",
        client="OpenAI/Python 1.50.0",
        key_label=None,
        model_asked="opus",
        model="claude-opus-5-5",
        stream=True,
        status=200,
        error=None,
        error_message=None,
    )
    return history.Row(at=time.time() - ago, **(base | figures))


@pytest.fixture
def store(claude_max_home):
    db = history.open_db(claude_max_home / DB_NAME)
    history.insert(
        db,
        [
            row(7200, input_tokens=1000, output_tokens=200, cost_usd=0.25, ttft_ms=120.0,
                duration_ms=900.0, warm=True, cache_read_tokens=5000),
            row(3600, input_tokens=3000, output_tokens=400, cost_usd=0.75, ttft_ms=480.0,
                duration_ms=2000.0, warm=False),
            row(600, client="curl/8.5", model="claude-sonnet-5-5", model_asked="sonnet",
                input_tokens=10, output_tokens=5, cost_usd=0.01, ttft_ms=90.0,
                duration_ms=150.0, warm=True),
            row(60, client="curl/8.5", model=None, model_asked="gpt-4o", status=404,
                error="not_found_error", error_message="no such model", duration_ms=2.0),
            row(5 * DAY, input_tokens=70000, output_tokens=7000, cost_usd=9.0, ttft_ms=50.0,
                duration_ms=60.0, warm=True),
        ],
    )  # fmt: skip
    db.close()
    return claude_max_home


def test_json_report_of_the_last_day(invoke, store):
    result = invoke("stats", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    total = data["total"]
    assert (total["requests"], total["errors"]) == (4, 1)
    assert (total["input_tokens"], total["output_tokens"]) == (4010, 605)
    assert total["cache_read_tokens"] == 5000
    assert total["cost_usd"] == pytest.approx(1.01)
    assert (total["ttft_p50_ms"], total["ttft_p95_ms"]) == (120.0, 480.0)
    assert total["warm_hit_rate"] == pytest.approx(0.6667)
    assert data["by"] == "model"
    assert [(g["key"], g["requests"]) for g in data["groups"]] == [
        ("claude-opus-5-5", 2),
        ("claude-sonnet-5-5", 1),
        ("gpt-4o", 1),
    ]
    assert data["recent_errors"][0]["message"] == "no such model"
    assert data["plan"] is None


def test_json_over_a_week_by_client(invoke, store):
    data = json.loads(invoke("stats", "--since", "7d", "--by", "client", "--json").output)
    assert data["total"]["requests"] == 5
    assert data["total"]["input_tokens"] == 74010
    assert [(g["key"], g["requests"]) for g in data["groups"]] == [
        ("OpenAI/Python 1.50.0", 3),
        ("curl/8.5", 2),
    ]


def test_json_by_day(invoke, store):
    data = json.loads(invoke("stats", "--since", "7d", "--by", "day", "--json").output)
    days = [g["key"] for g in data["groups"]]
    assert days == sorted(days) and sum(g["requests"] for g in data["groups"]) == 5


def test_table_shows_the_figures_and_bars(invoke, store):
    result = invoke("stats", env=WIDE)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Requests over the last 24h" in out
    opus = next(line for line in out.splitlines() if "claude-opus-5-5" in line)
    assert "2 ███████" in opus  # the busiest model has the full bar
    assert "4,000/600" in opus and "$1.0000" in opus and "120 ms/480 ms" in opus
    assert "50%" in opus
    sonnet = next(line for line in out.splitlines() if "claude-sonnet-5-5" in line)
    assert "1 ███▌" in sonnet  # half of the busiest
    total = next(line for line in out.splitlines() if line.strip().startswith("Total"))
    assert "4,010/605" in total and "$1.0100" in total
    assert "5,000 tokens read" in out
    assert "Plan windows: no reading yet." in out


def test_table_by_hour(invoke, store):
    result = invoke("stats", "--by", "hour", env=WIDE)
    assert result.exit_code == 0
    hour = time.strftime("%Y-%m-%d %H:00", time.localtime(time.time() - 7200))
    assert hour in result.output


def test_the_plan_windows_of_the_last_reading(invoke, store):
    now = time.time()
    plan = {
        "observed_at": now - 120,
        "status": "allowed_warning",
        "windows": {
            "five_hour": {"utilization": 0.82, "resets_at": now + 2 * 3600 + 630},
            "seven_day": {"utilization": 0.3, "resets_at": now + 3 * DAY + 5400},
        },
    }
    (store / "plan.json").write_text(json.dumps(plan))
    out = invoke("stats", env=WIDE).output
    five = next(line for line in out.splitlines() if "five hour" in line)
    assert "82%" in five and "resets in 2 h 10 min" in five
    seven = next(line for line in out.splitlines() if "seven day" in line)
    assert "30%" in seven and "resets in 3 d 1 h" in seven
    data = json.loads(invoke("stats", "--json").output)
    assert data["plan"]["windows"]["five_hour"]["utilization"] == 0.82


def test_an_empty_or_missing_store(invoke, claude_max_home):
    result = invoke("stats")
    assert result.exit_code == 0
    assert "No requests recorded in this period." in result.output
    assert not (claude_max_home / DB_NAME).exists()  # reading creates nothing
    assert json.loads(invoke("stats", "--json").output)["total"]["requests"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--since", "soon"], "--since"), (["--by", "colour"], "--by")],
)
def test_bad_options_are_refused(invoke, claude_max_home, args, message):
    result = invoke("stats", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_serve_passes_history_days(invoke, monkeypatch, claude_max_home):
    import claude_max.server.listen as server_listen

    got = {}
    monkeypatch.setattr(server_listen, "serve", lambda settings, **_: got.update(s=settings))
    assert invoke("serve", "--history-days", "7").exit_code == 0
    assert got["s"].history_days == 7
    assert invoke("serve").exit_code == 0
    assert got["s"].history_days == 30
