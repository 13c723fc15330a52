"""Where uploaded files live: one small interface (put, open, delete, exists), the local disk
under ``instance/`` by default.

Placeholder for helper "work": the "materials" branch owns this module (with the
S3-compatible store and the content checks); the lead keeps theirs at merge. Only the
interface below is relied on."""

from __future__ import annotations

import mimetypes
import os
import shutil
from contextlib import suppress
from pathlib import Path
from typing import BinaryIO

from flask import Response, current_app, send_file

from lms.errors import DomainError

CHUNK = 64 * 1024
# Kinds of file and the first bytes each must start with (None: text, anything readable).
SIGNATURES: dict[str, tuple[bytes, ...] | None] = {
    "pdf": (b"%PDF",),
    "png": (b"\x89PNG",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
    "pptx": (b"PK\x03\x04",),
    "zip": (b"PK\x03\x04",),
    "csv": None,
    "txt": None,
    "md": None,
    "r": None,
    "py": None,
}


class StorageFailed(DomainError):
    """The store could not take or give a file (disk full, object store down)."""


class LocalStorage:
    """Files on the local disk, under ``root``; keys are relative paths."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"storage key outside the store: {key!r}")
        return path

    def put(self, key: str, stream: BinaryIO, content_type: str) -> int:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as out:
                shutil.copyfileobj(stream, out, CHUNK)
            return path.stat().st_size
        except OSError as error:
            with suppress(OSError):
                path.unlink(missing_ok=True)
            raise StorageFailed("The file could not be stored just now. Nothing was saved; "
                                "try again later.") from error

    def open(self, key: str) -> BinaryIO:
        return open(self._path(key), "rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


def storage() -> LocalStorage:
    """The current app's store."""
    root = current_app.config.get("LEARNING_STORAGE_DIR") or os.path.join(
        current_app.instance_path, "uploads")
    return LocalStorage(root)


def check_upload(filename: str, stream: BinaryIO, allowed_kinds: set[str] | frozenset[str],
                 max_bytes: int, field: str = "files") -> str:
    """The content type of an upload whose name, size and first bytes are acceptable;
    a ``DomainError`` (on ``field``) naming the file otherwise. Leaves ``stream`` at 0."""
    kind = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if kind not in allowed_kinds:
        raise DomainError(f"{filename} must be one of: {', '.join(sorted(allowed_kinds))}",
                          field)
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    if size == 0:
        raise DomainError(f"{filename} is empty", field)
    if size > max_bytes:
        raise DomainError(f"{filename} must be smaller than {max_bytes // (1024 * 1024)} MB",
                          field)
    head = stream.read(512)
    stream.seek(0)
    signatures = SIGNATURES.get(kind)
    if signatures is None:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            if b"\x00" in head:
                raise DomainError(f"{filename} is not a text file", field) from None
    elif not head.startswith(signatures):
        raise DomainError(f"{filename} is not a real .{kind} file", field)
    return mimetypes.guess_type(f"x.{kind}")[0] or "application/octet-stream"


def send_stored(key: str, filename: str, content_type: str) -> Response:
    """A stored file as a download (never shown inline)."""
    try:
        stream = storage().open(key)
    except OSError:
        from lms.errors import NotFound

        raise NotFound("That file is no longer stored") from None
    response = send_file(stream, mimetype=content_type, as_attachment=True,
                         download_name=filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
