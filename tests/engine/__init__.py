"""Engine tests: routing, chunks, backpressure, retries and Grace, with test plugins."""
