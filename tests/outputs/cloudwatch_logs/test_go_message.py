"""Messages as the Go ``cloudwatch`` plugin makes them (cloudwatch.go processRecord, AddEvent)."""

from __future__ import annotations

from flb_fast.outputs.aws.go_json import TRUNCATED_SUFFIX
from flb_fast.outputs.cloudwatch_logs.go_message import GO_MAX_EVENT_BYTES, go_message

# 256 KiB less the suffix and the event's 26 bytes: where the plugin cuts.
CUT = GO_MAX_EVENT_BYTES - len(TRUNCATED_SUFFIX) - 26


def test_a_message_without_surrounding_white_space_is_sent_as_it_is() -> None:
    assert go_message(b'{"log":"a"}') == (b'{"log":"a"}', False)


def test_white_space_is_trimmed_from_both_ends() -> None:
    assert go_message(b" \t a b \r\n") == (b"a b", False)


def test_unicode_white_space_is_trimmed_but_not_the_separators_python_also_strips() -> None:
    assert go_message("\u3000a\xa0".encode()) == (b"a", False)
    assert go_message(b"\x1fa\x1c") == (b"\x1fa\x1c", False)


def test_a_message_of_white_space_only_is_empty() -> None:
    assert go_message(b" \n ") == (b"", False)


def test_a_message_that_fits_with_its_newline_and_overhead_is_not_cut() -> None:
    data = b"x" * (GO_MAX_EVENT_BYTES - 27)
    assert go_message(data) == (data, False)


def test_a_longer_message_is_cut_and_ends_with_the_suffix() -> None:
    assert go_message(b"x" * (GO_MAX_EVENT_BYTES - 26)) == (b"x" * CUT + TRUNCATED_SUFFIX, True)


def test_the_cut_backs_off_to_a_character_boundary() -> None:
    data = b"x" * (CUT - 1) + "é".encode() + b"y" * 100
    assert go_message(data) == (b"x" * (CUT - 1) + TRUNCATED_SUFFIX, True)
