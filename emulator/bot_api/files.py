"""Files: what a send's file field names (a new upload, a URL or a stored file_id), ``getFile``
and the download of a stored file, within Telegram's size limits."""

from __future__ import annotations

from aiohttp import web

from ..errors import ApiError, bad_request
from ..models import JSON
from ..params import Upload
from .call import STATE_KEY, Call, check_token, error_reply, method

MAX_UPLOAD = 50 * 1024 * 1024
MAX_DOWNLOAD = 20 * 1024 * 1024

StoredFile = list[JSON] | JSON
"""A photo's sizes or a document, as stored by an earlier send."""


def resolve_upload(call: Call, field: str, kind: str) -> tuple[Upload | None, str | None, StoredFile | None]:
    """Returns (new upload, URL, or an already stored photo list / document for a file_id)."""
    value = call.params.input_file(field)
    if value is None:
        raise bad_request(f"there is no {kind} in the request")
    if isinstance(value, Upload):
        if len(value.data) > MAX_UPLOAD:
            raise ApiError(413, "Request Entity Too Large")
        return value, None, None
    if value.startswith(("http://", "https://")):
        return None, value, None
    state = call.state
    if value in state.photo_groups:
        if kind != "photo":
            raise bad_request("can't use file of type Photo as Document")
        return None, None, state.photo_groups[value]
    if value in state.documents:
        if kind != "document":
            raise bad_request("can't use file of type Document as Photo")
        return None, None, state.documents[value]
    raise bad_request("wrong file identifier/HTTP URL specified")


@method("getFile")
async def get_file(call: Call) -> JSON:
    file_id = call.params.get_str("file_id") or ""
    stored = call.state.files.get(file_id)
    if stored is None:
        raise bad_request("invalid file_id")
    if stored.size > MAX_DOWNLOAD:
        raise bad_request("file is too big")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
        "file_path": stored.file_path,
    }


async def handle_file(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    token_error = check_token(state, request.match_info["token"])
    if token_error is not None:
        return error_reply(state, token_error)
    stored = state.file_by_path(request.match_info["path"])
    if stored is None:
        return error_reply(state, ApiError(404, "Not Found"))
    return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")
