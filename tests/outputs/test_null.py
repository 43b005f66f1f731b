"""null accepts every chunk and keeps nothing."""

from __future__ import annotations

import pytest

from flb_fast.config.errors import PluginConfigError
from flb_fast.outputs.base import FlushResult
from flb_fast.outputs.null import NullOutput
from flb_fast.record import Chunk
from tests.standalone import plugin_for


def test_every_flush_succeeds(run):
    plugin = plugin_for(NullOutput)
    assert run(plugin.flush(Chunk("t", [1], [{"a": 1}], 5))) is FlushResult.OK


def test_format_encodes_before_discarding(run):
    plugin = plugin_for(NullOutput, format="json_lines")
    encoded = []
    encode = plugin.encoder.encode
    plugin.encoder.encode = lambda *args, **kwargs: encoded.append(encode(*args, **kwargs))
    assert run(plugin.flush(Chunk("t", [1], [{"a": 1.5}], 5))) is FlushResult.OK
    assert encoded == [b'{"date":1e-09,"a":1.5}\n']


def test_unknown_format_is_a_config_error():
    with pytest.raises(PluginConfigError):
        plugin_for(NullOutput, format="xml")
