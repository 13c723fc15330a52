"""Project work, groups, the reflective log and CPD (lms.learning, issue 18 items 3-6):
the rules, tested on the services."""

from __future__ import annotations

import os
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import func, select

from lms.accounts.models import Role, User
from lms.attendance.models import Attendance, Completion
from lms.certificates.models import Certificate
from lms.clock import to_london, utcnow
from lms.competencies import records
from lms.competencies.models import Competency, CompetencyEvidence
from lms.competencies.services import ensure_framework
from lms.errors import DomainError, InvalidInput, NotFound
from lms.extensions import db
from lms.learning import assignments as work
from lms.learning import assignments_pages as pages
from lms.learning import cpd, groups, reflection
from lms.learning.assignments_models import Submission, SubmissionFile
from lms.learning.reflection_models import CPDActivity, ReflectionEntry
from lms.learning.storage import storage
from lms.notifications.models import OutboxMessage
from lms.privacy.services import erase_person
from tests.learning_work_builders import (
    activity,
    cohort_with,
    entry,
    pdf_upload,
    person,
    set_work,
)


@pytest.fixture(autouse=True)
def _empty_store(app):
    """Each test starts with nothing in the store (the app, and its store, last the session)."""
    import shutil

    shutil.rmtree(app.config["UPLOAD_DIR"], ignore_errors=True)


def _faculty(make_user) -> User:
    return make_user(Role.FACULTY, org="SU", name="Fay Faculty")


def _stored_files() -> set[str]:
    root = storage().root
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} \
        if root.exists() else set()


# ---------------------------------------------------------------------------- submitting


def test_a_learner_submits_text_and_files_and_replaces_them_until_marked(ctx, make_user):
    faculty, ann = _faculty(make_user), person("Ann Analyst")
    assignment = set_work(faculty, cohort_with([ann]))
    first = work.submit(ann, assignment, "Draft", [pdf_upload("draft.pdf")])
    old_key = first.files[0].storage_key
    assert storage().exists(old_key)
    second = work.submit(ann, assignment, "Final", [pdf_upload("final.pdf")])
    assert second.id == first.id and second.text == "Final"
    assert [f.filename for f in second.files] == ["final.pdf"]
    assert storage().exists(old_key), "kept until the replacement commits"
    db.session.commit()
    assert not storage().exists(old_key), "the replaced file is removed from the store"
    assert not second.late
    work.mark(faculty, [second], "met", "Well done", None)
    with pytest.raises(DomainError, match="marked as met"):
        work.submit(ann, assignment, "Again", [])


def test_after_the_deadline_work_is_refused_unless_extended_and_then_flagged_late(
        ctx, make_user):
    faculty, ann = _faculty(make_user), person("Ann Analyst")
    assignment = set_work(faculty, cohort_with([ann]), days=2)
    with time_machine.travel(utcnow() + timedelta(days=3), tick=False), \
            pytest.raises(DomainError, match="The deadline was"):
        work.submit(ann, assignment, "Too late", [pdf_upload()])
    assert db.session.scalar(select(func.count()).select_from(Submission)) == 0
    assert _stored_files() == set()
    new_day = to_london(utcnow() + timedelta(days=5)).date()
    work.grant_extension(faculty, assignment, ann.id, new_day)
    with time_machine.travel(utcnow() + timedelta(days=3), tick=False):
        late = work.submit(ann, assignment, "Under my extension", [])
    assert late.late is True


def test_bad_files_are_refused_with_a_message_and_nothing_is_stored(ctx, make_user, app):
    faculty, ann = _faculty(make_user), person("Ann Analyst")
    assignment = set_work(faculty, cohort_with([ann]))
    with pytest.raises(InvalidInput) as refused:
        work.submit(ann, assignment, "text", [pdf_upload("fake.pdf", b"<html>not a pdf")])
    assert "content is not a PDF" in refused.value.message
    with pytest.raises(InvalidInput, match="The file must be"):
        work.submit(ann, assignment, "text", [pdf_upload("page.html", b"<html>")])
    app.config["UPLOAD_MAX_BYTES"] = 2**20
    try:
        with pytest.raises(InvalidInput, match="larger than 1 MB"):
            work.submit(ann, assignment, "", [pdf_upload("big.pdf", b"%PDF" + b"0" * 2**20)])
    finally:
        app.config["UPLOAD_MAX_BYTES"] = 20 * 2**20
    with pytest.raises(InvalidInput, match="Write your work here"):
        work.submit(ann, assignment, "  ", [])
    assert db.session.scalar(select(func.count()).select_from(Submission)) == 0
    assert _stored_files() == set()


