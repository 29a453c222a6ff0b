"""The history table: the observer's figures, batched writes, pruning, the report, plan.json."""

from __future__ import annotations

import json
import time

import pytest

from claude_max.core.errors import UpstreamError
from claude_max.core.events import Result, Started, TextDelta, Usage
from claude_max.sessions.db import DB_NAME
from claude_max.sessions.store import SessionStore
from claude_max.usage import history, report
from claude_max.usage.plan import read_plan

DAY = 86400.0


def row(at: float, **figures) -> history.Row:
    base = dict(
        protocol="openai",
        endpoint="/v1/chat/completions",
        client="probe/1.0",
        key_label=None,
        model_asked="opus",
        model="claude-opus-5-5",
        stream=False,
        status=200,
        error=None,
        error_message=None,
    )
    return history.Row(at=at, **(base | figures))


@pytest.fixture
def db(tmp_path):
    db = history.open_db(tmp_path / DB_NAME)
    yield db
    db.close()


def test_the_observer_takes_ttft_tokens_model_cost_and_warm(monkeypatch):
    clock = iter([10.0, 10.25, 10.5])
    monkeypatch.setattr(history.time, "perf_counter", lambda: next(clock))
    seen = history.Observer(start=10.0)
    seen.asked({"model": "opus", "stream": True, "messages": []})
    seen.see(Started("s", "claude-opus-5-5", warm=True))
    seen.see(Usage(5, 1))  # a snapshot, superseded by the result
    seen.see(TextDelta("He"))  # perf_counter 10.0: ttft 0
    seen.see(TextDelta("llo"))  # no second reading
    usage = Usage(12, 34, 56, 78)
    seen.see(Result("Hello", "end_turn", usage, "s", "claude-opus-5-5", cost_usd=0.5))
    got = seen.row(
        at=1.0,
        protocol="openai",
        endpoint="/v1/chat/completions",
        client="ua",
        key_label="k",
        status=200,
        duration_ms=500.0,
        session_id=None,
    )
    assert got.ttft_ms == 0.0
    assert (got.input_tokens, got.output_tokens) == (12, 34)
    assert (got.cache_read_tokens, got.cache_write_tokens) == (56, 78)
    assert (got.model_asked, got.model, got.stream, got.warm) == (
        "opus",
        "claude-opus-5-5",
        True,
        True,
    )
    assert got.cost_usd == 0.5 and got.key_label == "k"


def test_a_failure_after_the_response_began_is_kept():
    seen = history.Observer(start=0.0)
    seen.fail(UpstreamError("The API said no.", status=529, kind="overloaded_error"))
    got = seen.row(
        at=1.0,
        protocol="anthropic",
        endpoint="/v1/messages",
        client=None,
        key_label=None,
        status=200,
        duration_ms=1.0,
        session_id=None,
    )
    assert (got.error, got.error_message) == ("overloaded_error", "The API said no.")


def test_long_texts_are_clipped():
    assert history.clip("x" * 1000) == "x" * 199 + "…"
    assert history.clip("") is None and history.clip(12) is None


def test_the_writer_batches_and_flushes(tmp_path):
    writer = history.Writer(tmp_path / DB_NAME)
    try:
        for i in range(1200):  # more than one batch
            writer.put(row(1000.0 + i, input_tokens=i))
        assert writer.flush()
        got = writer.read(0)
        assert len(got) == 1200 and got[5].input_tokens == 5
        assert got[0] == row(1000.0, input_tokens=0)  # every field round-trips
    finally:
        writer.close()
    assert writer.dropped == 0


def test_the_table_shares_the_session_store_file(tmp_path):
    path = tmp_path / DB_NAME
    with SessionStore(path):
        pass
    db = history.open_db(path)
    history.insert(db, [row(1.0)])
    assert len(history.read(db, 0)) == 1
    db.close()


def test_prune_deletes_rows_older_than_the_kept_days(db):
    now = time.time()
    history.insert(db, [row(now - 31 * DAY), row(now - 29 * DAY), row(now - 60)])
    assert history.prune(db, 30, now=now) == 1
    assert [round((now - r.at) / DAY) for r in history.read(db, 0)] == [29, 0]
    assert history.prune(db, 0.5 / 24, now=now) == 1  # 30 minutes: only the last one stays
    assert len(history.read(db, 0)) == 1


def test_the_server_prunes_at_start(tmp_path):
    import dataclasses

    from starlette.testclient import TestClient

    from claude_max.core.settings import Settings
    from claude_max.server.app import create_app

    db = history.open_db(tmp_path / DB_NAME)
    history.insert(db, [row(time.time() - 8 * DAY), row(time.time() - 6 * DAY)])
    settings = dataclasses.replace(Settings(home=tmp_path, claude_path="/nonexistent"), warm=0)
    app = create_app(dataclasses.replace(settings, history_days=7))
    with TestClient(app, base_url="http://127.0.0.1:8080"):
        from waiting import wait_until

        assert wait_until(lambda: len(history.read(db, 0)) == 1)
    db.close()


# -- the report


