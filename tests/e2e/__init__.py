"""End-to-end tests: the real ``flb-fast`` command on real files in a temp folder."""