def test_a_store_that_fails_leaves_no_rows_and_says_so(ctx, make_user, app, tmp_path):
    faculty, ann = _faculty(make_user), person("Ann Analyst")
    assignment = set_work(faculty, cohort_with([ann]))
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the store's folder should be")
    kept = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(blocked)
    app.extensions.pop("lms_storage", None)
    try:
        with pytest.raises(DomainError, match="could not be saved"):
            work.submit(ann, assignment, "text", [pdf_upload()])
    finally:
        app.config["UPLOAD_DIR"] = kept
        app.extensions.pop("lms_storage", None)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Submission)) == 0


# ---------------------------------------------------------------------------- marking


def test_bulk_marking_met_records_evidence_and_emails_each_learner(ctx, make_user):
    ensure_framework()
    forecasting = db.session.scalar(select(Competency).where(Competency.code == "forecasting"))
    faculty = _faculty(make_user)
    ann, bob = person("Ann Analyst"), person("Bob Builder", "BC")
    assignment = set_work(faculty, cohort_with([ann, bob]),
                          competencies={forecasting.id: "3"})
    subs = [work.submit(p, assignment, "work", []) for p in (ann, bob)]
    assert work.mark(faculty, subs, "met", "Clear and well argued", None) == 2
    evidence = db.session.scalars(select(CompetencyEvidence).where(
        CompetencyEvidence.competency_id == forecasting.id)).all()
    assert sorted((e.user_id, e.level) for e in evidence) == sorted([(ann.id, 3), (bob.id, 3)])
    assert all("Assignment met: Project plan" in e.note for e in evidence)
    mails = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.subject == "Feedback on Project plan")).all()
    assert sorted(m.to_address for m in mails) == sorted([ann.email, bob.email])
    record = records.learning_record(ann)
    assert any(line.competency.id == forecasting.id and line.level == 3
               for line in record.competencies)


def test_not_yet_met_needs_a_date_and_opens_resubmission_until_it(ctx, make_user):
    faculty, ann = _faculty(make_user), person("Ann Analyst")
    assignment = set_work(faculty, cohort_with([ann]), days=1)
    sub = work.submit(ann, assignment, "first go", [])
    with pytest.raises(InvalidInput) as refused:
        work.mark(faculty, [sub], "not_yet_met", "", None)
    assert {f for f, _ in refused.value.errors} == {"feedback", "resubmit_day"}
    again_by = to_london(utcnow() + timedelta(days=10)).date()
    work.mark(faculty, [sub], "not_yet_met", "Say more about risks", again_by)
    with time_machine.travel(utcnow() + timedelta(days=5), tick=False):
        resubmitted = work.submit(ann, assignment, "second go", [])
    assert resubmitted.outcome is None and resubmitted.late is True


# ---------------------------------------------------------------------------- completion


def test_a_course_completes_only_when_its_counting_assignment_is_met(ctx, make_user):
    faculty, ann = _faculty(make_user), person("Ann Analyst")
    cohort = cohort_with([ann])
    db.session.add(Attendance(session_id=cohort.sessions[0].id, user_id=ann.id,
                              status="present", source="register"))
    assignment = set_work(faculty, cohort, counts_to_completion=True)
    sub = work.submit(ann, assignment, "work", [])
    from lms.attendance.completion import refresh_completion

    assert refresh_completion(cohort) == [], "attendance alone is not enough"
    work.mark(faculty, [sub], "met", "Good", None)
    assert db.session.scalar(select(func.count()).select_from(Completion)) == 1
    assert db.session.scalar(select(Certificate.user_id)) == ann.id


# ---------------------------------------------------------------------------- groups


def test_spreading_by_ics_mixes_systems_in_every_group():
    people = [User(id=i, full_name=f"P{i}", organisation_id=org)
              for i, org in enumerate([1] * 6 + [2] * 4 + [3] * 2, start=1)]
    spread = groups.spread_by_ics(people, 3)
    assert sorted(len(g) for g in spread) == [4, 4, 4]
    for group in spread:
        assert len({p.organisation_id for p in group}) >= 2, group
    assert sorted(p.id for g in spread for p in g) == list(range(1, 13))


