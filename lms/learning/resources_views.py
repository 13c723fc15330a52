"""A network's resources page: search, share, download; faculty pin and remove."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms.learning import resources
from lms.learning.blueprint import MANAGERS, bp
from lms.learning.materials import Upload
from lms.learning.materials_views import removal_consequence
from lms.learning.resources_forms import ResourceForm, SearchForm
from lms.learning.storage import ALL_KINDS, allow_uploads, kinds_text, megabytes, send_stored
from lms.offerings.policy import can_manage
from lms.web import (
    Confirmation,
    EmptyForm,
    confirm_then,
    offering_url,
    perform,
    role_required,
    submit,
)


@bp.route("/networks/<int:network_id>/resources")
def network_resources(network_id: int):
    """The network's shared resources, searchable; members-only ones for members."""
    network = resources.get_network(network_id, current_user)
    form = SearchForm(request.args)
    found = resources.search(current_user, network, form.q.data or "")
    return render_template("learning/resources.html", network=network, form=form,
                           found=found, may_add=resources.may_add(current_user, network),
                           manages=can_manage(current_user, network), action=EmptyForm(),
                           back=offering_url(network))


@bp.route("/networks/<int:network_id>/resources/new", methods=["GET", "POST"])
@login_required
def add_resource(network_id: int):
    """Share a link or a file with the network."""
    allow_uploads()
    network = resources.get_network(network_id, current_user)
    resources.ensure_may_add(current_user, network)
    form = ResourceForm()
    upload = request.files.get("file")
    details = resources.ResourceDetails(
        kind=form.kind.data, title=form.title.data, description=form.description.data,
        tags=form.tags.data, url=form.url.data, members_only=form.members_only.data,
        upload=Upload(upload.filename, upload.stream) if upload and upload.filename else None)
    done = submit(form, lambda: resources.add_resource(current_user, network, details))
    back = url_for("learning.network_resources", network_id=network.id)
    if done:
        flash(f"“{done.value.title}” has been shared", "success")
        return redirect(back)
    return render_template("learning/resource_form.html", form=form, network=network,
                           back=back, kinds=kinds_text(ALL_KINDS),
                           limit=megabytes(current_app.config["UPLOAD_MAX_BYTES"]))


@bp.route("/resources/<int:resource_id>/file")
def download_resource(resource_id: int):
    """A shared file, as a download (members-only ones for members)."""
    resource = resources.resource_for_download(current_user, resource_id)
    return send_stored(resource.file_key, resource.filename, resource.content_type)


@bp.route("/faculty/resources/<int:resource_id>/<any(pin, unpin):action>", methods=["POST"])
@role_required(*MANAGERS)
def pin_resource(resource_id: int, action: str):
    """Pin a resource to the top of its network's page, or unpin it."""
    resource = resources.get_resource(resource_id)
    if EmptyForm().validate_on_submit():
        perform(resources.set_pinned, current_user, resource, action == "pin",
                done=f"“{resource.title}” has been {action}ned")
    return redirect(url_for("learning.network_resources", network_id=resource.network_id))


@bp.route("/faculty/resources/<int:resource_id>/remove", methods=["GET", "POST"])
@role_required(*MANAGERS)
def remove_resource(resource_id: int):
    """Ask, then remove a shared resource."""
    resource = resources.get_resource(resource_id)
    back = url_for("learning.network_resources", network_id=resource.network_id)
    return confirm_then(
        Confirmation(f"Remove “{resource.title}”?",
                     (removal_consequence("Members will no longer see it", resource),),
                     "Remove it", back, keep="Keep it"),
        lambda: resources.remove_resource(current_user, resource),
        done=lambda title: f"“{title}” has been removed", back=back)
