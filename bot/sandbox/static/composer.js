// Sending: text (exactly as typed), photos and files, and the bot's command menu.

import { state } from "./state.js";
import { $, el } from "./dom.js";
import { t } from "./i18n.js";
import { api } from "./api.js";
import { setSubtitle } from "./chatlist.js";
import { replyKey, replyFields, replySent } from "./reply.js";
import { upsertMessage } from "./messages.js";

function showSendError(message) {
  const box = $("send-error");
  box.textContent = t("not_sent", { error: message });
  box.hidden = false;
}

export function hideSendError() {
  $("send-error").hidden = true;
  $("send-error").textContent = "";
}

export async function sendText(text, options = {}) {
  const chatId = state.chatId;
  const key = replyKey();
  hideSendError();
  const result = await api(`/api/chats/${chatId}/messages`, {
    method: "POST",
    body: { user_id: state.persona.id, text, ...replyFields(), ...options },
  });
  if (!result.ok) {
    showSendError(result.error);
    return false;
  }
  replySent(key);
  if (result.message) upsertMessage(result.message, { scroll: true });
  return true;
}

export async function sendFile(file) {
  const data = await new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
  const caption = $("composer-input").value;
  const photo = /^image\/(jpeg|png|gif|webp)$/.test(file.type);
  const body = photo
    ? { user_id: state.persona.id, photo: data, caption, ...replyFields() }
    : { user_id: state.persona.id, document: data, file_name: file.name, mime_type: file.type || null, caption, ...replyFields() };
  const key = replyKey();
  hideSendError();
  setSubtitle(t("uploading"));
  const result = await api(`/api/chats/${state.chatId}/messages`, { method: "POST", body });
  setSubtitle(null);
  if (!result.ok) {
    showSendError(result.error);
    return;
  }
  replySent(key);
  $("composer-input").value = "";
  if (result.message) upsertMessage(result.message, { scroll: true });
}

async function commandsHere() {
  const key = `${state.persona.id}:${state.chatId}`;
  if (!state.commands.has(key)) {
    const result = await api(`/api/chats/${state.chatId}/commands?user_id=${state.persona.id}`);
    if (!result.ok) return [];
    state.commands.set(key, result.commands);
  }
  return state.commands.get(key);
}

export async function openMenu(filter = "") {
  const menu = $("command-menu");
  const ticket = (state.menuTicket = (state.menuTicket || 0) + 1);
  const all = await commandsHere();
  // Typing went on (or the message was sent) while the list loaded: this menu is stale.
  if (ticket !== state.menuTicket || (filter && $("composer-input").value !== filter)) return;
  const commands = all.filter((c) => `/${c.command}`.startsWith(filter || "/"));
  const items = commands.map((command) => {
    const item = el("button", { className: "command-item", attrs: { type: "button", role: "menuitem", "data-command": command.command } },
      el("b", { text: `/${command.command}` }),
      el("span", { text: command.description }));
    item.addEventListener("click", async () => {
      closeMenu();
      $("composer-input").value = "";
      await sendText(`/${command.command}`);
    });
    return item;
  });
  if (!items.length && !filter) items.push(el("p", { className: "empty", text: t("no_commands") }));
  if (!items.length) { closeMenu(); return; }
  menu.replaceChildren(...items);
  menu.hidden = false;
  $("menu-button").setAttribute("aria-expanded", "true");
}

export function closeMenu() {
  state.menuTicket = (state.menuTicket || 0) + 1;
  $("command-menu").hidden = true;
  $("menu-button").setAttribute("aria-expanded", "false");
}
