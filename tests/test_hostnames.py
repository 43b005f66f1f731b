"""Host names handed on without the idna codec exactly when the codec would hand them on unchanged."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flb_fast.hostnames import loop_host, unchanged_by_idna

# ASCII names made of labels of every length around the codec's bounds, empty ones included.
LABELS = st.one_of(st.text("ab-9", max_size=3), st.integers(60, 66).map(lambda length: "x" * length))
ASCII_NAMES = st.one_of(st.lists(LABELS, min_size=1, max_size=4).map(".".join), st.text(st.characters(max_codepoint=127)))


def idna_gives_ascii(name: str) -> bool:
    try:
        return name.encode("idna") == name.encode("ascii")
    except UnicodeError:
        return False


@given(ASCII_NAMES)
def test_an_ascii_name_is_unchanged_exactly_when_the_codec_accepts_it(name: str) -> None:
    assert unchanged_by_idna(name) == idna_gives_ascii(name)


@pytest.mark.parametrize("name", ["bücher.example", "ＡＢＣ.example", "例え.jp"])
def test_a_name_beyond_ascii_is_left_to_the_codec(name: str) -> None:
    assert not unchanged_by_idna(name)


def test_the_loop_gets_an_ascii_name_as_its_bytes() -> None:
    assert loop_host("logs.eu-west-1.amazonaws.com") == b"logs.eu-west-1.amazonaws.com"


@pytest.mark.parametrize("name", ["bücher.example", "a..b", "x" * 64 + ".example"])
def test_the_loop_gets_any_other_name_as_it_is(name: str) -> None:
    assert loop_host(name) == name
