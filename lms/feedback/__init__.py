"""Feedback: survey builder, answers (anonymous by design), reminders, results and charts."""
