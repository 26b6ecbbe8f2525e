"""The unified customer timeline: one chronological record per customer of every event."""
