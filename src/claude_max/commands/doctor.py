"""`claude-max doctor`: is the CLI installed, logged in, able to answer (being written)."""

from __future__ import annotations


def doctor() -> None:
    """Check that claude-max can work on this machine."""
    raise NotImplementedError
