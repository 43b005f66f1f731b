"""LineSplitter: Fluent Bit's in_tail line rules (tail_file.c), whole read buffers at a time."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flb_fast._core import LineSplitter


def feed_all(splitter: LineSplitter, pieces: list[bytes]) -> list[bytes]:
    lines: list[bytes] = []
    for piece in pieces:
        lines.extend(splitter.feed(piece))
    return lines


def test_complete_lines_are_returned_and_the_partial_last_line_is_kept_for_the_next_feed():
    splitter = LineSplitter(32768, True)
    assert splitter.feed(b"one\ntwo\nthr") == [b"one", b"two"]
    assert splitter.pending == 3
    assert splitter.feed(b"ee\n") == [b"three"]
    assert splitter.pending == 0


def test_an_empty_buffer_returns_nothing_and_keeps_the_partial_line():
    splitter = LineSplitter(32768, True)
    splitter.feed(b"abc")
    assert splitter.feed(b"") == []
    assert splitter.pending == 3


def test_a_buffer_without_newline_returns_nothing_until_flush():
    splitter = LineSplitter(32768, True)
    assert splitter.feed(b"no newline at end") == []
    assert splitter.pending == 17
    assert splitter.flush() == b"no newline at end"
    assert splitter.pending == 0
    assert splitter.flush() is None


def test_bytearray_and_memoryview_buffers_are_read_like_bytes():
    splitter = LineSplitter(32768, True)
    assert splitter.feed(bytearray(b"a\nb")) == [b"a"]
    assert splitter.feed(memoryview(b"xxc\nd")[2:]) == [b"bc"]


def test_one_carriage_return_before_the_newline_is_dropped():
    splitter = LineSplitter(32768, True)
    assert splitter.feed(b"dos\r\ntwo\r\r\n") == [b"dos", b"two\r"]


def test_a_line_made_of_a_lone_carriage_return_is_kept_as_fluent_bit_does():
    # tail_file.c strips "\r" only `if (len >= 2)`.
    splitter = LineSplitter(32768, True)
    assert splitter.feed(b"\r\n") == [b"\r"]


def test_a_carriage_return_split_from_its_newline_across_reads_is_still_dropped():
    splitter = LineSplitter(32768, True)
    assert splitter.feed(b"abc\r") == []
    assert splitter.feed(b"\n") == [b"abc"]


def test_empty_lines_are_returned_as_empty_bytes():
    splitter = LineSplitter(32768, True)
    assert splitter.feed(b"a\n\n\nb\n") == [b"a", b"", b"", b"b"]


def test_skip_empty_lines_drops_empty_and_lone_carriage_return_lines():
    splitter = LineSplitter(32768, True, skip_empty_lines=True)
    assert splitter.feed(b"a\n\n\r\nb\n") == [b"a", b"b"]
    assert splitter.pending == 0


def test_the_longest_line_kept_is_buffer_max_size_minus_two_bytes():
    # Fluent Bit's buffer holds Buffer_Max_Size - 1 bytes and the line needs its newline in it.
    splitter = LineSplitter(10, True)
    assert splitter.max_line_bytes == 8
    assert splitter.feed(b"12345678\n") == [b"12345678"]
    assert splitter.skipped_lines == 0


def test_a_line_one_byte_over_the_limit_is_skipped_and_the_next_line_read():
    splitter = LineSplitter(10, True)
    assert splitter.feed(b"123456789\nnext\n") == [b"next"]
    assert (splitter.skipped_lines, splitter.skipped_bytes) == (1, 10)


def test_a_carriage_return_counts_in_the_line_length_limit():
    splitter = LineSplitter(10, True)
    assert splitter.feed(b"1234567\r\n12345678\r\nok\n") == [b"1234567", b"ok"]
    assert (splitter.skipped_lines, splitter.skipped_bytes) == (1, 10)


def test_a_long_line_spanning_many_reads_is_discarded_up_to_its_newline():
    splitter = LineSplitter(10, True)
    assert splitter.feed(b"abc\n12345") == [b"abc"]
    assert splitter.pending == 5
    for _ in range(20):
        assert splitter.feed(b"xxxxx") == []
    assert splitter.pending == 105
    assert splitter.feed(b"yy\nnext\npar") == [b"next"]
    assert (splitter.skipped_lines, splitter.skipped_bytes) == (1, 108)
    assert splitter.pending == 3


def test_pending_counts_a_discarded_line_so_the_committed_offset_stays_at_its_start():
    splitter = LineSplitter(10, True)
    data = b"ok\n" + b"L" * 30
    splitter.feed(data)
    assert len(data) - splitter.pending == 3


def test_a_long_line_without_skip_long_lines_abandons_the_file_at_its_start():
    # Fluent Bit: "requires a larger buffer size, lines are too long. Skipping file."
    splitter = LineSplitter(10, False)
    assert splitter.feed(b"ok\n123456789\nnever\n") == [b"ok"]
    assert splitter.long_line
    assert splitter.pending == 16
    assert splitter.flush() is None
    with pytest.raises(RuntimeError):
        splitter.feed(b"more\n")


def test_a_long_partial_line_without_skip_long_lines_abandons_the_file():
    splitter = LineSplitter(10, False)
    assert splitter.feed(b"ok\n12345") == [b"ok"]
    assert not splitter.long_line
    assert splitter.feed(b"6789") == []
    assert splitter.long_line
    assert splitter.pending == 9


def test_flush_while_discarding_counts_the_unterminated_long_line_as_skipped():
    splitter = LineSplitter(10, True)
    splitter.feed(b"x" * 25)
    assert splitter.flush() is None
    assert (splitter.skipped_lines, splitter.skipped_bytes) == (1, 25)
    assert splitter.pending == 0


def test_flush_drops_a_carriage_return_like_a_terminated_line():
    splitter = LineSplitter(32768, True)
    splitter.feed(b"last\r")
    assert splitter.flush() == b"last"


def test_nul_bytes_at_the_head_of_a_read_are_skipped_as_after_copytruncate():
    splitter = LineSplitter(10, True)
    assert splitter.feed(b"\0" * 50) == []
    assert splitter.pending == 0
    assert splitter.feed(b"\0\0line\n") == [b"line"]


def test_nul_bytes_inside_a_read_are_kept():
    splitter = LineSplitter(32768, True)
    assert splitter.feed(b"a\n\0b\n") == [b"a", b"\0b"]


def test_nul_bytes_heading_a_carried_over_partial_line_are_skipped_at_the_next_read():
    # The partial line becomes the head of Fluent Bit's buffer after the next read.
    splitter = LineSplitter(32768, True)
    assert splitter.feed(b"a\n\0\0b") == [b"a"]
    assert splitter.pending == 3
    assert splitter.feed(b"c\n") == [b"bc"]


def test_buffer_max_size_below_three_bytes_is_refused():
    with pytest.raises(ValueError):
        LineSplitter(2, True)


def oracle_lines(data: bytes, buffer_max_size: int, skip_empty: bool) -> tuple[list[bytes], int, int]:
    """bytes.split with Fluent Bit's rules: (lines, skipped lines, pending bytes)."""
    *complete, partial = data.split(b"\n")
    lines = []
    skipped = 0
    for line in complete:
        if len(line) > buffer_max_size - 2:
            skipped += 1
        elif not (skip_empty and line in (b"", b"\r")):
            lines.append(line[:-1] if len(line) >= 2 and line.endswith(b"\r") else line)
    return lines, skipped, len(partial)


