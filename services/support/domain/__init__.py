"""The customer-service context's pure rules: deciders and calculations, no I/O."""
