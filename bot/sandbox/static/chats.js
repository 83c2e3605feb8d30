// Choosing a persona, loading their chats with the history of each, and opening a chat.

import { state } from "./state.js";
import { $ } from "./dom.js";
import { api } from "./api.js";
import { applyLanguage } from "./personas.js";
import { renderChatList, renderHeader } from "./chatlist.js";
import { renderMessages } from "./messages.js";
import { hideSendError, closeMenu } from "./composer.js";

export async function choosePersona(id, chatId) {
  const persona = state.personas.find((p) => p.id === Number(id)) || state.personas[0];
  if (!persona) return;
  state.persona = persona;
  state.lang = persona.language === "en" ? "en" : "zh";
  localStorage.setItem("huiwu-sandbox-persona", String(persona.id));
  applyLanguage();
  await loadChats();
  const wanted = Number(chatId ?? state.lastChat.get(persona.id) ?? persona.id);
  const target = state.chats.find((c) => c.id === wanted) || state.chats[0];
  if (target) await openChat(target.id);
}

export async function loadChats() {
  const persona = state.persona;
  const result = await api(`/api/personas/${persona.id}/chats`);
  if (state.persona !== persona) return;
  state.chats = result.ok ? result.chats : [];
  state.unread.clear();
  await Promise.all(state.chats.map((chat) => loadHistory(chat.id)));
  renderChatList();
}

async function loadHistory(chatId) {
  const result = await api(`/api/chats/${chatId}/messages?user_id=${state.persona.id}`);
  if (!result.ok) return;
  const map = new Map();
  for (const message of result.messages) map.set(message.message_id, message);
  state.messages.set(chatId, map);
}

export async function openChat(chatId) {
  state.chatId = chatId;
  state.lastChat.set(state.persona.id, chatId);
  state.unread.delete(chatId);
  hideSendError();
  closeMenu();
  renderChatList();
  renderHeader();
  renderMessages();
  $("composer-input").focus();
}