def cut(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@given(
    data=st.binary(max_size=400).map(lambda b: b.replace(b"\0", b"z")),
    alphabet_data=st.lists(st.sampled_from([b"a", b"bb", b"\n", b"\r", b"\r\n", b"xxxxxxxx"]), max_size=80),
    cuts=st.lists(st.integers(0, 500), max_size=12),
    buffer_max_size=st.integers(3, 40),
    skip_empty=st.booleans(),
)
def test_lines_fed_in_random_pieces_match_bytes_split(data, alphabet_data, cuts, buffer_max_size, skip_empty):
    data = data + b"".join(alphabet_data)
    splitter = LineSplitter(buffer_max_size, True, skip_empty_lines=skip_empty)
    lines = feed_all(splitter, cut(data, cuts))
    expected, skipped, pending = oracle_lines(data, buffer_max_size, skip_empty)
    assert lines == expected
    assert splitter.skipped_lines == skipped
    assert splitter.pending == pending


@given(
    data=st.lists(st.sampled_from([b"a", b"bcd", b"\n", b"\r\n", b"long-long-long"]), max_size=60).map(b"".join),
    cuts=st.lists(st.integers(0, 600), max_size=12),
)
def test_the_committed_offset_is_always_a_line_start(data, cuts):
    splitter = LineSplitter(8, True)
    read = 0
    for piece in cut(data, cuts):
        splitter.feed(piece)
        read += len(piece)
        offset = read - splitter.pending
        assert offset == 0 or data[offset - 1 : offset] == b"\n"


@given(
    data=st.binary(max_size=300),
    cuts=st.lists(st.integers(0, 300), max_size=10),
    buffer_max_size=st.integers(3, 30),
    skip_long_lines=st.booleans(),
)
def test_hostile_buffers_keep_the_offset_at_a_line_start_and_never_return_a_long_line(
    data, cuts, buffer_max_size, skip_long_lines
):
    splitter = LineSplitter(buffer_max_size, skip_long_lines)
    read = 0
    for piece in cut(data, cuts):
        if splitter.long_line:
            break
        lines = splitter.feed(piece)
        read += len(piece)
        assert all(len(line) <= buffer_max_size - 2 for line in lines)
        offset = read - splitter.pending
        assert 0 <= offset <= read
        assert offset == 0 or data[offset - 1 : offset] in (b"\n", b"\0")


def test_truncate_long_lines_emits_the_first_buffer_max_size_minus_one_bytes_and_drops_the_rest():
    # Fluent Bit 4.2.8 (recorded: tests/data/fluent-bit/tail_truncate_long_lines): a full buffer.
    splitter = LineSplitter(10, False, truncate_long_lines=True)
    assert splitter.feed(b"ok\n" + b"L" * 30 + b"\nafter\n", 0) == [b"ok", b"L" * 9, b"after"]
    assert list(splitter.take_starts()) == [0, 3, 34]
    assert (splitter.truncated_lines, splitter.skipped_lines, splitter.long_line) == (1, 0, False)


def test_truncate_long_lines_cuts_a_line_whose_newline_is_not_read_yet():
    splitter = LineSplitter(10, True, truncate_long_lines=True)
    offsets: list[int] = []
    for data, base in ((b"ok\n12345", 0), (b"67890abc", 3), (b"def\nnext\n", 3)):
        splitter.feed(data, base)
        offsets.extend(splitter.take_starts())
    assert offsets == [0, 3, 20]
    assert (splitter.truncated_lines, splitter.skipped_lines, splitter.pending) == (1, 0, 0)


def oracle_offsets(data: bytes, buffer_max_size: int, skip_empty: bool, truncate: bool) -> list[tuple[bytes, int]]:
    """bytes.split with Fluent Bit's rules, each line with the offset of its first byte; a truncated
    line is emitted once its buffer is full, so an unterminated last line can be too."""
    def crlf(line: bytes) -> bytes:
        return line[:-1] if len(line) >= 2 and line.endswith(b"\r") else line

    out = []
    start = 0
    *complete, partial = data.split(b"\n")
    for line in complete:
        if len(line) > buffer_max_size - 2:
            if truncate:
                out.append((crlf(line[:buffer_max_size - 1]), start))
        elif not (skip_empty and line in (b"", b"\r")):
            out.append((crlf(line), start))
        start += len(line) + 1
    if truncate and len(partial) > buffer_max_size - 2:
        out.append((crlf(partial[:buffer_max_size - 1]), start))
    return out


@given(
    data=st.lists(st.sampled_from([b"a", b"bcd", b"\n", b"\r\n", b"\r", b"long-long-long"]), max_size=60).map(b"".join),
    cuts=st.lists(st.integers(0, 600), max_size=12),
    buffer_max_size=st.integers(3, 20),
    skip_empty=st.booleans(),
    truncate=st.booleans(),
)
def test_each_line_comes_with_the_file_offset_of_its_first_byte(data, cuts, buffer_max_size, skip_empty, truncate):
    """Offset_Key: every byte before the line counts, "\\r" and skipped lines included."""
    splitter = LineSplitter(buffer_max_size, True, skip_empty_lines=skip_empty, truncate_long_lines=truncate)
    lines: list[bytes] = []
    offsets: list[int] = []
    read = 0
    for piece in cut(data, cuts):
        lines.extend(splitter.feed(piece, read - splitter.pending))
        offsets.extend(splitter.take_starts())
        read += len(piece)
    assert list(zip(lines, offsets, strict=True)) == oracle_offsets(data, buffer_max_size, skip_empty, truncate)


def test_offsets_count_the_nul_bytes_skipped_at_the_head_of_a_read():
    splitter = LineSplitter(32768, True)
    assert splitter.feed(b"\0\0\0abc\n", 100) == [b"abc"]
    assert list(splitter.take_starts()) == [103]


def test_read_positions_are_where_the_line_before_ended_skipped_empty_lines_not_counted_yet():
    """in_tail's stream_offset + last_processed_bytes (recorded: tests/data/fluent-bit/
    multiline_cri_offset_key): a "\\r" counts, empty lines skipped just before a line do not."""
    splitter = LineSplitter(32768, True, skip_empty_lines=True)
    assert splitter.feed(b"\0\0a\r\n\n\r\nb\nc\n", 100) == [b"a", b"b", b"c"]
    assert list(splitter.take_starts(read_positions=True)) == [100, 105, 110]


def test_starts_are_let_go_of_once_taken():
    splitter = LineSplitter(32768, True)
    splitter.feed(b"a\nb\n", 0)
    assert list(splitter.take_starts(read_positions=True)) == [0, 2]
    assert list(splitter.take_starts()) == []


def test_crlf_lines_names_the_lines_of_the_last_feed_that_lost_a_carriage_return():
    splitter = LineSplitter(32768, True)
    assert splitter.feed(b"a\r\nb\n\r\nc\r\n") == [b"a", b"b", b"\r", b"c"]
    assert splitter.crlf_lines == [0, 3]
    assert splitter.feed(b"d\n") == [b"d"]
    assert splitter.crlf_lines == []


def test_cut_lines_names_the_lines_of_the_last_feed_that_truncate_long_lines_cut():
    splitter = LineSplitter(8, False, False, True)
    assert splitter.feed(b"a\n" + b"x" * 20 + b"\nb\n" + b"y" * 9) == [b"a", b"x" * 7, b"b", b"y" * 7]
    assert splitter.cut_lines == [1, 3]
    assert splitter.feed(b"yy\nc\n") == [b"c"]
    assert splitter.cut_lines == []
