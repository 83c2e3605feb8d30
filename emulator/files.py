"""Uploaded files: photos (one stored file per generated size) and documents, with the ids and
paths the Bot API hands out for them, so getFile and the file download route find them again.
"""

from __future__ import annotations

import secrets

from .core import Core
from .errors import bad_request
from .media import extension_for, guess_mime, image_size, photo_sizes
from .models import JSON, StoredFile


class Files:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.clear()

    def clear(self) -> None:
        self.files: dict[str, StoredFile] = {}
        self.photo_groups: dict[str, list[JSON]] = {}
        """Each photo size's file id → all the sizes of its photo (resending one sends them all)."""
        self.documents: dict[str, JSON] = {}
        """A document's file id → its Document object, for sending it again by file id."""

    def _new_file_ids(self, prefix: str) -> tuple[str, str]:
        number = self.core.next_id()
        return (
            f"{prefix}{number:06d}{secrets.token_urlsafe(24)}",
            f"AQAD{number:04d}{secrets.token_urlsafe(6)}",
        )

    def store_photo(self, data: bytes, *, source_url: str | None = None) -> list[JSON]:
        size = image_size(data)
        if size is None:
            if source_url is None:
                raise bad_request("IMAGE_PROCESS_FAILED")
            size = (800, 600)
        width, height = size
        sizes: list[JSON] = []
        number = self.core.next_id()
        for w, h in photo_sizes(width, height):
            file_id, unique_id = self._new_file_ids("AgACAgIAAxkBAAI")
            scale = (w * h) / max(width * height, 1)
            stored = StoredFile(
                file_id=file_id,
                file_unique_id=unique_id,
                data=data,
                file_path=f"photos/file_{number}_{w}x{h}.jpg",
                kind="photo",
                mime_type="image/jpeg",
                width=w,
                height=h,
            )
            self.files[file_id] = stored
            sizes.append(
                {
                    "file_id": file_id,
                    "file_unique_id": unique_id,
                    "file_size": max(1, int(len(data) * scale)) if data else 0,
                    "width": w,
                    "height": h,
                }
            )
        if data:
            sizes[-1]["file_size"] = len(data)
        for entry in sizes:
            self.photo_groups[entry["file_id"]] = sizes
        return sizes

    def store_document(self, data: bytes, file_name: str | None, mime_type: str | None = None) -> JSON:
        mime = guess_mime(file_name, mime_type)
        file_id, unique_id = self._new_file_ids("BQACAgIAAxkBAAI")
        number = self.core.next_id()
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=unique_id,
            data=data,
            file_path=f"documents/file_{number}.{extension_for(mime, file_name)}",
            kind="document",
            file_name=file_name,
            mime_type=mime,
        )
        self.files[file_id] = stored
        document: JSON = {"file_id": file_id, "file_unique_id": unique_id}
        if file_name:
            document["file_name"] = file_name
        document["mime_type"] = mime
        document["file_size"] = len(data)
        self.documents[file_id] = document
        return document

    def file_by_path(self, path: str) -> StoredFile | None:
        return next((f for f in self.files.values() if f.file_path == path), None)
