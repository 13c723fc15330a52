"""The outbox: written with the change that causes it, delivered once, retried with backoff."""

from __future__ import annotations

import socket
import threading
import time
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
import time_machine
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from lms.clock import utcnow
from lms.extensions import db
from lms.notifications import backends
from lms.notifications.delivery import deliver_outbox
from lms.notifications.models import OutboxMessage, OutboxStatus
from lms.notifications.services import queue_email, sent_messages


def queue(n: int = 1, to: str = "someone@example.nhs.uk") -> None:
    for i in range(n):
        queue_email(to, f"Test {i}", "accounts/password_changed", user={"full_name": "Sam"})


def rows() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_an_email_leaves_only_if_its_transaction_commits(ctx):
    queue()
    db.session.rollback()
    assert rows() == []
    queue()
    db.session.commit()
    assert deliver_outbox().sent == 1
    [message] = sent_messages()
    assert message["To"] == "someone@example.nhs.uk"
    assert "Dear Sam" in message.get_body(("plain",)).get_content()


def test_delivery_sends_each_row_once(ctx):
    queue(3)
    db.session.commit()
    assert deliver_outbox().sent == 3
    assert deliver_outbox().sent == 0
    assert len(sent_messages()) == 3
    assert {r.status for r in rows()} == {OutboxStatus.SENT}


class FlakyBackend:
    """Fails the first ``failures`` sends."""

    def __init__(self, failures: int):
        self.failures = failures
        self.sent: list = []

    def send(self, message, row_id):
        if self.failures:
            self.failures -= 1
            raise ConnectionRefusedError("SMTP server down")
        self.sent.append(message)


def test_failures_are_retried_with_growing_waits(ctx, monkeypatch):
    backend = FlakyBackend(failures=2)
    monkeypatch.setattr("lms.notifications.delivery.get_backend", lambda: backend)
    queue()
    db.session.commit()
    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        report = deliver_outbox()
        assert (report.sent, report.retried) == (0, 1)
        [row] = rows()
        assert row.next_attempt_at == start + timedelta(minutes=1)
        assert "SMTP server down" in row.last_error
        assert deliver_outbox().retried == 0  # not due yet
        clock.shift(timedelta(minutes=1, seconds=1))
        assert deliver_outbox().retried == 1
        db.session.expire_all()
        assert rows()[0].next_attempt_at == utcnow() + timedelta(minutes=2)
        clock.shift(timedelta(minutes=2, seconds=1))
        assert deliver_outbox().sent == 1
    db.session.expire_all()
    [row] = rows()
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    assert len(backend.sent) == 1


def test_a_row_that_keeps_failing_is_given_up(ctx, monkeypatch, app):
    monkeypatch.setattr("lms.notifications.delivery.get_backend", lambda: FlakyBackend(99))
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 3)
    queue()
    db.session.commit()
    moment = utcnow()
    for _ in range(3):
        with time_machine.travel(moment):
            deliver_outbox()
        moment += timedelta(hours=2)
    db.session.expire_all()
    assert rows()[0].status == OutboxStatus.FAILED
    with time_machine.travel(moment):
        assert deliver_outbox().retried == 0


def test_a_row_claimed_by_a_crashed_sender_is_sent_after_its_lease(ctx):
    queue()
    db.session.commit()
    row = rows()[0]
    row.status, row.claimed_until = OutboxStatus.SENDING, utcnow() + timedelta(minutes=5)
    db.session.commit()
    assert deliver_outbox().sent == 0
    with time_machine.travel(utcnow() + timedelta(minutes=6)):
        assert deliver_outbox().sent == 1


def test_two_senders_at_once_send_every_row_exactly_once(app, monkeypatch):
    """Two scheduler processes by mistake: the conditional claim stops double sending."""
    with app.app_context():
        queue(60)
        db.session.commit()
    sent_ids: list[str] = []
    lock = threading.Lock()

    class Recording:
        def send(self, message, row_id):
            with lock:
                sent_ids.append(message["Message-ID"])

    monkeypatch.setattr("lms.notifications.delivery.get_backend", Recording)

    def worker():
        with app.app_context():
            deliver_outbox()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sent_ids) == 60
    assert len(set(sent_ids)) == 60
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(
            OutboxMessage.status == OutboxStatus.SENT)) == 60


