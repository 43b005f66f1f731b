"""PutLogEvents bodies: ``_core.CwlBodyWriter`` (``_core/cwl.pxi``) against its Python reference
(``outputs/cloudwatch_logs/body.py BodyWriter``), and the reference against botocore's own serialiser."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flb_fast import _core
from flb_fast.outputs.aws.encode import RecordEncoder
from flb_fast.outputs.cloudwatch_logs.batch import MAX_BATCH_BYTES, MAX_BATCH_EVENTS, MAX_BATCH_SPAN_MS, MAX_EVENT_BYTES
from flb_fast.outputs.cloudwatch_logs.body import BodyWriter, body_writer, escape_message, request_head

pytestmark = pytest.mark.skipif(not hasattr(_core, "CwlBodyWriter"), reason="flb_fast._core is not built")

# Fluent Bit's JSON of a value, as the output hands it to the writers.
ENCODE = RecordEncoder().encode_value
HEAD = request_head("group é", 'stream "1"')


def random_text(rng: random.Random, length: int) -> str:
    """Characters of every UTF-8 length, control characters, quotes, backslashes and DEL."""
    pools = [(0, 0x80), (0x80, 0x800), (0x800, 0xD800), (0xE000, 0x10000), (0x10000, 0x110000)]
    return "".join(chr(rng.randrange(*rng.choice(pools))) for _ in range(length))


def random_value(rng: random.Random, depth: int, shared: dict[str, Any]) -> Any:
    kind = rng.randrange(11 if depth < 3 else 8)
    if kind == 0:
        return random_text(rng, rng.randrange(0, 30))
    if kind == 1:
        return "".join(rng.choice('ab"\\\x00\n\t\x7f/ ') for _ in range(rng.randrange(0, 20)))
    if kind == 2:
        return rng.choice([0, -1, 2**63 - 1, -(2**63), 2**64, -(2**70), rng.randrange(-(10**12), 10**12)])
    if kind == 3:
        return rng.choice([0.5, -1e16, 1e-7, 3.141592653589793, float("nan"), float("inf"), -0.0])
    if kind == 4:
        return rng.choice([None, True, False])
    if kind == 5:
        return "x" * rng.randrange(0, 40)
    if kind == 6:
        return shared
    if kind == 7:
        return rng.choice(["é" * 9, "日本語", "😀 ok"])
    if kind == 8:
        return [random_value(rng, depth + 1, shared) for _ in range(rng.randrange(0, 4))]
    if kind == 9:
        return tuple(random_value(rng, depth + 1, shared) for _ in range(rng.randrange(0, 3)))
    return {random_text(rng, rng.randrange(1, 8)): random_value(rng, depth + 1, shared) for _ in range(rng.randrange(0, 4))}


def random_records(seed: int, count: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    shared = {"pod_name": "web-1", "labels": {"app": "web é"}, "n": 3}
    return [
        {random_text(rng, rng.randrange(1, 10)): random_value(rng, 0, shared) for _ in range(rng.randrange(0, 6))}
        for _ in range(count)
    ]


def fallback_json(items: list[Any]) -> Any:
    """The output's fallback: the record as its encoder writes it (Fluent Bit's JSON, else the standard library's)."""
    return lambda index: RecordEncoder().encode(items[index], 0)


def every_body(writer: Any, items: list[Any], times: list[int], first: int = 0, encode: Any = ENCODE,
               fallback: Any = None) -> tuple[list[bytes], list[int], int]:
    """``(bodies, counts, truncated)``: the bodies ``writer`` writes one after the other, each from
    the first event the one before left out, as the output sends them."""
    events = writer.events(items, times, encode, fallback or fallback_json(items))
    bodies, counts, truncated = [], [], 0
    while first < len(items):
        body, count, cut = writer.body(HEAD, events, first)
        bodies.append(body)
        counts.append(count)
        truncated += cut
        first += count
    return bodies, counts, truncated


def both(items: list[Any], times: list[int], first: int = 0, encode: Any = ENCODE) -> Any:
    """The compiled writer's and the reference's bodies of the same events, checked equal. The
    compiled writer is used twice, so that the bodies it writes after others are checked too."""
    compiled = body_writer()
    ours = every_body(compiled, items, times, first, encode)
    assert ours == every_body(BodyWriter(), items, times, first, encode)
    assert every_body(compiled, items, times, first, encode) == ours
    return ours


@pytest.mark.parametrize("seed", range(6))
def test_the_compiled_bodies_of_random_records_are_the_reference_bodies(seed: int) -> None:
    records = random_records(seed, 300)
    rng = random.Random(seed)
    times = [rng.randrange(-(10**12), 10**12) for _ in records]
    bodies, counts, truncated = both(records, times)
    assert (len(bodies), counts, truncated) == (1, [300], 0)