def test_group_work_is_one_submission_each_member_sees_and_others_cannot(ctx, make_user):
    faculty = _faculty(make_user)
    people = [person(f"Member {i}", org) for i, org in
              enumerate(["BSOL", "BSOL", "BC", "BC"])]
    cohort = cohort_with(people)
    made = groups.form_groups_by_ics(faculty, cohort, 2)
    assert all(len({m.user.organisation_id for m in g.members}) == 2 for g in made)
    assignment = set_work(faculty, cohort, for_groups=True)
    first, second = ([m.user for m in g.members] for g in made)
    sub = work.submit(first[0], assignment, "our work", [])
    replaced = work.submit(first[1], assignment, "our better work", [])
    assert replaced.id == sub.id and replaced.group_id == made[0].id
    assert work.get_submission(first[1], sub.id) is sub
    with pytest.raises(NotFound):
        work.get_submission(second[0], sub.id)
    assert work.own_submission(second[0], assignment) is None
    work.mark(faculty, [sub], "met", "Good teamwork", None)
    mails = {m.to_address for m in db.session.scalars(select(OutboxMessage))}
    assert {first[0].email, first[1].email} <= mails
    with pytest.raises(DomainError, match="handed work in"):
        groups.form_groups_by_ics(faculty, cohort, 2)


# ---------------------------------------------------------------------------- the board


def test_the_marking_board_costs_the_same_few_queries_for_3_or_30_people(ctx, make_user,
                                                                        count_queries):
    faculty = _faculty(make_user)
    counts = []
    for size in (3, 30):
        people = [person(f"Learner {size}-{i}", ["BSOL", "BC", "LLR"][i % 3])
                  for i in range(size)]
        cohort = cohort_with(people, f"Course for {size}")
        groups.form_groups_by_ics(faculty, cohort, 3)
        tasks = [set_work(faculty, cohort, f"Task {n}", for_groups=(n == 2)) for n in range(3)]
        for p in people:
            work.submit(p, tasks[0], "work", [pdf_upload()])
            work.submit(p, tasks[1], "work", [])
        work.submit(people[0], tasks[2], "group work", [])
        db.session.commit()
        db.session.expire_all()
        with count_queries() as counted:
            boards = pages.board(cohort)
            seen = sum(len(c.submission.files) for b in boards for c in b.cells if c.submission)
            names = [p.full_name for b in boards for c in b.cells for p in c.people]
            titles = [c.submission.assignment.title for b in boards for c in b.cells
                      if c.submission]
        assert seen == size and len(names) == 3 * size and len(titles) == 2 * size + 1
        assert boards[0].submitted == size and boards[2].submitted == 1
        counts.append(counted.n)
    assert counts[0] == counts[1] <= 14, counts


# ---------------------------------------------------------------------------- the zip


def test_all_submissions_stream_as_a_zip_without_holding_them_in_memory(ctx, make_user,
                                                                       tmp_path):
    import tracemalloc

    faculty = _faculty(make_user)
    people = [person(f"Learner {i}") for i in range(8)]
    assignment = set_work(faculty, cohort_with(people))
    size = 4 * 2**20
    for p in people:
        body = b"%PDF-" + os.urandom(size)
        work.submit(p, assignment, f"notes of {p.full_name}", [pdf_upload("work.pdf", body)])
    entries = pages.zip_entries(assignment)
    target = tmp_path / "all.zip"
    tracemalloc.start()
    try:
        with open(target, "wb") as out:
            for piece in pages.stream_zip(entries):
                out.write(piece)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert target.stat().st_size > 8 * size, "the zip holds every file"
    # 32 MB went through; the generator never held even one 4 MB file.
    assert peak < size, f"peak {peak:,} bytes"
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        assert archive.testzip() is None
    assert len([n for n in names if n.endswith("work.pdf")]) == 8
    assert len([n for n in names if n.endswith("answer.txt")]) == 8


# ---------------------------------------------------------------------------- reflection


def test_a_reflection_is_private_until_shared_and_faculty_can_accept_it(ctx, make_user):
    ensure_framework()
    faculty, ann = _faculty(make_user), person("Ann Analyst")
    cohort = cohort_with([ann])
    other = person("Olu Other")
    private = entry(ann)
    for viewer in (faculty, other):
        with pytest.raises(NotFound):
            reflection.get_entry(viewer, private.id)
    with pytest.raises(DomainError, match="Link this entry"):
        reflection.share(ann, private)
    linked = entry(ann, "After day 1", link=f"session:{cohort.sessions[0].id}")
    assert linked.offering_id == cohort.id
    reflection.share(ann, linked)
    assert reflection.get_entry(faculty, linked.id) is linked
    with pytest.raises(NotFound):
        reflection.get_entry(other, linked.id)
    reflection.comment(faculty, linked, "Good insight")
    competency = db.session.scalar(select(Competency).where(Competency.code == "forecasting"))
    reflection.accept_as_evidence(faculty, linked, competency.id, "2")
    evidence = db.session.get(CompetencyEvidence, linked.evidence_id)
    assert (evidence.user_id, evidence.level) == (ann.id, 2)
    with pytest.raises(DomainError, match="accepted as evidence"):
        reflection.unshare(ann, linked)


