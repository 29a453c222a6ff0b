"""`claude-max doctor` on CliRunner, with the fake `claude` executable as the CLI."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from fake_claude_log import FAKE_CLAUDE
from typer.testing import CliRunner

from claude_max.cli import app
from claude_max.commands import doctor_checks as checks

CHECKS = ["cli", "version", "auth", "probe", "data_dir", "port", "root"]
PREFIXES = ("[ok]   ", "[warn] ", "[fail] ", "[skip] ")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """A predictable machine: not root, a free port, no colour forced either way."""
    monkeypatch.setattr(checks, "effective_uid", lambda: 1000)
    monkeypatch.setenv("CLAUDE_MAX_PORT", str(free_port()))
    for name in ("FORCE_COLOR", "NO_COLOR", "IS_SANDBOX", "TERM"):
        monkeypatch.delenv(name, raising=False)


def by_id(result) -> dict[str, dict[str, str | None]]:
    return {c["check"]: c for c in json.loads(result.stdout)}


def lines(stdout: str) -> dict[str, str]:
    """The checklist's check lines keyed by title ('Live probe' -> '[ok]   Live probe: ...')."""
    return {
        line[7:].split(":", 1)[0]: line for line in stdout.splitlines() if line.startswith(PREFIXES)
    }


# ------------------------------------------------------------------------ the checklist


def test_healthy_machine_prints_a_checklist_on_stdout(fake_cli, invoke):
    result = invoke("doctor")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    out = result.stdout.splitlines()
    assert out[0].startswith("[ok]   Claude Code CLI: 2.1.330 at ")
    assert out[0].endswith(f" at {FAKE_CLAUDE}")
    assert out[1] == "[ok]   CLI version: 2.1.330 is supported (>= 2.1.0, < 2.2.0)"
    # The fake says what the real CLI says with ANTHROPIC_API_KEY: billed to the key.
    assert out[2] == (
        "[warn] Login: API key from ANTHROPIC_API_KEY: usage is billed to the key, not to a "
        "Claude subscription"
    )
    assert out[3] == (
        "       To use your subscription: unset ANTHROPIC_API_KEY, then run: claude auth login"
    )
    assert out[4].startswith("[ok]   Live probe: answered in ")
    assert out[4].endswith(" s (claude-opus-5-5)")
    home = os.environ["CLAUDE_MAX_HOME"]
    assert out[5] == f"[ok]   Data directory: {home} is writable"
    assert out[6] == f"[ok]   Port {os.environ['CLAUDE_MAX_PORT']}: free on 127.0.0.1"
    assert out[7] == "[ok]   User: not running as root"
    assert out[8:] == ["", "No problems found, 1 warning."]


def test_the_probe_is_one_tiny_request_on_the_real_path(fake_cli, invoke):
    assert invoke("doctor").exit_code == 0
    [run] = fake_cli.calls()
    assert run["env"]["CLAUDE_CODE_MAX_OUTPUT_TOKENS"] == "1"
    assert "--tools=" in run["argv"]
    assert not any(checks.PROBE_PROMPT in arg for arg in run["argv"])  # the prompt is on stdin
    assert run["stdin"][-1]["message"]["content"] == checks.PROBE_PROMPT
    assert run["cwd"] == str(Path(os.environ["CLAUDE_MAX_HOME"]) / "workspace")


def test_json_is_the_only_stdout_and_has_a_stable_shape(fake_cli, invoke):
    result = invoke("doctor", "--json")
    assert result.exit_code == 0
    assert result.stderr == ""
    document = json.loads(result.stdout)
    assert [c["check"] for c in document] == CHECKS
    for check in document:
        assert set(check) == {"check", "status", "detail", "fix"}
        assert check["status"] in ("ok", "warn", "fail", "skip")
        assert isinstance(check["detail"], str) and check["detail"]
        assert (check["fix"] is None) == (check["status"] in ("ok", "skip"))
    statuses = {c["check"]: c["status"] for c in document}
    assert statuses == dict.fromkeys(CHECKS, "ok") | {"auth": "warn"}


def test_no_probe_skips_the_request(fake_cli, invoke):
    result = invoke("doctor", "--no-probe", "--json")
    assert result.exit_code == 0
    probe = by_id(result)["probe"]
    assert probe == {
        "check": "probe",
        "status": "skip",
        "detail": "skipped (--no-probe)",
        "fix": None,
    }
    assert fake_cli.calls() == []


