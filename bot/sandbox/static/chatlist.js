// The chat list on the left and the open chat's header (title, subtitle, typing…).

import { state } from "./state.js";
import { $, el } from "./dom.js";
import { t } from "./i18n.js";
import { hhmm } from "./clock.js";
import { intents } from "./intents.js";
import { preview, lastMessage } from "./history.js";

function chatName(chat) {
  if (!chat) return "";
  if (chat.type === "private") return (state.info && state.info.bot.first_name) || "Bot";
  return chat.title || String(chat.id);
}

function avatar(name, id) {
  const colours = ["#e17076", "#7bc862", "#65aadd", "#a695e7", "#ee7aae", "#6ec9cb", "#faa774"];
  const node = el("div", { className: "avatar", text: Array.from(name || "?")[0], attrs: { "aria-hidden": "true" } });
  node.style.background = colours[Math.abs(Number(id)) % colours.length];
  return node;
}

export function renderChatList() {
  const items = state.chats.map((chat) => {
    const last = lastMessage(chat.id);
    const unread = state.unread.get(chat.id) || 0;
    const item = el(
      "li",
      { className: `chat-item${chat.id === state.chatId ? " active" : ""}`, attrs: { "data-chat-id": chat.id, tabindex: 0, role: "button" } },
      avatar(chatName(chat), chat.id),
      el(
        "div",
        { className: "chat-item-body" },
        el("div", { className: "chat-item-top" },
          el("b", { className: "chat-item-title", text: chatName(chat) }),
          el("small", { className: "chat-item-time", text: last ? hhmm(last.sandbox_date * 1000) : "" })),
        el("div", { className: "chat-item-bottom" },
          el("span", { className: "chat-item-preview", text: preview(last) }),
          unread ? el("span", { className: "badge", text: String(unread) }) : null),
      ),
    );
    item.addEventListener("click", () => intents.openChat(chat.id));
    item.addEventListener("keydown", (event) => { if (event.key === "Enter") intents.openChat(chat.id); });
    return item;
  });
  $("chat-list").replaceChildren(...items);
}

export function currentChat() {
  return state.chats.find((c) => c.id === state.chatId) || null;
}

export function renderHeader() {
  const chat = currentChat();
  $("chat-avatar").replaceWith(Object.assign(avatar(chatName(chat), chat ? chat.id : 0), { id: "chat-avatar" }));
  $("chat-title").textContent = chatName(chat);
  const subtitle = !chat ? "" : chat.type === "private" ? `@${state.info.bot.username} · ${t("bot_subtitle")}` : t("members", { n: chat.member_count });
  $("chat-subtitle").textContent = subtitle;
  $("chat-subtitle").dataset.base = subtitle;
}

export function setSubtitle(text) {
  const node = $("chat-subtitle");
  node.textContent = text || node.dataset.base || "";
  node.classList.toggle("typing", Boolean(text));
}
