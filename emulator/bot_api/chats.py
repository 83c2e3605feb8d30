"""Chats as the bot may ask about them: info, members, administrators, and leaving a group."""

from __future__ import annotations

from ..errors import bad_request
from ..models import JSON
from .call import Call, method


@method("getChat")
async def get_chat(call: Call) -> JSON:
    state = call.state
    return state.chat_full_info(state.find_chat(call.params.chat_ref()))


@method("getChatMember")
async def get_chat_member(call: Call) -> JSON:
    state, p = call.state, call.params
    chat = state.find_chat(p.chat_ref())
    user_id = p.get_int("user_id")
    if user_id is None:
        raise bad_request("user_id is empty")
    return state.member_of(chat, user_id)


@method("getChatAdministrators")
async def get_chat_administrators(call: Call) -> list[JSON]:
    state = call.state
    chat = state.find_chat(call.params.chat_ref())
    if not chat.is_group:
        raise bad_request("there are no administrators in the private chat")
    return state.administrators(chat)


@method("getChatMemberCount")
async def get_chat_member_count(call: Call) -> int:
    state = call.state
    chat = state.find_chat(call.params.chat_ref())
    if not chat.is_group:
        return 2
    return len(chat.members) + (1 if chat.bot_status in ("member", "administrator") else 0)


@method("leaveChat")
async def leave_chat(call: Call) -> bool:
    state = call.state
    chat = state.find_chat(call.params.chat_ref())
    if not chat.is_group:
        raise bad_request("chat member status can't be changed in private chats")
    state.set_bot_status(chat.id, "left", by_bot=True)
    return True
