"""Everything the emulator knows: users, chats, messages, files, updates, commands and counters.

Both the Bot API routes and the control API work through this object; Python code running in
the same process (tests, a sandbox) can use it directly as ``server.state``.
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .config import EmulatorConfig
from .errors import CHAT_NOT_FOUND, QUERY_TOO_OLD, ControlError, bad_request, forbidden
from .events import EventBus, Notifier
from .faults import FaultInjector
from .formatting import auto_entities, entity_text, render_html, validate_entities
from .media import extension_for, guess_mime, image_size, photo_sizes
from .models import (
    JSON,
    BotStatus,
    CallbackQueryRecord,
    Chat,
    ChatType,
    MemberStatus,
    StoredFile,
    StoredMessage,
    User,
    chat_member,
)
from .ratelimit import RateLimiter
from .validation import FormattedText

DEFAULT_BOT_ID = 7000000001
UPDATE_TYPES = (
    "message",
    "edited_message",
    "callback_query",
    "my_chat_member",
    "chat_member",
    "message_reaction",
    "message_reaction_count",
)
_NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
CommandKey = tuple[str, str, str, str]


@dataclass
class Stats:
    calls: Counter[str] = field(default_factory=Counter)
    messages_sent: int = 0
    rate_limited: int = 0
    rate_limited_by_scope: Counter[str] = field(default_factory=Counter)
    errors: Counter[int] = field(default_factory=Counter)
    faults_triggered: int = 0
    updates_delivered: int = 0
    per_chat: dict[int, Counter[str]] = field(default_factory=dict)

    def chat(self, chat_id: int) -> Counter[str]:
        return self.per_chat.setdefault(chat_id, Counter())

    def to_dict(self) -> JSON:
        return {
            "calls": dict(self.calls),
            "messages_sent": self.messages_sent,
            "rate_limited": self.rate_limited,
            "rate_limited_by_scope": dict(self.rate_limited_by_scope),
            "errors": {str(code): n for code, n in self.errors.items()},
            "faults_triggered": self.faults_triggered,
            "updates_delivered": self.updates_delivered,
            "per_chat": {str(chat_id): dict(c) for chat_id, c in self.per_chat.items()},
        }


class EmulatorState:
    def __init__(
        self,
        config: EmulatorConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config or EmulatorConfig()
        self.clock = clock
        self.wall_clock = wall_clock
        self.events = EventBus()
        self.updates_changed = Notifier()
        self.limiter = RateLimiter(self.config.rate_limits, clock)
        self.faults = FaultInjector()
        self.bot_id = self.config.bot_id_hint or DEFAULT_BOT_ID
        self.active_poll: Any = None
        self._update_ids = itertools.count(1)
        self._ids = itertools.count(1)
        self._clear()

    def _clear(self) -> None:
        self.users: dict[int, User] = {}
        self.chats: dict[int, Chat] = {}
        self.messages: dict[int, dict[int, StoredMessage]] = {}
        self.files: dict[str, StoredFile] = {}
        self.photo_groups: dict[str, list[JSON]] = {}
        self.documents: dict[str, JSON] = {}
        self.callbacks: dict[str, CallbackQueryRecord] = {}
        self.pending_updates: list[JSON] = []
        self._update_bot_ids: dict[int, int] = {}
        self.allowed_updates: list[str] | None = None
        self.webhook: JSON = {"url": ""}
        self.commands: dict[CommandKey, list[JSON]] = {}
        self.bot_settings: JSON = {}
        self.stats = Stats()

    def reset(self) -> None:
        """Forget everything except the configuration (ids keep increasing)."""
        self._clear()
        self.limiter.reset()
        self.faults.clear()
        self.events.publish("reset", None)
        self.updates_changed.notify()

    def now(self) -> int:
        """Telegram's server time, the ``date`` of every message and edit (Unix seconds)."""
        return int(self.wall_clock())

    # ----------------------------------------------------------------- bot identity

    @property
    def bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.config.bot_first_name,
            "username": self.config.bot_username,
        }

    def get_me(self) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.config.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    # ----------------------------------------------------------------- users and chats

    def upsert_user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        is_premium: bool | None = None,
        started: bool | None = None,
    ) -> User:
        if user_id <= 0:
            raise ControlError(400, "user id must be a positive integer")
        if user_id == self.bot_id:
            raise ControlError(400, "user id collides with the bot's id")
        user = self.users.get(user_id)
        if user is None:
            if not first_name:
                raise ControlError(400, "first_name is required for a new user")
            user = self.users[user_id] = User(id=user_id, first_name=first_name)
            self.chats[user_id] = Chat(id=user_id, type="private")
        elif first_name:
            user.first_name = first_name
        if last_name is not None:
            user.last_name = last_name or None
        if username is not None:
            user.username = username.lstrip("@") or None
        if language_code is not None:
            user.language_code = language_code or None
        if is_premium is not None:
            user.is_premium = is_premium
        if started is not None:
            user.started = started
        self.events.publish("user", user_id, user=user.to_record())
        return user

    def user(self, user_id: int) -> User:
        user = self.users.get(user_id)
        if user is None:
            raise ControlError(404, f"user {user_id} not found")
        return user

    def chat(self, chat_id: int) -> Chat:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise ControlError(404, f"chat {chat_id} not found")
        return chat

    def set_blocked(self, user_id: int, blocked: bool = True) -> User:
        """The user blocks (or unblocks) the bot; the bot gets a my_chat_member update."""
        user = self.user(user_id)
        if user.blocked_bot != blocked:
            user.blocked_bot = blocked
            old, new = ("member", "kicked") if blocked else ("kicked", "member")
            self._my_chat_member(self.chats[user_id], user, old, new)
        self.events.publish("user", user_id, user=user.to_record())
        return user

    def set_deactivated(self, user_id: int, deactivated: bool = True) -> User:
        user = self.user(user_id)
        user.deactivated = deactivated
        self.events.publish("user", user_id, user=user.to_record())
        return user

    def create_group(
        self,
        chat_id: int,
        title: str,
        *,
        chat_type: ChatType = "group",
        username: str | None = None,
        members: Iterable[int] = (),
        admins: Iterable[int] = (),
        owner_id: int | None = None,
        bot_status: BotStatus = "member",
        announce: bool = False,
    ) -> Chat:
        if chat_id >= 0:
            raise ControlError(400, "group chat ids are negative")
        if chat_type not in ("group", "supergroup"):
            raise ControlError(400, "type must be 'group' or 'supergroup'")
        if bot_status not in ("member", "administrator", "left", "kicked"):
            raise ControlError(400, "bot_status must be member, administrator, left or kicked")
        chat = self.chats.get(chat_id)
        created = chat is None
        if chat is None:
            chat = self.chats[chat_id] = Chat(id=chat_id, type=chat_type, title=title)
        chat.type = chat_type
        chat.title = title
        chat.username = username.lstrip("@") if username else None
        for user_id in members:
            self.user(user_id)
            chat.members.setdefault(user_id, "member")
        for user_id in admins:
            self.user(user_id)
            chat.members[user_id] = "administrator"
        if owner_id is not None:
            self.user(owner_id)
            chat.members[owner_id] = "creator"
        old_status = chat.bot_status
        chat.bot_status = bot_status
        self._bot_membership_changed(chat, "left" if created else old_status)
        self.events.publish("chat", chat_id, chat=self.chat_record(chat))
        if announce and old_status != bot_status:
            self._my_chat_member(chat, self._actor(chat), "left", bot_status)
        return chat

    def set_member(self, chat_id: int, user_id: int, status: MemberStatus | None) -> Chat:
        chat = self.chat(chat_id)
        if not chat.is_group:
            raise ControlError(400, "members can only be changed in groups")
        self.user(user_id)
        if status is None:
            chat.members.pop(user_id, None)
        elif status not in ("creator", "administrator", "member"):
            raise ControlError(400, "status must be creator, administrator or member")
        else:
            chat.members[user_id] = status
        self.events.publish("chat", chat_id, chat=self.chat_record(chat))
        return chat

    def set_bot_status(
        self,
        chat_id: int,
        status: BotStatus,
        *,
        by_user_id: int | None = None,
        by_bot: bool = False,
    ) -> Chat:
        """Add, promote, remove or kick the bot; the bot gets a my_chat_member update."""
        chat = self.chat(chat_id)
        if not chat.is_group:
            raise ControlError(400, "the bot's membership can only be changed in groups")
        if status not in ("member", "administrator", "left", "kicked"):
            raise ControlError(400, "status must be member, administrator, left or kicked")
        old = chat.bot_status
        chat.bot_status = status
        self._bot_membership_changed(chat, old)
        self.events.publish("chat", chat_id, chat=self.chat_record(chat))
        if old != status:
            actor = None
            if not by_bot:
                actor = self.user(by_user_id) if by_user_id is not None else self._actor(chat)
            self._my_chat_member(chat, actor, old, status)
        return chat

    def _bot_membership_changed(self, chat: Chat, old: str) -> None:
        """Joining fixes the group privacy in force for the bot there (see Chat.bot_privacy)."""
        was_in = old in ("member", "administrator")
        is_in = chat.bot_status in ("member", "administrator")
        if is_in and not was_in:
            chat.bot_privacy = self.config.privacy_mode
        elif not is_in:
            chat.bot_privacy = None

    def bot_reads_all(self, chat: Chat) -> bool:
        """Whether the bot receives every message of this group (not only what privacy mode
        lets through): as an admin, or with privacy mode off when it joined."""
        if chat.bot_status == "administrator":
            return True
        privacy = self.config.privacy_mode if chat.bot_privacy is None else chat.bot_privacy
        return not privacy

    def _actor(self, chat: Chat) -> User | None:
        for wanted in ("creator", "administrator", "member"):
            for user_id, status in chat.members.items():
                if status == wanted and user_id in self.users:
                    return self.users[user_id]
        return None

    def _my_chat_member(self, chat: Chat, actor: User | None, old: str, new: str) -> None:
        payload = {
            "chat": self.chat_api(chat),
            "from": actor.to_api() if actor else self.bot_user,
            "date": self.now(),
            "old_chat_member": chat_member(old, self.bot_user),
            "new_chat_member": chat_member(new, self.bot_user),
        }
        self.push_update("my_chat_member", payload)

    def find_chat(self, ref: int | str) -> Chat:
        """Resolve a Bot API ``chat_id`` (number or @username)."""
        chat: Chat | None = None
        if isinstance(ref, int):
            chat = self.chats.get(ref)
        else:
            name = ref.lstrip("@").lower()
            chat = next(
                (c for c in self.chats.values() if c.username and c.username.lower() == name),
                None,
            )
        if chat is None:
            raise bad_request(CHAT_NOT_FOUND)
        if chat.is_group and chat.bot_status in ("left", "kicked"):
            raise self._not_member_error(chat)
        return chat

    def _not_member_error(self, chat: Chat) -> Exception:
        kind = "supergroup chat" if chat.type == "supergroup" else "group chat"
        if chat.bot_status == "kicked":
            return forbidden(f"bot was kicked from the {kind}")
        return forbidden(f"bot is not a member of the {kind}")

    def chat_for_send(self, ref: int | str) -> Chat:
        chat = self.find_chat(ref)
        if chat.type == "private":
            user = self.users[chat.id]
            if user.deactivated:
                raise forbidden("user is deactivated")
            if user.blocked_bot:
                raise forbidden("bot was blocked by the user")
            if self.config.require_start and not user.started:
                raise forbidden("bot can't initiate conversation with a user")
        return chat

    def chat_api(self, chat: Chat) -> JSON:
        if chat.type == "private":
            user = self.users[chat.id]
            data: JSON = {"id": chat.id, "first_name": user.first_name}
            if user.last_name:
                data["last_name"] = user.last_name
            if user.username:
                data["username"] = user.username
            data["type"] = "private"
            return data
        data = {"id": chat.id, "title": chat.title or "", "type": chat.type}
        if chat.username:
            data["username"] = chat.username
        return data

    def chat_full_info(self, chat: Chat) -> JSON:
        data = {
            **self.chat_api(chat),
            "accent_color_id": abs(chat.id) % 7,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
        if chat.is_group:
            data["permissions"] = {
                "can_send_messages": True,
                "can_send_audios": True,
                "can_send_documents": True,
                "can_send_photos": True,
                "can_send_videos": True,
                "can_send_video_notes": True,
                "can_send_voice_notes": True,
                "can_send_polls": True,
                "can_send_other_messages": True,
                "can_add_web_page_previews": True,
                "can_change_info": False,
                "can_invite_users": True,
                "can_pin_messages": False,
                "can_manage_topics": False,
            }
        pinned = chat.id in self.messages and self.bot_settings.get(f"pinned:{chat.id}")
        if pinned:
            message = self.messages[chat.id].get(pinned)
            if message is not None and not message.deleted:
                data["pinned_message"] = self.message_api(message)
        return data

    def member_of(self, chat: Chat, user_id: int) -> JSON:
        if user_id == self.bot_id:
            status = chat.bot_status if chat.is_group else "member"
            return chat_member(status, self.bot_user)
        user = self.users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        if chat.type == "private":
            return chat_member("member" if user_id == chat.id else "left", user.to_api())
        return chat_member(chat.members.get(user_id, "left"), user.to_api())

    def administrators(self, chat: Chat) -> list[JSON]:
        result = [
            chat_member(status, self.users[user_id].to_api())
            for user_id, status in chat.members.items()
            if status in ("creator", "administrator") and user_id in self.users
        ]
        result.sort(key=lambda m: m["status"] != "creator")
        if chat.bot_status == "administrator":
            result.append(chat_member("administrator", self.bot_user))
        return result

    def user_record(self, user: User) -> JSON:
        return user.to_record()

    def chat_record(self, chat: Chat) -> JSON:
        return {
            **self.chat_api(chat),
            "bot_status": chat.bot_status if chat.is_group else "member",
            "bot_reads_all": self.bot_reads_all(chat) if chat.is_group else True,
            "members": {str(uid): status for uid, status in chat.members.items()},
            "last_action": chat.last_action,
            "message_count": len(self.messages.get(chat.id, {})),
        }

    # ----------------------------------------------------------------- messages

    def get_message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        return self.messages.get(chat_id, {}).get(message_id)

    def chat_messages(self, chat_id: int) -> list[StoredMessage]:
        return list(self.messages.get(chat_id, {}).values())

    def _sender_api(self, message: StoredMessage) -> JSON:
        if message.from_bot:
            return self.bot_user
        user = self.users.get(message.sender_id)
        if user is None:
            return {"id": message.sender_id, "is_bot": False, "first_name": "Deleted Account"}
        return user.to_api()

    def message_api(self, message: StoredMessage, *, include_reply: bool = True) -> JSON:
        """The Message object exactly as the Bot API returns it."""
        chat = self.chats.get(message.chat_id)
        data: JSON = {
            "message_id": message.message_id,
            "from": self._sender_api(message),
            "chat": self.chat_api(chat) if chat else {"id": message.chat_id, "type": "private"},
            "date": message.date,
        }
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        if include_reply and message.reply_to_message_id is not None:
            target = self.get_message(message.chat_id, message.reply_to_message_id)
            if target is not None and not target.deleted:
                data["reply_to_message"] = self.message_api(target, include_reply=False)
        if message.extra.get("has_protected_content"):
            data["has_protected_content"] = True
        if message.text is not None:
            data["text"] = message.text
            if message.entities:
                data["entities"] = message.entities
        if message.photo:
            data["photo"] = message.photo
        if message.document:
            data["document"] = message.document
        if message.caption:
            data["caption"] = message.caption
            if message.caption_entities:
                data["caption_entities"] = message.caption_entities
        if message.reply_markup and message.reply_markup.get("inline_keyboard"):
            data["reply_markup"] = message.reply_markup
        return data

    def message_record(self, message: StoredMessage) -> JSON:
        """The control API's view of a message (history, events)."""
        body, entities = (
            (message.text, message.entities)
            if message.text is not None
            else (message.caption or "", message.caption_entities)
        )
        return {
            "chat_id": message.chat_id,
            "message_id": message.message_id,
            "seq": message.seq,
            "created_seq": message.created_seq,
            "sender": "bot" if message.from_bot else "user",
            "from": self._sender_api(message),
            "date": message.date,
            "kind": message.kind,
            "text": message.text,
            "caption": message.caption,
            "entities": message.entities,
            "caption_entities": message.caption_entities,
            "html": render_html(body or "", entities),
            "source": message.source,
            "parse_mode": message.parse_mode,
            "reply_markup": message.reply_markup,
            "buttons": message.buttons(),
            "reply_to_message_id": message.reply_to_message_id,
            "edit_count": message.edit_count,
            "edit_date": message.edit_date,
            "deleted": message.deleted,
            "photo": message.photo,
            "document": message.document,
            "update_id": message.update_id,
        }

    def _store(self, message: StoredMessage) -> StoredMessage:
        seq = self.events.next_seq()
        message.seq = message.created_seq = seq
        self.messages.setdefault(message.chat_id, {})[message.message_id] = message
        self.events.emit(seq, "message", message.chat_id, message=self.message_record(message))
        return message

    def _changed(self, message: StoredMessage, kind: str) -> None:
        seq = self.events.next_seq()
        message.seq = seq
        self.events.emit(seq, kind, message.chat_id, message=self.message_record(message))

    def _fill_mentions(self, entities: list[JSON]) -> list[JSON]:
        for entity in entities:
            if entity.get("type") == "text_mention":
                user_id = int((entity.get("user") or {}).get("id", 0))
                user = self.users.get(user_id)
                entity["user"] = (
                    user.to_api() if user else {"id": user_id, "is_bot": False, "first_name": str(user_id)}
                )
        return entities

    def send_bot_message(
        self,
        chat: Chat,
        *,
        text: FormattedText | None = None,
        caption: FormattedText | None = None,
        photo: list[JSON] | None = None,
        document: JSON | None = None,
        reply_markup: JSON | None = None,
        reply_to_message_id: int | None = None,
        protect_content: bool = False,
    ) -> StoredMessage:
        message = StoredMessage(
            chat_id=chat.id,
            message_id=chat.take_message_id(),
            sender_id=self.bot_id,
            from_bot=True,
            date=self.now(),
            reply_markup=reply_markup,
            reply_to_message_id=reply_to_message_id,
            photo=photo,
            document=document,
        )
        if protect_content:
            message.extra["has_protected_content"] = True
        if text is not None:
            message.text = text.text
            message.entities = self._fill_mentions(text.entities)
            message.source, message.parse_mode = text.source, text.parse_mode
        if caption is not None and caption.text:
            message.caption = caption.text
            message.caption_entities = self._fill_mentions(caption.entities)
            message.source, message.parse_mode = caption.source, caption.parse_mode
        self.stats.messages_sent += 1
        self.stats.chat(chat.id)["sent"] += 1
        return self._store(message)

    def edit_message(
        self,
        message: StoredMessage,
        *,
        text: FormattedText | None = None,
        caption: FormattedText | None = None,
        reply_markup: JSON | None = None,
    ) -> StoredMessage:
        if text is not None:
            message.text = text.text
            message.entities = self._fill_mentions(text.entities)
            message.source, message.parse_mode = text.source, text.parse_mode
        if caption is not None:
            message.caption = caption.text or None
            message.caption_entities = self._fill_mentions(caption.entities)
            message.source, message.parse_mode = caption.source, caption.parse_mode
        message.reply_markup = reply_markup
        message.edit_date = self.now()
        message.edit_count += 1
        self.stats.chat(message.chat_id)["edited"] += 1
        self._changed(message, "edit")
        return message

    def delete_message(self, message: StoredMessage) -> None:
        message.deleted = True
        self.stats.chat(message.chat_id)["deleted"] += 1
        self._changed(message, "delete")

    def record_chat_action(self, chat: Chat, action: str) -> None:
        chat.last_action = action
        chat.last_action_at = self.clock()
        self.stats.chat(chat.id)["actions"] += 1
        self.events.publish("chat_action", chat.id, action=action)

    def pin_message(self, chat: Chat, message_id: int | None) -> None:
        self.bot_settings[f"pinned:{chat.id}"] = message_id
        self.events.publish("pin", chat.id, message_id=message_id)

    # ----------------------------------------------------------------- files

    def _new_file_ids(self, prefix: str) -> tuple[str, str]:
        number = next(self._ids)
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
        number = next(self._ids)
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
        number = next(self._ids)
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

    # ----------------------------------------------------------------- updates

    def push_update(self, kind: str, payload: JSON) -> int:
        update_id = next(self._update_ids)
        self.pending_updates.append({"update_id": update_id, kind: payload})
        self._update_bot_ids[update_id] = self.bot_id
        self.events.publish("update", _update_chat(kind, payload), update_id=update_id, update_type=kind)
        self.updates_changed.notify()
        return update_id

    def confirm_updates(self, offset: int) -> None:
        if offset < 0:
            self.pending_updates = self.pending_updates[offset:]
        else:
            self.pending_updates = [u for u in self.pending_updates if u["update_id"] >= offset]
        alive = {u["update_id"] for u in self.pending_updates}
        self._update_bot_ids = {k: v for k, v in self._update_bot_ids.items() if k in alive}

    def available_updates(self, limit: int) -> list[JSON]:
        allowed = self.allowed_updates
        wanted = set(allowed) if allowed else set(UPDATE_TYPES) - _NOT_BY_DEFAULT
        kept = [u for u in self.pending_updates if _update_kind(u) in wanted]
        self.pending_updates = kept
        return [self._with_current_bot(u) for u in kept[:limit]]

    def webhook_updates(self) -> list[JSON]:
        """What a webhook would be sent now, oldest first (the webhook's own allowed_updates)."""
        allowed = self.webhook.get("allowed_updates")
        if isinstance(allowed, list) and allowed:
            wanted = set(allowed)
        else:
            wanted = set(UPDATE_TYPES) - _NOT_BY_DEFAULT
        return [self._with_current_bot(u) for u in self.pending_updates if _update_kind(u) in wanted]

    def drop_update(self, update_id: int) -> None:
        """A webhook delivery was accepted: the update is gone from the queue."""
        self.pending_updates = [u for u in self.pending_updates if u["update_id"] != update_id]
        self._update_bot_ids.pop(update_id, None)
        self.stats.updates_delivered += 1

    def _with_current_bot(self, update: JSON) -> JSON:
        """Updates made before the bot's first call name a placeholder bot id; fix them up."""
        created_for = self._update_bot_ids.get(update["update_id"], self.bot_id)
        if created_for == self.bot_id:
            return update
        fixed = _rebind_bot(update, created_for, self.bot_user)
        assert isinstance(fixed, dict)
        return fixed

    # ----------------------------------------------------------------- users acting

    def inject_message(
        self,
        chat_id: int,
        user_id: int,
        *,
        text: str | None = None,
        entities: list[JSON] | None = None,
        reply_to_message_id: int | None = None,
        photo: bytes | None = None,
        caption: str | None = None,
        document: bytes | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> StoredMessage:
        """A user writes into a chat; returns the stored message (``update_id`` None if hidden)."""
        chat = self.chat(chat_id)
        user = self.user(user_id)
        if chat.type == "private" and chat.id != user.id:
            raise ControlError(400, "a private chat's id is its user's id")
        if chat.is_group and user_id not in chat.members:
            raise ControlError(400, f"user {user_id} is not a member of chat {chat_id}")
        if text is None and photo is None and document is None:
            raise ControlError(400, "a message needs text, a photo or a document")
        if text is not None and (photo is not None or document is not None):
            raise ControlError(400, "media messages take a caption, not text")
        if text is not None and not text.strip():
            raise ControlError(400, "message text is empty")
        if text is not None and len(text) > 4096:
            raise ControlError(400, "message text is longer than 4096 characters")
        if reply_to_message_id is not None:
            target = self.get_message(chat_id, reply_to_message_id)
            if target is None or target.deleted:
                raise ControlError(404, f"message {reply_to_message_id} not found in {chat_id}")
        if chat.type == "private":
            if user.blocked_bot:
                self.set_blocked(user_id, False)
            user.started = True

        message = StoredMessage(
            chat_id=chat_id,
            message_id=chat.take_message_id(),
            sender_id=user_id,
            from_bot=False,
            date=self.now(),
            reply_to_message_id=reply_to_message_id,
        )
        if text is not None:
            message.text = text
            message.entities = self._user_entities(text, entities)
        if photo is not None:
            message.photo = self.store_photo(photo)
        if document is not None:
            message.document = self.store_document(document, file_name, mime_type)
        if caption:
            message.caption = caption
            message.caption_entities = self._user_entities(caption, entities)
        if self._bot_sees(chat, message):
            message.update_id = next(self._update_ids)
        self._store(message)
        if message.update_id is not None:
            self.pending_updates.append(
                {"update_id": message.update_id, "message": self.message_api(message)}
            )
            self._update_bot_ids[message.update_id] = self.bot_id
            self.events.publish("update", chat_id, update_id=message.update_id, update_type="message")
            self.updates_changed.notify()
        return message

    def edit_user_message(
        self, chat_id: int, message_id: int, text: str, entities: list[JSON] | None = None
    ) -> StoredMessage:
        message = self.get_message(chat_id, message_id)
        if message is None or message.deleted or message.from_bot:
            raise ControlError(404, f"user message {message_id} not found in {chat_id}")
        if message.text is None:
            message.caption = text
            message.caption_entities = self._user_entities(text, entities)
        else:
            message.text = text
            message.entities = self._user_entities(text, entities)
        message.edit_date = self.now()
        message.edit_count += 1
        self._changed(message, "edit")
        chat = self.chats[chat_id]
        if self._bot_sees(chat, message):
            self.push_update("edited_message", self.message_api(message))
        return message

    def _user_entities(self, text: str, entities: list[JSON] | None) -> list[JSON]:
        if entities is None:
            return auto_entities(text, [])
        try:
            return self._fill_mentions(validate_entities(text, entities))
        except ValueError as exc:
            raise ControlError(400, str(exc)) from exc

    def _bot_sees(self, chat: Chat, message: StoredMessage) -> bool:
        if not chat.is_group:
            return True
        if chat.bot_status in ("left", "kicked"):
            return False
        if self.bot_reads_all(chat):
            return True
        body = message.text if message.text is not None else message.caption or ""
        entities = message.entities if message.text is not None else message.caption_entities
        username = self.config.bot_username.lower()
        for entity in entities:
            value = entity_text(body, entity)
            if entity["type"] == "bot_command" and entity["offset"] == 0:
                _, _, addressee = value.partition("@")
                if not addressee or addressee.lower() == username:
                    return True
            if entity["type"] == "mention" and value[1:].lower() == username:
                return True
            if entity["type"] == "text_mention" and entity.get("user", {}).get("id") == self.bot_id:
                return True
        if message.reply_to_message_id is not None:
            replied = self.get_message(chat.id, message.reply_to_message_id)
            if replied is not None and replied.from_bot:
                return True
        return False

    def press_button(
        self, user_id: int, chat_id: int, message_id: int, data: str, *, forge: bool = False
    ) -> CallbackQueryRecord:
        user = self.user(user_id)
        chat = self.chat(chat_id)
        if chat.type == "private" and chat_id != user_id:
            raise ControlError(400, "only the chat's own user can press buttons in a private chat")
        message = self.get_message(chat_id, message_id)
        if message is None or message.deleted:
            raise ControlError(404, f"message {message_id} not found in chat {chat_id}")
        if not forge and not any(b.get("callback_data") == data for b in message.buttons()):
            raise ControlError(400, f"message {message_id} has no button with callback_data {data!r}")
        query_id = str(int(f"{abs(chat_id) % 100000:05d}{next(self._ids):09d}") + 10**17)
        payload = {
            "id": query_id,
            "from": user.to_api(),
            "message": self.message_api(message),
            "chat_instance": chat.chat_instance,
            "data": data,
        }
        update_id = self.push_update("callback_query", payload)
        record = CallbackQueryRecord(
            id=query_id,
            user_id=user_id,
            chat_id=chat_id,
            message_id=message_id,
            data=data,
            created_at=self.clock(),
            update_id=update_id,
        )
        self.callbacks[query_id] = record
        self.events.publish("callback_query", chat_id, callback_query=record.to_record())
        return record

    def find_button(
        self, chat_id: int, text: str, *, exact: bool = False
    ) -> tuple[StoredMessage, JSON] | None:
        """The newest live message of the chat with a callback button whose text matches."""
        self.chat(chat_id)
        for message in reversed(self.chat_messages(chat_id)):
            if message.deleted or not message.from_bot:
                continue
            for button in message.buttons():
                label = button.get("text", "")
                if "callback_data" in button and (label == text if exact else text in label):
                    return message, button
        return None

    def current_reply_keyboard(self, chat_id: int) -> JSON | None:
        for message in reversed(self.chat_messages(chat_id)):
            markup = message.reply_markup
            if not message.from_bot or not markup or "inline_keyboard" in markup:
                continue
            if "keyboard" in markup:
                return markup
            if markup.get("remove_keyboard"):
                return None
        return None

    def press_button_by_text(self, user_id: int, chat_id: int, text: str, *, exact: bool = False) -> JSON:
        """Press an inline button by its label, or else send a reply-keyboard button's text."""
        found = self.find_button(chat_id, text, exact=exact)
        if found is not None:
            message, button = found
            record = self.press_button(user_id, chat_id, message.message_id, button["callback_data"])
            return {"kind": "callback_query", **record.to_record(), "button": button}
        keyboard = self.current_reply_keyboard(chat_id)
        if keyboard is not None:
            for row in keyboard["keyboard"]:
                for button in row:
                    label = button["text"]
                    if label == text if exact else text in label:
                        sent = self.inject_message(chat_id, user_id, text=label)
                        return {
                            "kind": "reply_keyboard",
                            "message_id": sent.message_id,
                            "update_id": sent.update_id,
                            "chat_id": chat_id,
                            "user_id": user_id,
                            "data": None,
                            "button": button,
                        }
        raise ControlError(404, f"no button matching {text!r} in chat {chat_id}")

    def answer_callback(
        self,
        query_id: str,
        *,
        text: str | None = None,
        show_alert: bool = False,
        url: str | None = None,
        cache_time: int | None = None,
    ) -> None:
        record = self.callbacks.get(query_id)
        if record is None or record.answered:
            raise bad_request(QUERY_TOO_OLD)
        timeout = self.config.callback_answer_timeout
        if timeout is not None and self.clock() - record.created_at > timeout:
            raise bad_request(QUERY_TOO_OLD)
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        record.answered = True
        record.text = text
        record.show_alert = show_alert
        record.url = url
        record.cache_time = cache_time
        record.answered_at = self.clock()
        self.events.publish("callback_answer", record.chat_id, callback_query=record.to_record())

    # ----------------------------------------------------------------- commands

    @staticmethod
    def command_key(scope: JSON | None, language_code: str | None) -> CommandKey:
        scope = scope or {"type": "default"}
        return (
            str(scope.get("type", "default")),
            str(scope.get("chat_id", "")),
            str(scope.get("user_id", "")),
            language_code or "",
        )

    def set_commands(self, commands: list[JSON], scope: JSON | None, language_code: str | None) -> None:
        key = self.command_key(scope, language_code)
        if commands:
            self.commands[key] = commands
        else:
            self.commands.pop(key, None)
        self.events.publish("commands", None, scope=key[0], language_code=key[3])

    def get_commands(self, scope: JSON | None, language_code: str | None) -> list[JSON]:
        return list(self.commands.get(self.command_key(scope, language_code), []))

    def delete_commands(self, scope: JSON | None, language_code: str | None) -> None:
        self.commands.pop(self.command_key(scope, language_code), None)
        key = self.command_key(scope, language_code)
        self.events.publish("commands", None, scope=key[0], language_code=key[3])

    def commands_record(self) -> list[JSON]:
        result = []
        for (kind, chat_id, user_id, language), commands in self.commands.items():
            scope: JSON = {"type": kind}
            if chat_id:
                scope["chat_id"] = int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id
            if user_id:
                scope["user_id"] = int(user_id)
            result.append({"scope": scope, "language_code": language, "commands": commands})
        return result


def _rebind_bot(value: Any, old_id: int, bot_user: JSON) -> Any:
    if isinstance(value, dict):
        if value.get("is_bot") is True and value.get("id") == old_id:
            return dict(bot_user)
        return {key: _rebind_bot(item, old_id, bot_user) for key, item in value.items()}
    if isinstance(value, list):
        return [_rebind_bot(item, old_id, bot_user) for item in value]
    return value


def _update_kind(update: JSON) -> str:
    return next(key for key in update if key != "update_id")


def _update_chat(kind: str, payload: JSON) -> int | None:
    if kind == "callback_query":
        return (payload.get("message") or {}).get("chat", {}).get("id")
    return (payload.get("chat") or {}).get("id")
