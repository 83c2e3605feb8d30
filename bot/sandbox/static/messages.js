// The open chat's messages: bubbles, photos, documents, inline keyboards and button presses, and
// the live insertion of a message, edit or deletion.

import { state } from "./state.js";
import { $, el } from "./dom.js";
import { t } from "./i18n.js";
import { api, fileUrl } from "./api.js";
import { toast } from "./toasts.js";
import { dayKey, hhmm, dayLabel } from "./clock.js";
import { safeUrl, interceptDeepLink, renderEntities } from "./entities.js";
import { sortedMessages, isMine, preview } from "./history.js";
import { renderChatList, currentChat } from "./chatlist.js";
import { renderBottom, replyAction } from "./reply.js";

export function renderMessages() {
  const box = $("messages");
  const messages = sortedMessages(state.chatId);
  const nodes = [];
  let day = null;
  for (const message of messages) {
    const key = dayKey(message.sandbox_date * 1000);
    if (key !== day) {
      nodes.push(el("div", { className: "day-separator", text: dayLabel(message.sandbox_date * 1000) }));
      day = key;
    }
    nodes.push(renderMessage(message));
  }
  if (!messages.length) nodes.push(el("p", { className: "empty", text: t("empty_chat") }));
  box.replaceChildren(...nodes);
  box.scrollTop = box.scrollHeight;
  renderBottom();
}

function renderMessage(message) {
  const chat = currentChat();
  const mine = isMine(message);
  const kind = message.sender === "bot" ? "from-bot" : mine ? "from-me" : "from-other";
  const bubble = el("div", { className: "bubble" });
  if (chat && chat.type !== "private" && !mine) {
    const from = message.from || {};
    const name = [from.first_name, from.last_name].filter(Boolean).join(" ");
    const sender = el("div", { className: "sender", text: name });
    sender.style.color = ["#c03d33", "#4fad2d", "#d09306", "#168acd", "#8544d6", "#cd4073", "#2996ad"][Math.abs(from.id || 0) % 7];
    bubble.append(sender);
  }
  if (message.reply_to_message_id) {
    const target = (state.messages.get(message.chat_id) || new Map()).get(message.reply_to_message_id);
    if (target) bubble.append(el("div", { className: "reply-quote", text: preview(target).slice(0, 120) }));
  }
  if (message.photo && message.photo.length) {
    const largest = message.photo[message.photo.length - 1];
    const link = el("a", { attrs: { href: fileUrl(largest.file_id), target: "_blank", rel: "noopener" } });
    const image = el("img", { className: "photo", attrs: { src: fileUrl(largest.file_id), alt: "photo", loading: "lazy" } });
    if (largest.width && largest.height) {
      image.width = Math.min(largest.width, 360);
      image.height = Math.round((image.width * largest.height) / largest.width);
    }
    link.append(image);
    bubble.append(link);
  }
  if (message.document) {
    const doc = message.document;
    const name = doc.file_name || "file";
    bubble.append(
      el("a", { className: "document", attrs: { href: fileUrl(doc.file_id, name, true), download: name } },
        el("span", { className: "document-icon", text: "📄", attrs: { "aria-hidden": "true" } }),
        el("span", { className: "document-body" },
          el("b", { text: name }),
          el("small", { text: humanSize(doc.file_size || 0) }))),
    );
  }
  const body = message.text ?? message.caption;
  const entities = message.text != null ? message.entities : message.caption_entities;
  if (body) {
    const text = el("div", { className: "text" });
    text.append(renderEntities(body, entities || []));
    bubble.append(text);
  }
  const meta = el("span", { className: "meta" });
  if (message.edit_count) meta.append(el("span", { className: "edited", text: t("edited") }), " ");
  meta.append(hhmm(message.sandbox_date * 1000));
  bubble.append(meta);

  const node = el("div", {
    className: `message ${kind}`,
    attrs: { "data-message-id": message.message_id, "data-chat-id": message.chat_id, "data-sender": message.sender },
  }, bubble);
  const keyboard = message.reply_markup && message.reply_markup.inline_keyboard;
  if (keyboard && keyboard.length) node.append(renderInlineKeyboard(message, keyboard));
  node.append(replyAction(message));
  return node;
}

function humanSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function renderInlineKeyboard(message, rows) {
  const keyboard = el("div", { className: "inline-keyboard" });
  for (const row of rows) {
    const line = el("div", { className: "kb-row" });
    for (const button of row) {
      let node;
      const url = button.url ? safeUrl(button.url) : null;
      if (url) {
        node = el("a", { className: "inline-button url", text: button.text, attrs: { href: url, target: "_blank", rel: "noopener noreferrer" } });
        node.append(el("span", { className: "corner", text: "↗", attrs: { "aria-hidden": "true" } }));
        interceptDeepLink(node, url);
      } else {
        node = el("button", { className: "inline-button", text: button.text, attrs: { type: "button" } });
        if (button.callback_data !== undefined) {
          node.addEventListener("click", () => press(message, button, node));
        } else {
          node.classList.add("unsupported");
          node.title = t("button_unsupported");
          node.addEventListener("click", () => toast(t("button_unsupported"), "warn"));
        }
      }
      line.append(node);
    }
    keyboard.append(line);
  }
  return keyboard;
}

async function press(message, button, node) {
  node.classList.add("pending");
  const result = await api(`/api/chats/${message.chat_id}/press`, {
    method: "POST",
    body: { user_id: state.persona.id, message_id: message.message_id, data: button.callback_data },
  });
  if (!result.ok) {
    node.classList.remove("pending");
    toast(t("error", { error: result.error }), "warn");
    return;
  }
  state.pending.set(result.id, node);
  setTimeout(() => { node.classList.remove("pending"); state.pending.delete(result.id); }, 10000);
}

function isNearBottom() {
  const box = $("messages");
  return box.scrollHeight - box.scrollTop - box.clientHeight < 120;
}

export function upsertMessage(message, options = {}) {
  const chatId = message.chat_id;
  if (!state.chats.some((c) => c.id === chatId)) return;
  if (!state.messages.has(chatId)) state.messages.set(chatId, new Map());
  const map = state.messages.get(chatId);
  const known = map.get(message.message_id);
  if (known && known.seq > message.seq) return; // an older copy arriving late
  map.set(message.message_id, message);
  if (chatId !== state.chatId) {
    if (!known && !message.deleted && !isMine(message)) state.unread.set(chatId, (state.unread.get(chatId) || 0) + 1);
    renderChatList();
    return;
  }
  const box = $("messages");
  const existing = box.querySelector(`.message[data-message-id="${message.message_id}"]`);
  const stick = options.scroll || isNearBottom();
  if (message.deleted) {
    renderMessages();
  } else if (existing) {
    existing.replaceWith(renderMessage(message));
    renderBottom();
  } else {
    const later = Array.from(box.querySelectorAll(".message")).find((node) => Number(node.dataset.messageId) > message.message_id);
    if (later || !box.querySelector(".message")) {
      renderMessages();
    } else {
      const previous = sortedMessages(chatId).filter((m) => m.message_id < message.message_id).pop();
      if (!previous || dayKey(previous.sandbox_date * 1000) !== dayKey(message.sandbox_date * 1000)) {
        box.append(el("div", { className: "day-separator", text: dayLabel(message.sandbox_date * 1000) }));
      }
      box.append(renderMessage(message));
      renderBottom();
    }
  }
  if (stick) box.scrollTop = box.scrollHeight;
  renderChatList();
}
