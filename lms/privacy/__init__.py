"""UK GDPR: a person's own data, and erasure by an admin."""
