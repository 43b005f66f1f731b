"""Input plugin tests."""
