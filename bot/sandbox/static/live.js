// Live updates: the server-sent events of the emulator and the sandbox, applied to the page.

import { state } from "./state.js";
import { $ } from "./dom.js";
import { t } from "./i18n.js";
import { toast, showAlert } from "./toasts.js";
import { applyClock, refreshClock } from "./clock.js";
import { renderHeader, setSubtitle } from "./chatlist.js";
import { renderMessages, upsertMessage } from "./messages.js";
import { choosePersona, loadChats } from "./chats.js";

function onEvent(event) {
  switch (event.type) {
    case "message":
    case "edit":
    case "delete":
      if (event.message) upsertMessage(event.message);
      break;
    case "callback_answer": {
      const query = event.callback_query || {};
      const node = state.pending.get(query.id);
      if (node) { node.classList.remove("pending"); state.pending.delete(query.id); }
      if (state.persona && query.user_id === state.persona.id && query.text) {
        if (query.show_alert) showAlert(query.text);
        else toast(query.text);
      }
      break;
    }
    case "chat_action":
      if (event.chat_id === state.chatId) {
        setSubtitle(event.action === "upload_document" || event.action === "upload_photo" ? t("uploading") : t("typing"));
        clearTimeout(state.typingTimer);
        state.typingTimer = setTimeout(() => setSubtitle(null), 5000);
      }
      break;
    case "commands":
      state.commands.clear();
      break;
    case "chat":
      if (state.persona && event.chat && String(state.persona.id) in (event.chat.members || {})) {
        // Group changes come in bursts (a reset re-creates every group): reload once.
        clearTimeout(state.chatsTimer);
        state.chatsTimer = setTimeout(async () => {
          await loadChats();
          renderHeader();
          renderMessages();
        }, 250);
      }
      break;
    case "sandbox_clock":
      applyClock(event.clock);
      refreshClock();
      break;
    case "sandbox_reset":
      state.messages.clear();
      state.commands.clear();
      state.oneTimeHidden.clear();
      state.replyTo.clear();
      state.forceOffered.clear();
      applyClock(event.clock);
      refreshClock();
      choosePersona(state.persona.id, state.chatId);
      break;
    default:
      break;
  }
}

export function connect() {
  const source = new EventSource("/api/events");
  source.onopen = async () => {
    const reconnect = state.everConnected && !state.connected;
    state.connected = true;
    state.everConnected = true;
    $("connection").dataset.state = "live";
    $("connection").textContent = t("connected");
    $("connection").title = "";
    if (reconnect && state.persona) {
      await loadChats();
      renderMessages();
    }
  };
  source.onerror = () => {
    state.connected = false;
    $("connection").dataset.state = "lost";
    $("connection").textContent = "⚠";
    $("connection").title = t("connection_lost");
  };
  source.onmessage = (message) => {
    try { onEvent(JSON.parse(message.data)); } catch (error) { console.error(error); }
  };
}