_item = st.one_of(
    st.dictionaries(st.text(max_size=6), st.one_of(st.text(max_size=12), st.integers(), st.none(), st.floats()),
                    max_size=4),
    st.text(max_size=20).map(lambda text: text.encode(errors="surrogatepass").decode(errors="replace").encode()),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=300)
@given(
    items=st.lists(_item, max_size=30),
    times=st.lists(st.integers(-(10**15), 10**17), min_size=30, max_size=30),
    first=st.integers(0, 32),
)
def test_the_compiled_bodies_are_the_reference_bodies_byte_for_byte(items: list[Any], times: list[int],
                                                                     first: int) -> None:
    both(items, times[: len(items)], first)


# Runs of characters a JSON string holds as they are, of every length around the 8- and 16-byte
# steps the compiled writer copies them in, between characters it must escape or encode.
_SPECIAL = st.sampled_from(['"', "\\", "\x00", "\x1f", "\n", "\x7f", "\x80", "é", "ÿ", "日", "😀"])
_long_text = st.lists(st.one_of(st.text("ab/ {}:z~", min_size=1, max_size=40), _SPECIAL), max_size=6).map("".join)


def test_strings_longer_than_a_segment_are_the_reference_bodies() -> None:
    """The compiled writer writes a string 2,048 characters at a time (jsonw.pxi)."""
    texts = ["a" * 2047 + "\u00e9" + "b" * 2047 + "\U0001F600" + '"' * 3 + "c" * 5000, "\u65e5" * 4100 + "\x7f"]
    both([{"log": text} for text in texts], [0, 1])


@settings(max_examples=300)
@given(texts=st.lists(_long_text, min_size=1, max_size=8))
def test_strings_of_every_length_with_escapes_anywhere_are_the_reference_bodies(texts: list[str]) -> None:
    records: list[Any] = [{text: text} for text in texts]
    messages = [text.encode() for text in texts]
    both(records + messages, list(range(2 * len(texts))))


def test_a_body_is_the_records_json_escaped_in_botocores_framing() -> None:
    record = {"log": 'say "hi"\n', "n": [1, None, True], "é": {"t": "\x01\x7f😀"}}
    [body], [count], _ = both([record], [1_700_000_000_123_456_789])
    assert count == 1
    assert body == HEAD + b'{"timestamp": 1700000000123, "message": "' + escape_message(ENCODE(record)) + b'"}]}'


def test_a_dict_shared_by_records_is_written_the_same_in_each() -> None:
    pod = {"pod_name": "web", "labels": {"app": "a\"b"}}
    records = [{"log": str(index), "kubernetes": pod} for index in range(5)]
    [body], _, _ = both(records, [0] * 5)
    assert [event["message"] for event in json.loads(body)["logEvents"]] == [ENCODE(r).decode() for r in records]


def distinct(records: list[Any]) -> list[Any]:
    """The records with none of their maps or lists shared between them."""
    return [copy.deepcopy(record) for record in records]


def test_records_sharing_maps_and_lists_get_the_bodies_of_records_with_equal_distinct_ones() -> None:
    labels = {"app": "web é", "tier": 'a"b\n'}
    pod = {"pod_name": "web-1", "labels": labels, "ports": [80, {"name": "http 😀"}]}
    records = [{"log": f"line {i}\n", "kubernetes": pod, "also": labels if i % 2 else [pod]} for i in range(50)]
    times = [index * 1_000_000 for index in range(50)]
    assert both(records, times) == both(distinct(records), times)


