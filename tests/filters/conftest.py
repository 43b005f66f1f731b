"""The engine tests' ``pipeline`` fixture (config text -> built pipeline with the test plugins
registered) serves the filters whose records go through the engine again (emitter inputs)."""

from tests.engine.conftest import pipeline

__all__ = ["pipeline"]
