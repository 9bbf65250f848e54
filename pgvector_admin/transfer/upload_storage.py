"""django-import-export's temporary storage, kept in the package's uploads folder
(``pgvector_admin.transfer.uploads``): needs the ``imports`` extra."""

from __future__ import annotations

from import_export.tmp_storages import BaseStorage

from pgvector_admin.transfer.uploads import remove_upload, save_upload, upload_path


class UploadStorage(BaseStorage):  # type: ignore[misc]
    """django-import-export's temporary storage (its own formats' path, JSON), in the
    uploads folder: ``name`` is an upload token, never a path."""

    def save(self, data: bytes | str) -> None:
        raw = data.encode(self.encoding or "utf-8") if isinstance(data, str) else data
        self.name = save_upload([raw], size=len(raw))

    def read(self) -> bytes | str:
        raw = upload_path(self.name or "").read_bytes()
        return raw if "b" in self.read_mode else raw.decode(self.encoding or "utf-8")

    def remove(self) -> None:
        remove_upload(self.name or "")
