"""Fixtures for code that stores uploaded files: ``s3_server`` (moto's S3 emulator in server
mode on a free local port, for the session) and ``any_storage`` (each test runs twice: once on
the local disk, once on S3). tests/conftest.py loads them as a plugin for every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.postgres import free_port

S3_SETTINGS = {"S3_REGION": "eu-west-2", "S3_ACCESS_KEY": "testing", "S3_SECRET_KEY": "testing"}


class S3Emulator:
    """moto's S3 in server mode; ``stop()``/``start()`` make the object store go down and
    come back (a test of what people see when it fails)."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.running = False

    def start(self) -> None:
        if not self.running:
            self.server.start()
            self.running = True

    def stop(self) -> None:
        if self.running:
            self.server.stop()
            self.running = False


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Emulator]:
    emulator = S3Emulator()
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture(params=["local", "s3"])
def any_storage(request: pytest.FixtureRequest, app: Flask, tmp_path) -> Iterator[str]:
    """Point the session's app at a fresh store of each kind in turn (a new bucket or a new
    folder per test); yields ``"local"`` or ``"s3"``."""
    saved = {key: app.config.get(key) for key in
             ("STORAGE", "UPLOAD_DIR", "S3_BUCKET", "S3_ENDPOINT_URL", *S3_SETTINGS)}
    if request.param == "s3":
        import boto3

        emulator = request.getfixturevalue("s3_server")
        emulator.start()
        bucket = f"lms-{tmp_path.name.lower().replace('_', '-')[-40:]}".strip("-")
        boto3.client("s3", endpoint_url=emulator.url, region_name="eu-west-2",
                     aws_access_key_id="testing", aws_secret_access_key="testing"
                     ).create_bucket(Bucket=bucket, CreateBucketConfiguration={
                         "LocationConstraint": "eu-west-2"})
        app.config.update(STORAGE="s3", S3_BUCKET=bucket, S3_ENDPOINT_URL=emulator.url,
                          **S3_SETTINGS)
    else:
        app.config.update(STORAGE="local", UPLOAD_DIR=str(tmp_path / "uploads"))
    app.extensions.pop("lms_storage", None)
    try:
        yield request.param
    finally:
        app.config.update(saved)
        app.extensions.pop("lms_storage", None)
        if request.param == "s3":
            request.getfixturevalue("s3_server").start()


@pytest.fixture(scope="session", autouse=True)
def _uploads_in_a_temporary_folder(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Files the tests upload go to a folder of their own, never the checkout's instance/."""
    app.config["UPLOAD_DIR"] = str(tmp_path_factory.mktemp("uploads"))
    app.extensions.pop("lms_storage", None)
