"""Certificate PDFs: sandboxed templates, a URL fetcher that loads only the app's own static
files, and WeasyPrint state kept per process.

This module needs no app and no database, so the worker processes of a bulk issue import it
alone: they get a plain ``context`` dict (see ``context_for``) and return PDF bytes. Each
process (each thread, in a threaded web server) keeps one ``Renderer``: one sandboxed Jinja
environment, one ``FontConfiguration`` with the shipped fonts loaded, the stylesheet parsed
once, and one WeasyPrint image cache.

``render_pdf(certificate)`` is the app's path; ``bare_render(html)`` is a plain WeasyPrint
call, for the benchmark to compare the two.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import mimetypes
import os
import struct
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlsplit

import segno
import weasyprint
from jinja2 import BaseLoader, FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup
from weasyprint.text.fonts import FontConfiguration

from lms.clock import date_text
from lms.errors import DomainError

log = logging.getLogger(__name__)

STATIC_ROOT = (Path(__file__).resolve().parents[1] / "static").resolve()
TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "certificates" / "pdf"
STYLESHEET = "certificate.css"
# Documents are rendered against this base, so ``static/fonts/x.ttf`` (or ``/static/...``) in
# a template or the stylesheet becomes ``https://static.certificate.invalid/static/fonts/x.ttf``,
# which the fetcher maps to a file under lms/static. ``.invalid`` is reserved (RFC 2606): it
# names no real host, and the fetcher never opens a connection anyway.
STATIC_HOST = "static.certificate.invalid"
BASE_URL = f"https://{STATIC_HOST}/"
# What a plain WeasyPrint call would use to reach the same files with its default fetcher:
# the folder holding ``static/``, so the stylesheet's relative ``static/fonts/x.ttf`` is found.
BARE_BASE_URL = STATIC_ROOT.parent.as_uri() + "/"

TITLES = {
    "programme": "Certificate of completion",
    "course": "Certificate of completion",
    "webinar": "Certificate of attendance",
    "festival": "Certificate of attendance",
}


class FetchRefused(ValueError):
    """A certificate asked for something other than one of the app's static files."""


class CertificateTemplateError(DomainError):
    """A certificate template failed to render for a person."""

    def __init__(self, template: str, holder: str, reason: str):
        super().__init__(
            f"The certificate template “{template}” could not be rendered for {holder}: "
            f"{reason}"
        )
        self.template = template
        self.holder = holder


def fetch_static(url: str) -> dict:
    """WeasyPrint's URL fetcher for certificates: files under lms/static, nothing else.

    ``file:``, ``http(s):`` to any real host, ``data:`` and every other scheme are refused
    with an error (WeasyPrint then leaves the resource out), as are paths that climb out of
    the static folder.
    """
    parts = urlsplit(url)
    if (parts.scheme != "https" or parts.netloc != STATIC_HOST
            or not parts.path.startswith("/static/") or parts.query):
        raise FetchRefused(f"certificates may load only the app's static files, not {url[:80]!r}")
    relative = unquote(parts.path.removeprefix("/static/"))
    path = (STATIC_ROOT / relative).resolve()
    if not path.is_relative_to(STATIC_ROOT) or not path.is_file():
        raise FetchRefused(f"no static file {relative[:80]!r}")
    mime_type, _ = mimetypes.guess_type(path.name)
    if path.suffix in (".ttf", ".otf", ".woff", ".woff2"):
        mime_type = f"font/{path.suffix[1:]}"
    return {"string": path.read_bytes(), "mime_type": mime_type, "redirected_url": url}


def _long_date(value: str | date) -> str:
    """The NHS.UK style ("14 January 2027"), from ``lms.clock`` like every page."""
    return date_text(date.fromisoformat(value) if isinstance(value, str) else value)


def _hours(value) -> str:
    """3.0 -> "3", 1.5 -> "1.5"."""
    text = f"{float(value):.1f}"
    return text.removesuffix(".0")


