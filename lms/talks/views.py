"""Pages of the calls for talks: thin views (load, authorise, validate, call a service,
commit once, redirect) over ``services``, ``schedule`` and ``pages``."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from lms.accounts.models import Role
from lms.clock import when_text
from lms.courses.models import STRAND_LABELS
from lms.learning.storage import allow_uploads, kinds_text, megabytes
from lms.talks import certificates, pages, policy, schedule, services, slides
from lms.talks.forms import (
    CallForm,
    DecideForm,
    FestivalAcceptForm,
    MeetingAcceptForm,
    ProposalForm,
    ReviewerForm,
    ReviewForm,
)
from lms.web import Confirmation, EmptyForm, confirm_then, perform, role_required, submit

bp = Blueprint("talks", __name__)
MANAGERS = (Role.FACULTY, Role.ADMIN)


def _meeting_label(session) -> str:
    return when_text(session.starts_at) + (f": {session.title}" if session.title else "")


def _id(value) -> int | None:
    """A chosen row's number from a form (anything else, or too big for a row, is None)."""
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) <= 9 else None


def _all(form, action):
    return submit(form, action, every_problem_at_once=True)


# ---------------------------------------------------------------------------- calls


@bp.route("/calls")
@login_required
def calls():
    """Calls for talks open now (faculty see closed ones too)."""
    return render_template("talks/calls.html", cards=pages.calls_for(current_user))


def _call_form(form: CallForm, offering) -> CallForm:
    form.lengths.choices = [SelectChoice(str(n), f"{n} minutes") for n in services.LENGTHS]
    form.session_ids.choices = [SelectChoice(str(s.id), _meeting_label(s)) for s in
                                services.free_meetings(offering)]
    return form


def _call_details(form: CallForm) -> services.CallDetails:
    return services.CallDetails(
        title=form.title.data or "", wanted=form.wanted.data or "",
        strands=list(form.strands.data or []), lengths=list(form.lengths.data or []),
        closes_on=form.closes_on.data, hide_scores=bool(form.hide_scores.data),
        session_ids=list(form.session_ids.data or []))


