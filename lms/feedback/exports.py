"""Survey results as CSV and Excel files.

Exports hold answers only: never a name, email, organisation, job title or any other detail
of the people who answered, for any survey. Anonymous surveys' rows carry no time and come in
the order of their random ids, which is no order at all.

A spreadsheet treats a cell starting with ``=``, ``+``, ``-`` or ``@`` (and, in some
programs, a tab or carriage return) as a formula; every text cell that starts with one gets a
leading apostrophe so it stays text.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import select

from lms.clock import to_london
from lms.extensions import db
from lms.feedback.models import (
    AGREEMENT_LABELS,
    CHOICE_KINDS,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyResponse,
)
from lms.feedback.pages import describe
from lms.feedback.results import SurveyResults

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOLD = Font(bold=True)


def neutralise(value):
    """A value safe to put in a spreadsheet cell: text that a spreadsheet would run as a
    formula gets a leading apostrophe. Numbers and empty cells are left alone."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _header(question) -> str:
    if question.kind == QuestionKind.AGREEMENT:
        return (f"{question.text} (1 = {AGREEMENT_LABELS[0]}, 5 = {AGREEMENT_LABELS[-1]})")
    if question.kind == QuestionKind.RATING:
        return f"{question.text} (0 to 10)"
    return question.text


def response_rows(survey: Survey) -> tuple[list[str], list[list]]:
    """A header and one row per response: a running number, the time sent (named surveys
    only), then one cell per question. Two queries."""
    questions = list(survey.questions)
    order = ((SurveyResponse.id,) if survey.anonymous
             else (SurveyResponse.submitted_at, SurveyResponse.id))
    responses = db.session.execute(
        select(SurveyResponse.id, SurveyResponse.submitted_at)
        .where(SurveyResponse.survey_id == survey.id).order_by(*order)
    ).all()
    # Plain rows, not objects: a survey of thousands of responses has tens of thousands.
    numbers: dict[tuple[int, int], list[int]] = defaultdict(list)
    texts: dict[tuple[int, int], str] = {}
    for response_id, question_id, number, text in db.session.execute(
        select(SurveyAnswer.response_id, SurveyAnswer.question_id, SurveyAnswer.number,
               SurveyAnswer.text)
        .where(SurveyAnswer.question_id.in_([q.id for q in questions]))
    ):
        if text is not None:
            texts[(response_id, question_id)] = text
        else:
            numbers[(response_id, question_id)].append(number)
    header = ["Response"] + ([] if survey.anonymous else ["Sent (UK time)"])
    header += [_header(q) for q in questions]
    rows = []
    for number, (response_id, submitted_at) in enumerate(responses, 1):
        row: list = [number]
        if not survey.anonymous:
            row.append(to_london(submitted_at).strftime("%Y-%m-%d %H:%M")
                       if submitted_at else "")
        for question in questions:
            key = (response_id, question.id)
            if key in texts:
                row.append(texts[key])
            elif key not in numbers:
                row.append("")
            elif question.kind in CHOICE_KINDS:
                row.append(describe(question, sorted(numbers[key]), None))
            else:
                row.append(numbers[key][0])
        rows.append(row)
    return header, rows


def summary_rows(results: SurveyResults) -> list[list]:
    """Question, answer, count and share: the numbers of the results page."""
    rows: list[list] = [["Question", "Answer", "Count", "Share of those who answered (%)"]]
    for result in results.questions:
        if result.is_text:
            rows.append([result.question.text, "Written answers", result.answered, None])
            continue
        for bar in result.bars:
            rows.append([result.question.text, bar.label, bar.count, bar.percent])
        if result.average is not None:
            rows.append([result.question.text, "Average", result.average, None])
    return rows


def to_csv(survey: Survey) -> bytes:
    """The responses as CSV, UTF-8 with a byte-order mark so Excel reads it as such."""
    header, rows = response_rows(survey)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutralise(cell) for cell in header])
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(survey: Survey, results: SurveyResults) -> bytes:
    """The responses, and a summary of the counts, as an Excel workbook."""
    header, rows = response_rows(survey)
    # Write-only: rows stream to the file rather than building every cell in memory.
    workbook = Workbook(write_only=True)
    for title, table in (("Responses", [header, *rows]), ("Summary", summary_rows(results))):
        sheet = workbook.create_sheet(title)
        sheet.freeze_panes = "A2"
        for index, row in enumerate(table):
            sheet.append([_cell(sheet, value, bold=index == 0) for value in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _cell(sheet, value, *, bold: bool = False):
    value = neutralise(value)
    if not isinstance(value, str) and not bold:
        return value
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        # Belt and braces: whatever openpyxl guessed, text stays text.
        cell.data_type = "s"
    if bold:
        cell.font = BOLD
    return cell
