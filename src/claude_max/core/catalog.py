"""The models claude-max accepts, and how a client's model name becomes the CLI's `--model`.

Static data, cheap to import: `claude-max models` and shell completion read it without
starting the CLI. The server reads the CLI's own list (`cli_models`) and `adopt`s it, so
`/v1/models` and effort checks follow the CLI; this static list is the fallback. The CLI
resolves aliases itself (CLI.md §1: opus -> claude-opus-5-5) and sends any other name
unchanged: we accept what it knows, `[1m]` variants, dotted versions (`claude-sonnet-4.5`)
and any well-formed `claude-*` id (the API's own 404 answers for one that does not exist),
and never swap one model for another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from claude_max.core.errors import ModelNotFound

EFFORTS = ("low", "medium", "high", "xhigh", "max")  # what the pinned CLI lists for its models


@dataclass(frozen=True, slots=True)
class Model:
    id: str
    alias: str
    display_name: str
    context_window: int
    max_output_tokens: int
    created_at: str = "2026-01-01T00:00:00Z"
    efforts: tuple[str, ...] = EFFORTS  # output_config.effort levels it takes; () none
    adaptive: bool = True  # takes thinking {"type": "adaptive"}
    resolved: str | None = None  # for an alias: the full id it stands for


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
# Any other well-formed Claude id (claude-sonnet-4-5-20250929, next year's claude-opus-9-1):
# the CLI sends it unchanged and the API answers 404 for one that does not exist.
_FULL_ID = re.compile(r"^claude(?:-[a-z0-9]+)*-\d+(?:-[a-z0-9]+)*$")  # a version number in it
_DOTTED = re.compile(r"(?<=\d)\.(?=\d)")  # claude-sonnet-4.5 -> claude-sonnet-4-5
LONG_CONTEXT = "[1m]"  # the CLI's 1M-context variants: opus[1m], claude-opus-4-6[1m]

_BY_NAME = {m.id: m for m in MODELS} | {m.alias: m for m in MODELS}
_adopted: dict[str, Model] = {}  # the CLI's own list, by id and alias, once read


def adopt(models: list[Model]) -> None:
    """Use the CLI's own model list (from `cli_models`) for names, listing and efforts."""
    global _adopted
    _adopted = {m.id: m for m in models}


def known(model_id: str) -> Model | None:
    """The static entry for a full id, for details the CLI's list does not give."""
    return _BY_NAME.get(model_id)


def _names() -> dict[str, Model]:
    """Every accepted name -> the entry whose alias the CLI gets: the catalog's, overlaid
    with the CLI's own list once read."""
    if not _adopted:
        return _BY_NAME
    names = _BY_NAME | {m.id: m for m in _adopted.values()}
    for m in _adopted.values():
        if m.resolved is not None and m.resolved in names:
            names[m.id] = names[m.resolved]  # an alias: the same as its model
    return names


def info(cli_name: str | None) -> Model | None:
    """What is known of the model a CLI name (alias or id, `[1m]` or not) stands for; None
    for an id outside the CLI's list and the catalog."""
    key = (cli_name or DEFAULT_ALIAS).removesuffix(LONG_CONTEXT)
    return _names().get(key)


def resolve(name: str | None) -> str:
    """Map a client's model name to the value for the CLI's `--model`.

    Every name of a listed model maps to its alias (no name: the default), so requests for
    the same model share warm processes; `[1m]` variants, dotted versions and other Claude
    ids pass as they are. Raises ModelNotFound for anything that is not a Claude model name.
    """
    if name is None or name == "":
        return DEFAULT_ALIAS
    key = name.strip().lower()
    for prefix in _PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix) :]
    suffix = LONG_CONTEXT if key.endswith(LONG_CONTEXT) else ""
    key = _DOTTED.sub("-", key.removesuffix(suffix))
    names = _names()
    if key in names:
        if suffix:  # a 1M-context variant: the name as given, which the CLI resolves itself
            return key + suffix
        return names[key].alias
    if m := _SEED.match(key):
        return m.group(1) + suffix
    if len(key) <= 100 and _FULL_ID.match(key):
        return key + suffix
    raise ModelNotFound(name)


def default_model() -> Model:
    return _BY_NAME[DEFAULT_ALIAS]


def listed() -> list[Model]:
    """What /v1/models shows: every full id, then the aliases clients may also send."""
    if _adopted:
        return list(_adopted.values())
    aliases = [
        Model(
            m.alias,
            m.alias,
            f"{m.display_name} (latest)",
            m.context_window,
            m.max_output_tokens,
            m.created_at,
            resolved=m.id,
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
