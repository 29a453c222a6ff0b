"""The protocols' shared checks."""

from __future__ import annotations

from claude_max.protocols import validate


def test_data_url_gives_the_media_type_and_the_base64_data() -> None:
    assert validate.data_url("data:image/png;base64,iVBO\nRw==") == ("image/png", "iVBO\nRw==")
    assert validate.data_url("data:application/pdf;base64,") == ("application/pdf", "")
    for other in (
        "https://example.com/a.png",
        "data:image/png,plain",  # not base64
        "data:;base64,AAAA",  # no media type
        " data:image/png;base64,AAAA",
    ):
        assert validate.data_url(other) is None
