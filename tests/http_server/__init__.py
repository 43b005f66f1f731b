"""Monitoring API tests."""