def test_file_backend_writes_one_eml_per_row(ctx, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "file")
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_DIR", str(tmp_path))
    queue(2)
    db.session.commit()
    deliver_outbox()
    files = sorted(tmp_path.glob("*.eml"))
    assert len(files) == 2
    parsed = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert parsed["Subject"] == "Test 0"


class Sink:
    """A real SMTP server on loopback that keeps what it receives."""

    def __init__(self):
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp_sink():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def test_smtp_backend_delivers_to_a_real_server(ctx, app, monkeypatch, smtp_sink):
    sink, port = smtp_sink
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", port)
    queue(2, to="inbox@example.nhs.uk")
    db.session.commit()
    assert deliver_outbox().sent == 2
    assert deliver_outbox().sent == 0
    assert len(sink.messages) == 2
    received = message_from_bytes(sink.messages[0], policy=policy.default)
    assert received["To"] == "inbox@example.nhs.uk"
    assert received["Message-ID"] == rows()[0].message_id


def test_smtp_server_down_means_retry_not_loss(ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", 9)  # discard port: nothing listens
    monkeypatch.setitem(app.config, "SMTP_TIMEOUT", 2)
    queue()
    db.session.commit()
    assert deliver_outbox().retried == 1
    assert rows()[0].status == OutboxStatus.PENDING


def test_unknown_backend_is_a_clear_error(ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "pigeon")
    with pytest.raises(RuntimeError, match="MAIL_BACKEND='pigeon'"):
        backends.get_backend()


class SlowSink(Sink):
    """An SMTP server that takes ``seconds`` to accept each message."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds
        self.receiving = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        import asyncio

        self.receiving.set()
        await asyncio.sleep(self.seconds)
        return await super().handle_DATA(server, session, envelope)


def test_the_claim_is_renewed_while_a_slow_server_is_still_accepting(app, monkeypatch):
    """A one-second lease and a server that takes three: the sender renews its claim, so a
    second sender finds nothing to take and the email goes once."""
    sink = SlowSink(3)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    for name, value in {"MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port,
                        "OUTBOX_LEASE_SECONDS": 1}.items():
        monkeypatch.setitem(app.config, name, value)
    try:
        with app.app_context():
            queue(1, to="slow@example.nhs.uk")
            db.session.commit()
        reports = []

        def first_sender():
            with app.app_context():
                reports.append(deliver_outbox())

        sender = threading.Thread(target=first_sender)
        sender.start()
        assert sink.receiving.wait(10)
        time.sleep(2)  # twice the lease: renewed, not lapsed
        with app.app_context():
            [row] = rows()
            assert row.status == OutboxStatus.SENDING
            assert row.claimed_until > utcnow()
            assert deliver_outbox().sent == 0, "the second sender took a row still being sent"
            db.session.rollback()
        sender.join(15)
        assert reports[0].sent == 1
        assert len(sink.messages) == 1
    finally:
        controller.stop()


def test_a_sender_asked_to_stop_finishes_its_message_and_claims_no_more(app, monkeypatch):
    from lms.notifications.delivery import stopping

    sent = []

    class StopAfterFirst:
        def send(self, message, row_id):
            sent.append(message["Message-ID"])
            stopping(app).set()  # SIGTERM arrives while the first message is going

    monkeypatch.setattr("lms.notifications.delivery.get_backend", StopAfterFirst)
    try:
        with app.app_context():
            queue(3)
            db.session.commit()
            assert deliver_outbox().sent == 1
            assert [r.status for r in rows()] == ["sent", "pending", "pending"]
            assert [r.claimed_until for r in rows()] == [None, None, None]
            db.session.rollback()
    finally:
        stopping(app).clear()


@pytest.fixture
def tls_sink(tmp_path):
    """An SMTP server on loopback that requires STARTTLS, with a certificate of its own for
    "localhost" (made by openssl), and the file a client must trust to accept it."""
    import shutil
    import ssl
    import subprocess

    openssl = shutil.which("openssl")
    assert openssl, "openssl is needed to make the test server's certificate"
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port, tls_context=context,
                            require_starttls=True)
    controller.start()
    try:
        yield sink, port, cert
    finally:
        controller.stop()


def test_starttls_sends_to_a_relay_whose_certificate_checks_out(ctx, app, monkeypatch,
                                                                 tls_sink):
    """NHSmail's relay requires STARTTLS: with LMS_SMTP_STARTTLS=1 the email goes over TLS to
    a relay whose certificate is trusted, and is held back (retried) from one that is not."""
    sink, port, cert = tls_sink
    for name, value in {"MAIL_BACKEND": "smtp", "SMTP_HOST": "localhost", "SMTP_PORT": port,
                        "SMTP_STARTTLS": True, "SMTP_TIMEOUT": 5}.items():
        monkeypatch.setitem(app.config, name, value)
    queue(1, to="tls@example.nhs.uk")
    db.session.commit()
    refused = deliver_outbox()
    assert refused.retried == 1 and sink.messages == [], "an unknown certificate is refused"
    assert "CERTIFICATE_VERIFY_FAILED" in rows()[0].last_error

    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # now the system trusts it
    with time_machine.travel(utcnow() + timedelta(minutes=2)):
        assert deliver_outbox().sent == 1
    assert len(sink.messages) == 1
    assert message_from_bytes(sink.messages[0], policy=policy.default)["To"] == \
        "tls@example.nhs.uk"


# ---------------------------------------------------------------------------- many at once


@pytest.fixture
def with_html_email(app):
    """An email with an HTML part too (none of the app's emails has one yet): the text part
    is a real template's, the HTML one exists only for this test."""
    from jinja2 import ChoiceLoader, DictLoader

    before = app.jinja_env.loader
    app.jinja_env.loader = ChoiceLoader([DictLoader({
        "email/tests/with_html.txt": "Dear {{ person.full_name }}, {{ base_url }}/{{ n }}",
        "email/tests/with_html.html": "<h1>{{ subject }}</h1><p>{{ person.full_name }}</p>",
    }), before])
    app.jinja_env.cache.clear()
    yield "tests/with_html"
    app.jinja_env.loader = before
    app.jinja_env.cache.clear()


def _row_values(row: OutboxMessage) -> tuple:
    return (row.to_address, row.subject, row.body_text, row.body_html, row.status,
            row.attempts, row.secrets_to_remove, row.created_at, row.next_attempt_at)


def test_queue_emails_writes_the_rows_queue_email_would_in_order(ctx, make_user,
                                                                with_html_email):
    """``queue_emails`` (the reminder sweep's batches) is ``queue_email`` for many: the same
    rows in the order given, with the HTML part when there is one, none for people who
    switched that kind off, and emails that are not optional to everyone."""
    from lms.notifications.preferences import EmailKind, choose
    from lms.notifications.services import Email, queue_emails

    keen, quiet = make_user(), make_user()
    choose(quiet, [EmailKind.FEEDBACK_REMINDERS, EmailKind.FACULTY_MESSAGES])
    reminder = EmailKind.SESSION_REMINDERS
    emails = [
        Email(keen.email, "To keen", with_html_email, {"person": keen, "n": 1}, reminder),
        Email(quiet.email, "Not to quiet", with_html_email, {"person": quiet, "n": 2},
              reminder),
        Email(quiet.email, "Always sent", "accounts/password_changed", {"user": quiet}),
        Email(quiet.email, "Quiet still wants these", with_html_email,
              {"person": quiet, "n": 3}, EmailKind.FEEDBACK_REMINDERS),
        Email(keen.email, "Second to keen", "accounts/password_changed", {"user": keen}),
    ]
    with time_machine.travel(utcnow(), tick=False):
        assert queue_emails(emails) == [emails[0], *emails[2:]]
        db.session.flush()
        batch = rows()
        for email in emails:
            queue_email(email.to, email.subject, email.template, optional=email.optional,
                        flush=False, **email.context)
        db.session.flush()
        one_by_one = rows()[len(batch):]
    assert [r.subject for r in batch] == [
        "To keen", "Always sent", "Quiet still wants these", "Second to keen"]
    assert [_row_values(r) for r in batch] == [_row_values(r) for r in one_by_one]
    assert batch[0].body_text == f"Dear {keen.full_name}, {ctx.config['BASE_URL']}/1"
    assert batch[0].body_html == f"<h1>To keen</h1><p>{keen.full_name}</p>"
    assert batch[1].body_html is None
    assert len({r.message_id for r in batch + one_by_one}) == 8
    assert queue_emails([]) == []


def test_an_optional_email_in_a_batch_must_name_its_person(ctx):
    from lms.notifications.preferences import EmailKind
    from lms.notifications.services import Email, queue_emails

    with pytest.raises(TypeError, match="person="):
        queue_emails([Email("x@example.nhs.uk", "No one", "accounts/password_changed",
                            {"user": {"full_name": "X"}}, EmailKind.SESSION_REMINDERS)])
    assert rows() == []
