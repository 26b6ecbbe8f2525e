"""Pure domain of customer service: no I/O, no clock of its own (``now`` is passed in)."""
