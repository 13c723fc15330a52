"""Offerings: places, sessions, enrolments, waiting lists, nominations and ICS quotas.

One enrolment engine for every kind of offering; courses (cohorts) and events extend it.
"""
