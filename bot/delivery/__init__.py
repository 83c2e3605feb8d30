"""Everything the bot sends that is not a handler's direct answer.

* notices.py — notices queued as outbox rows (what to show, not the text), the renderer
  registry, and the wake of the sender after the queueing transaction commits;
* queue.py — the dispatch services' notices queued and linked to their tasks;
* outbox.py — what may be sent now (order per chat, leases, edits overtaken), rendered at
  send time; its SQL is in storage/repositories/outbox.py;
* pacing.py — Telegram's limits (per chat, per group, overall) kept by one sender;
* merging.py — what one call shows: a row, or a burst of rows merged into one message;
* sender.py — the calls (messages, edits, pictures and documents) and what each answer means;
* gateway.py — the sender's view of Telegram: the calls it makes and the errors it tells
  apart (made over aiogram by bot/telegram/gateway.py);
* budget.py — Telegram's limits shared by several instances through Redis.

A 429 answering a handler's own call is waited out by bot/telegram/retry.py.
"""
