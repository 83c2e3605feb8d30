// Reading the messages the page holds: a chat's live messages in order, whether one is the
// persona's own, and the one-line previews the chat list and the reply bar show.

import { state } from "./state.js";

export function sortedMessages(chatId) {
  return Array.from((state.messages.get(chatId) || new Map()).values())
    .filter((m) => !m.deleted)
    .sort((a, b) => a.message_id - b.message_id);
}

export function isMine(message) {
  return message.sender === "user" && message.from && message.from.id === state.persona.id;
}

export function preview(message) {
  if (!message) return "";
  if (message.photo) return `🖼 ${message.caption || ""}`;
  if (message.document) return `📄 ${message.document.file_name || ""}`;
  return (message.text || message.caption || "").replace(/\s+/g, " ");
}

export function lastMessage(chatId) {
  const map = state.messages.get(chatId);
  if (!map || !map.size) return null;
  let last = null;
  for (const message of map.values()) if (!last || message.message_id > last.message_id) last = message;
  return last;
}

export function senderName(message) {
  if (message.sender === "bot") return (state.info && state.info.bot.first_name) || "Bot";
  const from = message.from || {};
  return [from.first_name, from.last_name].filter(Boolean).join(" ");
}
