"""Who the bot is and how updates reach it: ``getMe``, long polling (one poller at a time,
as Telegram enforces), the webhook's settings, and the answers to callback queries."""

from __future__ import annotations

from aiohttp import web

from ..errors import bad_request, conflict
from ..models import JSON
from ..state import UPDATE_TYPES
from .call import Call, method


@method("getMe")
async def get_me(call: Call) -> JSON:
    return call.state.get_me()


@method("logOut")
async def log_out(call: Call) -> bool:
    return True


@method("close")
async def close(call: Call) -> bool:
    return True


class PollTicket:
    def __init__(self, request: web.Request) -> None:
        self.request = request

    @property
    def gone(self) -> bool:
        transport = self.request.transport
        return transport is None or transport.is_closing()


@method("getUpdates")
async def get_updates(call: Call) -> list[JSON]:
    state, p = call.state, call.params
    if state.webhook.get("url"):
        raise conflict(
            "can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first"
        )
    offset = p.get_int("offset")
    limit = min(max(p.get_int("limit") or 100, 1), 100)
    timeout = min(max(p.get_int("timeout") or 0, 0), 50)
    allowed = p.get_json("allowed_updates", "can't parse allowed updates JSON object")
    active = state.active_poll
    if isinstance(active, PollTicket) and not active.gone:
        raise conflict(
            "terminated by other getUpdates request; make sure that only one bot instance is running"
        )
    ticket = PollTicket(call.request)
    state.active_poll = ticket
    try:
        if isinstance(allowed, list):
            state.allowed_updates = [a for a in allowed if a in UPDATE_TYPES] or None
        if offset is not None:
            state.confirm_updates(offset)
        if timeout:
            await state.updates_changed.wait_for(lambda: bool(state.available_updates(limit)), timeout)
        updates = state.available_updates(limit)
        state.stats.updates_delivered += len(updates)
        return updates
    finally:
        if state.active_poll is ticket:
            state.active_poll = None


@method("setWebhook")
async def set_webhook(call: Call) -> bool:
    state, p = call.state, call.params
    url = p.get_str("url") or ""
    if url and not url.startswith("https://"):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if p.get_bool("drop_pending_updates"):
        state.pending_updates.clear()
    state.webhook = {
        "url": url,
        "max_connections": p.get_int("max_connections") or 40,
        "allowed_updates": p.get_json("allowed_updates"),
        "secret_token": p.get_str("secret_token"),
        "ip_address": p.get_str("ip_address"),
    }
    state.events.publish("webhook", None, url=url)
    state.updates_changed.notify()
    return True


@method("deleteWebhook")
async def delete_webhook(call: Call) -> bool:
    state = call.state
    if call.params.get_bool("drop_pending_updates"):
        state.pending_updates.clear()
    state.webhook = {"url": ""}
    state.events.publish("webhook", None, url="")
    return True


@method("getWebhookInfo")
async def get_webhook_info(call: Call) -> JSON:
    state = call.state
    info: JSON = {
        "url": state.webhook.get("url", ""),
        "has_custom_certificate": False,
        "pending_update_count": len(state.pending_updates),
    }
    if info["url"]:
        info["max_connections"] = state.webhook.get("max_connections", 40)
        if state.webhook.get("ip_address"):
            info["ip_address"] = state.webhook["ip_address"]
        if state.webhook.get("allowed_updates"):
            info["allowed_updates"] = state.webhook["allowed_updates"]
        if state.webhook.get("last_error_message"):  # set by emulator.webhook.WebhookPusher
            info["last_error_date"] = state.webhook["last_error_date"]
            info["last_error_message"] = state.webhook["last_error_message"]
    return info


@method("answerCallbackQuery")
async def answer_callback_query(call: Call) -> bool:
    p = call.params
    call.state.answer_callback(
        p.get_str("callback_query_id") or "",
        text=p.get_str("text"),
        show_alert=p.get_bool("show_alert"),
        url=p.get_str("url"),
        cache_time=p.get_int("cache_time"),
    )
    return True
