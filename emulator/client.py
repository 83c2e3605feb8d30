"""``EmulatorClient``: an async client for the emulator's control API, for tests and tools."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncGenerator, Callable, Iterable
from types import TracebackType
from typing import Any

import aiohttp

JSON = dict[str, Any]
MessagePredicate = Callable[[JSON], bool]


class EmulatorError(Exception):
    """The control API refused a request."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class EmulatorClient:
    """Drives an emulator over HTTP: ``async with EmulatorClient(server.base_url) as emu: ...``."""

    def __init__(self, base_url: str, *, session: aiohttp.ClientSession | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> EmulatorClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None if self._own_session else self._session

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._own_session = True
        return self._session

    async def _request(
        self,
        method: str,
        path: str,
        body: JSON | None = None,
        params: dict[str, Any] | None = None,
        request_timeout: float = 30.0,
    ) -> Any:
        query = {
            k: str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in (params or {}).items()
            if v is not None
        }
        async with self._http().request(
            method,
            f"{self.base_url}/_emu{path}",
            json=body,
            params=query,
            timeout=aiohttp.ClientTimeout(total=request_timeout),
        ) as response:
            if response.content_type != "application/json":
                if response.status >= 400:
                    raise EmulatorError(response.status, await response.text())
                return await response.read()
            data = await response.json()
            if response.status >= 400:
                message = data.get("error") if isinstance(data, dict) else None
                raise EmulatorError(response.status, str(message or data))
            return data

    # ------------------------------------------------------------------ service

    async def health(self) -> JSON:
        return await self._request("GET", "/health")

    async def get_config(self) -> JSON:
        return await self._request("GET", "/config")

    async def set_config(self, **settings: Any) -> JSON:
        """E.g. ``set_config(privacy_mode=False, rate_limits={"group_window": 2.0})``.

        As in Telegram, a new ``privacy_mode`` applies to the groups the bot joins afterwards:
        remove the bot from a group and add it again for the group to get it."""
        return await self._request("PATCH", "/config", settings)

    async def set_rate_limits(self, **limits: Any) -> JSON:
        return await self.set_config(rate_limits=limits)

    async def reset(self) -> JSON:
        return await self._request("POST", "/reset")

    async def bot_info(self) -> JSON:
        return await self._request("GET", "/bot")

    # ------------------------------------------------------------------ users and chats

    async def create_user(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        is_premium: bool | None = None,
        started: bool | None = None,
    ) -> JSON:
        """Create or update a user (their private chat with the bot has id ``user_id``)."""
        body = {
            "id": user_id,
            "first_name": first_name,
            "last_name": last_name,
            "username": username,
            "language_code": language_code,
            "is_premium": is_premium,
            "started": started,
        }
        return await self._request("POST", "/users", _compact(body))

    async def update_user(self, user_id: int, **fields: Any) -> JSON:
        return await self._request("POST", "/users", _compact({"id": user_id, **fields}))

    async def get_user(self, user_id: int) -> JSON:
        return await self._request("GET", f"/users/{user_id}")

    async def users(self) -> list[JSON]:
        return (await self._request("GET", "/users"))["users"]

    async def block_bot(self, user_id: int, blocked: bool = True) -> JSON:
        """The user blocks the bot (sends to them then fail with 403)."""
        return await self._request("POST", f"/users/{user_id}/block", {"blocked": blocked})

    async def unblock_bot(self, user_id: int) -> JSON:
        return await self.block_bot(user_id, False)

    async def deactivate_user(self, user_id: int, deactivated: bool = True) -> JSON:
        return await self._request("POST", f"/users/{user_id}/deactivate", {"deactivated": deactivated})

    async def create_group(
        self,
        chat_id: int,
        title: str,
        members: Iterable[int] = (),
        *,
        chat_type: str = "group",
        username: str | None = None,
        admins: Iterable[int] = (),
        owner_id: int | None = None,
        bot_status: str = "member",
        announce: bool = False,
    ) -> JSON:
        """Create a group (negative id) with the bot in it; ``chat_type`` may be "supergroup"."""
        body = {
            "id": chat_id,
            "title": title,
            "type": chat_type,
            "username": username,
            "members": list(members),
            "admins": list(admins),
            "owner_id": owner_id,
            "bot_status": bot_status,
            "announce": announce,
        }
        return await self._request("POST", "/chats", _compact(body))

    async def get_chat(self, chat_id: int) -> JSON:
        return await self._request("GET", f"/chats/{chat_id}")

    async def chats(self) -> list[JSON]:
        return (await self._request("GET", "/chats"))["chats"]

    async def set_bot_status(self, chat_id: int, status: str, *, by_user_id: int | None = None) -> JSON:
        body = _compact({"status": status, "by_user_id": by_user_id})
        return await self._request("POST", f"/chats/{chat_id}/bot", body)

    async def add_bot_to_group(self, chat_id: int, *, admin: bool = False) -> JSON:
        return await self.set_bot_status(chat_id, "administrator" if admin else "member")

    async def remove_bot_from_group(self, chat_id: int, *, kicked: bool = True) -> JSON:
        return await self.set_bot_status(chat_id, "kicked" if kicked else "left")

    async def add_member(self, chat_id: int, user_id: int, status: str = "member") -> JSON:
        return await self._request(
            "POST", f"/chats/{chat_id}/members", {"user_id": user_id, "status": status}
        )

    async def remove_member(self, chat_id: int, user_id: int) -> JSON:
        return await self._request("DELETE", f"/chats/{chat_id}/members/{user_id}")

    # ------------------------------------------------------------------ acting as users

    async def send_message(
        self,
        user_id: int,
        text: str | None = None,
        *,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
        entities: list[JSON] | None = None,
        photo: bytes | None = None,
        caption: str | None = None,
        document: bytes | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> JSON:
        """A user writes to the bot (``chat_id`` defaults to the private chat).

        Returns ``message_id``, ``update_id`` (None when group privacy hid it), ``delivered``
        and the stored ``message``.
        """
        body = {
            "user_id": user_id,
            "text": text,
            "entities": entities,
            "reply_to_message_id": reply_to_message_id,
            "photo": _b64(photo),
            "caption": caption,
            "document": _b64(document),
            "file_name": file_name,
            "mime_type": mime_type,
        }
        target = user_id if chat_id is None else chat_id
        return await self._request("POST", f"/chats/{target}/messages", _compact(body))

    async def edit_user_message(self, chat_id: int, message_id: int, text: str) -> JSON:
        return await self._request("POST", f"/chats/{chat_id}/messages/{message_id}/edit", {"text": text})

    async def click_button(
        self, user_id: int, chat_id: int, message_id: int, data: str, *, forge: bool = False
    ) -> JSON:
        """Press the button with ``callback_data == data`` (``forge`` allows arbitrary data)."""
        body = {
            "user_id": user_id,
            "chat_id": chat_id,
            "message_id": message_id,
            "data": data,
            "forge": forge,
        }
        return await self._request("POST", "/callbacks", body)

    async def click_button_by_text(
        self, user_id: int, chat_id: int, text: str, *, exact: bool = False
    ) -> JSON:
        """Press the newest button whose label contains ``text`` (a reply-keyboard button is
        sent as the user's message). Raises EmulatorError(404) when there is none."""
        body = {"user_id": user_id, "chat_id": chat_id, "text": text, "exact": exact}
        return await self._request("POST", "/callbacks", body)

    async def press_button(
        self,
        user_id: int,
        chat_id: int,
        text: str,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
        exact: bool = False,
    ) -> JSON:
        """Wait until a button labelled ``text`` (substring) exists in the chat, then press it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seq = 0
        while True:
            try:
                return await self.click_button_by_text(user_id, chat_id, text, exact=exact)
            except EmulatorError as error:
                if error.status != 404 or "no button" not in error.message:
                    raise
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no button matching {text!r} in chat {chat_id} after {timeout}s")
            page = await self.history(chat_id, since=seq, wait=remaining, sender="bot")
            seq = page["seq"]

    async def callback_answer(self, callback_query_id: str, *, wait: float | None = None) -> JSON:
        """The bot's answer to a query (``answered``, ``text``, ``show_alert``...)."""
        return await self._request(
            "GET", f"/callbacks/{callback_query_id}", params={"wait": wait}, request_timeout=_t(wait)
        )

    async def wait_for_callback_answer(
        self,
        callback_query_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> JSON:
        answer = await self.callback_answer(callback_query_id, wait=timeout)
        if not answer["answered"]:
            raise TimeoutError(f"callback query {callback_query_id} not answered in {timeout}s")
        return answer

    # ------------------------------------------------------------------ reading

    async def history(
        self,
        chat_id: int,
        *,
        since: int | None = None,
        wait: float | None = None,
        sender: str | None = None,
        include_deleted: bool = True,
    ) -> JSON:
        """``{"seq": current, "messages": [...]}``: messages changed after ``since``; with
        ``wait`` the call blocks until there is one (or the wait runs out)."""
        params = {
            "since": since,
            "wait": wait,
            "sender": sender,
            "include_deleted": include_deleted,
        }
        return await self._request(
            "GET", f"/chats/{chat_id}/messages", params=params, request_timeout=_t(wait)
        )

    async def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[JSON]:
        """Every message of the chat in order (bot's and users')."""
        return (await self.history(chat_id, include_deleted=include_deleted))["messages"]

    async def bot_messages(self, chat_id: int, *, include_deleted: bool = False) -> list[JSON]:
        page = await self.history(chat_id, sender="bot", include_deleted=include_deleted)
        return page["messages"]

    async def last_bot_message(self, chat_id: int) -> JSON | None:
        messages = await self.bot_messages(chat_id)
        return messages[-1] if messages else None

    async def get_message(self, chat_id: int, message_id: int) -> JSON:
        return await self._request("GET", f"/chats/{chat_id}/messages/{message_id}")

    async def current_seq(self) -> int:
        return int((await self.health())["seq"])

    async def wait_for_message(
        self,
        chat_id: int,
        match: str | MessagePredicate | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
        since: int | None = None,
        include_edits: bool = True,
    ) -> JSON:
        """The first bot message (new, or edited if ``include_edits``) after ``since`` (default:
        now) whose text/caption contains ``match`` or satisfies ``match(message)``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        cursor = await self.current_seq() if since is None else since
        start = cursor
        while True:
            remaining = deadline - loop.time()
            page = await self.history(chat_id, since=cursor, wait=max(remaining, 0.0), sender="bot")
            for message in sorted(page["messages"], key=lambda m: m["seq"]):
                if message["deleted"]:
                    continue
                if not include_edits and message["created_seq"] <= start:
                    continue
                if _matches(message, match):
                    return message
            cursor = max(cursor, page["seq"])
            if loop.time() >= deadline:
                raise TimeoutError(f"no bot message matching {match!r} in chat {chat_id} within {timeout}s")

    # ------------------------------------------------------------------ inspection

    async def stats(self) -> JSON:
        return await self._request("GET", "/stats")

    async def commands(self) -> list[JSON]:
        """Stored command lists: ``[{"scope": {...}, "language_code": "", "commands": [...]}]``."""
        return (await self._request("GET", "/commands"))["commands"]

    async def pending_updates(self) -> list[JSON]:
        return (await self._request("GET", "/updates"))["updates"]

    async def webhook(self) -> JSON:
        return await self._request("GET", "/webhook")

    async def file_bytes(self, file_id: str) -> bytes:
        data = await self._request("GET", f"/files/{file_id}")
        return data if isinstance(data, bytes) else json.dumps(data).encode()

    # ------------------------------------------------------------------ faults

    async def add_fault(
        self,
        kind: str,
        *,
        method: str | None = None,
        chat_id: int | None = None,
        count: int = 1,
        retry_after: int = 1,
        status: int | None = None,
        description: str | None = None,
        seconds: float = 0.0,
        deliver: bool = False,
    ) -> JSON:
        """Queue a fault for the next ``count`` matching calls. Kinds: "retry_after"/"429",
        "error"/"500"/"502"/"503" (any ``status``), "hang"/"timeout" (``seconds``; with
        ``deliver`` the call takes effect before hanging), "disconnect"."""
        body = {
            "kind": kind,
            "method": method,
            "chat_id": chat_id,
            "count": count,
            "retry_after": retry_after,
            "status": status,
            "description": description,
            "seconds": seconds,
            "deliver": deliver,
        }
        return await self._request("POST", "/faults", _compact(body))

    async def fail_with_retry_after(
        self, retry_after: int, *, method: str | None = None, chat_id: int | None = None, count: int = 1
    ) -> JSON:
        return await self.add_fault(
            "retry_after", method=method, chat_id=chat_id, count=count, retry_after=retry_after
        )

    async def fail_with_server_error(
        self, status: int = 500, *, method: str | None = None, chat_id: int | None = None, count: int = 1
    ) -> JSON:
        return await self.add_fault("error", method=method, chat_id=chat_id, count=count, status=status)

    async def hang(
        self,
        seconds: float,
        *,
        method: str | None = None,
        chat_id: int | None = None,
        count: int = 1,
        deliver: bool = False,
    ) -> JSON:
        return await self.add_fault(
            "hang", method=method, chat_id=chat_id, count=count, seconds=seconds, deliver=deliver
        )

    async def faults(self) -> JSON:
        return await self._request("GET", "/faults")

    async def clear_faults(self) -> JSON:
        return await self._request("DELETE", "/faults")

    async def set_outage(self, enabled: bool = True, description: str | None = None) -> JSON:
        """While on, every Bot API call answers 502."""
        return await self._request(
            "POST", "/outage", _compact({"enabled": enabled, "description": description})
        )

    # ------------------------------------------------------------------ events

    async def events(
        self, *, chat_id: int | None = None, since: int | None = None
    ) -> AsyncGenerator[JSON, None]:
        """Follow the server-sent event stream (runs until the caller stops iterating)."""
        params = {k: str(v) for k, v in {"chat_id": chat_id, "since": since}.items() if v is not None}
        async with self._http().get(
            f"{self.base_url}/_emu/events",
            params=params,
            timeout=aiohttp.ClientTimeout(total=None, sock_read=None),
        ) as response:
            data: list[str] = []
            async for raw in response.content:
                line = raw.decode().rstrip("\r\n")
                if line.startswith("data:"):
                    data.append(line[5:].lstrip())
                elif not line and data:
                    yield json.loads("\n".join(data))
                    data = []


def _compact(body: JSON) -> JSON:
    return {k: v for k, v in body.items() if v is not None}


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()


def _t(wait: float | None) -> float:
    return 30.0 + (wait or 0.0)


def _matches(message: JSON, match: str | MessagePredicate | None) -> bool:
    if match is None:
        return True
    if isinstance(match, str):
        body = message.get("text") or message.get("caption") or ""
        return match in body
    return bool(match(message))
