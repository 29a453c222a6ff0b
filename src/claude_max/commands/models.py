"""`claude-max models`: the models the proxy accepts, from local data (being written)."""

from __future__ import annotations


def models() -> None:
    """List the models claude-max accepts."""
    raise NotImplementedError
