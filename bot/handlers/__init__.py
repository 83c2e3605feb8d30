"""Every handler module's router, in the order updates should meet them.

Order matters: start (with the gate for unknown people) first; the command and button
routers next; the answers to the bot's questions that quote no question (bot/handlers/prompts.py)
after the routers that take a reply quoting one; the booking dialog after every other router
(an open dialog takes any private message or press that reaches it); fallback last.
"""

from __future__ import annotations

from aiogram import Router


def build_routers() -> list[Router]:
    from bot.dialogs.booking import booking_dialog
    from bot.handlers import (
        approval,
        bind,
        booking,
        fallback,
        help,
        invites,
        language,
        my,
        prompts,
        start,
        supervision,
        tasks,
    )
    from bot.handlers.aftercare import router as aftercare_router  # issue 6
    from bot.handlers.reports import router as reports_router  # issue 6

    return [
        start.router,
        language.router,
        help.router,
        booking.router,
        my.router,
        approval.router,
        invites.router,
        tasks.router,
        supervision.router,
        bind.router,
        reports_router,  # issue 6
        aftercare_router,  # issue 6
        prompts.router,  # unquoted answers: after the routers that match a quoted one
        booking_dialog,
        fallback.router,
    ]
