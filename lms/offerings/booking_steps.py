"""Steps other features add to booking a place: a page to fill in before the Book button
does its work (registration questions), and the check the enrolment engine makes so that no
way of booking (the page, the API) skips it. Kept per app, added from a feature's
``init_app``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app

_KEY = "lms.offerings.booking_steps"


@dataclass(frozen=True)
class BookingStep:
    """``page(user, offering)``: the address to send someone to before booking, or None;
    ``check(user, offering)``: raise a ``DomainError`` when the step is not done."""

    page: Callable[[object, object], str | None]
    check: Callable[[object, object], None]


def add_booking_step(app: Flask, step: BookingStep) -> None:
    steps = app.extensions.setdefault(_KEY, [])
    if step not in steps:
        steps.append(step)


def _steps() -> list[BookingStep]:
    return list(current_app.extensions.get(_KEY, []))


def booking_page(user, offering) -> str | None:
    """The first page this person must fill in before booking ``offering``, if any."""
    for step in _steps():
        page = step.page(user, offering)
        if page:
            return page
    return None


def check_booking(user, offering) -> None:
    """Every step's check, for the engine to make before it books a place."""
    for step in _steps():
        step.check(user, offering)
