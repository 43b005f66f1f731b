"""The engine tests' fixtures (pipelines with the test plugins, the agent's log lines) serve here too."""

from tests.engine.conftest import pipeline
from tests.engine.test_engine import logs

__all__ = ["logs", "pipeline"]
