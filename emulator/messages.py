"""The messages of every chat: what the bot sends, edits, deletes and pins, each change stamped
with the next event sequence number, and the two views of a message (the Bot API's Message
object and the control API's record).
"""

from __future__ import annotations

from .core import Core, History
from .directory import Directory
from .formatting import render_html
from .models import JSON, Chat, StoredMessage
from .validation import FormattedText


class Messages:
    def __init__(self, core: Core, directory: Directory, history: History) -> None:
        self.core = core
        self.directory = directory
        self.history = history

    def get_message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        return self.history.get(chat_id, message_id)

    def chat_messages(self, chat_id: int) -> list[StoredMessage]:
        return self.history.in_chat(chat_id)

    # ----------------------------------------------------------------- views

    def _sender_api(self, message: StoredMessage) -> JSON:
        if message.from_bot:
            return self.core.bot_user
        user = self.directory.users.get(message.sender_id)
        if user is None:
            return {"id": message.sender_id, "is_bot": False, "first_name": "Deleted Account"}
        return user.to_api()

    def message_api(self, message: StoredMessage, *, include_reply: bool = True) -> JSON:
        """The Message object exactly as the Bot API returns it."""
        chat = self.directory.chats.get(message.chat_id)
        data: JSON = {
            "message_id": message.message_id,
            "from": self._sender_api(message),
            "chat": self.directory.chat_api(chat) if chat else {"id": message.chat_id, "type": "private"},
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

    def chat_full_info(self, chat: Chat) -> JSON:
        """getChat's ChatFullInfo; here rather than in the directory for its pinned message."""
        data = {
            **self.directory.chat_api(chat),
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
        pinned = chat.id in self.history.by_chat and self.core.bot_settings.get(f"pinned:{chat.id}")
        if pinned:
            message = self.history.get(chat.id, pinned)
            if message is not None and not message.deleted:
                data["pinned_message"] = self.message_api(message)
        return data

    # ----------------------------------------------------------------- changes

    def store(self, message: StoredMessage) -> StoredMessage:
        """Add a new message to its chat's history; it gets the next sequence number."""
        seq = self.core.events.next_seq()
        message.seq = message.created_seq = seq
        self.history.add(message)
        self.core.events.emit(seq, "message", message.chat_id, message=self.message_record(message))
        return message

    def changed(self, message: StoredMessage, kind: str) -> None:
        """A stored message was edited or deleted: it gets the next sequence number."""
        seq = self.core.events.next_seq()
        message.seq = seq
        self.core.events.emit(seq, kind, message.chat_id, message=self.message_record(message))

    def fill_mentions(self, entities: list[JSON]) -> list[JSON]:
        """Text mentions carry the whole user, as Telegram resolves them."""
        for entity in entities:
            if entity.get("type") == "text_mention":
                user_id = int((entity.get("user") or {}).get("id", 0))
                user = self.directory.users.get(user_id)
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
            sender_id=self.core.bot_id,
            from_bot=True,
            date=self.core.now(),
            reply_markup=reply_markup,
            reply_to_message_id=reply_to_message_id,
            photo=photo,
            document=document,
        )
        if protect_content:
            message.extra["has_protected_content"] = True
        if text is not None:
            message.text = text.text
            message.entities = self.fill_mentions(text.entities)
            message.source, message.parse_mode = text.source, text.parse_mode
        if caption is not None and caption.text:
            message.caption = caption.text
            message.caption_entities = self.fill_mentions(caption.entities)
            message.source, message.parse_mode = caption.source, caption.parse_mode
        self.core.stats.messages_sent += 1
        self.core.stats.chat(chat.id)["sent"] += 1
        return self.store(message)

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
            message.entities = self.fill_mentions(text.entities)
            message.source, message.parse_mode = text.source, text.parse_mode
        if caption is not None:
            message.caption = caption.text or None
            message.caption_entities = self.fill_mentions(caption.entities)
            message.source, message.parse_mode = caption.source, caption.parse_mode
        message.reply_markup = reply_markup
        message.edit_date = self.core.now()
        message.edit_count += 1
        self.core.stats.chat(message.chat_id)["edited"] += 1
        self.changed(message, "edit")
        return message

    def delete_message(self, message: StoredMessage) -> None:
        message.deleted = True
        self.core.stats.chat(message.chat_id)["deleted"] += 1
        self.changed(message, "delete")

    def record_chat_action(self, chat: Chat, action: str) -> None:
        chat.last_action = action
        chat.last_action_at = self.core.clock()
        self.core.stats.chat(chat.id)["actions"] += 1
        self.core.events.publish("chat_action", chat.id, action=action)

    def pin_message(self, chat: Chat, message_id: int | None) -> None:
        self.core.bot_settings[f"pinned:{chat.id}"] = message_id
        self.core.events.publish("pin", chat.id, message_id=message_id)
