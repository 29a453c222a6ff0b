"""The models claude-max accepts, and how a client's model name becomes the CLI's `--model`.

Static data, cheap to import: `claude-max models`, `/v1/models` and shell completion read it
without starting the CLI. The CLI resolves aliases itself (FACTS §1: opus -> claude-opus-5-5);
we only decide what is accepted, so an unknown name is a clear 404, never a silent swap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from claude_max.core.errors import ModelNotFound


@dataclass(frozen=True, slots=True)
class Model:
    id: str
    alias: str
    display_name: str
    context_window: int
    max_output_tokens: int
    created_at: str = "2026-01-01T00:00:00Z"


# As the pinned CLI (2.1.330) reports them in result.modelUsage.
MODELS: tuple[Model, ...] = (
    Model("claude-opus-5-5", "opus", "Claude Opus 5.5", 1_000_000, 128_000),
    Model("claude-sonnet-5-5", "sonnet", "Claude Sonnet 5.5", 1_000_000, 128_000),
    Model("claude-haiku-5-5", "haiku", "Claude Haiku 5.5", 1_000_000, 128_000),
    Model("claude-fable-5-2", "fable", "Claude Fable 5.2", 1_000_000, 128_000),
)
DEFAULT_ALIAS = "opus"  # what the CLI picks when no --model is given
CLI_VERSION_RANGE = ((2, 1, 0), (2, 2, 0))  # >= first, < second: what this release was tested on

_PREFIXES = ("claude-code-cli/", "anthropic/")
# Seed names from the first generation of these proxies: a family name, optional date.
_SEED = re.compile(r"^claude-(opus|sonnet|haiku)-4(?:-\d{8})?$")
# Full ids of other generations (claude-sonnet-4-5-20250929): the CLI sends them unchanged.
_FULL_ID = re.compile(r"^claude-(opus|sonnet|haiku|fable)-\d+(?:-\d+)?(?:-\d{8})?$")

_BY_NAME = {m.id: m for m in MODELS} | {m.alias: m for m in MODELS}


def resolve(name: str | None) -> str:
    """Map a client's model name to the value for the CLI's `--model`.

    Every name of a catalog model maps to its alias (no name: the default), so requests for
    the same model share warm processes. Raises ModelNotFound for anything the CLI would not
    resolve to a Claude model.
    """
    if name is None or name == "":
        return DEFAULT_ALIAS
    key = name.strip().lower()
    for prefix in _PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix) :]
    if key in _BY_NAME:
        return _BY_NAME[key].alias
    if m := _SEED.match(key):
        return m.group(1)
    if _FULL_ID.match(key):
        return key
    raise ModelNotFound(name)


def default_model() -> Model:
    return _BY_NAME[DEFAULT_ALIAS]


def listed() -> list[Model]:
    """What /v1/models shows: every full id, then the aliases clients may also send."""
    aliases = [
        Model(
            m.alias,
            m.alias,
            f"{m.display_name} (latest)",
            m.context_window,
            m.max_output_tokens,
            m.created_at,
        )
        for m in MODELS
    ]
    return [*MODELS, *aliases]


def entry(name: str) -> Model:
    """The entry for /v1/models/{id}, under the id that was asked for (clients compare it with
    what they sent); a name served by another entry says which in its display name. Pass-through
    ids get a minimal entry. Raises ModelNotFound if unknown."""
    from dataclasses import replace

    asked = name.strip()
    key = asked.lower()
    for prefix in _PREFIXES:
        key = key.removeprefix(prefix)
    for model in listed():
        if model.id == key:
            return model if model.id == asked else replace(model, id=asked)
    key = resolve(name)
    for model in listed():
        if model.id == key:
            return replace(model, id=asked, display_name=f"{model.display_name} (as {model.id})")
    return Model(asked, "", key, 0, 0)
