"""What a CLI process is started with, as a hashable spec, and how to start one from it.

Everything fixed at spawn time (argv, environment, cwd, system prompt) is in the spec, so a
process started ahead of time for a spec can serve any conversation with that spec: that is
what the warm pool keys on. A long history is the one exception (`own_session`): its CLI is
started for the request, resuming a session of its own whose transcript holds the history
(`core.transcript`). Such a spec names that history (`history`, its key), so the pool only
has a process for it when one was started ahead for exactly that history: the next step of
an agent whose model has just called a client tool (`follow_up`).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from claude_max.core import argv as cli
from claude_max.core import billing, client_tools, leftovers, transcript
from claude_max.core.conversation import Conversation, TextPart, ToolCallPart, ToolResultPart, Turn
from claude_max.core.events import ControlRequest
from claude_max.core.parse import StreamParser
from claude_max.core.processes import CLIProcess, spawn
from claude_max.core.settings import Settings


@dataclass(frozen=True)
class LaunchSpec:
    argv: tuple[str, ...]  # all but the model and system prompt flags
    env: tuple[tuple[str, str], ...]
    cwd: str
    tmpdir: str
    system: str | None
    model: str | None = None
    tools: str | None = None  # the MCP tools/list answer for the client's tools
    own_session: bool = False  # start with --resume of a new id: the history's transcript
    history: str | None = None  # with own_session: the key of the turns the transcript holds

    @property
    def warm_key(self) -> LaunchSpec:
        """What a warm process must match: all but the model, which it can switch."""
        return replace(self, model=None)


def launch_spec(conv: Conversation, settings: Settings) -> LaunchSpec:
    argv = cli.build_argv(settings.claude(), conv, tools=settings.allow_tools)
    env = cli.build_env(settings, conv)
    tools = client_tools.declared(conv)
    client_system = billing.neutralise(conv.system) if conv.system else None
    system = "\n\n".join(s for s in (client_system, client_tools.instructions(conv)) if s)
    cwd = str(settings.workdir())
    own_session = not conv.options.resume and transcript.pays(conv.history, cwd)
    return LaunchSpec(
        argv=tuple(argv),
        env=tuple(sorted(env.items())),
        cwd=cwd,
        tmpdir=str(settings.tmpdir()),
        system=system or None,
        model=conv.model,
        tools=client_tools.listing(tools) if tools else None,
        own_session=own_session,
        history=transcript.key(stored(conv)) if own_session else None,
    )


def stored(conv: Conversation) -> tuple[Turn, ...]:
    """The turns a transcript of `conv`'s history holds (when its spec is `own_session`): all
    but a last assistant turn that calls tools, which goes on stdin (`transcript.split`)."""
    return conv.history[: transcript.split(conv.history)]


def follow_up(conv: Conversation, answer: str | None = None) -> Conversation | None:
    """The next request of a client that carries `conv` on, as far as its CLI depends on it,
    when its history is long enough to be a transcript (else None: a warm process is as good).

    Without `answer`: the model has called one of the client's tools, so the next request is
    `conv`, the model's calls and their results; the transcript holds `conv`'s turns and the
    calls and results go on stdin, so what they are does not matter (a stand-in call to a
    declared tool keeps the launch spec the real one gets). With `answer`: the model answered
    `answer`, and the next request adds it and a new user message."""
    if answer is not None:
        said = Turn("assistant", (TextPart(answer),))
        following = replace(conv, turns=(*conv.turns, said, Turn("user", (TextPart(""),))))
    else:
        tools = client_tools.declared(conv)
        if not tools:
            return None
        call = Turn("assistant", (ToolCallPart("toolu_follow_up", tools[0].name, "{}"),))
        results = Turn("user", (ToolResultPart("toolu_follow_up", ()),))
        following = replace(conv, turns=(*conv.turns, call, results))
    return following if transcript.long(following.history) else None


async def start(spec: LaunchSpec, history: Sequence[Turn] = ()) -> CLIProcess:
    """Start a CLI for `spec`; its system prompt file lives as long as the process. With
    `spec.own_session`, `history` is written as that session's transcript first."""
    # Each CLI gets a private TMPDIR (0700) for its probe dirs, socket and our system prompt
    # file; it is removed when the CLI is reaped, and swept at start if the server died.
    private = leftovers.private_tmpdir(Path(spec.tmpdir))
    env = {**dict(spec.env), "TMPDIR": str(private)}
    prompt_file: Path | None = None
    if spec.system:
        fd, name = tempfile.mkstemp(prefix="system-", suffix=".txt", dir=private)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(spec.system)
        prompt_file = Path(name)
    argv = [*spec.argv, *cli.model_flag(spec.model), cli.system_prompt_flag(prompt_file)]
    session: Path | None = None
    try:
        if spec.own_session:  # the CLI loads its session at start: the file must be there
            session = transcript.path(dict(spec.env), spec.cwd, transcript.new_session_id())
            transcript.write(session, history, spec.cwd)
            argv.append(cli.resume_flag(session.stem))
        proc = await spawn(argv, env=env, cwd=Path(spec.cwd))
    except BaseException:
        leftovers.remove_tree(private)
        if session is not None:
            transcript.remove(session)
        raise
    pid = proc.pid
    proc.on_close(lambda: leftovers.after_exit(pid, env))
    if session is not None and "--no-session-persistence" in spec.argv:
        proc.on_close(lambda: transcript.remove(session))  # else it is the kept session
    proc.model = spec.model
    if spec.tools is not None:
        try:
            await _offer_tools(proc, spec.tools)
        except BaseException:  # cancelled (a pool closing): leave no process behind
            proc.kill()
            await asyncio.shield(proc.aclose(grace=0.0))
            raise
    return proc


async def _offer_tools(proc: CLIProcess, listing: str, timeout: float = 30.0) -> None:
    """Answer the MCP exchange a CLI with client tools starts with (initialize, then
    tools/list), so that it then waits for its first message like any other process.

    Any other line, EOF or silence ends this early; the run that reads on reports it."""
    while True:
        try:
            line = await asyncio.wait_for(proc.readline(), timeout)
        except asyncio.TimeoutError:
            return
        if line is None:
            return
        events = StreamParser().feed(line)
        request = events[0] if events and isinstance(events[0], ControlRequest) else None
        if request is None or request.request.get("subtype") != "mcp_message":
            proc.unread(line)
            return
        await proc.send(client_tools.mcp_answer(request, listing))
        if (request.request.get("message") or {}).get("method") == "tools/list":
            return