def test_no_probe_in_the_checklist(fake_cli, invoke):
    result = invoke("doctor", "--no-probe")
    assert lines(result.stdout)["Live probe"] == "[skip] Live probe: skipped (--no-probe)"
    assert result.stdout.endswith("\nNo problems found, 1 warning.\n")


# ------------------------------------------------------------------------ the CLI


def test_missing_cli_fails_and_skips_what_needs_it(fake_cli, invoke, tmp_path):
    result = invoke("doctor", "--claude-path", str(tmp_path / "nope"))
    assert result.exit_code == 1
    assert result.stderr == ""
    out = result.stdout.splitlines()
    assert (
        out[0] == f"[fail] Claude Code CLI: The Claude Code CLI was not found at {tmp_path}/nope."
    )
    assert out[1] == (
        "       Check --claude-path / CLAUDE_MAX_CLAUDE_PATH, or install the CLI: "
        "npm install -g @anthropic-ai/claude-code"
    )
    assert out[2:5] == [
        "[skip] CLI version: skipped: the Claude Code CLI is not usable",
        "[skip] Login: skipped: the Claude Code CLI is not usable",
        "[skip] Live probe: skipped: the Claude Code CLI is not usable",
    ]
    assert out[-1] == "1 check failed."


def test_cli_not_on_path_says_how_to_install(invoke, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    result = invoke("doctor", "--json")
    assert result.exit_code == 1
    cli = by_id(result)["cli"]
    assert cli["status"] == "fail"
    assert cli["detail"] == "The Claude Code CLI (`claude`) is not on PATH."
    assert cli["fix"].startswith("Install: npm install -g @anthropic-ai/claude-code")


def test_claude_path_option_beats_the_environment(fake_cli, invoke, monkeypatch, tmp_path):
    from fake_claude_log import FAKE_CLAUDE

    monkeypatch.setenv("CLAUDE_MAX_CLAUDE_PATH", str(tmp_path / "nope"))
    result = invoke("doctor", "--no-probe", "--json", "--claude-path", str(FAKE_CLAUDE))
    assert by_id(result)["cli"]["status"] == "ok"


def test_claude_path_from_the_environment(fake_cli, invoke, monkeypatch, tmp_path):
    monkeypatch.setenv("CLAUDE_MAX_CLAUDE_PATH", str(tmp_path / "nope"))
    result = invoke("doctor", "--no-probe", "--json")
    assert by_id(result)["cli"]["detail"].endswith(f"not found at {tmp_path}/nope.")


def test_a_cli_that_cannot_say_its_version(fake_cli, invoke):
    fake_cli.use("echo", version="banana")
    result = invoke("doctor", "--no-probe", "--json")
    assert result.exit_code == 1
    checked = by_id(result)
    assert checked["cli"]["status"] == "fail"
    assert "--version failed (exit code 0): banana (Claude Code)" in checked["cli"]["detail"]
    assert checked["cli"]["fix"].startswith("Reinstall it")
    assert checked["version"]["status"] == checked["auth"]["status"] == "skip"


def test_older_cli_fails_with_the_install_command(fake_cli, invoke):
    fake_cli.use("echo", version="2.0.77")
    result = invoke("doctor", "--no-probe", "--json")
    assert result.exit_code == 1
    assert by_id(result)["version"] == {
        "check": "version",
        "status": "fail",
        "detail": "2.0.77 is older than claude-max supports (>= 2.1.0, < 2.2.0)",
        "fix": "Update: npm install -g @anthropic-ai/claude-code@2.1",
    }


def test_newer_cli_only_warns(fake_cli, invoke):
    fake_cli.use("echo", version="2.2.0")
    result = invoke("doctor", "--no-probe", "--json")
    assert result.exit_code == 0
    version = by_id(result)["version"]
    assert version["status"] == "warn"
    assert version["detail"] == "2.2.0 is newer than claude-max was tested with (>= 2.1.0, < 2.2.0)"
    assert "npm install -g @anthropic-ai/claude-code@2.1" in version["fix"]


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("2.1.330 (Claude Code)", (2, 1, 330)),
        ("v2.1.0\n", (2, 1, 0)),
        ("Claude Code", None),
        ("", None),
    ],
)
def test_parse_version(text, version):
    assert checks.parse_version(text) == version


# ------------------------------------------------------------------------ the login


