"""Who pays for a request: the user's choice, never the environment's or a client's.

* The CLI child runs on the user's own login: the variables that would bill an API key or send
  the CLI elsewhere (`API_ENV`) are removed from its environment unless the user opts in with
  `CLAUDE_MAX_PASS_API_ENV=1` (or `serve --pass-api-env`). `CLAUDE_CODE_OAUTH_TOKEN`, the
  subscription token for headless hosts, is kept.
* A client's system text that starts with `x-anthropic-billing-header:` would replace the CLI's
  own billing line upstream (CLI.md §12); `neutralise` makes it ordinary text.
* With the variables passed on, a CLI could be pointed back at claude-max itself. Its requests
  then carry `LOOP_HEADER` (through the CLI's `ANTHROPIC_CUSTOM_HEADERS`), and any claude-max
  receiving one refuses it with `LOOP_MESSAGE`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

API_ENV = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL")
PASS_ENV = "CLAUDE_MAX_PASS_API_ENV"
OAUTH_ENV = "CLAUDE_CODE_OAUTH_TOKEN"
BILLING_PREFIX = "x-anthropic-billing-header:"
LOOP_HEADER = "x-claude-max-hop"
LOOP_MESSAGE = (
    "claude-max loop: a Claude Code CLI started by claude-max was sent back to claude-max "
    "(ANTHROPIC_BASE_URL points at a claude-max server); unset ANTHROPIC_BASE_URL where "
    "claude-max runs, or drop CLAUDE_MAX_PASS_API_ENV / --pass-api-env."
)


def pass_requested(env: Mapping[str, str] | None = None) -> bool:
    """CLAUDE_MAX_PASS_API_ENV=1 (or true/yes) in the environment."""
    value = (os.environ if env is None else env).get(PASS_ENV, "")
    return value.strip().lower() in ("1", "true", "yes")


def child_env(env: Mapping[str, str], *, pass_api_env: bool) -> dict[str, str]:
    """The CLI's environment: `env` without the API variables unless they are passed on;
    when a base URL is passed on, the CLI's requests carry the loop marker."""
    out = {k: v for k, v in env.items() if pass_api_env or k not in API_ENV}
    if pass_api_env and out.get("ANTHROPIC_BASE_URL"):
        extra = out.get("ANTHROPIC_CUSTOM_HEADERS", "")
        if LOOP_HEADER not in extra.lower():
            out["ANTHROPIC_CUSTOM_HEADERS"] = "\n".join(
                line for line in (extra, f"{LOOP_HEADER}: 1") if line
            )
    return out


def neutralise(text: str) -> str:
    """Client text that would set the billing line, made plain text (a leading note)."""
    if text.lstrip().lower().startswith(BILLING_PREFIX):
        return "(client text follows)\n" + text
    return text


def describe(env: Mapping[str, str], *, pass_api_env: bool) -> tuple[str, str]:
    """(mode, words) of the billing the CLI will use, from its environment alone:
    mode is `api_key`, `oauth_token` or `subscription` (the CLI's own login)."""
    child = child_env(env, pass_api_env=pass_api_env)
    if child.get("ANTHROPIC_API_KEY"):
        return "api_key", "API key (ANTHROPIC_API_KEY): billed to the key, not the subscription"
    if child.get("ANTHROPIC_AUTH_TOKEN"):
        return "oauth_token", "token from ANTHROPIC_AUTH_TOKEN"
    if child.get(OAUTH_ENV):
        return "oauth_token", f"subscription OAuth token ({OAUTH_ENV})"
    dropped = [k for k in API_ENV if env.get(k) and not pass_api_env]
    words = "subscription login (the CLI's own)"
    if dropped:
        words += f"; ignoring {', '.join(dropped)} (set {PASS_ENV}=1 to use them)"
    return "subscription", words
