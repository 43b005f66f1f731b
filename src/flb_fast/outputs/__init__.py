"""Output plugins: they deliver chunks and report each flush's result to the engine."""
