"""What the fake upstream saw, reduced to what tests assert on."""

from __future__ import annotations

from typing import Any

PNG_1PX = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAE"
    "hQGAhKmMIQAAAABJRU5ErkJggg=="
)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(
        b.get("text", "")
        for b in content
        if b.get("type") == "text" and not b.get("text", "").startswith("<system-reminder>")
    )


def dialogue(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(role, text) of the user/assistant messages the CLI sent upstream, in order."""
    return [(m["role"], _text(m["content"])) for m in body["messages"] if m["role"] != "system"]


def system_text(body: dict[str, Any]) -> str:
    system = body.get("system") or []
    if isinstance(system, str):
        return system
    return "\n".join(b.get("text", "") for b in system)


def blocks(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [
        b
        for m in body["messages"]
        if isinstance(m["content"], list)
        for b in m["content"]
        if b.get("type") == kind
    ]