def qr_png(url: str) -> bytes:
    """The QR code of ``url`` as a PNG with one pixel per module: the template prints it at
    its size with ``image-rendering: pixelated``, so it stays sharp at a few hundred bytes
    (cheaper to lay out than the same code as an SVG path)."""
    # A fixed mask: any of the eight is valid, and scoring all eight to pick one took a tenth
    # of a certificate's rendering time.
    matrix = segno.make(url, error="m", micro=False, mask=0).matrix
    return _png_1bit(matrix)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def _png_1bit(rows) -> bytes:
    """A black-and-white PNG (1 bit a pixel) of rows of truthy (dark) and falsy modules:
    a few lines of ``zlib`` instead of segno's general PNG writer, which cost as much as
    making the code."""
    width, height = len(rows[0]), len(rows)
    raw = bytearray()
    for row in rows:
        bits = "".join("0" if module else "1" for module in row).ljust(-(-width // 8) * 8, "1")
        raw.append(0)  # filter: none
        raw += int(bits, 2).to_bytes(len(bits) // 8, "big")
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + _png_chunk(b"IEND", b""))


def qr_url(code: str) -> str:
    """Where a certificate's QR image is, for the fetcher. One address per certificate:
    WeasyPrint caches images by address."""
    return f"{BASE_URL}certificate/{code}/qr.png"


class Renderer:
    """One process's (or thread's) rendering state; see the module docstring."""

    def __init__(self, loader: BaseLoader | None = None):
        self.env = SandboxedEnvironment(
            loader=loader or FileSystemLoader(TEMPLATE_DIR),
            autoescape=True,
            auto_reload=False,  # templates are compiled once per process, not stat'ed each time
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["long_date"] = _long_date
        self.env.filters["hours"] = _hours
        self.css_text = (TEMPLATE_DIR / STYLESHEET).read_text(encoding="utf-8")
        self.font_config = FontConfiguration()
        self.stylesheet = weasyprint.CSS(string=self.css_text, base_url=BASE_URL,
                                         url_fetcher=fetch_static,
                                         font_config=self.font_config)
        self.cache: dict = {}

    def html(self, context: dict, *, qr: bool = True, standalone: bool = False) -> str:
        """The certificate as HTML. ``qr=False`` leaves the QR code out (the check made at
        issue, which must be quick); ``standalone`` inlines the stylesheet and the QR code
        (for ``bare_render``, which has neither the fetcher nor the parsed stylesheet)."""
        name = context["template"]
        qr_src = ""
        if qr and standalone:
            qr_src = "data:image/png;base64," + base64.b64encode(
                qr_png(context["verify_url"])).decode()
        elif qr:
            qr_src = qr_url(context["code"])
        try:
            template = self.env.get_template(f"{name}.html")
            return template.render(
                c=context,
                heading=TITLES.get(name, "Certificate"),
                qr_src=qr_src,
                inline_css=Markup(self.css_text) if standalone else None,  # noqa: S704
            )
        except Exception as error:  # noqa: BLE001 - any template failure is reported
            raise CertificateTemplateError(
                f"{name}.html", context.get("holder_name", "?"),
                f"{type(error).__name__}: {error}") from error

    def pdf(self, html: str, *, images: dict[str, bytes] | None = None, holder: str = "?",
            template: str = "?") -> bytes:
        """HTML to PDF with this process's fonts, stylesheet and cache. ``images`` are PNGs
        made for this certificate (its QR code), by address: the fetcher serves those and
        the static files, nothing else."""
        images = images or {}

        def fetch(url: str) -> dict:
            if url in images:
                return {"string": images[url], "mime_type": "image/png", "redirected_url": url}
            return fetch_static(url)

        try:
            document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=fetch)
            return document.write_pdf(stylesheets=[self.stylesheet],
                                      font_config=self.font_config, cache=self.cache)
        except Exception as error:  # noqa: BLE001 - any WeasyPrint failure is reported
            raise CertificateTemplateError(template, holder,
                                           f"{type(error).__name__}: {error}") from error
        finally:
            self._forget(images)

    def _forget(self, images: dict[str, bytes]) -> None:
        """Keep the cache for what is shared (static images), not each certificate's QR
        code, so a long run's memory stays flat."""
        if not images:
            return
        ids = {hashlib.md5(url.encode(), usedforsecurity=False).hexdigest() for url in images}
        for key in [k for k in self.cache
                    if k in images or (isinstance(k, str) and k[:32] in ids)]:
            del self.cache[key]
        if len(self.cache) > 256:  # a safety net, whatever WeasyPrint's keys become
            self.cache.clear()


_local = threading.local()


def renderer() -> Renderer:
    """This thread's renderer, made on first use. (WeasyPrint's font configuration is not
    safe to share between threads, so a threaded web server has one per thread.)"""
    current = getattr(_local, "renderer", None)
    if current is None:
        current = _local.renderer = Renderer()
    return current


@contextmanager
def using(loader: BaseLoader) -> Iterator[Renderer]:
    """Render with other templates for a while (tests: a broken or hostile template)."""
    before = getattr(_local, "renderer", None)
    _local.renderer = Renderer(loader)
    try:
        yield _local.renderer
    finally:
        _local.renderer = before


def render_context(context: dict) -> bytes:
    """A certificate's PDF from its plain context (see ``context_for``)."""
    current = renderer()
    html = current.html(context)
    return current.pdf(html, images={qr_url(context["code"]): qr_png(context["verify_url"])},
                       holder=context["holder_name"], template=f"{context['template']}.html")


def render_job(context: dict) -> tuple[int, bytes | None, str, int]:
    """A bulk-issue worker's task: (certificate id, PDF or None, error message, the id of
    the process that rendered it)."""
    try:
        return context["id"], render_context(context), "", os.getpid()
    except CertificateTemplateError as error:
        return context["id"], None, error.message, os.getpid()


def warm_up(ready=None) -> None:
    """Pool initializer: load fonts and parse the stylesheet before the first task, then
    wait (a little) for the other workers, so every worker takes work from the first chunk
    on instead of the first one warm taking it all."""
    renderer()
    if ready is not None:
        with suppress(threading.BrokenBarrierError):  # one never came: go on alone
            ready.wait(timeout=30)


# ---------------------------------------------------------------------------- with the app


def context_for(certificate, verify_url: str) -> dict:
    """Everything a template may print, as plain data: templates never see the database."""
    return {
        "id": certificate.id,
        "template": certificate.template,
        "serial": certificate.serial,
        "code": certificate.code,
        "verify_url": verify_url,
        "holder_name": certificate.holder_name,
        "achievement": certificate.achievement,
        "title": certificate.title,
        "achieved_on": certificate.achieved_on.isoformat(),
        "cpd_hours": str(certificate.cpd_hours),
        "details": dict(certificate.details or {}),
        "revoked": not certificate.is_live,
    }


def certificate_context(certificate) -> dict:
    """``context_for`` with the public verification address on ``BASE_URL``."""
    from lms.notifications.services import link

    return context_for(certificate, link("certificates.verify", code=certificate.code))


def certificate_html(certificate, *, standalone: bool = False) -> str:
    """The certificate's HTML as the app renders it (``standalone``: stylesheet inlined)."""
    return renderer().html(certificate_context(certificate), standalone=standalone)


def render_pdf(certificate) -> bytes:
    """Render a certificate's PDF through the app's path (always renders; see
    ``lms.certificates.pdfs.pdf_of`` for the stored copy)."""
    return render_context(certificate_context(certificate))


def bare_render(html: str) -> bytes:
    """A plain WeasyPrint call, for the benchmark's comparison: what a naive caller writes,
    with the same fonts reachable (a ``file:`` base URL and WeasyPrint's default fetcher; a
    fresh font configuration and cache for each call). Never for untrusted templates: the
    default fetcher opens any ``file:`` or ``http:`` address."""
    return weasyprint.HTML(string=html, base_url=BARE_BASE_URL).write_pdf()
