"""Adapters of the support service's ports (carrier, payments). Each module offers a
factory ``(pool, env) -> adapter`` that the composition root names with
``CRM_SUPPORT_CARRIER=module:factory`` / ``CRM_SUPPORT_PAYMENTS=module:factory``."""
