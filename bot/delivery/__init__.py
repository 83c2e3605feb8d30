"""Everything the bot sends that is not a handler's direct answer.

* notices.py — notices queued as outbox rows (what to show, not the text), the renderer
  registry, and the wake of the sender after the queueing transaction commits;
* queue.py — the dispatch services' notices queued and linked to their tasks;
* outbox.py — what may be sent now (order per chat, Telegram's limits, merged bursts, edits
  overtaken), rendered at send time; its SQL is in storage/repositories/outbox.py;
* sender.py — the Bot API calls (messages, edits, pictures and documents) and their answers;
* budget.py — Telegram's limits shared by several instances through Redis;
* retry.py — a 429 answering a handler's own call, waited out.
"""
