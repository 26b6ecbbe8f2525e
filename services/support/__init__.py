"""Customer service: cases, their SLA clocks and the calendars they are measured in."""
