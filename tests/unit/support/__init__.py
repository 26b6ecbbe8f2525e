"""Unit tests of the customer-service context."""
