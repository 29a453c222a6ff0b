"""The `claude-max` command's entry point and its one error boundary; imports nothing heavy.

`--version` answers before typer is imported; the app (`commands/root.py`) builds a command
only when it is used, and command modules load uvicorn, starlette and rich inside their
bodies, so `--help`, `--version` and TAB completion stay fast (bench/startup.py).
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Any

from claude_max import __version__


def __getattr__(name: str) -> Any:
    """`claude_max.cli.app`, imported only when asked for (typer costs ~60 ms)."""
    if name == "app":
        from claude_max.commands.root import app

        return app
    raise AttributeError(name)


def _plain_completion_help() -> None:
    """zsh and fish show help next to candidates; typer runs it through rich (+75 ms a TAB).
    Our help texts have no markup, so skip that. Private typer API: if it moves, do nothing."""
    try:
        import typer._completion_classes as classes
    except ImportError:  # pragma: no cover
        return
    if hasattr(classes, "_sanitize_help_text"):
        classes._sanitize_help_text = lambda text: text


def _light_help_renderer() -> None:
    """typer.rich_utils imports rich.markdown (markdown-it) and rich.traceback (pygments) at
    import for markup mode "markdown" and pretty tracebacks; claude-max uses neither, and they
    are most of `--help`'s time. Stand-ins serve that one import, then leave, so any later
    `import rich.markdown` (chat renders Markdown) loads the real module."""
    import types

    if "typer.rich_utils" in sys.modules:
        return
    stand_ins = {}
    for module, name in (("rich.markdown", "Markdown"), ("rich.traceback", "Traceback")):
        if module not in sys.modules:
            stand_ins[module] = types.ModuleType(module)
            setattr(stand_ins[module], name, type(name, (), {}))
    sys.modules.update(stand_ins)
    try:
        import typer.rich_utils  # noqa: F401
    except ImportError:  # pragma: no cover - a typer that moved it: nothing to speed up
        pass
    finally:
        for module, stand_in in stand_ins.items():
            if sys.modules.get(module) is stand_in:
                del sys.modules[module]


def main() -> None:
    """Entry point, and the terminal face's one error boundary: usage errors, ClaudeMaxError
    and anything unexpected end as `Error: ...` plus a hint on stderr, never a traceback
    (unless --debug / CLAUDE_MAX_DEBUG=1)."""
    if sys.argv[1:] in (["--version"], ["-V"]):  # before typer: 20 ms instead of 80
        print(f"claude-max {__version__}")
        return
    import typer

    from claude_max.commands.root import app
    from claude_max.core.errors import ClaudeMaxError
    from claude_max.terminal import console

    ClickException, NoArgsIsHelpError = _click_exceptions()

    completing = os.environ.get("_CLAUDE_MAX_COMPLETE", "")
    if completing.startswith(("complete_zsh", "complete_fish")):
        _plain_completion_help()
    elif not completing and (not sys.argv[1:] or {"-h", "--help"} & set(sys.argv[1:])):
        _light_help_renderer()
    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError:  # the help is already printed
        sys.exit(2)
    except ClickException as exc:  # usage errors: exit 2
        console.report(exc.format_message(), _usage_hint(exc))
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        print(file=sys.stderr)
        sys.exit(130)
    except ClaudeMaxError as exc:
        if console.debug_enabled():
            raise
        console.report(exc.message, exc.hint)
        sys.exit(1)
    except OSError as exc:
        if exc.errno == errno.EPIPE:  # `claude-max ... | head`: the reader went away
            sys.exit(1)
        if console.debug_enabled():
            raise
        console.report(console.describe_os_error(exc), console.DEBUG_HINT)
        sys.exit(1)
    except Exception as exc:
        if console.debug_enabled():
            raise
        console.report(f"unexpected {type(exc).__name__}: {exc}", console.DEBUG_HINT)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


def _click_exceptions() -> tuple[type[Exception], type[Exception]]:
    """typer 0.28 vendors click as typer._click (private); a typer that does not uses click."""
    try:
        from typer._click.exceptions import ClickException, NoArgsIsHelpError
    except ImportError:  # pragma: no cover - a typer that uses click itself
        from click.exceptions import ClickException, NoArgsIsHelpError
    return ClickException, NoArgsIsHelpError


def _usage_hint(exc: Exception) -> str:
    """`Try: claude-max serve --help`, naming the command the user typed."""
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None) or "claude-max"
    return f"Try: {path} --help"
