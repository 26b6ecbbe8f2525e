"""The gateway API: the authenticated front door under /v1 (see services.gateway.app)."""
