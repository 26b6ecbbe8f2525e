"""Prometheus metrics shared by the runtime; each process serves them on /metrics."""

from prometheus_client import Counter, Gauge, Histogram

RELAY_PUBLISHED = Counter(
    "crm_relay_published_events", "Events acknowledged by Kafka, per relay", ["relay"]
)
RELAY_ERRORS = Counter("crm_relay_errors", "Relay retries after an error", ["relay"])
RELAY_LAG = Gauge(
    "crm_relay_lag_events", "Committed events not yet acknowledged by Kafka", ["relay"]
)
RELAY_BATCH_SECONDS = Histogram(
    "crm_relay_batch_seconds", "Time to publish one batch and get it acknowledged", ["relay"]
)
CONSUMED = Counter(
    "crm_consumer_events", "Events handled and committed, per consumer group", ["group", "topic"]
)
DUPLICATES = Counter(
    "crm_consumer_duplicates", "Redelivered events skipped by the inbox", ["group", "topic"]
)
DEAD_LETTERED = Counter(
    "crm_consumer_dead_lettered", "Records sent to the dead-letter topic", ["group", "topic"]
)
CONSUMER_LAG = Gauge(
    "crm_consumer_lag_records", "High watermark minus position", ["group", "topic", "partition"]
)
