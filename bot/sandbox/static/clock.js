// The sandbox's time: shown in the site's time zone, moved by the clock buttons. The page keeps
// the offset between the sandbox's clock and the browser's, so the display ticks without asking.

import { state } from "./state.js";
import { $ } from "./dom.js";
import { t } from "./i18n.js";
import { api } from "./api.js";
import { toast } from "./toasts.js";

function zoned(ms) {
  const parts = {};
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone: state.zone, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  });
  for (const part of format.formatToParts(new Date(ms))) parts[part.type] = part.value;
  return parts;
}

export const dayKey = (ms) => { const p = zoned(ms); return `${p.year}-${p.month}-${p.day}`; };

export const hhmm = (ms) => { const p = zoned(ms); return `${p.hour}:${p.minute}`; };

function weekday(ms) {
  return new Intl.DateTimeFormat(state.lang === "en" ? "en-GB" : "zh-CN", { timeZone: state.zone, weekday: "short" })
    .format(new Date(ms));
}

function stamp(ms) {
  const p = zoned(ms);
  return `${p.year}-${p.month}-${p.day} ${weekday(ms)} ${p.hour}:${p.minute}`;
}

export function dayLabel(ms) {
  const today = dayKey(Date.now() + state.skew);
  const yesterday = dayKey(Date.now() + state.skew - 86400000);
  const key = dayKey(ms);
  if (key === today) return t("today");
  if (key === yesterday) return t("yesterday");
  return new Intl.DateTimeFormat(state.lang === "en" ? "en-GB" : "zh-CN", {
    timeZone: state.zone, month: "long", day: "numeric", weekday: "long",
  }).format(new Date(ms));
}

const sandboxNow = () => Date.now() + state.skew;

export function applyClock(clock) {
  if (!clock) return;
  state.skew = clock.now_ms - Date.now();
  state.zone = clock.zone || state.zone;
  $("clock-zone").textContent = `(${state.zone})`;
  if ("next_task_at" in clock) state.nextTask = clock.next_task_at ? Date.parse(clock.next_task_at) : null;
  renderClock();
}

export function renderClock() {
  const now = sandboxNow();
  const display = $("clock-display");
  display.textContent = stamp(now);
  display.dateTime = new Date(now).toISOString();
  $("clock-display").dataset.local = (() => { const p = zoned(now); return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`; })();
  $("next-task").textContent = state.nextTask ? t("next_at", { time: stamp(state.nextTask) }) : t("no_next");
}

export async function refreshClock() {
  const clock = await api("/api/clock");
  if (clock.ok) applyClock(clock);
}

export async function moveClock(body, button) {
  const buttons = document.querySelectorAll(".clock button");
  buttons.forEach((b) => { b.disabled = true; });
  button.classList.add("busy");
  const result = await api("/api/clock", { method: "POST", body });
  buttons.forEach((b) => { b.disabled = false; });
  button.classList.remove("busy");
  if (!result.ok) {
    toast(result.code === "nothing_planned" ? t("nothing_planned") : t("error", { error: result.error }), "warn");
    return;
  }
  applyClock(result);
  toast(result.claimed ? `${t("moved", { time: stamp(result.now_ms) })} — ${t("timers", { claimed: result.claimed })}` : t("moved", { time: stamp(result.now_ms) }));
}
