from __future__ import annotations

import pytest

from claude_max.core.stops import StopScanner


def run(stops, chunks):
    scanner = StopScanner(stops)
    out, found = "", None
    for chunk in chunks:
        text, found = scanner.feed(chunk)
        out += text
        if found:
            return out, found
    return out + scanner.flush(), None


@pytest.mark.parametrize(
    ("stops", "chunks", "expected"),
    [
        (["STOP"], ["alpha ST", "OP beta"], ("alpha ", "STOP")),
        (["STOP"], ["alpha ", "S", "T", "O", "P"], ("alpha ", "STOP")),
        (["STOP"], ["alpha ST", "ART"], ("alpha START", None)),
        (["\n\n", "END"], ["one\n", "\ntwo END"], ("one", "\n\n")),
        (["b", "abc"], ["xxabc"], ("xx", "abc")),
        ([], ["anything"], ("anything", None)),
    ],
)
def test_cuts_at_the_earliest_stop(stops, chunks, expected):
    assert run(stops, chunks) == expected


def test_holds_back_only_a_possible_prefix():
    scanner = StopScanner(["STOP"])
    assert scanner.feed("hello S") == ("hello ", None)
    assert scanner.feed("x") == ("Sx", None)
