"""Competencies: the framework, what each course builds, evidence, and the learning record."""
