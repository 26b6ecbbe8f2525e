"""The privacy context: erasure of personal data (crypto-shredding), legal holds that
keep it, access requests (export) and the audit trail of all three."""
