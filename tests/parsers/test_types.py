"""Types casts as C's atoll / atof / strtoull(16) read them (FB flb_parser_typecast)."""

from __future__ import annotations

import math

import pytest

from flb_fast.parsers.types import CastError, parse_types, to_bool, to_float, to_hex, to_integer


@pytest.mark.parametrize("text,value", [("42", 42), (" -7x", -7), ("abc", 0), ("", 0), ("99999999999999999999", 2**63 - 1)])
def test_integer(text: str, value: int) -> None:
    assert to_integer(text) == value


@pytest.mark.parametrize("text,value", [("1.5", 1.5), ("2e3s", 2000.0), ("x", 0.0), (".5", 0.5)])
def test_float(text: str, value: float) -> None:
    assert to_float(text) == value


@pytest.mark.parametrize("text,value", [("0x1p3", 8.0), ("0x10", 16.0), ("-0x1.8p1", -3.0), ("0x", 0.0), ("0x.8", 0.5),
                                        ("0xAg", 10.0), ("0x1P-2x", 0.25), ("0x1p", 1.0)])
def test_float_reads_a_hexadecimal_prefix_as_strtod_does(text: str, value: float) -> None:
    # Recorded: tests/data/fluent-bit/parser_types_float.
    assert to_float(text) == value


def test_a_hexadecimal_float_past_a_double_is_an_infinity() -> None:
    assert (to_float("0x1p99999"), to_float("-0x1p99999")) == (math.inf, -math.inf)


@pytest.mark.parametrize("text,value", [("ff", 255), ("0x1F", 31), ("zz", 0), ("-1", 2**64 - 1)])
def test_hex(text: str, value: int) -> None:
    assert to_hex(text) == value


def test_bool_prefix_any_case() -> None:
    assert to_bool("TRUEish") is True and to_bool("False") is False
    with pytest.raises(CastError):
        to_bool("yes")


def test_type_list_ignores_entries_without_colon_and_first_wins() -> None:
    casts = parse_types("a:integer junk b:weird a:float")
    assert casts["a"] is to_integer and casts["b"]("x") == "x" and "junk" not in casts
