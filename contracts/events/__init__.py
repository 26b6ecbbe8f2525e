"""Domain events, one module per bounded context."""
