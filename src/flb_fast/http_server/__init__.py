"""The monitoring API ([SERVICE] HTTP_Server): Fluent Bit's /api/v1 endpoints."""
