"""API keys: one (`--api-key KEY`) or several named ones (`--api-key NAME=KEY` repeated, or
`--api-keys-file`), so that each client has its own key and the server knows which one
called (the guard puts the key's label on the request: `request.state.key_label`).

Keys travel in HTTP headers, which carry ASCII reliably and nothing else: a key with other
characters could never match, so it is refused at start.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from claude_max.core.errors import ClaudeMaxError

DEFAULT_LABEL = "default"
_LABEL = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_KEY = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no spaces

Keys = tuple[tuple[str, str], ...]  # (label, key)


def parse(values: Iterable[str], *, where: str = "--api-key") -> Keys:
    """`KEY` or `NAME=KEY` values. A bare key may contain '=' as base64 padding ("abc==")."""
    keys: list[tuple[str, str]] = []
    for value in values:
        label, sep, key = value.partition("=")
        if not sep or not key or key.startswith("=") or not _LABEL.match(label):
            label, key = DEFAULT_LABEL, value
        keys.append((label, key.strip()))
    return check(keys, where)


def load_file(path: Path) -> Keys:
    """A keys file: one `NAME=KEY` per line; blank lines and `#` comments are skipped."""
    try:
        text = path.expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ClaudeMaxError(f"cannot read the API keys file {path}: {exc}") from None
    keys: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        label, sep, key = line.partition("=")
        if not sep or not _LABEL.match(label.strip()) or not key.strip():
            raise ClaudeMaxError(
                f"{path}:{number}: expected NAME=KEY",
                hint="NAME is 1-64 letters, digits, '_', '.' or '-'",
            )
        keys.append((label.strip(), key.strip()))
    return check(keys, str(path))


def check(keys: Iterable[tuple[str, str]], where: str) -> Keys:
    result = tuple(keys)
    labels: set[str] = set()
    secrets: set[str] = set()
    for label, key in result:
        if not _KEY.match(key):
            raise ClaudeMaxError(
                f"the API key '{label}' ({where}) has characters other than printable ASCII "
                "or spaces: HTTP clients could never send it",
                hint="Use letters, digits and punctuation, e.g. $(openssl rand -hex 16)",
            )
        if label in labels:
            raise ClaudeMaxError(f"two API keys are named '{label}' ({where})")
        if key in secrets:
            raise ClaudeMaxError(f"the API key '{label}' ({where}) is given twice")
        labels.add(label)
        secrets.add(key)
    return result
