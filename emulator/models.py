"""The emulator's records: users, chats, stored messages, files and callback queries."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

JSON = dict[str, Any]
ChatType = Literal["private", "group", "supergroup", "channel"]
BotStatus = Literal["member", "administrator", "left", "kicked"]
MemberStatus = Literal["creator", "administrator", "member"]


@dataclass
class User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_premium: bool | None = None
    blocked_bot: bool = False
    started: bool = False
    """Whether the user ever wrote to the bot (matters with ``require_start``)."""
    deactivated: bool = False

    def to_api(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        if self.is_premium:
            data["is_premium"] = True
        return data

    def to_record(self) -> JSON:
        return {
            **self.to_api(),
            "blocked_bot": self.blocked_bot,
            "started": self.started,
            "deactivated": self.deactivated,
        }


@dataclass
class Chat:
    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    members: dict[int, MemberStatus] = field(default_factory=dict)
    bot_status: BotStatus = "member"
    bot_privacy: bool | None = None
    """Group privacy in force for the bot here: the setting when it last joined. Telegram applies
    a /setprivacy change to a group only once the bot is removed and added again ("the bot will
    need to be re-added to the group for this change to take effect"); None while it is out."""
    next_message_id: int = 1
    last_action: str | None = None
    last_action_at: float | None = None

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")

    def take_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    @property
    def chat_instance(self) -> str:
        digest = hashlib.sha256(f"chat-instance:{self.id}".encode()).digest()
        return str(int.from_bytes(digest[:8], "big", signed=True))


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    file_path: str
    kind: Literal["photo", "document"]
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class StoredMessage:
    chat_id: int
    message_id: int
    sender_id: int
    from_bot: bool
    date: int
    text: str | None = None
    entities: list[JSON] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[JSON] = field(default_factory=list)
    source: str | None = None
    """The text or caption exactly as the sender submitted it (e.g. the original HTML)."""
    parse_mode: str | None = None
    reply_markup: JSON | None = None
    reply_to_message_id: int | None = None
    photo: list[JSON] | None = None
    document: JSON | None = None
    edit_date: int | None = None
    edit_count: int = 0
    deleted: bool = False
    seq: int = 0
    created_seq: int = 0
    update_id: int | None = None
    """For user messages: the update that carried it to the bot (None if privacy mode hid it)."""
    extra: JSON = field(default_factory=dict)

    @property
    def kind(self) -> str:
        if self.photo:
            return "photo"
        if self.document:
            return "document"
        if self.text is not None:
            return "text"
        return "service"

    @property
    def has_media(self) -> bool:
        return bool(self.photo or self.document)

    @property
    def inline_keyboard(self) -> list[list[JSON]]:
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            return self.reply_markup["inline_keyboard"]
        return []

    def buttons(self) -> list[JSON]:
        return [
            {"row": r, "column": c, **button}
            for r, row in enumerate(self.inline_keyboard)
            for c, button in enumerate(row)
        ]


@dataclass
class CallbackQueryRecord:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created_at: float
    update_id: int
    answered: bool = False
    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    cache_time: int | None = None
    answered_at: float | None = None

    def to_record(self) -> JSON:
        return {
            "id": self.id,
            "user_id": self.user_id,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "data": self.data,
            "update_id": self.update_id,
            "answered": self.answered,
            "text": self.text,
            "show_alert": self.show_alert,
            "url": self.url,
            "cache_time": self.cache_time,
        }


def chat_member(status: str, user: JSON) -> JSON:
    """A ChatMember object as the Bot API returns it."""
    if status == "administrator":
        return {
            "status": "administrator",
            "user": user,
            "can_be_edited": False,
            "is_anonymous": False,
            "can_manage_chat": True,
            "can_delete_messages": True,
            "can_manage_video_chats": True,
            "can_restrict_members": True,
            "can_promote_members": False,
            "can_change_info": True,
            "can_invite_users": True,
            "can_post_stories": False,
            "can_edit_stories": False,
            "can_delete_stories": False,
            "can_send_welcome_messages": False,
            "can_pin_messages": True,
            "can_manage_topics": False,
        }
    if status == "creator":
        return {"status": "creator", "user": user, "is_anonymous": False}
    if status == "kicked":
        return {"status": "kicked", "user": user, "until_date": 0}
    if status == "left":
        return {"status": "left", "user": user}
    return {"status": "member", "user": user}
