"""Where features meet: one thing happens, every feature that cares hears of it.

A service that changes something other features follow (a person's place, a completion)
calls ``notify(event)`` with a small frozen dataclass saying what happened. Features that
care connect a listener for that event's type in their own ``init_app(app)``; nothing is
connected by importing a module, so two apps in one process (the tests make several) never
share listeners, and a listener's order is the order the factory calls ``init_app``.

Listeners run synchronously, inside the transaction of the change, after the service has
flushed: what they write (emails in the outbox, calendar cancellations, audit rows,
evidence) commits or rolls back with it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app

Event = TypeVar("Event")

_KEY = "lms.listeners"


def connect(app: Flask, event_type: type[Event], listener: Callable[[Event], Any]) -> None:
    """Call ``listener(event)`` for every ``event_type`` notified in ``app``. Connecting the
    same listener twice keeps one."""
    listeners = app.extensions.setdefault(_KEY, {}).setdefault(event_type, [])
    if listener not in listeners:
        listeners.append(listener)


def listeners_of(event_type: type, app: Flask | None = None) -> list[Callable[[Any], Any]]:
    """The listeners connected for ``event_type`` (a copy), in the order they run."""
    app = app or current_app._get_current_object()
    return list(app.extensions.get(_KEY, {}).get(event_type, []))


def notify(event: object) -> None:
    """Tell every listener of ``type(event)`` in the current app, in order."""
    for listener in listeners_of(type(event)):
        listener(event)
