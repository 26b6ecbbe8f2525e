"""Personal data at rest and on the wire: every data subject's own key, wrapped by a
master key; personal fields sealed with it before they reach the event store; erasure by
destroying the key (crypto-shredding).

- ``master``: the master key's provider (the environment by default; pluggable, so a
  KMS can replace it), checked at start against the database it guards;
- ``data_keys``: the registry of subjects' keys in PostgreSQL (``crm_privacy``);
- ``sealing``: AES-256-GCM boxes of an event's personal fields;
- ``codec``: sealing events for writing and opening them for reading through the
  registry, the one place the rest of the runtime calls.
"""
