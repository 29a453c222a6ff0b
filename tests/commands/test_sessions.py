"""`claude-max chat` saves every turn; `-c`/`-r` continue; `claude-max sessions` manages them."""

from __future__ import annotations

import json


def chat_json(invoke, *args: str) -> dict:
    result = invoke("chat", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_chat_saves_and_continue_resumes_the_cli_session(invoke, fake_cli):
    first = chat_json(invoke, "-m", "sonnet", "first question")
    second = chat_json(invoke, "-c", "second question")
    assert first["session_id"] == second["session_id"]
    run1, run2 = fake_cli.calls()
    assert "--no-session-persistence" not in run1["argv"]
    resume = [a for a in run2["argv"] if a.startswith("--resume=")]
    assert len(resume) == 1 and "--model=sonnet" in run2["argv"]  # the session keeps its model
    # only the new message goes to the CLI: it has the rest
    assert [line["message"]["content"] for line in run2["stdin"]] == ["second question"]
    listed = json.loads(invoke("sessions", "--json").stdout)
    assert [(s["id"], s["turns"], s["title"]) for s in listed] == [
        (first["session_id"], 2, "first question")
    ]


def test_resume_by_unique_prefix_and_errors(invoke, fake_cli):
    a = chat_json(invoke, "alpha")["session_id"]
    b = chat_json(invoke, "beta")["session_id"]
    prefix = next(a[:n] for n in range(1, 33) if not b.startswith(a[:n]))
    assert chat_json(invoke, "-r", prefix, "more")["session_id"] == a
    missing = invoke("chat", "-r", "zzzz-none", "x")
    assert missing.exit_code == 1
    assert "Error:" in missing.stderr and "zzzz-none" in missing.stderr


def test_continue_without_any_chat_is_an_error(invoke, fake_cli):
    result = invoke("chat", "-c", "hello")
    assert result.exit_code == 1
    assert "no earlier chat" in result.stderr


def test_sessions_list_show_delete_clear(invoke, fake_cli):
    sid = chat_json(invoke, "what is 2+2?")["session_id"]
    chat_json(invoke, "another one")
    table = invoke("sessions").stdout.splitlines()
    assert table[0].split() == ["ID", "TITLE", "MODEL", "TURNS", "UPDATED"]
    assert len(table) == 3
    assert table[1].split()[0] != table[2].split()[0]

    shown = invoke("sessions", "show", sid[:8])
    assert shown.exit_code == 0
    assert "what is 2+2?" in shown.stdout and "ECHO:what is 2+2?" in shown.stdout
    document = json.loads(invoke("sessions", "show", sid, "--json").stdout)
    assert document["transcript"] == [
        {"role": "user", "text": "what is 2+2?"},
        {"role": "assistant", "text": "ECHO:what is 2+2?"},
    ]

    deleted = invoke("sessions", "delete", sid[:8])
    assert deleted.stdout.strip() == f"deleted {sid[:8]}"
    assert invoke("sessions", "show", sid).exit_code == 1
    cleared = json.loads(invoke("sessions", "clear", "--json").stdout)
    assert cleared == {"deleted": 1}
    assert json.loads(invoke("sessions", "--json").stdout) == []


def test_show_unknown_is_a_clear_error(invoke, fake_cli):
    result = invoke("sessions", "show", "nope")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error:")


def test_list_ls_and_rm_aliases(invoke, fake_cli):
    first = chat_json(invoke, "one")["session_id"]
    second = chat_json(invoke, "two")["session_id"]
    plain = invoke("sessions", "--json")
    for alias in ("list", "ls"):
        result = invoke("sessions", alias, "--json")
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout) == json.loads(plain.stdout)
    assert len(json.loads(invoke("sessions", "ls", "-n", "1", "--json").stdout)) == 1
    removed = invoke("sessions", "rm", "-y", "--json", first)
    assert removed.exit_code == 0, removed.stderr
    assert json.loads(removed.stdout) == {"deleted": [first]}
    assert [s["id"] for s in json.loads(invoke("sessions", "list", "--json").stdout)] == [second]
    help_text = invoke("sessions", "--help").stdout
    assert " list " in help_text and " ls " not in help_text and " rm " not in help_text


def test_session_ids_complete(invoke, fake_cli, monkeypatch):
    import os
    import subprocess
    import sys
    from pathlib import Path

    session = chat_json(invoke, "a title to find")["session_id"]
    script = Path(sys.executable).parent / "claude-max"
    for words, cword in (
        ("claude-max sessions show ", "3"),
        ("claude-max sessions rm ", "3"),
        (f"claude-max chat -r {session[:2]}", "3"),
    ):
        env = {k: v for k, v in os.environ.items() if not k.startswith("_CLAUDE_MAX")}
        env |= {"_CLAUDE_MAX_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": cword}
        result = subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == [session[:8]], words
