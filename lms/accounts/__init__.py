"""Accounts: organisations, people, roles, sign-up, sign-in and profiles."""
