"""The marking board (who has submitted what on a cohort) as kept in the page cache
(``lms.cache``), per cohort (the same for every member of staff who may open it): under the
cohort's version (its assignments, places and project groups; a group's members renew it
too, ``watch_tables``), the ``marking`` version (work handed in or marked anywhere) and the
``people`` version (the names shown). An extension renews everything (``lms.learning``).
Nothing on it changes by itself. The feedback form below it (its values, errors and CSRF
token) is the request's own; the boards' checkboxes carry no state."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, render_template
from markupsafe import Markup

from lms import cache
from lms.errors import NotFound
from lms.extensions import db
from lms.learning import assignments_pages as pages
from lms.offerings.models import Offering

SCOPE = "marking"


def watch_tables(app: Flask) -> None:
    """Work handed in or marked renews ``marking``; a group's members, its cohort's."""
    cache.also_renews(app, "submission", SCOPE)
    cache.also_renews(app, "project_group_member", "offering:{offering_id}")


@dataclass(frozen=True)
class MarkingBoard:
    """What the page shows of the cohort, whether any work is set, and the boards."""

    offering_id: int
    title: str
    any_set: bool
    boards: Markup


def marking_board(offering_id: int) -> MarkingBoard:
    """The cohort's board, kept; ``NotFound`` when there is no such offering."""
    depends_on = cache.offering(offering_id) + cache.named(SCOPE) + cache.PEOPLE
    found = cache.cached("marking_board", offering_id, depends_on=depends_on,
                         build=lambda: (_build(offering_id), None), size=512)
    if found is None:
        raise NotFound("No such course, cohort or event")
    title, any_set, boards = found
    return MarkingBoard(offering_id, title, any_set, Markup(boards))  # noqa: S704 - ours


def _build(offering_id: int) -> tuple[str, bool, str] | None:
    offering = db.session.get(Offering, offering_id)
    if offering is None:
        return None
    boards = pages.board(offering)
    return (offering.title, bool(boards),
            render_template("learning/_marking_boards.html", boards=boards))
