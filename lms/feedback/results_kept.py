"""A survey's results page as kept in the page cache (``lms.cache``), per survey (the same
for every member of staff who may open it): under the survey's own version
(``survey:<id>``: its questions and responses, and the survey itself; ``watch_tables``) and
its offering's (the places, who may answer; the offering's and session's titles), until it
opens or closes (its state). Anonymous answers reach the results only in the pool's batched
release, a bulk insert that renews everything, so the kept page shows exactly what a fresh
one would: the same threshold rules, built by ``results.survey_results``. The sample of
written answers is drawn when the page is built and kept with it until an answer arrives."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, abort, render_template
from markupsafe import Markup
from sqlalchemy import select

from lms import cache
from lms.cache.kept import earliest_after
from lms.clock import utcnow
from lms.errors import NotFound
from lms.extensions import db
from lms.feedback import results, services
from lms.feedback.models import Survey


def watch_tables(app: Flask) -> None:
    """A survey, its questions or its responses changed renew ``survey:<id>``."""
    cache.also_renews(app, "survey", "survey:{id}")
    cache.also_renews(app, "survey_question", "survey:{survey_id}")
    cache.also_renews(app, "survey_response", "survey:{survey_id}")


@dataclass(frozen=True)
class ResultsPage:
    """The page's title and back link, and its main part."""

    survey_id: int
    title: Markup
    survey_title: str
    body: Markup


def results_page(survey_id: int) -> ResultsPage:
    """The results of a survey (not a template), kept; ``NotFound`` when there is none. One
    query before the versions (which offering)."""
    found = db.session.execute(select(Survey.offering_id, Survey.is_template)
                               .where(Survey.id == survey_id)).first()
    if found is None:
        raise NotFound("No such survey")
    offering_id, is_template = found
    if is_template:
        abort(404)
    depends_on = cache.named(f"survey:{survey_id}")
    if offering_id is not None:
        depends_on += cache.offering(offering_id)
    title, survey_title, body = cache.cached(
        "survey_results", survey_id, depends_on=depends_on, size=512,
        build=lambda: _build(survey_id))
    return ResultsPage(survey_id, Markup(title), survey_title,  # noqa: S704 - ours
                       Markup(body))  # noqa: S704 - our template


def _build(survey_id: int):
    survey = services.get_survey(survey_id)
    body = render_template("feedback/_results_main.html", survey=survey,
                           results=results.survey_results(survey),
                           can_compare=results.can_compare(survey))
    title = render_template("feedback/_results_title.html", survey=survey).strip()
    return ((title, survey.title, body),
            earliest_after((survey.opens_at, survey.closes_at), utcnow()))
