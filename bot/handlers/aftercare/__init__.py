"""After the meeting: Item found and Consumables used in the teams' groups, /lost, the fee
confirmation and the feedback in private.

One router for all of it (:func:`build_router`; what the handlers share is in
bot/handlers/aftercare/common.py), its handlers registered by the modules by topic in this order:

* lost.py: Item found, /lost, handing an item over, an item's photo;
* consumables.py: the consumables panel and the fee confirmation (accept or dispute);
* feedback.py: the score and the comment;
* prompts.py: the typed answers to the questions those buttons ask, after the three above
  (/lost quoting a question is the command).

Button data carries ids only (bot/telegram/callback_data.py); who may press is checked on
every press.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery

from bot.handlers.aftercare import consumables, feedback, lost, prompts
from bot.handlers.aftercare.common import provide_context
from bot.handlers.replies import refuse_button
from bot.telegram.callback_data import (
    ConsumableItemData,
    ConsumablesData,
    ConsumablesPageData,
    FeeData,
    FeedbackData,
    ItemFoundData,
    LostItemData,
    LostPageData,
    ScoreData,
    family_filter,
)

__all__ = ["build_router"]


async def aftercare_data_refused(callback: CallbackQuery) -> None:
    """After-care data that none of the topic handlers unpacked."""
    await refuse_button(callback)


def build_router() -> Router:
    """The after-care router of one App: the topic modules' handlers, then the refusal of
    after-care data none of them unpacked."""
    router = Router(name=__name__)
    provide_context(router)
    for topic in (consumables, feedback, lost, prompts):
        topic.register(router)
    router.callback_query.register(
        aftercare_data_refused,
        family_filter(
            ItemFoundData,
            ConsumablesData,
            ConsumablesPageData,
            ConsumableItemData,
            FeeData,
            ScoreData,
            FeedbackData,
            LostPageData,
            LostItemData,
        ),
    )
    return router
