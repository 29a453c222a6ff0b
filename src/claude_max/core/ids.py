"""How session ids are shown: short where they are random, whole where a person chose them."""

from __future__ import annotations

ELLIPSIS = "…"


def _is_hexish(id: str) -> bool:
    return len(id) >= 8 and all(c in "0123456789abcdefABCDEF-" for c in id)


def short_id(id: str) -> str:
    """How an id is shown: 8 characters for random ids, readable client ids kept readable.

    * Ids of hex digits and dashes (our uuid4 hex, a client's uuid) show their first
      8 characters, as git shows a short SHA.
    * Other client-chosen ids (`my-project`) show whole up to 16 characters; longer ones show
      their first 15 and `…`. `find` accepts that form as it is printed.
    """
    if _is_hexish(id):
        return id[:8]
    if len(id) <= 16:
        return id
    return id[:15] + ELLIPSIS


def distinct_short_ids(ids: list[str]) -> list[str]:
    """Short ids, or the full ids where two of the short ones would read the same."""
    shown = [short_id(i) for i in ids]
    return shown if len(set(shown)) == len(shown) else list(ids)
