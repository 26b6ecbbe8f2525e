"""How the support service is reached: its HTTP API, its consumers, its mail listener."""
