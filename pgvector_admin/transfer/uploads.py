"""Uploaded import files, kept on disk between the preview and the confirm step, and
exports written by the task queue's worker, kept until they are downloaded.

Files are written chunk by chunk (never whole in memory), named by a random hex
token, and removed after the confirm, after a failed preview, or when a day old. An
upload over the size limit is dropped while it arrives (SizeLimitUploadHandler).

Nothing here trusts the client: the confirm form carries a *ticket* (``ticket_for``),
the token signed together with the user who uploaded it and the model it is for;
``claim`` gives the token back only to that user, for that model, within a day. The
folder is the app's own (``PGVECTOR_ADMIN["IMPORT_DIR"]``), created mode 0700 and refused when
another user owns it; its files are mode 0600.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest
from django.utils.translation import gettext as _

from pgvector_admin.conf import app_settings
from pgvector_admin.numbers import grouped

_TOKEN = re.compile(r"[0-9a-f]{32}")


class UploadTooLarge(ValueError):
    """The upload is over the configured size limit."""


class SizeLimitUploadHandler(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS: stops keeping an uploaded file as soon as it passes
    the IMPORT_MAX_BYTES setting, so an oversized upload is never stored whole, in memory
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


_REFUSED = "pgvector_admin.upload_refused"


def upload_refused(request: HttpRequest) -> str | None:
    """Why an upload of this request was dropped for its size, if it was."""
    return request.META.get(_REFUSED)


class UploadFolderError(ImproperlyConfigured):
    """The uploads folder cannot be used safely."""


def upload_dir() -> Path:
    """The folder uploads wait in: ``PGVECTOR_ADMIN["IMPORT_DIR"]``, else ``vector-imports``
    in ``MEDIA_ROOT``, else (a new site sets neither) ``pgvector-admin-<uid>`` in the
    system's temporary folder, which serves a web server and a task worker on one
    machine. Created mode 0700; refused when it belongs to another user (anyone who
    owns it could read or swap the files)."""
    configured = app_settings.IMPORT_DIR
    media = getattr(settings, "MEDIA_ROOT", None)
    if configured:
        folder = Path(configured)
    elif media:
        folder = Path(str(media)) / "vector-imports"
    else:
        folder = Path(tempfile.gettempdir()) / f"pgvector-admin-{os.geteuid()}"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.stat()
    if info.st_uid != os.geteuid():
        raise UploadFolderError(
            f"The uploads folder {folder} belongs to another user (uid {info.st_uid}); "
            "set PGVECTOR_ADMIN['IMPORT_DIR'] to a folder of this app's own."
        )
    if info.st_mode & 0o077:
        folder.chmod(0o700)
    return folder


def max_upload_bytes() -> int:
    return int(app_settings.IMPORT_MAX_BYTES)


def preview_max_bytes() -> int:
    """The largest upload previewed in the request itself; a bigger one is checked by
    the task queue's worker (a preview validates about 2 MB of 3-d rows a second)."""
    return int(app_settings.IMPORT_PREVIEW_MAX_BYTES)


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
        with _create(path) as out:
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
    _create(path).close()
    return token, path


def _create(path: Path) -> Any:
    """A new file, readable and writable by this user only (never an existing one)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def upload_path(token: str) -> Path:
    """The file behind a token from the confirm form; ValueError for anything else."""
    if not _TOKEN.fullmatch(token or ""):
        raise ValueError(_("not an upload token"))
    path = upload_dir() / token
    if not path.exists() or path.is_dir():
        raise FileNotFoundError(_("The uploaded file is gone: upload it again."))
    return path


_TICKET_SALT = "vector-import-upload"


def ticket_for(token: str, *, user: Any, model: Any) -> str:
    """What the confirm form carries for the upload ``token``: signed, and bound to the
    user who uploaded it and the model it is for."""
    return signing.dumps(
        {"token": token, "user": user.pk, "model": model._meta.label}, salt=_TICKET_SALT
    )


class BadTicket(ValueError):
    """A confirm form's upload ticket that is not this user's, for this model."""


def claim(ticket: str, *, user: Any, model: Any) -> str:
    """The upload token of ``ticket``, if ``user`` made it for ``model`` within a day;
    ``BadTicket`` otherwise. The file may still be gone (``upload_path`` says so)."""
    try:
        data = signing.loads(ticket or "", salt=_TICKET_SALT, max_age=app_settings.UPLOAD_MAX_AGE)
    except signing.BadSignature as error:
        raise BadTicket(
            _("the upload is not one of yours, or it is more than a day old")
        ) from error
    if not isinstance(data, dict) or data.get("user") != user.pk:
        raise BadTicket(_("the upload is not one of yours"))
    if data.get("model") != model._meta.label or not _TOKEN.fullmatch(str(data.get("token"))):
        raise BadTicket(_("the upload is not for this table"))
    return str(data["token"])


def remove_upload(token: str) -> None:
    if _TOKEN.fullmatch(token or ""):
        (upload_dir() / token).unlink(missing_ok=True)


def sweep(*, now: float | None = None) -> None:
    """Remove uploads nobody confirmed within a day."""
    now = time.time() if now is None else now
    for path in upload_dir().iterdir():
        if not _TOKEN.fullmatch(path.name):
            continue
        try:
            modified = path.stat().st_mtime
        except FileNotFoundError:
            # Another process (a confirm, or its own sweep) removed it since it was listed.
            continue
        if now - modified > app_settings.UPLOAD_MAX_AGE:
            path.unlink(missing_ok=True)


def _too_large(size: int, limit: int) -> str:
    return _(
        "The file is larger than the import limit (%(size)s MB > %(limit)s MB, %(setting)s). "
        "Use `manage.py import_vectors FILE` for big files."
    ) % {
        "size": grouped(size / 1e6, 1),
        "limit": grouped(limit / 1e6, 1),
        "setting": "PGVECTOR_ADMIN['IMPORT_MAX_BYTES']",
    }
