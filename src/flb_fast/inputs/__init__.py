"""Input plugins: they read records and hand them to the engine in batches."""
