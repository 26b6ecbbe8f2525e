"""Customer 360: one profile per customer, searchable by name, place, tax id, phone, e-mail."""
