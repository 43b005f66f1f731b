"""s3_key_format as Fluent Bit expands it."""

from __future__ import annotations

import re

from flb_fast.outputs.s3.key import object_key

T = 1_700_000_000.5  # 2023-11-14 22:13:20 UTC


def test_the_default_format_with_a_random_suffix() -> None:
    key = object_key("/fluent-bit-logs/$TAG/%Y/%m/%d/%H/%M/%S", "kube.app", T)
    assert re.fullmatch(r"fluent-bit-logs/kube\.app/2023/11/14/22/13/20-object[A-Za-z0-9]{8}", key)


def test_tag_parts_split_on_every_delimiter() -> None:
    assert object_key("$TAG[0]/$TAG[2]/$TAG[1]", "a.b_c", T, "._", static_file_path=True) == "a/c/b"


def test_an_out_of_range_tag_part_becomes_the_tag_and_index_as_in_fluent_bit() -> None:
    assert object_key("$TAG[3]", "a.b", T, static_file_path=True) == "a.b[3]"


def test_uuid_is_eight_alphanumerics_and_no_suffix_is_added() -> None:
    assert re.fullmatch(r"logs/[A-Za-z0-9]{8}\.json", object_key("logs/$UUID.json", "t", T))


def test_index_is_the_given_counter() -> None:
    assert object_key("logs/$INDEX", "t", T, index=41, static_file_path=True) == "logs/41"
