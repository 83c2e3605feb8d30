// Huiwu sandbox: a small Telegram-like chat client for the project's Bot API emulator.
// Native ES modules, no build step; this is the entry point: it binds what rendered elements ask
// for (intents.js), wires the page's controls and starts. Message text is rendered from (text,
// entities) with DOM nodes only: nothing a message contains is ever parsed as HTML.

import { state } from "./state.js";
import { $ } from "./dom.js";
import { t } from "./i18n.js";
import { api } from "./api.js";
import { toast } from "./toasts.js";
import { applyClock, renderClock, refreshClock, moveClock } from "./clock.js";
import { cancelReply } from "./reply.js";
import { sendText, sendFile, openMenu, closeMenu } from "./composer.js";
import { choosePersona, openChat } from "./chats.js";
import { connect } from "./live.js";
import { intents } from "./intents.js";

intents.openChat = openChat;
intents.sendText = sendText;

function wire() {
  $("persona").addEventListener("change", (event) => choosePersona(event.target.value));
  $("clock-next").addEventListener("click", (event) => moveClock({ action: "next_task" }, event.currentTarget));
  $("clock-15").addEventListener("click", (event) => moveClock({ action: "forward", minutes: 15 }, event.currentTarget));
  $("clock-60").addEventListener("click", (event) => moveClock({ action: "forward", minutes: 60 }, event.currentTarget));
  $("clock-tomorrow").addEventListener("click", (event) => moveClock({ action: "tomorrow_17" }, event.currentTarget));
  $("reset").addEventListener("click", async () => {
    if (!window.confirm(t("reset_confirm"))) return;
    $("reset").disabled = true;
    const result = await api("/api/reset", { method: "POST" });
    $("reset").disabled = false;
    if (result.ok) toast(t("reset_done"));
    else toast(t("error", { error: result.error }), "warn");
  });
  $("alert-ok").addEventListener("click", () => $("alert-dialog").close());
  $("reply-cancel").addEventListener("click", () => { cancelReply(); $("composer-input").focus(); });
  $("start-button").addEventListener("click", () => sendText("/start"));
  $("menu-button").addEventListener("click", () => ($("command-menu").hidden ? openMenu() : closeMenu()));
  $("attach-button").addEventListener("click", () => $("attach-input").click());
  $("attach-input").addEventListener("change", async (event) => {
    const file = event.target.files && event.target.files[0];
    event.target.value = "";
    if (file) await sendFile(file);
  });
  const input = $("composer-input");
  input.addEventListener("input", () => {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 180)}px`;
    const value = input.value;
    if (/^\/\w*$/.test(value)) openMenu(value);
    else closeMenu();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    } else if (event.key === "Escape") {
      closeMenu();
      cancelReply();
    }
  });
  $("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    closeMenu();
    const text = input.value;
    // Sent exactly as typed (empty, over-long or full of markup): the emulator applies
    // Telegram's rules and its refusal is shown; the text stays for another try.
    if (await sendText(text)) {
      input.value = "";
      input.style.height = "auto";
    }
  });
  document.addEventListener("click", (event) => {
    if (!event.target.closest("#command-menu") && !event.target.closest("#menu-button")) closeMenu();
  });
  setInterval(renderClock, 1000);
  setInterval(refreshClock, 30000);
}

async function boot() {
  wire();
  const [info, personas, rooms] = await Promise.all([api("/api/info"), api("/api/personas"), api("/api/rooms")]);
  if (!info.ok || !personas.ok) {
    toast(t("error", { error: info.error || personas.error }), "warn");
    return;
  }
  state.info = info;
  state.personas = personas.personas;
  state.rooms = rooms.ok ? rooms.rooms : []; // the chats work without the rooms panel
  applyClock(info.clock);
  refreshClock();
  connect();
  const params = new URLSearchParams(window.location.search);
  const wanted = params.get("as") || localStorage.getItem("huiwu-sandbox-persona");
  await choosePersona(wanted, params.get("chat"));
  document.body.dataset.ready = "true";
}

boot();
