"""The fake ``claude`` executable behaves like the captures of the real CLI it stands in for."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_claude_log import FAKE_CLAUDE, TRANSCRIPTS_DIR, read_log

from claude_max.core.argv import SAFE_FLAGS

pytestmark = pytest.mark.timeout(60)

READ_TIMEOUT = 10.0

# What claude-max passes, minus per-request options.
BASE_ARGV = list(SAFE_FLAGS)


def user(content: Any, *, query: bool = True) -> dict[str, Any]:
    line: dict[str, Any] = {
        "type": "user",
        "message": {"role": "user", "content": content},
        "parent_tool_use_id": None,
        "session_id": "",
    }
    if not query:
        line["shouldQuery"] = False
    line["client_composed"] = True
    return line


def assistant(text: str) -> dict[str, Any]:
    return {
        "type": "assistant",
        "message": {"role": "assistant", "content": [{"type": "text", "text": text}]},
        "parent_tool_use_id": None,
        "session_id": "",
    }


def control(request_id: str, subtype: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": "control_request",
        "request_id": request_id,
        "request": {"subtype": subtype, **fields},
    }


def kinds(lines: list[Any]) -> list[str]:
    """``type[/subtype or event type]`` of each line, for asserting on sequences."""
    out = []
    for line in lines:
        if not isinstance(line, dict):
            out.append("<non-json>")
        elif line["type"] == "stream_event":
            out.append("stream_event/" + line["event"]["type"])
        elif line["type"] == "system":
            out.append("system/" + line["subtype"])
        else:
            out.append(line["type"])
    return out


def deltas(lines: list[Any]) -> list[str]:
    return [
        line["event"]["delta"]["text"]
        for line in lines
        if isinstance(line, dict)
        and line["type"] == "stream_event"
        and line["event"]["type"] == "content_block_delta"
    ]


class FakeProcess:
    """The fake CLI in a subprocess; stdout is pumped by a thread so every read can time out."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path, new_session: bool):
        self.proc = subprocess.Popen(
            [str(FAKE_CLAUDE), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
            start_new_session=new_session,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._pump = threading.Thread(target=self._read_stdout, daemon=True)
        self._pump.start()
        self.stderr = ""

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self._lines.put(raw.decode("utf-8").rstrip("\n"))
        self._lines.put(None)

    def send(self, obj: Any) -> None:
        self.send_raw(json.dumps(obj))

    def send_raw(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode("utf-8") + b"\n")
        self.proc.stdin.flush()

    def close_stdin(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()

    def read(self, timeout: float = READ_TIMEOUT, *, parse: bool = True) -> Any:
        """The next stdout line, parsed when it is JSON (and ``parse``); ``None`` at EOF."""
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no stdout line within {timeout} s") from None
        if line is None:
            self._lines.put(None)  # keep reporting EOF
            return None
        if not parse:
            return line
        try:
            return json.loads(line)
        except ValueError:
            return line

    def quiet_for(self, seconds: float) -> bool:
        """True if nothing is printed for ``seconds``."""
        try:
            line = self._lines.get(timeout=seconds)
        except queue.Empty:
            return True
        self._lines.put(line)  # order no longer matters to the caller: it is failing
        return False

    def read_until(self, predicate: Callable[[Any], bool]) -> list[Any]:
        """Lines up to and including the first one matching ``predicate``."""
        lines = []
        while True:
            line = self.read()
            assert line is not None, f"EOF before the expected line; got {kinds(lines)}"
            lines.append(line)
            if predicate(line):
                return lines

    def read_turn(self) -> list[Any]:
        return self.read_until(lambda line: isinstance(line, dict) and line["type"] == "result")

    def read_all(self, *, parse: bool = True) -> list[Any]:
        lines = []
        while (line := self.read(parse=parse)) is not None:
            lines.append(line)
        return lines

    def wait(self, timeout: float = READ_TIMEOUT) -> int:
        rc = self.proc.wait(timeout=timeout)
        self._pump.join(timeout)
        assert self.proc.stderr is not None
        if not self.proc.stderr.closed:
            self.stderr = self.proc.stderr.read().decode("utf-8")
        return rc

    def cleanup(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=READ_TIMEOUT)
        self._pump.join(READ_TIMEOUT)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None and not pipe.closed:
                try:
                    pipe.close()
                except BrokenPipeError:
                    pass


Spawn = Callable[..., FakeProcess]


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "fake_claude.log"


@pytest.fixture
def spawn(tmp_path: Path, log_path: Path) -> Iterator[Spawn]:
    started: list[FakeProcess] = []
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("FAKE_CLAUDE")}

    def start(*args: str, new_session: bool = False, **env: str) -> FakeProcess:
        full_env = {**base_env, "FAKE_CLAUDE_LOG": str(log_path), **env}
        proc = FakeProcess(list(args), full_env, tmp_path, new_session)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.cleanup()


def run_once(spawn: Spawn, *args: str, stdin: str = "", **env: str) -> tuple[int, str, str]:
    proc = spawn(*args, **env)
    if stdin:
        proc.send_raw(stdin.rstrip("\n"))
    proc.close_stdin()
    lines = proc.read_all()
    rc = proc.wait()
    out = "".join(
        (json.dumps(line, separators=(",", ":")) if isinstance(line, (dict, list)) else line) + "\n"
        for line in lines
    )
    return rc, out, proc.stderr


# ------------------------------------------------------------------------------------------
# commands


def test_version(spawn: Spawn) -> None:
    assert run_once(spawn, "--version") == (0, "2.1.330 (Claude Code)\n", "")
    assert run_once(spawn, "--version", FAKE_CLAUDE_VERSION="2.0.1")[1] == "2.0.1 (Claude Code)\n"


def test_auth_status(spawn: Spawn, tmp_path: Path) -> None:
    rc, out, _ = run_once(spawn, "auth", "status", CLAUDE_CONFIG_DIR=str(tmp_path / "cfg"))
    assert rc == 0
    status = json.loads(out)
    assert status["loggedIn"] is True
    assert status["authMethod"] == "api_key"
    assert status["configDirectory"] == str(tmp_path / "cfg")

    rc, out, _ = run_once(spawn, "auth", "status", FAKE_CLAUDE_SCENARIO="logged_out")
    assert rc == 1
    assert json.loads(out)["loggedIn"] is False


def test_exit_override(spawn: Spawn) -> None:
    assert run_once(spawn, "--version", FAKE_CLAUDE_EXIT="7")[0] == 7


def test_stream_json_needs_verbose(spawn: Spawn) -> None:
    rc, out, err = run_once(spawn, "-p", "--output-format=stream-json", "hi")
    assert (rc, out) == (1, "")
    assert "requires --verbose" in err


def test_prompt_argument_modes(spawn: Spawn) -> None:
    assert run_once(spawn, "-p", "--", "--model opus hi") == (0, "ECHO:--model opus hi\n", "")
    rc, out, _ = run_once(spawn, "-p", "--output-format=json", stdin="from stdin")
    assert rc == 0
    assert json.loads(out)["result"] == "ECHO:from stdin"
    rc, _, err = run_once(spawn, "-p", "-hello")
    assert rc == 1
    assert "unknown option '-hello'" in err


# ------------------------------------------------------------------------------------------
# echo and the stream-json input protocol


def test_echo_turn_has_the_real_shape(spawn: Spawn) -> None:
    proc = spawn(*BASE_ARGV)
    assert proc.quiet_for(0.3), "the real CLI prints nothing before the first stdin line"
    proc.send(user([{"type": "text", "text": "hello"}, {"type": "text", "text": "there"}]))
    lines = proc.read_turn()
    assert kinds(lines) == [
        "system/init",
        "system/status",
        "stream_event/message_start",
        "stream_event/content_block_start",
        "stream_event/content_block_delta",
        "stream_event/content_block_delta",
        "assistant",
        "stream_event/content_block_stop",
        "stream_event/message_delta",
        "stream_event/message_stop",
        "result",
    ]
    init, result = lines[0], lines[-1]
    assert init["model"] == "claude-opus-5-5"
    assert init["tools"] == []
    assert init["claude_code_version"] == "2.1.330"
    assert "".join(deltas(lines)) == "ECHO:hello\nthere"
    assert lines[6]["message"]["content"] == [{"type": "text", "text": "ECHO:hello\nthere"}]
    assert lines[6]["message"]["stop_reason"] is None
    assert lines[8]["event"]["delta"]["stop_reason"] == "end_turn"
    assert result["subtype"] == "success"
    assert result["is_error"] is False
    assert result["terminal_reason"] == "completed"
    assert result["result"] == "ECHO:hello\nthere"
    assert result["num_turns"] == 1
    assert result["total_cost_usd"] == 0.0123
    assert result["usage"]["input_tokens"] == 100
    assert result["usage"]["output_tokens"] == 2
    assert list(result["modelUsage"]) == ["claude-opus-5-5"]
    assert len({line["session_id"] for line in lines}) == 1
    proc.close_stdin()
    assert proc.read_all() == []
    assert proc.wait() == 0


def test_echo_line_keys_match_the_capture(spawn: Spawn) -> None:
    """Every line type carries the keys the real CLI printed in stream_json_partial."""
    real = [json.loads(line) for line in transcript_lines("stream_json_partial")]
    proc = spawn(*BASE_ARGV, FAKE_CLAUDE_CHUNKS="3")
    proc.send(user("hi"))
    fake = proc.read_turn()
    assert kinds(fake) == kinds(real)
    for ours, theirs in zip(fake, real, strict=True):
        assert set(ours) == set(theirs), kinds([theirs])
        if "event" in theirs:
            assert set(ours["event"]) == set(theirs["event"])
        if "message" in theirs:
            assert set(ours["message"]) == set(theirs["message"])
    assert set(fake[-1]["usage"]) == set(real[-1]["usage"])
    model_usage = next(iter(fake[-1]["modelUsage"].values()))
    assert set(model_usage) == set(next(iter(real[-1]["modelUsage"].values())))


@pytest.mark.parametrize(
    ("flag", "model"),
    [
        ("opus", "claude-opus-5-5"),
        ("sonnet", "claude-sonnet-5-5"),
        ("haiku", "claude-haiku-5-5"),
        ("fable", "claude-fable-5-2"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929"),
    ],
)
def test_model_aliases(spawn: Spawn, flag: str, model: str) -> None:
    proc = spawn(*BASE_ARGV, f"--model={flag}")
    proc.send(user("hi"))
    lines = proc.read_turn()
    assert lines[0]["model"] == model
    assert lines[2]["event"]["message"]["model"] == model
    assert list(lines[-1]["modelUsage"]) == [model]


def test_chunks_usage_cost_and_text_overrides(spawn: Spawn) -> None:
    proc = spawn(
        *BASE_ARGV,
        FAKE_CLAUDE_CHUNKS="5",
        FAKE_CLAUDE_TEXT="one two three four five",
        FAKE_CLAUDE_USAGE='{"input_tokens": 7, "cache_read_input_tokens": 40}',
        FAKE_CLAUDE_COST="0.5",
    )
    proc.send(user("ignored"))
    lines = proc.read_turn()
    assert len(deltas(lines)) == 5
    result = lines[-1]
    assert result["result"] == "one two three four five"
    assert result["usage"]["input_tokens"] == 7
    assert result["usage"]["cache_read_input_tokens"] == 40
    assert result["usage"]["output_tokens"] == 5
    assert result["total_cost_usd"] == 0.5
    assert result["modelUsage"]["claude-opus-5-5"]["cacheReadInputTokens"] == 40


def test_prefix_override_and_resume_keeps_session_id(spawn: Spawn) -> None:
    sid = "11111111-2222-4333-8444-555555555555"
    proc = spawn(*BASE_ARGV, f"--resume={sid}", FAKE_CLAUDE_PREFIX="")
    proc.send(user("plain"))
    lines = proc.read_turn()
    assert lines[-1]["result"] == "plain"
    assert {line["session_id"] for line in lines} == {sid}


def test_history_seeding_protocol(spawn: Spawn, log_path: Path) -> None:
    """no-query user -> its num_turns:0 result -> assistant (silent) -> user -> the echo turn."""
    proc = spawn(*BASE_ARGV)
    proc.send(user("first question", query=False))
    seeded = proc.read_turn()
    assert kinds(seeded) == ["system/init", "result"]
    result = seeded[-1]
    assert result["num_turns"] == 0
    assert result["result"] == ""
    assert result["is_error"] is False
    assert result["subtype"] == "success"
    assert "terminal_reason" not in result  # as in warm_history_seeding.txt

    proc.send(assistant("seeded prior answer"))
    assert proc.quiet_for(0.3), "an assistant line produces no output"

    proc.send(user("follow-up question"))
    turn = proc.read_turn()
    assert turn[0]["type"] == "system"  # the real CLI prints init before every turn
    assert turn[-1]["result"] == "ECHO:follow-up question"
    assert turn[-1]["session_id"] == result["session_id"]
    assert turn[-1]["result_index"] == 1
    proc.close_stdin()
    assert proc.wait() == 0

    [record] = read_log(log_path)
    assert [line["type"] for line in record["stdin"]] == ["user", "assistant", "user"]
    assert record["stdin"][0]["shouldQuery"] is False
    assert record["exit_code"] == 0


def test_init_once_mode(spawn: Spawn) -> None:
    proc = spawn(*BASE_ARGV, FAKE_CLAUDE_INIT="once")
    proc.send(user("a", query=False))
    assert kinds(proc.read_turn()) == ["system/init", "result"]
    proc.send(user("b"))
    assert "system/init" not in kinds(proc.read_turn())


def test_control_requests(spawn: Spawn) -> None:
    proc = spawn(*BASE_ARGV)
    proc.send(control("req_1", "initialize", hooks=None))
    response = proc.read()["response"]
    assert (response["subtype"], response["request_id"]) == ("success", "req_1")
    assert isinstance(response["response"], dict)

    proc.send(control("req_2", "set_model", model="haiku"))
    assert proc.read() == {
        "type": "control_response",
        "response": {
            "subtype": "success",
            "request_id": "req_2",
            "response": {"model": "claude-haiku-5-5"},
        },
    }
    proc.send(control("req_3", "no_such_subtype"))
    assert proc.read() == {
        "type": "control_response",
        "response": {
            "subtype": "error",
            "request_id": "req_3",
            "error": "Unsupported control request subtype: no_such_subtype",
            "error_code": "unsupported_request",
        },
    }
    proc.send(user("hi"))
    assert proc.read_turn()[-1]["modelUsage"].keys() == {"claude-haiku-5-5"}


def test_stdin_eof_while_idle_exits_at_once(spawn: Spawn) -> None:
    proc = spawn(*BASE_ARGV)
    started = time.monotonic()
    proc.close_stdin()
    assert proc.wait() == 0
    assert time.monotonic() - started < 5
    assert proc.read_all() == []


def test_non_json_stdin_line_fails_like_the_real_cli(spawn: Spawn) -> None:
    proc = spawn(*BASE_ARGV)
    proc.send_raw("this is not json")
    assert proc.wait() == 1
    assert "Error parsing streaming input line" in proc.stderr


# ------------------------------------------------------------------------------------------
# failure scenarios


def test_interrupt_on_slow(spawn: Spawn) -> None:
    proc = spawn(
        *BASE_ARGV,
        FAKE_CLAUDE_SCENARIO="slow",
        FAKE_CLAUDE_TEXT="x" * 40,
        FAKE_CLAUDE_DELAY_MS="100",
    )
    started = time.monotonic()
    proc.send(user("please be slow"))
    head = proc.read_until(lambda line: line["type"] == "stream_event" and "delta" in line["event"])
    proc.send(control("req_int", "interrupt"))
    tail = proc.read_turn()
    assert time.monotonic() - started < 20 * 0.1, "the turn stopped early"
    ack = next(line for line in tail if line["type"] == "control_response")
    assert ack["response"] == {
        "subtype": "success",
        "request_id": "req_int",
        "response": {"still_queued": []},
    }
    after_ack = tail[tail.index(ack) + 1 :]
    assert kinds(after_ack) == [
        "assistant",
        "user",
        "stream_event/content_block_stop",
        "stream_event/message_delta",
        "stream_event/message_stop",
        "result",
    ]
    partial = "".join(deltas(head + tail))
    assert 0 < len(partial) < 40
    assert after_ack[0]["aborted"] is True
    assert after_ack[0]["message"]["content"][0]["text"] == partial
    assert after_ack[1]["message"]["content"][0]["text"] == "[Request interrupted by user]"
    assert "abandoned_blocks" in after_ack[4]
    result = after_ack[-1]
    assert result["subtype"] == "error_during_execution"
    assert result["terminal_reason"] == "aborted_streaming"
    assert result["is_error"] is True

    # the process keeps serving, like the real one
    proc.send(user("next"))
    assert proc.read_turn()[-1]["terminal_reason"] == "completed"
    proc.close_stdin()
    assert proc.wait() == 0


def test_slow_streams_with_delays_and_queues_user_lines(spawn: Spawn) -> None:
    proc = spawn(
        *BASE_ARGV,
        FAKE_CLAUDE_SCENARIO="slow",
        FAKE_CLAUDE_TEXT="abcdef",
        FAKE_CLAUDE_CHUNKS="3",
        FAKE_CLAUDE_DELAY_MS="150",
    )
    started = time.monotonic()
    proc.send(user("one"))
    proc.send(user("two"))  # arrives mid-turn: queued, answered after the first result
    first = proc.read_turn()
    assert time.monotonic() - started >= 0.4
    assert deltas(first) == ["ab", "cd", "ef"]
    assert proc.read_turn()[-1]["result_index"] == 1
    proc.close_stdin()
    assert proc.wait() == 0


def test_hang_is_killed_with_its_process_group(spawn: Spawn, log_path: Path) -> None:
    proc = spawn(*BASE_ARGV, new_session=True, FAKE_CLAUDE_SCENARIO="hang")
    proc.send(user("hi"))
    assert kinds(proc.read_until(lambda line: line.get("subtype") == "status")) == [
        "system/init",
        "system/status",
    ]
    assert proc.quiet_for(0.5)
    proc.close_stdin()
    assert proc.quiet_for(0.3), "a hung CLI ignores stdin EOF"
    assert proc.proc.poll() is None
    [record] = read_log(log_path)
    assert record["pgid"] == proc.proc.pid
    os.killpg(record["pgid"], signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    assert read_log(log_path)[0]["exit_code"] is None


def test_hang_exits_143_on_sigterm(spawn: Spawn, log_path: Path) -> None:
    proc = spawn(*BASE_ARGV, FAKE_CLAUDE_SCENARIO="hang")
    proc.send(user("hi"))
    proc.read_until(lambda line: line.get("subtype") == "status")
    proc.proc.terminate()
    assert proc.wait() == 143
    assert read_log(log_path)[0]["exit_code"] == 143


def test_hang_can_ignore_sigterm(spawn: Spawn) -> None:
    proc = spawn(*BASE_ARGV, FAKE_CLAUDE_SCENARIO="hang", FAKE_CLAUDE_IGNORE_SIGTERM="1")
    proc.send(user("hi"))
    proc.read_until(lambda line: line.get("subtype") == "status")
    proc.proc.terminate()
    with pytest.raises(subprocess.TimeoutExpired):
        proc.proc.wait(timeout=0.5)
    proc.proc.kill()
    assert proc.wait() == -signal.SIGKILL


def test_crash(spawn: Spawn) -> None:
    proc = spawn(*BASE_ARGV, FAKE_CLAUDE_SCENARIO="crash")
    proc.send(user("hello there"))
    lines = proc.read_all()
    assert proc.wait() == 1
    assert kinds(lines) == [
        "system/init",
        "system/status",
        "stream_event/message_start",
        "stream_event/content_block_start",
        "stream_event/content_block_delta",
        "stream_event/content_block_delta",
    ]
    assert proc.stderr == "boom\n"


def test_garbage(spawn: Spawn) -> None:
    proc = spawn(*BASE_ARGV, FAKE_CLAUDE_SCENARIO="garbage")
    proc.send(user("hi"))
    lines = proc.read_turn()
    assert isinstance(lines[0], str)
    assert lines[1]["subtype"] == "init"
    assert lines[-1]["result"] == "ECHO:hi"


def test_exit_silent(spawn: Spawn) -> None:
    proc = spawn(*BASE_ARGV, FAKE_CLAUDE_SCENARIO="exit_silent")
    assert proc.read_all() == []
    assert proc.wait() == 3
    assert proc.stderr == "error: something broke\n"


def test_sigint_mid_turn_ends_like_an_interrupt_and_exits_0(spawn: Spawn) -> None:
    proc = spawn(*BASE_ARGV, FAKE_CLAUDE_SCENARIO="slow", FAKE_CLAUDE_TEXT="y" * 40)
    proc.send(user("hi"))
    proc.read_until(lambda line: line["type"] == "stream_event" and "delta" in line["event"])
    proc.proc.send_signal(signal.SIGINT)
    tail = proc.read_all()
    assert proc.wait() == 0
    assert "control_response" not in kinds(tail)
    assert tail[-1]["subtype"] == "error_during_execution"


# ------------------------------------------------------------------------------------------
# transcripts


def transcript_lines(name: str) -> list[str]:
    return (TRANSCRIPTS_DIR / f"{name}.stdout").read_text(encoding="utf-8").splitlines()


def transcript_code(name: str) -> int:
    meta = json.loads((TRANSCRIPTS_DIR / f"{name}.meta.json").read_text(encoding="utf-8"))
    return int(meta["exit_code"])


@pytest.mark.parametrize(
    "name",
    [
        "stream_json_partial",
        "err_401_stream_json_retries0",
        "err_429_stream_json_retries2",
        "max_turns_1_tool_use",
        "model_unknown_404_stream",
    ],
)
def test_transcript_replay_is_verbatim_and_exits_with_its_code(spawn: Spawn, name: str) -> None:
    proc = spawn(*BASE_ARGV, FAKE_CLAUDE_SCENARIO=f"transcript:{name}")
    proc.send(user("hi"))
    proc.read_turn()
    assert proc.quiet_for(0.2), "exits only after stdin EOF"
    assert proc.proc.poll() is None
    proc.close_stdin()
    assert proc.wait() == transcript_code(name)

    proc = spawn(*BASE_ARGV, FAKE_CLAUDE_SCENARIO=f"transcript:{name}")
    proc.send(user("hi"))
    proc.close_stdin()
    assert proc.read_all(parse=False) == transcript_lines(name)


def test_transcript_without_result_exits_at_once(spawn: Spawn) -> None:
    proc = spawn(*BASE_ARGV, FAKE_CLAUDE_SCENARIO="transcript:sigterm_midstream_stream_json")
    proc.send(user("count"))
    lines = proc.read_all()  # stdin still open
    assert len(lines) == len(transcript_lines("sigterm_midstream_stream_json"))
    assert proc.wait() == 143


def test_transcript_seeding_uses_the_transcript_session(spawn: Spawn) -> None:
    proc = spawn(*BASE_ARGV, FAKE_CLAUDE_SCENARIO="transcript:err_401_stream_json_retries0")
    proc.send(user("earlier", query=False))
    seeded = proc.read_turn()
    assert seeded[-1]["num_turns"] == 0
    sid = json.loads(transcript_lines("err_401_stream_json_retries0")[0])["session_id"]
    assert seeded[-1]["session_id"] == sid
    proc.send(user("now"))
    assert proc.read_turn()[-1]["api_error_status"] == 401
    proc.close_stdin()
    assert proc.wait() == 1


def test_logged_out_turn_replays_no_credentials(spawn: Spawn) -> None:
    proc = spawn(*BASE_ARGV, FAKE_CLAUDE_SCENARIO="logged_out")
    proc.send(user("hi"))
    assert proc.read_turn()[-1]["result"].startswith("Not logged in")
    proc.close_stdin()
    assert proc.wait() == 1


def test_every_copied_transcript_is_ndjson_with_meta() -> None:
    names = sorted(p.name[: -len(".stdout")] for p in TRANSCRIPTS_DIR.glob("*.stdout"))
    assert len(names) >= 20
    for name in names:
        assert isinstance(transcript_code(name), int)
        if name.startswith(("auth_status", "version")):
            continue
        for line in transcript_lines(name):
            assert isinstance(json.loads(line), dict), name


# ------------------------------------------------------------------------------------------
# the log


def test_log_records_argv_cwd_env_and_stdin(spawn: Spawn, log_path: Path, tmp_path: Path) -> None:
    prompt_file = tmp_path / "system.txt"
    prompt_file.write_text("You are terse.", encoding="utf-8")
    proc = spawn(
        *BASE_ARGV,
        f"--system-prompt-file={prompt_file}",
        CLAUDE_CODE_MAX_RETRIES="0",
        ANTHROPIC_API_KEY="sk-test",
        UNRELATED_SECRET="x",
    )
    # The start record is written before the fake reads stdin.
    deadline = time.monotonic() + READ_TIMEOUT
    while not read_log(log_path):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.send(user("hi"))
    proc.read_turn()
    # Each stdin line is logged before the fake answers it.
    assert read_log(log_path)[0]["stdin"] == [user("hi")]
    proc.close_stdin()
    assert proc.wait() == 0

    [record] = read_log(log_path)
    assert record["argv"] == [str(FAKE_CLAUDE), *BASE_ARGV, f"--system-prompt-file={prompt_file}"]
    assert Path(record["cwd"]) == tmp_path
    assert record["pid"] == proc.proc.pid
    assert record["env"]["CLAUDE_CODE_MAX_RETRIES"] == "0"
    assert record["env"]["ANTHROPIC_API_KEY"] == "sk-test"
    assert record["env"]["FAKE_CLAUDE_LOG"] == str(log_path)
    assert "UNRELATED_SECRET" not in record["env"]
    assert record["system_prompt_file"] == {"path": str(prompt_file), "content": "You are terse."}
    assert record["exit_code"] == 0


def test_log_keeps_invocations_apart(spawn: Spawn, log_path: Path) -> None:
    first = spawn(*BASE_ARGV)
    second = spawn(*BASE_ARGV, "--model=haiku")
    second.send(user("to second"))
    first.send(user("to first"))
    first.read_turn()
    second.read_turn()
    first.close_stdin()
    second.close_stdin()
    assert (first.wait(), second.wait()) == (0, 0)
    records = {r["pid"]: r for r in read_log(log_path)}
    assert records[first.proc.pid]["stdin"] == [user("to first")]
    assert records[second.proc.pid]["stdin"] == [user("to second")]


def test_read_log_of_a_missing_file(tmp_path: Path) -> None:
    assert read_log(tmp_path / "nope.log") == []


# ------------------------------------------------------------------------------------------
# client tools (SDK MCP), as measured with 2.1.330 (see the fake's docstring)

SDK_MCP = [
    "--mcp-config=" + json.dumps({"mcpServers": {"proxy": {"type": "sdk", "name": "proxy"}}})
]
TOOLS = [{"name": "get_weather", "inputSchema": {"type": "object"}}, {"name": "get_time"}]


def answer(request: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "control_response",
        "response": {
            "subtype": "success",
            "request_id": request["request_id"],
            "response": response,
        },
    }


def mcp_answer(request: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    message = request["request"]["message"]
    mcp = {"jsonrpc": "2.0", "result": result}
    if "id" in message:
        mcp["id"] = message["id"]
    return answer(request, {"mcp_response": mcp})


def handshake(proc: FakeProcess, tools: list[dict[str, Any]]) -> list[str]:
    """Answer the SDK MCP start-up exchange; the methods asked, in order."""
    methods = []
    for result in ({"capabilities": {"tools": {}}}, {}, {"tools": tools}):
        request = proc.read()
        assert request["type"] == "control_request"
        assert request["request"]["subtype"] == "mcp_message"
        assert request["request"]["server_name"] == "proxy"
        methods.append(request["request"]["message"]["method"])
        proc.send(mcp_answer(request, result))
    return methods


def test_sdk_mcp_handshake_comes_first_without_any_stdin(spawn: Spawn) -> None:
    proc = spawn(*BASE_ARGV, *SDK_MCP)
    assert handshake(proc, TOOLS) == ["initialize", "notifications/initialized", "tools/list"]
    assert proc.quiet_for(0.2)  # then it waits for a message like any CLI
    proc.send(user("hi"))
    init = proc.read()
    assert init["subtype"] == "init"
    assert init["tools"] == ["mcp__proxy__get_time", "mcp__proxy__get_weather"]
    assert init["mcp_servers"] == [{"name": "proxy", "status": "connected", "source": "sdk"}]
    assert proc.read_turn()[-1]["result"] == "ECHO:hi"


def test_a_user_line_during_the_handshake_waits_for_it(spawn: Spawn) -> None:
    proc = spawn(*BASE_ARGV, *SDK_MCP)
    proc.send(user("early"))
    handshake(proc, TOOLS)
    assert proc.read_turn()[-1]["result"] == "ECHO:early"


def tool_turn(spawn: Spawn, calls: list[dict[str, Any]], **env: str) -> FakeProcess:
    proc = spawn(*BASE_ARGV, *SDK_MCP, FAKE_CLAUDE_TOOL_CALLS=json.dumps(calls), **env)
    handshake(proc, TOOLS)
    proc.send(user("weather?"))
    return proc


def test_tool_calls_stream_and_ask_one_at_a_time(spawn: Spawn) -> None:
    calls = [{"name": "get_weather", "input": {"city": "Paris"}}, {"name": "get_time", "input": {}}]
    proc = tool_turn(spawn, calls, FAKE_CLAUDE_TOOL_TEXT="Let me check.")
    lines = proc.read_until(lambda line: line.get("type") == "control_request")
    starts = [
        line["event"]["content_block"]
        for line in lines
        if line["type"] == "stream_event" and line["event"]["type"] == "content_block_start"
    ]
    assert [b["type"] for b in starts] == ["text", "tool_use"]
    assert starts[1]["name"] == "mcp__proxy__get_weather"
    first = lines[-1]
    assert first["request"]["subtype"] == "can_use_tool"
    assert first["request"]["tool_use_id"] == starts[1]["id"]
    assert first["request"]["input"] == {"city": "Paris"}
    # the message streams on while the first ask is open; the second call is not asked yet
    rest = proc.read_until(
        lambda line: line["type"] == "stream_event" and line["event"]["type"] == "message_stop"
    )
    assert "control_request" not in kinds(rest)
    proc.send(answer(first, {"behavior": "deny", "message": "not now", "interrupt": False}))
    result = proc.read()
    assert result["type"] == "user"
    assert result["message"]["content"][0] == {
        "type": "tool_result",
        "content": "not now",
        "is_error": True,
        "tool_use_id": starts[1]["id"],
    }
    second = proc.read()
    assert second["request"]["tool_name"] == "mcp__proxy__get_time"
    proc.send(answer(second, {"behavior": "deny", "message": "forwarded", "interrupt": True}))
    tail = proc.read_turn()
    assert [line["type"] for line in tail] == ["user", "user", "result"]
    assert tail[1]["message"]["content"][0]["text"] == "[Request interrupted by user for tool use]"
    end = tail[-1]
    assert (end["subtype"], end["stop_reason"], end["terminal_reason"]) == (
        "error_during_execution",
        "tool_use",
        "aborted_tools",
    )
    assert [d["tool_name"] for d in end["permission_denials"]] == [
        "mcp__proxy__get_weather",
        "mcp__proxy__get_time",
    ]


def test_an_allowed_tool_call_goes_through_tools_call(spawn: Spawn) -> None:
    proc = tool_turn(spawn, [{"name": "get_weather", "input": {"city": "Paris"}}])
    ask = proc.read_until(lambda line: line.get("type") == "control_request")[-1]
    proc.send(answer(ask, {"behavior": "allow", "updatedInput": {"city": "Lyon"}}))
    call = proc.read_until(lambda line: line.get("type") == "control_request")[-1]
    message = call["request"]["message"]
    assert message["method"] == "tools/call"
    assert message["params"]["name"] == "get_weather"
    assert message["params"]["arguments"] == {"city": "Lyon"}
    proc.send(mcp_answer(call, {"content": [{"type": "text", "text": "Sunny"}], "isError": False}))
    end = proc.read_turn()[-1]
    assert (end["subtype"], end["result"]) == ("success", "ECHO:Sunny")


def test_a_tool_outside_the_sdk_server_is_not_asked(spawn: Spawn) -> None:
    proc = tool_turn(spawn, [{"cli_name": "Bash", "input": {"command": "ls"}}])
    turn = proc.read_turn()
    assert "control_request" not in kinds(turn)
    assert "No such tool available: Bash" in turn[-1]["result"]
