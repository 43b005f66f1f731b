"""Filter plugins: they modify, enrich or drop records of the chunks they match."""
