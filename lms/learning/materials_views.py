"""Materials pages: read them (people with a place), download a file, and faculty's pages to
add, change, order and remove them."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from lms.events import services as event_services
from lms.events.forms import RecordingForm
from lms.events.pages import recordings_for
from lms.learning import materials, materials_kept, materials_pages
from lms.learning.blueprint import MANAGERS, bp
from lms.learning.materials_forms import MaterialForm, MoveForm
from lms.learning.storage import allow_uploads, kinds_text, megabytes, send_stored
from lms.offerings.models import Offering
from lms.web import Confirmation, confirm_then, perform, role_required, submit


def _details(form: MaterialForm) -> materials.MaterialDetails:
    upload = request.files.get("file")
    return materials.MaterialDetails(
        kind=form.kind.data, title=form.title.data, note=form.note.data, url=form.url.data,
        session_id=form.session_id.data, visible_from=form.visible_from.data,
        public=form.public.data, position=form.position.data,
        upload=materials.Upload(upload.filename, upload.stream)
        if upload is not None and upload.filename else None)


def _form_page(form: MaterialForm, offering: Offering, material=None):
    return render_template(
        "learning/materials_form.html", form=form, offering=offering, material=material,
        kinds=kinds_text(materials.storage.ALL_KINDS),
        limit=megabytes(current_app.config["UPLOAD_MAX_BYTES"]),
        may_be_public=offering.kind in materials.EVENT_KINDS and offering.booking_mode == "open",
        back=url_for("learning.offering_materials", offering_id=offering.id))


@bp.route("/offerings/<int:offering_id>/materials")
def offering_materials(offering_id: int):
    """An offering's materials and recordings, for the people who may see them; kept in the
    page cache (``lms.learning.materials_kept``)."""
    return render_template("learning/materials.html",
                           page=materials_kept.materials_page(current_user, offering_id))


@bp.route("/materials/<int:material_id>/file")
def download_material(material_id: int):
    """A material's file, as a download (only for people who may see it)."""
    material = materials.material_for_download(current_user, material_id)
    return send_stored(material.file_key, material.filename, material.content_type)


@bp.route("/faculty/offerings/<int:offering_id>/materials/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def add_material(offering_id: int):
    """Attach a file or a link to an offering or one of its sessions."""
    allow_uploads()
    offering = materials.get_offering(offering_id)
    form = MaterialForm()
    form.session_id.choices = materials_pages.session_choices(offering)
    if request.method == "GET" and request.args.get("session_id", "").isdigit():
        form.session_id.data = int(request.args["session_id"])
    done = submit(form, lambda: materials.add_material(current_user, offering, _details(form)))
    if done:
        flash(f"“{done.value.title}” has been added", "success")
        return redirect(url_for("learning.offering_materials", offering_id=offering.id))
    return _form_page(form, offering)


@bp.route("/faculty/materials/<int:material_id>/edit", methods=["GET", "POST"])
@role_required(*MANAGERS)
def edit_material(material_id: int):
    """Change a material's details, or replace its file."""
    allow_uploads()
    material = materials.get_material(material_id)
    form = MaterialForm(obj=material)
    form.session_id.choices = materials_pages.session_choices(material.offering)
    done = submit(form, lambda: materials.update_material(current_user, material,
                                                          _details(form)))
    if done:
        flash(f"“{material.title}” has been changed", "success")
        return redirect(url_for("learning.offering_materials",
                                offering_id=material.offering_id))
    return _form_page(form, material.offering, material)


def removal_consequence(seen_by: str, item) -> str:
    """What removing a material or a shared resource does, for its confirmation page."""
    file = ", and the file is deleted" if item.is_file else ""
    return f"{seen_by}{file}. This cannot be undone."


@bp.route("/faculty/materials/<int:material_id>/remove", methods=["GET", "POST"])
@role_required(*MANAGERS)
def remove_material(material_id: int):
    """Ask, then remove a material (and its file)."""
    material = materials.get_material(material_id)
    back = url_for("learning.offering_materials", offering_id=material.offering_id)
    seen_by = "People with a place will no longer see it"
    return confirm_then(
        Confirmation(f"Remove “{material.title}”?", (removal_consequence(seen_by, material),),
                     "Remove it", back, caption=material.offering.title, keep="Keep it"),
        lambda: materials.remove_material(current_user, material),
        done=lambda title: f"“{title}” has been removed", back=back)


@bp.route("/faculty/materials/<int:material_id>/move", methods=["POST"])
@role_required(*MANAGERS)
def move_material(material_id: int):
    """Move a material up or down the list."""
    material = materials.get_material(material_id)
    offering_id = material.offering_id
    form = MoveForm()
    if form.validate_on_submit():
        perform(materials.move_material, current_user, material, form.direction.data,
                done=f"“{material.title}” has been moved")
    return redirect(url_for("learning.offering_materials", offering_id=offering_id))


@bp.route("/faculty/sessions/<int:session_id>/recording", methods=["GET", "POST"])
@role_required(*MANAGERS)
def publish_recording(session_id: int):
    """Publish the recording of any session (a cohort's too), as events do."""
    session = event_services.get_session(session_id)
    offering = session.offering
    current = recordings_for([session.id]).get(session.id)
    form = RecordingForm(data={"url": current.url if current else ""})
    done = submit(form, lambda: event_services.publish_recording(current_user, session,
                                                                 form.url.data))
    back = url_for("learning.offering_materials", offering_id=offering.id)
    if done:
        flash("The recording has been published" + (
            f" and {done.value} {'person' if done.value == 1 else 'people'} who missed the "
            "session emailed." if done.value else "."), "success")
        return redirect(back)
    return render_template("events/faculty/recording_form.html", form=form, event=offering,
                           session=session, back=back, current=current)
