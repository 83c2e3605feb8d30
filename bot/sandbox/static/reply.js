// Below the messages: the START button, the bot's reply keyboard, and reply mode (a ForceReply
// puts the composer in it; any message can be replied to).

import { state } from "./state.js";
import { $, el } from "./dom.js";
import { t } from "./i18n.js";
import { intents } from "./intents.js";
import { sortedMessages, isMine, preview, senderName } from "./history.js";
import { currentChat } from "./chatlist.js";

export function renderBottom() {
  const chat = currentChat();
  const messages = sortedMessages(state.chatId);
  const showStart = chat && chat.type === "private" && messages.length === 0;
  $("start-panel").hidden = !showStart;
  $("composer").hidden = showStart;
  renderReplyKeyboard(messages);
  if (state.persona) offerForcedReply(messages);
  renderReplyBar(showStart);
}

export const replyKey = () => `${state.persona.id}:${state.chatId}`;

function forReplyFromMe(message) {
  // ForceReply's `selective`: only the people @mentioned in the text and the author of the
  // message the bot replied to; otherwise everyone in the chat.
  const markup = message.reply_markup || {};
  if (!markup.selective || message.chat_id > 0) return true;
  const me = state.persona;
  const body = message.text ?? message.caption ?? "";
  for (const entity of (message.text != null ? message.entities : message.caption_entities) || []) {
    if (entity.type === "text_mention" && entity.user && entity.user.id === me.id) return true;
    if (entity.type === "mention" && me.username
      && body.slice(entity.offset + 1, entity.offset + entity.length).toLowerCase() === me.username.toLowerCase()) return true;
  }
  const replied = message.reply_to_message_id && (state.messages.get(message.chat_id) || new Map()).get(message.reply_to_message_id);
  return Boolean(replied && replied.from && replied.from.id === me.id);
}

function offerForcedReply(messages) {
  // As Telegram's apps do: the newest ForceReply meant for this persona, not answered yet,
  // opens reply mode once; cancelling it or sending anything closes it.
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const message = messages[i];
    if (isMine(message)) return; // answered (or not) already
    const markup = message.reply_markup;
    if (message.sender !== "bot" || !markup || markup.inline_keyboard) continue;
    if (markup.force_reply && !forReplyFromMe(message)) continue;
    if (!markup.force_reply) return; // a newer reply keyboard replaces it
    const offered = `${replyKey()}:${message.message_id}`;
    if (state.forceOffered.has(offered)) return;
    state.forceOffered.add(offered);
    state.replyTo.set(replyKey(), message.message_id);
    return;
  }
}

function replyTarget() {
  if (!state.persona || state.chatId === null) return null;
  const id = state.replyTo.get(replyKey());
  const target = id && (state.messages.get(state.chatId) || new Map()).get(id);
  if (id && (!target || target.deleted)) state.replyTo.delete(replyKey());
  return target && !target.deleted ? target : null;
}

function renderReplyBar(hidden = false) {
  const target = hidden ? null : replyTarget();
  $("reply-bar").hidden = !target;
  $("reply-bar").dataset.messageId = target ? String(target.message_id) : "";
  $("reply-bar-title").textContent = target ? t("reply_to", { name: senderName(target) }) : "";
  $("reply-bar-text").textContent = target ? preview(target).slice(0, 160) : "";
}

function replyTo(message) {
  state.replyTo.set(replyKey(), message.message_id);
  renderReplyBar();
  $("composer-input").focus();
}

export function cancelReply() {
  state.replyTo.delete(replyKey());
  renderReplyBar();
}

export function replyAction(message) {
  const button = el("button", {
    className: "reply-action",
    text: "↩",
    attrs: { type: "button", title: t("reply"), "aria-label": t("reply"), "data-action": "reply" },
  });
  button.addEventListener("click", () => replyTo(message));
  return button;
}

function renderReplyKeyboard(messages) {
  const box = $("reply-keyboard");
  let markup = null;
  let source = null;
  $("composer-input").placeholder = t("write");
  let sentSince = false; // a ForceReply is over once this persona has sent a message after it
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const message = messages[i];
    const candidate = message.reply_markup;
    if (isMine(message)) sentSince = true;
    if (message.sender !== "bot" || !candidate || candidate.inline_keyboard) continue;
    if (candidate.force_reply && (sentSince || !forReplyFromMe(message))) continue;
    if (candidate.keyboard || candidate.remove_keyboard) { markup = candidate; source = message; }
    if (candidate.keyboard || candidate.remove_keyboard || candidate.force_reply) {
      $("composer-input").placeholder = candidate.input_field_placeholder || t("write");
      break;
    }
  }
  if (!markup || !markup.keyboard || state.oneTimeHidden.has(`${state.chatId}:${source.message_id}`)) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  const rows = markup.keyboard.map((row) => {
    const line = el("div", { className: "kb-row" });
    for (const button of row) {
      const node = el("button", { className: "reply-button", text: button.text, attrs: { type: "button" } });
      node.addEventListener("click", async () => {
        if (markup.one_time_keyboard) state.oneTimeHidden.add(`${state.chatId}:${source.message_id}`);
        await intents.sendText(button.text);
      });
      line.append(node);
    }
    return line;
  });
  box.replaceChildren(...rows);
  box.hidden = false;
}

export function replyFields() {
  const target = replyTarget();
  return target ? { reply_to_message_id: target.message_id } : {};
}

export function replySent(key) {
  state.replyTo.delete(key);
  renderReplyBar();
}
