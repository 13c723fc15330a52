"""Certificate PDFs: stored once rendered, named for their holder, and zipped per offering as
a stream (never the whole archive in memory)."""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from io import RawIOBase

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from lms.certificates import rendering
from lms.certificates.models import Certificate, CertificatePdf, CertificateStatus
from lms.certificates.services import write_lock
from lms.clock import utcnow
from lms.extensions import db
from lms.offerings.models import Offering


def stored_pdf(certificate_id: int) -> bytes | None:
    return db.session.scalar(select(CertificatePdf.pdf).where(
        CertificatePdf.certificate_id == certificate_id))


def store_pdfs(pdfs: list[tuple[int, bytes]]) -> None:
    """Keep rendered PDFs, (certificate id, bytes) each, in one statement. A PDF another
    process stored first is left as it is. (Core, not ORM: a batch of thousands never
    holds the bytes in the session.)"""
    if not pdfs:
        return
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    db.session.execute(
        insert(CertificatePdf).on_conflict_do_nothing(
            index_elements=[CertificatePdf.certificate_id]),
        [{"certificate_id": i, "pdf": pdf, "size": len(pdf), "rendered_at": now}
         for i, pdf in pdfs],
    )


def pdf_of(certificate: Certificate, *, store: bool = True) -> bytes:
    """The certificate's PDF: the stored one, or rendered now (and stored, unless told not
    to: the caller commits)."""
    pdf = stored_pdf(certificate.id)
    if pdf is None:
        pdf = rendering.render_pdf(certificate)
        if store and certificate.is_live:
            write_lock()
            store_pdfs([(certificate.id, pdf)])
    return pdf


def filename_of(certificate: Certificate) -> str:
    """A safe file name such as ``MDSN-2026-000123 Lena Learner.pdf`` (accents dropped:
    "Zoë" is "Zoe", so the header stays plain ASCII)."""
    plain = unicodedata.normalize("NFKD", certificate.holder_name).encode("ascii", "ignore")
    name = re.sub(r"[^A-Za-z0-9 .'-]+", "", plain.decode()).strip() or "certificate"
    return f"{certificate.serial} {name[:60]}.pdf"


class _Sink(RawIOBase):
    """An unseekable buffer that zipfile writes into and the response drains."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


def zip_stream(files: Iterable[tuple[str, bytes]]) -> Iterator[bytes]:
    """Yield a zip of ``files`` piece by piece: each file as soon as it is written, so the
    whole archive is never in memory. Stored, not deflated: PDFs are compressed already."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in files:
            archive.writestr(name, data)
            yield sink.take()
    yield sink.take()


def offering_pdfs(offering: Offering) -> Iterator[tuple[str, bytes]]:
    """(file name, PDF) of each live certificate of the offering, loaded one at a time;
    any not yet rendered are rendered on the way (and not stored: this runs while the
    response streams)."""
    ids = list(db.session.scalars(
        select(Certificate.id).where(Certificate.offering_id == offering.id,
                                     Certificate.status == CertificateStatus.ISSUED)
        .order_by(Certificate.serial)))
    for certificate_id in ids:
        certificate = db.session.get(Certificate, certificate_id)
        pdf = stored_pdf(certificate_id) or rendering.render_pdf(certificate)
        yield filename_of(certificate), pdf
        db.session.expunge(certificate)


def count_live(offering_id: int) -> int:
    return db.session.scalar(select(func.count(Certificate.id)).where(
        Certificate.offering_id == offering_id,
        Certificate.status == CertificateStatus.ISSUED)) or 0
