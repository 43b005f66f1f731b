"""The engine tests' ``pipeline`` fixture (config text -> built pipeline with the test plugins
registered) and ``logs`` (the agent's log lines) serve the filters whose records go through the
engine again (emitter inputs)."""

from tests.engine.conftest import pipeline
from tests.engine.test_engine import logs

__all__ = ["logs", "pipeline"]
