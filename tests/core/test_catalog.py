from __future__ import annotations

import pytest

from claude_max.core import catalog
from claude_max.core.errors import ModelNotFound


@pytest.mark.parametrize(
    ("name", "cli_model"),
    [
        ("opus", "opus"),
        ("Sonnet", "sonnet"),
        ("fable", "fable"),
        ("claude-opus-5-5", "opus"),
        ("claude-code-cli/claude-fable-5-2", "fable"),
        ("claude-sonnet-4", "sonnet"),
        ("claude-haiku-4", "haiku"),
        ("claude-sonnet-4-20250514", "sonnet"),
        ("claude-code-cli/claude-opus-4", "opus"),
        ("claude-code-cli/haiku", "haiku"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929"),
        ("opus[1m]", "opus[1m]"),
        ("claude-opus-4-6[1m]", "claude-opus-4-6[1m]"),
        ("claude-sonnet-4.5", "claude-sonnet-4-5"),
        ("anthropic/claude-opus-4.6[1m]", "claude-opus-4-6[1m]"),
        ("claude-opus-9-1", "claude-opus-9-1"),
        ("claude-nova-1", "claude-nova-1"),
        ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet-20241022"),
        (None, "opus"),
        ("", "opus"),
    ],
)
def test_accepted_names(name, cli_model):
    assert catalog.resolve(name) == cli_model


@pytest.mark.parametrize(
    "name",
    ["gpt-4o", "foo-bar", "claude", "claude-opus", "--model=x", "claude-opus-5.x", "opus[2m]"],
)
def test_unknown_names_are_not_swapped(name):
    with pytest.raises(ModelNotFound):
        catalog.resolve(name)


def test_listing_has_ids_and_aliases():
    ids = [m.id for m in catalog.listed()]
    assert ids[:4] == [
        "claude-opus-5-5",
        "claude-sonnet-5-5",
        "claude-haiku-5-5",
        "claude-fable-5-2",
    ]
    assert {"opus", "sonnet", "haiku", "fable"} <= set(ids)


def test_the_cli_list_once_adopted_names_and_lists_the_models():
    nova = catalog.Model("claude-nova-6-0", "nova", "Nova", 0, 0, efforts=("low",))
    alias = catalog.Model("nova", "nova", "Nova", 0, 0, efforts=("low",), resolved=nova.id)
    catalog.adopt([nova, alias])
    assert catalog.resolve("claude-nova-6-0") == "nova"
    assert catalog.resolve("opus") == "opus"  # the CLI still knows its usual aliases
    assert [m.id for m in catalog.listed()] == ["claude-nova-6-0", "nova"]
    assert catalog.info("nova[1m]") == nova
    assert catalog.info("claude-opus-9-1") is None