def test_logged_out_fails_login_once_and_skips_the_probe(fake_cli, invoke):
    fake_cli.use("logged_out")
    result = invoke("doctor")
    assert result.exit_code == 1
    assert result.stderr == ""
    out = lines(result.stdout)
    assert out["Login"] == "[fail] Login: not logged in"
    assert "\n       Run: claude auth login\n" in result.stdout
    assert out["Live probe"] == "[skip] Live probe: skipped: the CLI is not logged in"
    assert "/login" not in result.stdout
    assert result.stdout.endswith("\n1 check failed.\n")


def test_auth_status_that_breaks(fake_cli, invoke):
    fake_cli.use("exit_silent")  # every command but --version: stderr, exit 3
    result = invoke("doctor", "--json")
    auth = by_id(result)["auth"]
    assert auth == {
        "check": "auth",
        "status": "fail",
        "detail": "`claude auth status` failed (exit code 3): error: something broke",
        "fix": "Run: claude auth status",
    }


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (
            {"authMethod": "claude.ai", "subscriptionType": "max", "email": "a@b.c"},
            ("ok", "Claude subscription (max) as a@b.c", None),
        ),
        ({"authMethod": "claude.ai"}, ("ok", "Claude subscription", None)),
        (
            {"authMethod": "oauth_token"},
            ("ok", "OAuth token (CLAUDE_CODE_OAUTH_TOKEN or ANTHROPIC_AUTH_TOKEN)", None),
        ),
        (
            {"authMethod": "api_key", "apiKeySource": "/login managed key"},
            (
                "warn",
                "Anthropic Console login: usage is billed to the Console account, not to a "
                "Claude subscription",
                "To use your subscription: run: claude auth login --claudeai",
            ),
        ),
        (
            {"authMethod": "api_key_helper"},
            (
                "warn",
                "API key from apiKeyHelper: usage is billed to that key, not to a subscription",
                "To use your subscription: run: claude auth login",
            ),
        ),
        ({"authMethod": "something_new"}, ("ok", "logged in (something_new)", None)),
    ],
)
def test_what_each_login_means_for_billing(status, expected):
    assert checks.describe_login({"loggedIn": True, **status}) == expected


def test_third_party_provider_warns():
    status, detail, fix = checks.describe_login(
        {"authMethod": "third_party", "apiProvider": "bedrock"}
    )
    assert status == "warn"
    assert detail.startswith("third-party provider (bedrock): usage is billed there")
    assert fix and fix.endswith("run: claude auth login")


# ------------------------------------------------------------------------ the probe


def test_probe_failure_carries_the_cli_error_and_a_fix(fake_cli, invoke):
    fake_cli.use("exit_silent")
    result = invoke("doctor", "--json")
    assert result.exit_code == 1
    probe = by_id(result)["probe"]
    assert probe["status"] == "fail"
    assert probe["detail"] == (
        "The Claude Code CLI exited (code 3) without an answer: error: something broke"
    )
    assert probe["fix"] == "See the CLI's own error: claude -p hi"  # not "run claude-max doctor"


def test_probe_is_bounded_by_timeout_and_kills_the_cli(fake_cli, invoke):
    fake_cli.use("hang")
    # 5 s: the fake must have started (and logged its pid) before the probe gives up on it
    result = invoke("doctor", "--timeout", "5", "--json")
    assert result.exit_code == 1
    probe = by_id(result)["probe"]
    assert probe["status"] == "fail"
    assert probe["detail"] == "no answer within 5 s"
    assert "--timeout" in probe["fix"]
    [run] = fake_cli.calls()
    with pytest.raises(ProcessLookupError):
        os.kill(run["pid"], 0)


def test_timeout_has_a_floor(fake_cli, invoke):
    result = invoke("doctor", "--timeout", "0")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "--timeout" in result.stderr


# ------------------------------------------------------------------------ the machine


