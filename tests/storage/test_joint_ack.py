"""JointAck: an input's batch acknowledged once its own chunk and every chunk re-emitted from it are done."""

from __future__ import annotations

from typing import Any

from flb_fast.storage.joint_ack import Filtering, JointAck, acknowledge, current_batch


class Source:
    """An input that records what it is acknowledged."""

    def __init__(self) -> None:
        self.acknowledged: list[Any] = []

    def acknowledge(self, positions: list[Any]) -> None:
        self.acknowledged.extend(positions)


def test_the_input_is_acknowledged_once_the_batch_and_every_hold_are_released() -> None:
    source = Source()
    joint = JointAck(source, ["a:10"])
    copies = [joint.hold(), joint.hold()]
    seen = []
    for part in [joint, *copies]:
        seen.append(list(source.acknowledged))
        part.release()
    assert seen == [[], [], []]
    assert source.acknowledged == ["a:10"]


def test_acknowledge_hands_plain_positions_to_the_input_and_releases_joint_ones() -> None:
    source, other = Source(), Source()
    joint = JointAck(other, ["b:5"])
    acknowledge(source, ["a:10", joint])
    assert (source.acknowledged, other.acknowledged) == (["a:10"], ["b:5"])


def test_a_batch_without_holds_keeps_its_positions() -> None:
    with Filtering(Source(), ["a:10"]) as batch:
        pass
    assert batch.positions == ["a:10"]


def test_a_batch_a_filter_held_carries_the_joint_acknowledgement_instead() -> None:
    source = Source()
    with Filtering(source, ["a:10"]) as batch:
        held = current_batch()
        assert held is not None
        held.hold()
    assert batch.positions == [held]
    acknowledge(source, batch.positions)
    assert source.acknowledged == []
    held.release()
    assert source.acknowledged == ["a:10"]


def test_there_is_no_batch_to_hold_outside_filtering_or_without_positions() -> None:
    assert current_batch() is None
    with Filtering(Source(), []):
        assert current_batch() is None
