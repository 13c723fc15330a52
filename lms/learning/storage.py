"""Where uploaded files live: a small storage interface, the checks every upload passes, and
the one way a stored file is sent back.

Files are kept outside the web root: on the local disk under ``instance/uploads`` by default,
or in an S3-compatible object store (``LMS_STORAGE=s3``) when several app servers share them.
Callers write the file first and the row second; if the row fails they delete the file, and if
the store fails they save no row (``StorageFailed`` carries the message for the person)."""

from __future__ import annotations

import io
import os
import re
import secrets
import tempfile
import zipfile
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import Response, current_app, stream_with_context

from lms.errors import DomainError, InvalidInput
from lms.extensions import connected, listen_to_sessions

CHUNK = 64 * 1024
DEFAULT_MAX_BYTES = 20 * 1024 * 1024

# What each kind of file is called in messages, and the content type it is sent with.
KINDS: dict[str, tuple[str, str]] = {
    "pdf": ("a PDF", "application/pdf"),
    "png": ("a PNG image", "image/png"),
    "jpeg": ("a JPEG image", "image/jpeg"),
    "gif": ("a GIF image", "image/gif"),
    "zip": ("a zip file", "application/zip"),
    "docx": ("a Word document",
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("an Excel spreadsheet",
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pptx": ("a PowerPoint presentation",
             "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    "csv": ("a CSV file", "text/csv; charset=utf-8"),
    "r": ("an R script", "text/plain; charset=utf-8"),
    "python": ("a Python script", "text/plain; charset=utf-8"),
    "text": ("a text file", "text/plain; charset=utf-8"),
}
EXTENSIONS: dict[str, str] = {
    "pdf": "pdf", "png": "png", "jpg": "jpeg", "jpeg": "jpeg", "gif": "gif", "zip": "zip",
    "docx": "docx", "xlsx": "xlsx", "pptx": "pptx", "csv": "csv", "r": "r", "py": "python",
    "txt": "text", "md": "text",
}
# Every kind a material or a shared resource may be.
ALL_KINDS = frozenset(KINDS)
REFUSED_EXTENSIONS = frozenset({"svg", "svgz", "html", "htm", "xhtml", "xml", "js", "mjs"})
_OOXML_MAIN = {
    "docx": b"wordprocessingml.document.main+xml",
    "xlsx": b"spreadsheetml.sheet.main+xml",
    "pptx": b"presentationml.presentation.main+xml",
}
_MARKUP = re.compile(rb"^\s*(<\?xml|<!doctype|<html|<svg|<script|<body|<head|<iframe)", re.I)


class StorageFailed(DomainError):
    """The store could not keep or give back a file (disk full, object store down)."""

    def __init__(self, message: str = "The file could not be saved. Try again later."):
        super().__init__(message, "file")


class Storage(Protocol):
    """Keeps files by key. Keys are made by ``new_key`` and never come from people's input."""

    def put(self, key: str, stream: BinaryIO, content_type: str) -> int:
        """Store ``stream`` under ``key``; return its size in bytes."""

    def open(self, key: str) -> BinaryIO:
        """A readable stream of the stored file."""

    def delete(self, key: str) -> None:
        """Remove the file; a missing one is not an error."""

    def exists(self, key: str) -> bool:
        """Whether a file is stored under ``key``."""


def new_key(prefix: str) -> str:
    """A fresh, unguessable key under ``prefix`` (e.g. ``materials``)."""
    return f"{prefix}/{secrets.token_hex(16)}"


_KEY = re.compile(r"^[a-z0-9_-]+(/[a-z0-9_-]+)+$")


def _checked(key: str) -> str:
    if not _KEY.match(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


class LocalStorage:
    """Files on this server's disk, under ``root`` (``instance/uploads`` by default)."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / _checked(key)

    def put(self, key: str, stream: BinaryIO, content_type: str) -> int:
        path = self._path(key)
        size = 0
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written to a temporary file beside it, then renamed: a reader never sees half a file.
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            try:
                with os.fdopen(handle, "wb") as out:
                    while chunk := stream.read(CHUNK):
                        out.write(chunk)
                        size += len(chunk)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as error:
            current_app.logger.error("storing %s failed: %s", key, error)
            raise StorageFailed() from error
        return size

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except OSError as error:
            raise StorageFailed("The file could not be read. Try again later.") from error

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


class S3Storage:
    """Files in an S3-compatible object store, shared by every app server."""

    def __init__(self, bucket: str, endpoint_url: str | None = None, region: str | None = None,
                 access_key: str | None = None, secret_key: str | None = None) -> None:
        import boto3
        from botocore.config import Config as BotoConfig

        self.bucket = bucket
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url or None, region_name=region or None,
            aws_access_key_id=access_key or None, aws_secret_access_key=secret_key or None,
            config=BotoConfig(connect_timeout=5, read_timeout=30,
                              retries={"max_attempts": 2, "mode": "standard"}))

    def _errors(self):
        from botocore.exceptions import BotoCoreError, ClientError
        return (BotoCoreError, ClientError)

    def put(self, key: str, stream: BinaryIO, content_type: str) -> int:
        counted = _Counting(stream)
        try:
            self.client.upload_fileobj(counted, self.bucket, _checked(key),
                                       ExtraArgs={"ContentType": content_type})
        except self._errors() as error:
            current_app.logger.error("storing %s in S3 failed: %s", key, error)
            raise StorageFailed() from error
        return counted.size

    def open(self, key: str) -> BinaryIO:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=_checked(key))["Body"]
        except self._errors() as error:
            raise StorageFailed("The file could not be read. Try again later.") from error

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=_checked(key))
        except self._errors() as error:
            current_app.logger.error("deleting %s from S3 failed: %s", key, error)

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError
        try:
            self.client.head_object(Bucket=self.bucket, Key=_checked(key))
        except ClientError:
            return False
        return True


class _Counting(io.RawIOBase):
    """Counts the bytes read through it (boto3 reads the stream itself)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.size = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.size += len(chunk)
        return chunk

    def readinto(self, buffer) -> int:
        chunk = self.read(len(buffer))
        buffer[:len(chunk)] = chunk
        return len(chunk)


def storage() -> Storage:
    """The store this app is configured with (``LMS_STORAGE=local|s3``), one per app."""
    app = current_app
    store = app.extensions.get("lms_storage")
    if store is None:
        if app.config.get("STORAGE", "local") == "s3":
            store = S3Storage(app.config["S3_BUCKET"], app.config.get("S3_ENDPOINT_URL"),
                              app.config.get("S3_REGION"), app.config.get("S3_ACCESS_KEY"),
                              app.config.get("S3_SECRET_KEY"))
        else:
            store = LocalStorage(app.config.get("UPLOAD_DIR")
                                 or os.path.join(app.instance_path, "uploads"))
        app.extensions["lms_storage"] = store
    return store


def max_upload_bytes() -> int:
    """The largest file anyone may upload (``LMS_UPLOAD_MAX_BYTES``): one limit for every
    upload, materials, resources, submitted work and CPD evidence alike."""
    return int(current_app.config.get("UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))


def allow_uploads(files: int = 1) -> None:
    """A form carrying up to ``files`` files may be that many uploads large (plus its other
    fields), above the request limit every other form keeps."""
    from flask import request

    request.max_content_length = files * max_upload_bytes() + 1024 * 1024


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def kinds_text(allowed_kinds) -> str:
    """"PDF, PNG or ZIP": the extensions of ``allowed_kinds``, for messages and hints."""
    allowed = sorted(ext.upper() for ext, each in EXTENSIONS.items() if each in allowed_kinds)
    return allowed[0] if len(allowed) == 1 else ", ".join(allowed[:-1]) + f" or {allowed[-1]}"


def check_upload(filename: str, stream: BinaryIO, allowed_kinds=ALL_KINDS,
                 max_bytes: int | None = None, field: str = "file") -> tuple[str, str]:
    """Check an uploaded file before it is stored: its size, its extension and that its content
    is what the extension says (sniffed from its bytes). Returns ``(kind, content_type)`` and
    leaves ``stream`` at its start; raises ``InvalidInput`` with a message for the person."""
    if max_bytes is None:
        max_bytes = max_upload_bytes()
    name = (filename or "").strip()
    if not name:
        raise InvalidInput([(field, "Select a file")])
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    kind = EXTENSIONS.get(extension)
    if extension in REFUSED_EXTENSIONS or kind is None or kind not in allowed_kinds:
        raise InvalidInput([(field, "The file must be " + kinds_text(allowed_kinds))])
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    if size == 0:
        raise InvalidInput([(field, "The selected file is empty")])
    if size > max_bytes:
        raise InvalidInput([(field, f"The file is larger than {megabytes(max_bytes)}")])
    if not _content_is(kind, stream):
        stream.seek(0)
        raise InvalidInput([(field, f"The file's content is not {KINDS[kind][0]}")])
    stream.seek(0)
    return kind, KINDS[kind][1]


def _content_is(kind: str, stream: BinaryIO) -> bool:
    head = stream.read(8)
    stream.seek(0)
    if kind == "pdf":
        return head.startswith(b"%PDF-")
    if kind == "png":
        return head == b"\x89PNG\r\n\x1a\n"
    if kind == "jpeg":
        return head.startswith(b"\xff\xd8\xff")
    if kind == "gif":
        return head[:6] in (b"GIF87a", b"GIF89a")
    if kind == "zip" or kind in _OOXML_MAIN:
        if not head.startswith(b"PK\x03\x04"):
            return False
        try:
            with zipfile.ZipFile(stream) as archive:
                if kind == "zip":
                    return archive.testzip() is None
                types = archive.read("[Content_Types].xml")
        except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, ValueError):
            return False
        finally:
            stream.seek(0)
        return _OOXML_MAIN[kind] in types
    return _is_text(stream)


def _is_text(stream: BinaryIO) -> bool:
    """Valid UTF-8 with no NUL byte, and not markup a browser might run."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    first = True
    try:
        while chunk := stream.read(CHUNK):
            if b"\x00" in chunk:
                return False
            if first and _MARKUP.match(chunk.removeprefix(b"\xef\xbb\xbf")):
                return False
            first = False
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        stream.seek(0)
    return True


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9 ._()-]+")


def safe_filename(filename: str, default: str = "file") -> str:
    """The name a download is offered under: the person's name for it, minus anything that
    could break out of the header or a path."""
    base = os.path.basename((filename or "").replace("\\", "/")).strip()
    cleaned = _UNSAFE_NAME.sub("_", base).strip(" .")
    return cleaned[:120] or default


def send_stored(key: str, filename: str, content_type: str) -> Response:
    """Stream a stored file to the browser as a download: never shown inline, never sniffed."""
    from urllib.parse import quote

    body = storage().open(key)

    def chunks():
        try:
            while chunk := body.read(CHUNK):
                yield chunk
        finally:
            body.close()

    name = safe_filename(filename)
    response = Response(stream_with_context(chunks()), mimetype=None,
                        content_type=content_type or "application/octet-stream")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------------------- with the database
# A file is written before its row. Until the transaction that holds the row commits, the
# file's key waits in the session; if that transaction ends any other way (a rule said no, the
# row failed, the request died), the file is deleted. Files whose rows were deleted are kept
# until the deletion commits, so a rolled-back removal loses nothing.
_PENDING = "lms.learning.uploaded"
_DISCARD = "lms.learning.discarded"


def store_upload(prefix: str, stream: BinaryIO, content_type: str) -> tuple[str, int]:
    """Store an upload under a fresh key, deleted again unless this transaction commits.
    Returns ``(key, size)``; raises ``StorageFailed`` when the store is down or full."""
    from lms.extensions import db

    key = new_key(prefix)
    size = storage().put(key, stream, content_type)
    db.session.info.setdefault(_PENDING, []).append(key)
    return key, size


def discard_after_commit(key: str | None) -> None:
    """Delete the stored file once the transaction that deleted its row commits."""
    from lms.extensions import db

    if key:
        db.session.info.setdefault(_DISCARD, []).append(key)


_LISTENING = "lms.learning.storage"


def _delete_quietly(keys: list[str]) -> None:
    if not keys:
        return
    store = storage()
    for key in keys:
        try:
            store.delete(key)
        except Exception:  # a file left behind must not fail the request
            current_app.logger.exception("could not delete stored file %s", key)


def _after_commit(session) -> None:
    if not connected(_LISTENING):
        return
    session.info.pop(_PENDING, None)
    _delete_quietly(session.info.pop(_DISCARD, []))


def _after_transaction_end(session, transaction) -> None:
    if transaction.parent is not None or not connected(_LISTENING):
        return
    session.info.pop(_DISCARD, None)
    _delete_quietly(session.info.pop(_PENDING, []))


def init_storage(app) -> None:
    """Tie stored files to the transactions of their rows."""
    listen_to_sessions(app, _LISTENING, {"after_commit": _after_commit,
                                         "after_transaction_end": _after_transaction_end})
