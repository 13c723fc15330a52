"""Notifications: the outbox every email leaves through, and its delivery backends."""
