"""Output plugin tests; ``tests.standalone.plugin_for`` builds a plugin from option strings as the engine would."""
