"""Uploaded files: the checks every upload passes, and the store behind them (local disk and an
S3 emulator, the same tests on each)."""

from __future__ import annotations

import io
import zipfile

import pytest

from lms.errors import InvalidInput
from lms.learning.storage import (
    StorageFailed,
    check_upload,
    new_key,
    safe_filename,
    send_stored,
    storage,
)

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def office(kind: str) -> bytes:
    main = {"docx": "wordprocessingml.document.main+xml",
            "xlsx": "spreadsheetml.sheet.main+xml"}[kind]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml",
                         f'<Types><Override ContentType="application/vnd.openxmlformats-'
                         f'officedocument.{main}"/></Types>')
        archive.writestr("word/document.xml", "<w/>")
    return buffer.getvalue()


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.csv", "a,b\n1,2\n")
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "content", "kind"), [
    ("slides.pdf", PDF, "pdf"),
    ("chart.png", PNG, "png"),
    ("photo.JPG", b"\xff\xd8\xff\xe0" + b"\x00" * 20, "jpeg"),
    ("anim.gif", b"GIF89a" + b"\x00" * 10, "gif"),
    ("notes.docx", office("docx"), "docx"),
    ("model.xlsx", office("xlsx"), "xlsx"),
    ("data.zip", plain_zip(), "zip"),
    ("beds.csv", "ward,beds\nA,12\nCafé,3\n".encode(), "csv"),
    ("model.R", b"x <- c(1, 2)\nmean(x)\n", "r"),
    ("clean.py", b"print('hello')\n", "python"),
])
def test_files_whose_content_matches_their_name_are_accepted(ctx, name, content, kind):
    stream = io.BytesIO(content)
    found, content_type = check_upload(name, stream)
    assert found == kind
    assert stream.tell() == 0
    assert "html" not in content_type and "svg" not in content_type


@pytest.mark.parametrize(("name", "content", "message"), [
    ("slides.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>",
     "The file's content is not a PDF"),
    ("chart.png", PDF, "The file's content is not a PNG image"),
    ("notes.docx", plain_zip(), "The file's content is not a Word document"),
    ("notes.docx", office("xlsx"), "The file's content is not a Word document"),
    ("beds.csv", b"a,b\x00\n", "The file's content is not a CSV file"),
    ("beds.csv", b"\xff\xfe bad utf", "The file's content is not a CSV file"),
    ("notes.txt", b"<html><body>hi</body></html>", "The file's content is not a text file"),
    ("data.zip", b"PK\x03\x04 broken", "The file's content is not a zip file"),
])
def test_files_whose_content_does_not_match_their_name_are_refused(ctx, name, content, message):
    with pytest.raises(InvalidInput) as refused:
        check_upload(name, io.BytesIO(content))
    assert refused.value.errors == [("file", message)]


@pytest.mark.parametrize("name", ["logo.svg", "page.html", "page.htm", "run.exe", "noextension"])
def test_svg_html_and_unknown_kinds_are_refused(ctx, name):
    with pytest.raises(InvalidInput) as refused:
        check_upload(name, io.BytesIO(b"<svg xmlns='http://www.w3.org/2000/svg'/>"))
    assert refused.value.message.startswith("The file must be ")
    assert "SVG" not in refused.value.message and "HTML" not in refused.value.message


def test_a_file_over_the_limit_is_refused_with_the_limit_in_words(ctx):
    with pytest.raises(InvalidInput) as refused:
        check_upload("big.pdf", io.BytesIO(PDF + b"0" * (20 * 1024 * 1024)))
    assert refused.value.message == "The file is larger than 20 MB"


def test_only_the_kinds_allowed_here_are_accepted(ctx):
    with pytest.raises(InvalidInput) as refused:
        check_upload("chart.png", io.BytesIO(PNG), allowed_kinds={"pdf"})
    assert refused.value.message == "The file must be PDF"


def test_empty_and_missing_files_are_refused(ctx):
    with pytest.raises(InvalidInput, match="empty"):
        check_upload("empty.pdf", io.BytesIO(b""))
    with pytest.raises(InvalidInput, match="Select a file"):
        check_upload("", io.BytesIO(PDF))


def test_download_names_cannot_break_the_header_or_a_path():
    assert safe_filename('../../etc/pa"ss\r\nwd.pdf') == "pa_ss_wd.pdf"
    assert safe_filename("") == "file"


def test_a_stored_file_comes_back_as_an_attachment_never_inline(ctx, any_storage):
    key = new_key("materials")
    size = storage().put(key, io.BytesIO(PDF), "application/pdf")
    assert size == len(PDF)
    assert storage().exists(key)
    response = send_stored(key, "Pre-reading.pdf", "application/pdf")
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="Pre-reading.pdf"')
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.content_type == "application/pdf"
    assert b"".join(response.response) == PDF
    storage().delete(key)
    assert not storage().exists(key)


def test_keys_from_outside_are_refused(ctx, any_storage):
    with pytest.raises(ValueError, match="not a storage key"):
        storage().exists("../../config.py")


def test_local_storage_leaves_no_half_written_file_when_the_disk_fails(ctx, app, tmp_path):
    saved = {key: app.config.get(key) for key in ("STORAGE", "UPLOAD_DIR")}
    app.config.update(STORAGE="local", UPLOAD_DIR=str(tmp_path / "uploads"))
    app.extensions.pop("lms_storage", None)

    class Failing(io.BytesIO):
        def read(self, size=-1):
            if self.tell() > 10:
                raise OSError(28, "No space left on device")
            return super().read(11)

    key = new_key("materials")
    try:
        with pytest.raises(StorageFailed, match="could not be saved"):
            storage().put(key, Failing(PDF), "application/pdf")
        assert not storage().exists(key)
        assert list((tmp_path / "uploads").rglob("*")) == [tmp_path / "uploads" / "materials"]
    finally:
        app.extensions.pop("lms_storage", None)
        app.config.update(saved)  # later tests use the session's store again


@pytest.mark.parametrize("any_storage", ["s3"], indirect=True)
def test_an_object_store_that_is_down_gives_a_clear_message(ctx, any_storage, s3_server):
    s3_server.stop()
    with pytest.raises(StorageFailed, match="could not be saved"):
        storage().put(new_key("materials"), io.BytesIO(PDF), "application/pdf")
