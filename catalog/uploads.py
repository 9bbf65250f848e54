"""Uploaded import files, kept on disk between the preview and the confirm step, and
exports written by the task queue's worker, kept until they are downloaded.

Files are written chunk by chunk (never whole in memory), named by a random hex
token that the confirm form carries back, and removed after the confirm, after a
failed preview, or when a day old. An upload over the size limit is dropped while it
arrives (SizeLimitUploadHandler).
"""

from __future__ import annotations

import re
import secrets
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest

_TOKEN = re.compile(r"[0-9a-f]{32}")
MAX_AGE_SECONDS = 24 * 3600


class UploadTooLarge(ValueError):
    """The upload is over the configured size limit."""


class SizeLimitUploadHandler(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS: stops keeping an uploaded file as soon as it passes
    VECTOR_IMPORT_MAX_BYTES, so an oversized upload is never stored whole, in memory
    or on disk. The rest of the request is drained unread; the view then sees the file
    missing and ``upload_refused(request)`` says why."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > max_upload_bytes():
            self.request.META[_REFUSED] = _too_large(self.received, max_upload_bytes())
            raise SkipFile()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


_REFUSED = "vector_catalog.upload_refused"


def upload_refused(request: HttpRequest) -> str | None:
    """Why an upload of this request was dropped for its size, if it was."""
    return request.META.get(_REFUSED)


def upload_dir() -> Path:
    folder = Path(
        getattr(settings, "VECTOR_IMPORT_DIR", None)
        or Path(tempfile.gettempdir()) / "vector-catalog-imports"
    )
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def max_upload_bytes() -> int:
    return int(getattr(settings, "VECTOR_IMPORT_MAX_BYTES", 2 * 1024**3))


def preview_max_bytes() -> int:
    """The largest upload previewed in the request itself; a bigger one is checked by
    the task queue's worker (a preview validates about 2 MB of 3-d rows a second)."""
    return int(getattr(settings, "VECTOR_IMPORT_PREVIEW_MAX_BYTES", 10 * 1024 * 1024))


def save_upload(chunks: Iterable[bytes], *, size: int | None = None) -> str:
    """Write the upload's chunks to a new file; return its token. Refuses (and keeps
    nothing of) an upload over the size limit, reading no further than the limit."""
    limit = max_upload_bytes()
    if size is not None and size > limit:
        raise UploadTooLarge(_too_large(size, limit))
    sweep()
    token = secrets.token_hex(16)
    path = upload_dir() / token
    written = 0
    try:
        with open(path, "xb") as out:
            for chunk in chunks:
                written += len(chunk)
                if written > limit:
                    raise UploadTooLarge(_too_large(written, limit))
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return token


def new_file() -> tuple[str, Path]:
    """A new empty file in the same folder (an export being written), and its token;
    swept away after a day like the uploads."""
    sweep()
    token = secrets.token_hex(16)
    path = upload_dir() / token
    path.touch(mode=0o600, exist_ok=False)
    return token, path


def upload_path(token: str) -> Path:
    """The file behind a token from the confirm form; ValueError for anything else."""
    if not _TOKEN.fullmatch(token or ""):
        raise ValueError("not an upload token")
    path = upload_dir() / token
    if not path.exists() or path.is_dir():
        raise FileNotFoundError("The uploaded file is gone: upload it again.")
    return path


def remove_upload(token: str) -> None:
    if _TOKEN.fullmatch(token or ""):
        (upload_dir() / token).unlink(missing_ok=True)


def sweep(*, now: float | None = None) -> None:
    """Remove uploads nobody confirmed within a day."""
    now = time.time() if now is None else now
    for path in upload_dir().iterdir():
        if _TOKEN.fullmatch(path.name) and now - path.stat().st_mtime > MAX_AGE_SECONDS:
            path.unlink(missing_ok=True)


def _too_large(size: int, limit: int) -> str:
    return (
        f"The file is larger than the import limit ({size / 1e6:,.1f} MB > {limit / 1e6:,.1f} MB, "
        "VECTOR_IMPORT_MAX_BYTES). Use `manage.py import_vectors FILE` for big files."
    )