def known_rows(now: float) -> list[history.Row]:
    hour = 3600
    return [
        row(now - 3 * hour, input_tokens=100, output_tokens=10, cost_usd=0.01, ttft_ms=100.0,
            duration_ms=400.0, warm=True),
        row(now - 2 * hour, input_tokens=200, output_tokens=20, cost_usd=0.02, ttft_ms=300.0,
            duration_ms=900.0, warm=False, cache_read_tokens=1000),
        row(now - 1 * hour, client="editor/2", model="claude-sonnet-5-5", input_tokens=50,
            output_tokens=5, cost_usd=0.005, ttft_ms=200.0, duration_ms=250.0, warm=True),
        row(now - 60, client="editor/2", model=None, model_asked="gpt-4o", status=404,
            error="not_found_error", error_message="no model gpt-4o", duration_ms=1.0),
        row(now - 3 * DAY, input_tokens=999),  # outside 24h
    ]  # fmt: skip


def test_figures_of_known_rows():
    now = time.time()
    rows = [r for r in known_rows(now) if r.at > now - DAY]
    total = report.figures(rows)
    assert total == {
        "requests": 4,
        "errors": 1,
        "input_tokens": 350,
        "output_tokens": 35,
        "cache_read_tokens": 1000,
        "cache_write_tokens": 0,
        "cost_usd": 0.035,
        "ttft_p50_ms": 200.0,
        "ttft_p95_ms": 300.0,
        "duration_p50_ms": 250.0,
        "duration_p95_ms": 900.0,
        "warm_hits": 2,
        "cli_runs": 3,
        "warm_hit_rate": 0.6667,
    }


def test_groups_by_client_and_model():
    now = time.time()
    rows = [r for r in known_rows(now) if r.at > now - DAY]
    by_client = report.grouped(rows, "client")
    assert [(g["key"], g["requests"], g["errors"]) for g in by_client] == [
        ("editor/2", 2, 1),
        ("probe/1.0", 2, 0),
    ]
    by_model = report.grouped(rows, "model")
    assert [(g["key"], g["requests"]) for g in by_model] == [
        ("claude-opus-5-5", 2),
        ("claude-sonnet-5-5", 1),
        ("gpt-4o", 1),
    ]


def test_a_named_key_is_the_client():
    assert report.client_of(row(0.0, key_label="ci-bot")) == "ci-bot"


def test_series_fills_empty_buckets():
    now = time.time()
    rows = known_rows(now)
    day = report.series([r for r in rows if r.at > now - DAY], now - DAY, now)
    assert day["unit"] == "hour" and 24 <= len(day["points"]) <= 26
    assert sum(p["requests"] for p in day["points"]) == 4
    month = report.series(rows, now - 30 * DAY, now)
    assert month["unit"] == "day" and 30 <= len(month["points"]) <= 32
    assert sum(p["input_tokens"] for p in month["points"]) == 350 + 999


@pytest.mark.parametrize(("text", "seconds"), [("24h", DAY), ("7d", 7 * DAY), ("90m", 5400)])
def test_periods(text, seconds):
    assert report.parse_since(text) == seconds


@pytest.mark.parametrize("text", ["", "0h", "yesterday", "7", "-1d"])
def test_bad_periods(text):
    with pytest.raises(ValueError):
        report.parse_since(text)


# -- plan.json


PLAN = {
    "observed_at": 1795950000,
    "status": "allowed_warning",
    "representative": "five_hour",
    "resets_at": 1795960000,
    "overage": {"status": "rejected", "in_use": False, "disabled_reason": "org_level"},
    "windows": {
        "five_hour": {"utilization": 0.82, "resets_at": 1795960000, "status": "allowed_warning"},
        "seven_day": {"utilization": 0.3, "resets_at": 1796400000, "status": "allowed"},
    },
    "using_overage": False,
}


def test_a_plan_reading_is_read(tmp_path):
    (tmp_path / "plan.json").write_text(json.dumps(PLAN))
    plan = read_plan(tmp_path)
    assert plan["windows"]["five_hour"] == {
        "utilization": 0.82,
        "resets_at": 1795960000.0,
        "status": "allowed_warning",
    }
    assert plan["status"] == "allowed_warning" and plan["using_overage"] is False


@pytest.mark.parametrize(
    "text",
    [None, "", "{", "[]", '{"windows": {}}', '{"observed_at": "noon"}', "\udcff"],
)
def test_a_missing_or_malformed_plan_is_no_plan(tmp_path, text):
    if text is not None:
        (tmp_path / "plan.json").write_text(text, errors="surrogateescape")
    assert read_plan(tmp_path) is None


def test_malformed_windows_are_dropped(tmp_path):
    bad = PLAN | {
        "windows": {"five_hour": {"utilization": "lots"}, "x": 3, "seven_day": {"utilization": 0.5}}
    }
    (tmp_path / "plan.json").write_text(json.dumps(bad))
    assert read_plan(tmp_path)["windows"] == {
        "seven_day": {"utilization": 0.5, "resets_at": None, "status": None}
    }


def test_the_writer_creates_the_store_only_with_the_first_row(tmp_path):
    path = tmp_path / DB_NAME
    writer = history.Writer(path)
    try:
        assert writer.read(0) == [] and writer.prune(30) == 0
        assert not path.exists()
        writer.put(row(1.0))
        assert writer.flush() and path.exists()
    finally:
        writer.close()


def test_a_store_that_cannot_be_written_loses_rows_not_requests(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    writer = history.Writer(blocker / DB_NAME)  # its folder cannot be created
    try:
        writer.put(row(1.0))
        writer.put(row(2.0))
        assert writer.flush()
        assert writer.dropped == 2
    finally:
        writer.close()
