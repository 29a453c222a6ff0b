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
        (None, "opus"),
        ("", "opus"),
    ],
)
def test_accepted_names(name, cli_model):
    assert catalog.resolve(name) == cli_model


@pytest.mark.parametrize("name", ["gpt-4o", "foo-bar", "claude", "claude-opus", "--model=x"])
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
