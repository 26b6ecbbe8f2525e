"""Customer service: cases, SLA clocks, knowledge, satisfaction, self-service."""
