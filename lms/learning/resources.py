"""A network's resources page: members share links and files (with a description and tags)
and search them; faculty pin and remove them; members-only items are for members only."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import or_, select

from lms.errors import DomainError, ErrorCollector, NotAllowed, NotFound
from lms.extensions import db
from lms.learning import storage
from lms.learning.materials import Upload, check_title, check_url
from lms.learning.policy import has_place
from lms.learning.resources_models import NetworkResource
from lms.offerings.models import Offering
from lms.offerings.policy import can_manage, can_see

DESCRIPTION_MAX = 1000
TAGS_MAX = 10


@dataclass
class ResourceDetails:
    kind: str | None
    title: str | None
    description: str | None = ""
    tags: str | None = ""
    url: str | None = ""
    members_only: bool = True
    upload: Upload | None = None


def get_network(network_id: int, user) -> Offering:
    """A network this person may see (anyone else: no such page)."""
    network = db.session.get(Offering, network_id)
    if network is None or network.kind != "network" or not can_see(user, network):
        raise NotFound("No such network")
    return network


def is_member(user, network: Offering) -> bool:
    return has_place(user, network)


def may_add(user, network: Offering) -> bool:
    """Members and faculty share resources."""
    return can_manage(user, network) or is_member(user, network)


def ensure_may_add(user, network: Offering) -> None:
    if not may_add(user, network):
        raise NotAllowed("Only the network's members can add resources: join the network "
                         "first")


def may_see_resource(user, resource: NetworkResource, network: Offering) -> bool:
    if not resource.members_only:
        return True
    return can_manage(user, network) or is_member(user, network)


def _tags(value: str | None) -> str:
    tags = []
    for raw in re.split(r"[,;]", value or ""):
        tag = " ".join(raw.strip().lower().split())
        if tag and tag not in tags:
            tags.append(tag)
    if len(tags) > TAGS_MAX or any(len(t) > 30 for t in tags):
        raise DomainError(f"Give up to {TAGS_MAX} tags of up to 30 characters each", "tags")
    return "," + ",".join(tags) + "," if tags else ""


def _description(value: str | None) -> str:
    text = (value or "").strip()
    if len(text) > DESCRIPTION_MAX:
        raise DomainError(f"The description must be {DESCRIPTION_MAX} characters or fewer",
                          "description")
    return text


def add_resource(user, network: Offering, details: ResourceDetails) -> NetworkResource:
    """Share a link or a file on a network's resources page (the file is stored first; the
    storage hooks delete it if the row never commits)."""
    ensure_may_add(user, network)
    errors = ErrorCollector()
    kind = details.kind if details.kind in ("file", "link") else None
    if kind is None:
        errors.errors.append(("kind", "Select whether it is a file or a link"))
    values = {"title": errors.check(check_title, details.title),
              "description": errors.check(_description, details.description),
              "tags": errors.check(_tags, details.tags)}
    checked = None
    if kind == "link":
        values["url"] = errors.check(check_url, details.url)
    elif kind == "file":
        if details.upload is None or not details.upload.filename:
            errors.errors.append(("file", "Select a file"))
        else:
            checked = errors.check(storage.check_upload, details.upload.filename,
                                   details.upload.stream)
    errors.raise_any()
    resource = NetworkResource(network_id=network.id, kind=kind, added_by_id=user.id,
                               members_only=bool(details.members_only), **values)
    if checked is not None:
        _kind, content_type = checked
        key, size = storage.store_upload("resources", details.upload.stream, content_type)
        resource.file_key, resource.size, resource.content_type = key, size, content_type
        resource.filename = storage.safe_filename(details.upload.filename)
    db.session.add(resource)
    db.session.flush()
    return resource


def get_resource(resource_id: int) -> NetworkResource:
    resource = db.session.get(NetworkResource, resource_id)
    if resource is None:
        raise NotFound("No such resource")
    return resource


def set_pinned(actor, resource: NetworkResource, pinned: bool) -> NetworkResource:
    """Faculty pin a resource to the top of the page (or unpin it)."""
    if not can_manage(actor):
        raise NotAllowed("Only faculty can pin resources")
    resource.pinned = pinned
    db.session.flush()
    return resource


def remove_resource(actor, resource: NetworkResource) -> str:
    """Faculty remove a resource (and its file, once the removal commits)."""
    if not can_manage(actor):
        raise NotAllowed("Only faculty can remove resources")
    title = resource.title
    storage.discard_after_commit(resource.file_key)
    db.session.delete(resource)
    db.session.flush()
    return title


def resource_for_download(user, resource_id: int) -> NetworkResource:
    resource = get_resource(resource_id)
    network = db.session.get(Offering, resource.network_id)
    if not resource.is_file or network is None or not can_see(user, network) \
            or not may_see_resource(user, resource, network):
        raise NotFound("No such resource")
    return resource


def search(user, network: Offering, query: str = "") -> list[NetworkResource]:
    """The resources this person may see, pinned first then newest, matching ``query`` in
    the title, description or tags (every word must match somewhere)."""
    stmt = select(NetworkResource).where(NetworkResource.network_id == network.id)
    if not (can_manage(user, network) or is_member(user, network)):
        stmt = stmt.where(NetworkResource.members_only.is_(False))
    for word in (query or "").lower().split()[:8]:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(NetworkResource.title.ilike(pattern, escape="\\"),
                              NetworkResource.description.ilike(pattern, escape="\\"),
                              NetworkResource.tags.ilike(pattern, escape="\\")))
    return list(db.session.scalars(stmt.order_by(NetworkResource.pinned.desc(),
                                                 NetworkResource.created_at.desc(),
                                                 NetworkResource.id.desc())))