def test_an_entry_links_only_to_the_learners_own_courses(ctx, make_user):
    ann, bob = person("Ann Analyst"), person("Bob Builder")
    theirs = cohort_with([bob], "Someone else's course")
    with pytest.raises(InvalidInput, match="Choose one of your courses"):
        entry(ann, link=f"offering:{theirs.id}")


# ---------------------------------------------------------------------------- CPD


def test_cpd_done_elsewhere_counts_on_the_learning_record_and_its_downloads(ctx, make_user,
                                                                           app):
    ann = person("Ann Analyst")
    done = activity(ann)
    assert storage().exists(done.evidence_key)
    record = records.learning_record(ann)
    assert record.total_cpd_hours == Decimal("6.5")
    assert [o.title for o in record.outside] == ["Conference"]
    assert any(row[:2] == ["CPD elsewhere", "Conference"] and row[3] == "6.5"
               for row in records.record_rows(record))
    from flask import render_template

    html = render_template("records/learning_record_pdf.html", record=record)
    assert "CPD done elsewhere" in html and "Conference" in html
    with pytest.raises(InvalidInput) as refused:
        cpd.record_activity(ann, cpd.ActivityDetails("", None, "-1", ""))
    assert {f for f, _ in refused.value.errors} == {"title", "done_on", "hours"}


# ---------------------------------------------------------------------------- erasure


def test_erasure_takes_what_the_person_wrote_and_uploaded(ctx, make_user):
    admin = make_user(Role.ADMIN, org="SU")
    faculty, ann = _faculty(make_user), person("Ann Analyst")
    assignment = set_work(faculty, cohort_with([ann]))
    work.submit(ann, assignment, "my secret plan", [pdf_upload()])
    entry(ann)
    activity(ann)
    db.session.commit()
    assert len(_stored_files()) == 2
    erase_person(admin, ann)
    for model in (Submission, SubmissionFile, ReflectionEntry, CPDActivity):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0, model
    assert len(_stored_files()) == 2, "the files stay until the erasure commits"
    db.session.commit()
    assert _stored_files() == set()


def test_a_failed_erasure_keeps_the_files_its_rows_still_point_to(ctx, make_user):
    admin = make_user(Role.ADMIN, org="SU")
    faculty, ann = _faculty(make_user), person("Ann Analyst")
    assignment = set_work(faculty, cohort_with([ann]))
    work.submit(ann, assignment, "my plan", [pdf_upload()])
    activity(ann)
    db.session.commit()
    erase_person(admin, ann)
    db.session.rollback()
    assert len(_stored_files()) == 2
    assert db.session.scalar(select(func.count()).select_from(SubmissionFile)) == 1


# ---------------------------------------------------------------------------- files and commits


def test_a_replacement_that_does_not_commit_keeps_the_old_file_and_drops_the_new(
        ctx, make_user):
    faculty, ann = _faculty(make_user), person("Ann Analyst")
    assignment = set_work(faculty, cohort_with([ann]))
    first = work.submit(ann, assignment, "Draft", [pdf_upload("draft.pdf")])
    db.session.commit()
    old_key = first.files[0].storage_key
    second = work.submit(ann, assignment, "Final", [pdf_upload("final.pdf")])
    new_key = second.files[0].storage_key
    db.session.rollback()
    assert storage().exists(old_key), "the old file is what the saved row still points to"
    assert not storage().exists(new_key), "a file whose row never saved is deleted"
    assert _stored_files() == {old_key}


def test_cpd_evidence_goes_with_its_row_only_when_that_commits(ctx, make_user):
    ann = person("Ann Analyst")
    db.session.commit()
    unsaved = activity(ann)
    key = unsaved.evidence_key
    db.session.rollback()
    assert not storage().exists(key), "evidence whose row never saved is deleted"
    saved = activity(ann)
    db.session.commit()
    cpd.remove_activity(ann, saved)
    db.session.rollback()
    assert storage().exists(saved.evidence_key), "a removal that failed loses nothing"
    cpd.remove_activity(ann, db.session.get(CPDActivity, saved.id))
    db.session.commit()
    assert _stored_files() == set()
