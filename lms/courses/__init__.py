"""Courses: the catalogue (programmes and short courses) and their cohorts."""
