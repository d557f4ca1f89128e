"""Demo data for development: a believable Turin."""