@bp.route("/faculty/events/<int:id>/calls/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def new_call(id: int):
    """Open a call for talks on a network series or a festival."""
    offering = services.get_offering(id)
    policy.may_open_call(current_user, offering).enforce()
    form = _call_form(CallForm(data={"hide_scores": True, "lengths": ["20", "30"]}), offering)
    done = _all(form, lambda: services.open_call(current_user, offering, _call_details(form)))
    if done:
        flash(f"The call “{done.value.title}” is open", "success")
        return redirect(url_for("talks.call", id=done.value.id))
    return render_template("talks/call_form.html", form=form, offering=offering, call=None)


@bp.route("/faculty/calls/<int:id>", methods=["GET", "POST"])
@role_required(*MANAGERS)
def edit_call(id: int):
    """Change a call's details, closing date and free meetings."""
    call = services.get_call(id)
    form = _call_form(CallForm(data=pages.call_form_data(call)), call.offering)
    done = _all(form, lambda: services.update_call(current_user, call, _call_details(form)))
    if done:
        flash("The call has been saved", "success")
        return redirect(url_for("talks.call", id=call.id))
    return render_template("talks/call_form.html", form=form, offering=call.offering,
                           call=call)


@bp.route("/faculty/calls/<int:id>/close", methods=["GET", "POST"])
@role_required(*MANAGERS)
def close_call(id: int):
    """Stop taking proposals now."""
    call = services.get_call(id)
    back = url_for("talks.call", id=call.id)
    return confirm_then(Confirmation(
        question=f"Close the call “{call.title}” now?",
        consequences=("Nobody can send a proposal after this.",
                      "Proposals already sent can still be reviewed and decided."),
        button="Close the call", back=back, caption=call.offering.title),
        lambda: services.close_call(current_user, call), done="The call is closed", back=back)


@bp.route("/faculty/calls/<int:id>/reviewers", methods=["GET", "POST"])
@role_required(*MANAGERS)
def reviewers(id: int):
    """The call's invited reviewers; invite someone else."""
    call = services.get_call(id)
    form = ReviewerForm()
    done = submit(form, lambda: services.invite_reviewer(current_user, call, form.email.data))
    if done:
        flash(f"{done.value.user.full_name} has been invited to review", "success")
        return redirect(url_for("talks.reviewers", id=call.id))
    return render_template("talks/reviewers.html", call=call, form=form,
                           invited=pages.invited_reviewers(call))


@bp.route("/calls/<int:id>")
@login_required
def call(id: int):
    """A call: what is wanted, when it closes, the meetings free, and the person's own
    proposals to it."""
    call = services.get_call(id)
    return render_template("talks/call.html", page=pages.call_page(call, current_user))


# ---------------------------------------------------------------------------- proposals


def _proposal_form(form: ProposalForm, call) -> ProposalForm:
    labels = {s.value: label for s, label in STRAND_LABELS.items()}
    form.strand.choices = [SelectChoice(s, labels[s]) for s in (call.strands or list(labels))]
    form.length.choices = [SelectChoice(str(n), f"{n} minutes") for n in call.lengths]
    return form


def _proposal_details(form: ProposalForm) -> services.ProposalDetails:
    return services.ProposalDetails(
        title=form.title.data or "", abstract=form.abstract.data or "",
        strand=form.strand.data, length=form.length.data,
        co_presenters=form.co_presenters.data or "",
        preferred_dates=form.preferred_dates.data or "",
        slides_shareable=bool(form.slides_shareable.data))


@bp.route("/calls/<int:id>/propose", methods=["GET", "POST"])
@login_required
def propose(id: int):
    """Propose a talk to an open call."""
    call = services.get_call(id)
    policy.may_propose(current_user, call, pages.now()).enforce()
    form = _proposal_form(ProposalForm(), call)
    done = _all(form, lambda: services.propose(current_user, call, _proposal_details(form)))
    if done:
        flash("Your proposal has been sent. We have emailed you a copy"
              + (" and asked your co-presenters to confirm." if done.value.co_presenters
                 else "."), "success")
        return redirect(url_for("talks.proposal", id=done.value.id))
    return render_template("talks/proposal_form.html", form=form, call=call, proposal=None)


@bp.route("/my-proposals")
@login_required
def my_proposals():
    """The person's proposals with their state, and talks they are named on."""
    mine, named = pages.my_proposals(current_user)
    return render_template("talks/my_proposals.html", mine=mine, named=named)


@bp.route("/proposals/<int:id>")
@login_required
def proposal(id: int):
    """The proposer's view of their proposal: its state and the decision's message (never
    who reviewed it)."""
    proposal = services.own_proposal(current_user, id)
    return render_template("talks/proposal.html", proposal=proposal,
                           may_change=policy.may_change_proposal(current_user, proposal),
                           may_upload=slides.may_upload(current_user, proposal))


@bp.route("/proposals/<int:id>/edit", methods=["GET", "POST"])
@login_required
def edit_proposal(id: int):
    """Change a proposal until it is decided."""
    proposal = services.own_proposal(current_user, id)
    policy.may_change_proposal(current_user, proposal).enforce()
    form = _proposal_form(ProposalForm(data=pages.proposal_form_data(proposal)), proposal.call)
    done = _all(form, lambda: services.update_proposal(current_user, proposal,
                                                       _proposal_details(form)))
    if done:
        flash("Your proposal has been saved", "success")
        return redirect(url_for("talks.proposal", id=proposal.id))
    return render_template("talks/proposal_form.html", form=form, call=proposal.call,
                           proposal=proposal)


@bp.route("/proposals/<int:id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(id: int):
    """Withdraw a proposal (until it is decided)."""
    proposal = services.own_proposal(current_user, id)
    policy.may_change_proposal(current_user, proposal).enforce()
    back = url_for("talks.proposal", id=proposal.id)
    return confirm_then(Confirmation(
        question=f"Withdraw “{proposal.title}”?",
        consequences=("Reviewers will no longer see it.",
                      "You can send a new proposal while the call is open."),
        button="Withdraw the proposal", back=back, caption=proposal.call.title),
        lambda: services.withdraw(current_user, proposal),
        done="Your proposal has been withdrawn", back=url_for("talks.my_proposals"))


@bp.route("/co-presenting/<int:id>", methods=["GET", "POST"])
@login_required
def co_presenting(id: int):
    """A co-presenter confirms they are presenting (or says they are not)."""
    row = services.own_co_presenting(current_user, id)
    form = EmptyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if request.form.get("answer") == "no":
            if perform(services.decline_co_presenting, current_user, row,
                       done="You have been taken off the proposal"):
                return redirect(url_for("talks.my_proposals"))
        elif perform(services.confirm_co_presenting, current_user, row,
                     done="Thank you: you are confirmed as a co-presenter"):
            return redirect(url_for("talks.my_proposals"))
        return redirect(url_for("talks.co_presenting", id=id))
    return render_template("talks/co_presenting.html", row=row, form=form)


@bp.route("/proposals/<int:id>/slides", methods=["GET", "POST"])
@login_required
def slides_upload(id: int):
    """A presenter adds their slides to the talk's session."""
    allow_uploads()
    proposal = services.get_proposal(id)
    if not policy.presents(current_user, proposal):
        abort(404)
    slides.may_upload(current_user, proposal).enforce()
    form = slides.SlidesForm()
    done = submit(form, lambda: slides.add_slides(current_user, proposal, form.title.data,
                                                  request.files.get("file")))
    if done:
        flash(f"“{done.value.title}” has been added to the talk", "success")
        return redirect(url_for("talks.my_proposals"))
    return render_template("talks/slides.html", form=form, proposal=proposal,
                           kinds=kinds_text(slides.KINDS),
                           limit=megabytes(current_app.config["UPLOAD_MAX_BYTES"]))


# ---------------------------------------------------------------------------- reviewing


def _reviewed_call(id: int):
    call = services.get_call(id)
    if not policy.reviews_call(current_user, call):
        abort(403)
    return call


@bp.route("/calls/<int:id>/review")
@login_required
def review_list(id: int):
    """The call's proposals for its reviewers: sort, filter, and the balance panel."""
    call = _reviewed_call(id)
    filters = pages.Filters(**{k: request.args.get(k, "")[:20] for k in
                               ("strand", "ics", "min_score", "state")},
                            sort=request.args.get("sort", "score")[:20])
    return render_template("talks/review_list.html",
                           listing=pages.review_list(call, current_user, filters),
                           balance=pages.balance(), sorts=pages.SORTS)


@bp.route("/review/proposals/<int:id>", methods=["GET", "POST"])
@login_required
def review_proposal(id: int):
    """One proposal for a reviewer: their score and comment; faculty's decision buttons."""
    proposal = services.get_proposal(id)
    _reviewed_call(proposal.call_id)
    mine = services.review_by(current_user, proposal)
    form = ReviewForm(data={"score": str(mine.score), "comment": mine.comment}
                      if mine else None)
    done = _all(form, lambda: services.review(current_user, proposal, form.score.data,
                                              form.comment.data))
    if done:
        flash("Your review has been saved", "success")
        return redirect(url_for("talks.review_proposal", id=proposal.id))
    return render_template("talks/review.html", form=form,
                           page=pages.proposal_review(proposal, current_user),
                           reserve_form=EmptyForm())


# ---------------------------------------------------------------------------- deciding


@bp.route("/faculty/proposals/<int:id>/accept", methods=["GET", "POST"])
@role_required(*MANAGERS)
def accept(id: int):
    """Accept a talk into a network meeting or a festival track and time."""
    proposal = services.get_proposal(id)
    policy.may_accept(current_user, proposal).enforce()
    festival = pages.festival_of(proposal.call)
    if festival is None:
        form = MeetingAcceptForm()
        form.session_id.choices = [SelectChoice(str(s.id), _meeting_label(s))
                                   for s in pages.meeting_choices(proposal.call)]

        def action():
            return schedule.accept_into_meeting(current_user, proposal,
                                                _id(form.session_id.data), form.message.data)
    else:
        form = FestivalAcceptForm()
        form.track_id.choices = [SelectChoice("", "Choose a track")] + [
            SelectChoice(str(t.id), t.name) for t in festival.tracks]

        def action():
            return schedule.accept_into_festival(current_user, proposal, schedule.FestivalSlot(
                _id(form.track_id.data), form.day.data, form.start.data,
                form.location.data or "", form.join_url.data or ""), form.message.data)
    done = _all(form, action)
    if done:
        flash(f"“{proposal.title}” is accepted and its presenters have been sent the "
              "invitation", "success")
        return redirect(url_for("talks.review_list", id=proposal.call_id))
    return render_template("talks/accept.html", form=form, proposal=proposal,
                           festival=festival)


@bp.route("/faculty/proposals/<int:id>/decline", methods=["GET", "POST"])
@role_required(*MANAGERS)
def decline(id: int):
    """Decline a proposal with a message to the proposer."""
    proposal = services.get_proposal(id)
    policy.may_decide(current_user, proposal).enforce()
    form = DecideForm()
    done = _all(form, lambda: schedule.decline(current_user, proposal, form.message.data))
    if done:
        flash(f"“{proposal.title}” is declined and its proposer has been told", "success")
        return redirect(url_for("talks.review_list", id=proposal.call_id))
    return render_template("talks/decline.html", form=form, proposal=proposal)


@bp.route("/faculty/proposals/<int:id>/reserve", methods=["POST"])
@role_required(*MANAGERS)
def reserve(id: int):
    """Keep a proposal on the reserve list."""
    proposal = services.get_proposal(id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    perform(schedule.keep_in_reserve, current_user, proposal,
            done=f"“{proposal.title}” is on the reserve list")
    return redirect(url_for("talks.review_proposal", id=proposal.id))


@bp.route("/faculty/proposals/<int:id>/certificates", methods=["POST"])
@role_required(*MANAGERS)
def presenter_certificates(id: int):
    """Issue presenter certificates for a talk given."""
    proposal = services.get_proposal(id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    perform(certificates.issue_presenter_certificates, current_user, proposal,
            done=lambda n: f"{n} presenter certificate{'' if n == 1 else 's'} issued; "
                           "the presenters have been emailed a link")
    return redirect(url_for("talks.review_proposal", id=proposal.id))
