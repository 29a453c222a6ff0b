"""A CLI that exits before reading its stdin must not turn our write into an error."""

from __future__ import annotations

import asyncio

from claude_max.core.processes import CLIProcess


def test_send_to_a_process_that_already_exited():
    async def scenario() -> None:
        proc = await asyncio.create_subprocess_exec(
            "/bin/false",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        cli = CLIProcess(proc)
        await proc.wait()
        for _ in range(3):  # the first write may still fit in the pipe; later ones cannot
            await cli.send({"type": "user", "message": {"content": "x" * 70000}})
        await cli.aclose()

    asyncio.run(scenario())
