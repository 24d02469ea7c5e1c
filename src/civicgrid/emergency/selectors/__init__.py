"""Emergency reads, split by concern; each goes through the caller's scope."""
