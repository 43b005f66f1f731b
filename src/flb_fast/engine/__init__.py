"""The engine: chunks, routing, backpressure, flush scheduling and retries."""