def test_a_shared_map_bringing_records_to_the_event_limit_or_past_it() -> None:
    # The shared map (kept by the memo: 0.8 MB escaped) is longer escaped than as JSON.
    pod = {"blob": 'ab"\u00e9' * (MAX_EVENT_BYTES // 16)}
    room = MAX_EVENT_BYTES - len(ENCODE({"log": "", "kubernetes": pod}))
    at_limit = {"log": "y" * room, "kubernetes": pod}
    over_limit = {"log": "y" * (room + 1), "kubernetes": pod}
    records = [at_limit, over_limit, {"kubernetes": pod}, at_limit, over_limit]
    times = [0, 1, 2, 3, 4]
    bodies, counts, truncated = both(records, times)
    assert (bodies, counts, truncated) == both(distinct(records), times)
    assert truncated == 2
    sizes = [len(json.loads(body)["logEvents"][0]["message"].encode()) for body in bodies]
    assert sizes == [MAX_EVENT_BYTES, MAX_EVENT_BYTES, len(ENCODE({"kubernetes": pod})), MAX_EVENT_BYTES, MAX_EVENT_BYTES]


def test_more_shared_maps_than_the_memo_keeps_are_each_written_the_same() -> None:
    pods = [{"pod_name": f"p{n}", "labels": {"n": n}} for n in range(_core.JSON_MEMO_ENTRIES + 4)]
    records = [{"log": str(index), "kubernetes": pods[index % len(pods)]} for index in range(3 * len(pods))]
    times = [0] * len(records)
    assert both(records, times) == both(distinct(records), times)


def test_shared_maps_past_the_memo_bytes_are_each_written_the_same() -> None:
    # Each map is 0.6 MB once escaped ("\u00e9" per character): the memo has room for one.
    pods = [{"blob": "é" * 100_000, "n": n} for n in range(3)]
    assert 6 * 100_000 * 2 > _core.JSON_MEMO_BYTES
    records = [{"kubernetes": pods[index % 3], "i": index} for index in range(9)]
    times = [0] * len(records)
    assert both(records, times) == both(distinct(records), times)


def test_a_shared_map_nested_deeper_than_the_limit_is_sent_as_the_fallback() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(70):
        node["d"] = {}
        node = node["d"]
    records = [{"top": deep}, {"a": {"b": deep}}, {"top": deep}]
    assert both(records, [0, 0, 0]) == both(distinct(records), [0, 0, 0])


@pytest.mark.parametrize(
    "record",
    [
        {"bad": "lone \udcff surrogate"},
        {1: "int key"},
        {"k": {"nested": [{"deep": "\ud800"}]}},
        {"f": 1.5, "big": 2**80, "raw": b"\x00\xff"},
    ],
    ids=["lone-surrogate", "non-str-key", "nested-surrogate", "values-the-encoder-writes"],
)
def test_records_not_written_in_one_pass_are_sent_as_the_fallback_or_the_encoder_writes_them(record: Any) -> None:
    [body], _, _ = both([{"ok": 1}, record], [0, 0])
    assert json.loads(body)["logEvents"][0]["message"] == '{"ok":1}'


def test_a_record_nested_deeper_than_the_limit_is_sent_as_the_fallback() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(100):
        node["d"] = {}
        node = node["d"]
    both([deep], [0])


def test_a_value_whose_encoding_fails_in_any_way_is_sent_as_the_fallback() -> None:
    def refuse(value: Any) -> bytes:
        raise RuntimeError("refused")

    # The float goes to ``refuse``, so that record is the fallback's; the other is written without it.
    items: list[Any] = [{"f": 1.5}, {"s": "plain"}]
    [body], _, _ = every_body(body_writer(), items, [0, 0], encode=refuse)
    assert [event["message"] for event in json.loads(body)["logEvents"]] == ['{"f":1.5}', '{"s":"plain"}']


def test_events_out_of_order_are_sent_in_time_order_stably() -> None:
    rng = random.Random(3)
    items = [str(index).encode() for index in range(500)]
    times = [rng.randrange(0, 50) * 1_000_000 + rng.randrange(1_000_000) for _ in items]
    [body], _, _ = both(items, times)
    events = json.loads(body)["logEvents"]
    assert events == sorted(events, key=lambda event: event["timestamp"])
    assert [event["message"] for event in events] == [
        items[index].decode() for index in sorted(range(500), key=lambda index: times[index] // 1_000_000)
    ]


def test_the_events_before_first_are_left_out() -> None:
    bodies, counts, _ = both([b"a", b"b", b"c"], [3_000_000, 1_000_000, 2_000_000], first=2)
    assert counts == [1]
    assert json.loads(bodies[0])["logEvents"] == [{"timestamp": 3, "message": "a"}]


@pytest.mark.parametrize("writer", [body_writer(), BodyWriter()], ids=["compiled", "reference"])
@pytest.mark.parametrize("first", [1, -1])
def test_a_first_that_is_no_event_is_refused(writer: Any, first: int) -> None:
    with pytest.raises(ValueError, match="first must be the index of an event"):
        writer.body(HEAD, writer.events([b"a"], [0], ENCODE, fallback_json([b"a"])), first)


def test_a_fallback_that_writes_a_body_with_the_same_writer_is_refused() -> None:
    writer = body_writer()
    items: list[Any] = [["not a record"]]

    def fallback(index: int) -> bytes:
        return writer.body(HEAD, writer.events([b"inner"], [0], ENCODE, fallback), 0)[0]

    with pytest.raises(RuntimeError, match="already writing"):
        writer.body(HEAD, writer.events(items, [0], ENCODE, fallback), 0)
    assert every_body(writer, [b"after"], [0]) == every_body(BodyWriter(), [b"after"], [0])


def test_an_oversized_message_is_cut_on_a_character_boundary_and_counted() -> None:
    long = "€".encode() * (MAX_EVENT_BYTES // 3 + 10)
    bodies, counts, truncated = both([long, b"x", {"big": "y" * MAX_EVENT_BYTES}], [0, 1, 2])
    assert truncated == 2
    assert counts == [1, 1, 1]
    assert json.loads(bodies[0])["logEvents"][0]["message"] == "€" * (MAX_EVENT_BYTES // 3)


def test_a_body_holds_at_most_the_event_count_limit() -> None:
    items = [b"e"] * (2 * MAX_BATCH_EVENTS + 1)
    _, counts, _ = both(items, list(range(len(items))))
    assert counts == [MAX_BATCH_EVENTS, MAX_BATCH_EVENTS, 1]


def test_a_body_holds_at_most_the_batch_byte_limit() -> None:
    rng = random.Random(5)
    items: list[Any] = [{"x": "y" * rng.randrange(1_000, 300_000)} for _ in range(30)]
    bodies, counts, _ = both(items, [0] * len(items))
    assert sum(counts) == 30 and len(bodies) > 1
    for body in bodies:
        messages = [event["message"] for event in json.loads(body)["logEvents"]]
        assert sum(len(message.encode()) + 26 for message in messages) <= MAX_BATCH_BYTES


def test_a_body_spans_less_than_the_time_limit() -> None:
    day_ns = MAX_BATCH_SPAN_MS * 1_000_000
    _, counts, _ = both([b"a"] * 5, [0, day_ns - 1_000_000, day_ns, 3 * day_ns, 3 * day_ns + 1])
    assert counts == [2, 1, 2]


def test_an_item_not_bytes_from_the_fallback_is_refused() -> None:
    writer = body_writer()
    events = writer.events([["x"]], [0], ENCODE, lambda index: "text")
    with pytest.raises(TypeError, match="a message must be bytes, not str"):
        writer.body(HEAD, events, 0)


def test_the_reference_bodies_are_what_botocore_serialises() -> None:
    import botocore.session
    from botocore.serialize import create_serializer

    client = botocore.session.Session().create_client(
        "logs", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    model = client.meta.service_model.operation_model("PutLogEvents")
    records: list[Any] = [{"log": 'a "b"\n', "k": {"x": 1}}, {"t": "é 日本 😀 \x01 \x7f"}, {}]
    texts = [b"plain", b'q " b \\ \t\n\r\b\f \x01 \x7f', "é 日本 😀".encode(), b""]
    items = records + texts
    times = [1_795_611_600_000_000_000 + index * 1_000_000 for index in range(len(items))]
    writer = BodyWriter()
    body, _, _ = writer.body(request_head("g", "s"), writer.events(items, times, ENCODE, fallback_json(items)), 0)
    messages = [ENCODE(record).decode() for record in records] + [text.decode() for text in texts]
    events = [{"timestamp": time // 1_000_000, "message": text} for time, text in zip(times, messages, strict=True)]
    params = {"logGroupName": "g", "logStreamName": "s", "logEvents": events}
    assert body == create_serializer("json", include_validation=False).serialize_to_request(params, model)["body"]


def test_bodies_whose_escapes_outgrow_the_room_kept_for_them_are_the_reference_bodies() -> None:
    # Each "é" counts 2 bytes and is written as 6 (\u00e9): 6 such events fill a body's byte limit
    # and take three times its size; the 7th opens the next body.
    message = "é".encode() * 80_000
    bodies, counts, truncated = both([message] * 7, [0] * 7)
    assert (counts, truncated) == ([6, 1], 0)
    assert [len(body) for body in bodies] == [len(HEAD) + 6 * 480_031 + 5 * 2 + 2, len(HEAD) + 480_031 + 2]
    assert json.loads(bodies[1])["logEvents"] == [{"timestamp": 0, "message": "é" * 80_000}]


def test_a_fallback_that_raises_stops_the_call_and_the_next_call_is_whole() -> None:
    def broken(index: int) -> bytes:
        raise LookupError(index)

    writer = body_writer()
    items: list[Any] = [b"a" * 300_000] * 2 + [["not a record"]]
    with pytest.raises(LookupError):
        writer.body(HEAD, writer.events(items, [0] * 3, ENCODE, broken), 0)
    assert every_body(writer, items[:2], [0] * 2) == every_body(BodyWriter(), items[:2], [0] * 2)
