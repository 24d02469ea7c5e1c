"""Emergency pages, split by concern."""