def test_unwritable_data_directory_fails(fake_cli, invoke, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = invoke("doctor", "--no-probe", env={"CLAUDE_MAX_HOME": str(blocker / "home")})
    assert result.exit_code == 1
    line = lines(result.stdout)["Data directory"]
    assert line.startswith(f"[fail] Data directory: {blocker}/home is not writable: ")
    assert (
        "\n       Set CLAUDE_MAX_HOME to a writable directory, or fix its permissions\n"
        in result.stdout
    )


@pytest.mark.parametrize("how", ["option", "env"])
def test_busy_port_warns_and_suggests_a_free_one(fake_cli, invoke, how):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        if how == "option":
            result = invoke("doctor", "--no-probe", "--json", "--port", str(port))
        else:
            result = invoke("doctor", "--no-probe", "--json", env={"CLAUDE_MAX_PORT": str(port)})
    assert result.exit_code == 0  # a warning, not a failure
    check = by_id(result)["port"]
    assert check["status"] == "warn"
    assert check["detail"] == "already in use on 127.0.0.1 (another claude-max serve?)"
    spare = int(check["fix"].removeprefix("Try: claude-max serve --port "))
    assert spare > port
    assert checks.port_free(spare) is None


def test_port_must_be_a_port(fake_cli, invoke):
    result = invoke("doctor", "--port", "70000")
    assert result.exit_code == 2
    assert result.stdout == ""


@pytest.mark.parametrize("sandbox", [False, True])
def test_root_warns_about_what_it_changes(fake_cli, invoke, monkeypatch, sandbox):
    monkeypatch.setattr(checks, "effective_uid", lambda: 0)
    if sandbox:
        monkeypatch.setenv("IS_SANDBOX", "1")
    result = invoke("doctor", "--no-probe", "--json")
    assert result.exit_code == 0
    root = by_id(result)["root"]
    assert root["status"] == "warn"
    if sandbox:
        assert root["detail"].startswith("running as root (IS_SANDBOX is set")
    else:
        assert root["detail"].startswith(
            "running as root: the CLI refuses --permission-mode bypassPermissions"
        )
    assert root["detail"].endswith("the default no-tools mode is unaffected")
    assert root["fix"] == "Run claude-max as a normal user"


# ------------------------------------------------------------------------ output


def test_verbose_puts_timings_and_cli_stderr_on_stderr(fake_cli, invoke):
    fake_cli.use("exit_silent")
    quiet = invoke("doctor", "--no-probe")
    result = invoke("doctor", "-v")
    assert result.exit_code == 1
    err = result.stderr.splitlines()
    assert [line.split(":")[0] for line in err if " ms" in line] == [
        "  cli",
        "  auth",
        "  probe",
    ]
    assert "  auth stderr: error: something broke" in err
    assert "  probe stderr: error: something broke" in err
    # stdout is the same checklist as without -v
    assert lines(result.stdout).keys() == lines(quiet.stdout).keys()
    assert " ms" not in result.stdout


def test_verbose_json_keeps_stdout_pure(fake_cli, invoke):
    result = invoke("doctor", "--json", "--verbose")
    assert result.exit_code == 0
    assert [c["check"] for c in json.loads(result.stdout)] == CHECKS
    assert "  probe: " in result.stderr


def test_colour_terminal_gets_symbols(fake_cli, invoke):
    result = invoke("doctor", "--no-probe", env={"FORCE_COLOR": "1"})
    assert result.exit_code == 0
    assert "\x1b[" in result.stdout
    assert "✓" in result.stdout and "!" in result.stdout
    assert "[ok]" not in result.stdout


def test_no_color_falls_back_to_words(fake_cli, invoke):
    result = invoke("doctor", "--no-probe", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\x1b[" not in result.stdout
    assert "✓" not in result.stdout
    assert result.stdout.startswith("[ok]   Claude Code CLI: ")


def test_non_utf8_output_falls_back_to_words(fake_cli):
    result = CliRunner(charset="latin-1").invoke(
        app, ["doctor", "--no-probe"], env={"FORCE_COLOR": "1"}, catch_exceptions=False
    )
    assert result.exit_code == 0
    assert "✓" not in result.stdout
    assert "[ok]" in result.stdout


def test_help_lists_every_option(invoke):
    result = invoke("doctor", "--help")
    assert result.exit_code == 0
    for option in (
        "--json",
        "--no-probe",
        "--timeout",
        "--verbose",
        "--port",
        "--claude-path",
        "CLAUDE_MAX_PORT",
        "CLAUDE_MAX_CLAUDE_PATH",
    ):
        assert option in result.stdout


def test_spinner_only_on_an_interactive_stderr(fake_cli, invoke, monkeypatch):
    from claude_max.terminal import console

    monkeypatch.setattr(console, "stderr_is_interactive", lambda: True)
    result = invoke("doctor", env={"FORCE_COLOR": "1"})
    assert result.exit_code == 0
    assert "Asking the CLI for one token (up to 30 s)" in result.stderr
    assert "Asking" not in result.stdout
    assert invoke("doctor", "--json", env={"FORCE_COLOR": "1"}).stderr == ""
