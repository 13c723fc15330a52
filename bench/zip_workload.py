"""The marking page's "download every submission": 30 submissions of 10 MB zipped and sent
piece by piece (``lms.learning.assignments_pages.stream_zip``), its peak memory traced.

The files are real, in the app's own store (the local disk, in a folder of the benchmark's),
and the zip is read to the end as a browser would, then checked."""

from __future__ import annotations

import os
import shutil
import time
import tracemalloc
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from flask import Flask

PEOPLE = 30
FILE_MB = 10


@dataclass
class ZipResult:
    files: int
    file_mb: int
    zip_mb: float
    seconds: float
    peak_mb: float
    intact: bool

    def as_dict(self) -> dict:
        return asdict(self)


def submissions_zip(app: Flask, folder: Path, people: int = PEOPLE,
                    file_mb: int = FILE_MB) -> ZipResult:
    from lms.learning.assignments_pages import stream_zip
    from lms.learning.storage import storage

    uploads = folder / "zip-uploads"
    shutil.rmtree(uploads, ignore_errors=True)
    app.config["UPLOAD_DIR"] = str(uploads)
    app.extensions.pop("lms_storage", None)
    target = folder / "all-submissions.zip"
    with app.test_request_context():
        store = storage()
        entries = []
        for number in range(people):
            key = f"bench/submission-{number}"
            source = folder / "one-submission.pdf"
            with open(source, "wb") as out:  # incompressible, as scans and images are
                out.write(b"%PDF-1.7\n" + os.urandom(file_mb * 2**20))
            with open(source, "rb") as stream:
                store.put(key, stream, "application/pdf")
            entries.append((f"{number} Learner {number}/work.pdf", key, None))
            entries.append((f"{number} Learner {number}/answer.txt", None,
                            f"The notes of learner {number}".encode()))
        tracemalloc.start()
        started = time.perf_counter()
        try:
            with open(target, "wb") as out:
                for piece in stream_zip(entries):
                    out.write(piece)
            seconds = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    with zipfile.ZipFile(target) as archive:
        intact = (archive.testzip() is None
                  and len([n for n in archive.namelist() if n.endswith("work.pdf")]) == people)
    result = ZipResult(files=people, file_mb=file_mb,
                       zip_mb=round(target.stat().st_size / 2**20, 1),
                       seconds=round(seconds, 2), peak_mb=round(peak / 2**20, 2), intact=intact)
    shutil.rmtree(uploads, ignore_errors=True)
    target.unlink(missing_ok=True)
    (folder / "one-submission.pdf").unlink(missing_ok=True)
    app.extensions.pop("lms_storage", None)
    return result
