// The persona picker and the page's language, which follows the persona in use.

import { state } from "./state.js";
import { $, el } from "./dom.js";
import { t } from "./i18n.js";
import { renderClock } from "./clock.js";
import { renderRooms } from "./rooms.js";

export function applyLanguage() {
  document.documentElement.lang = state.lang === "en" ? "en" : "zh-CN";
  document.title = t("title");
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-title]")) node.title = t(node.dataset.i18nTitle);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
  $("clock-15").textContent = t("plus_15");
  $("persona-hint").textContent = t("hint");
  if (state.info) $("site-name").textContent = state.info.site.name[state.lang] || state.info.site.name.zh;
  renderPersonaOptions();
  renderRooms();
  renderClock();
  if (state.connected) $("connection").textContent = t("connected");
}

function personaLabel(persona, lang = state.lang) {
  const parts = [];
  if (persona.department) parts.push(persona.department[lang]);
  for (const role of persona.roles) if (role !== "requester" || !persona.department) parts.push(t(`role_${role}`));
  for (const team of persona.teams) parts.push(team.leader ? `${team.name[lang]} ${t("leader")}` : team.name[lang]);
  return parts.length ? `${persona.name}${t("sep")}${parts.join(" · ")}` : persona.name;
}

function personaGroup(persona) {
  if (persona.department || persona.roles.includes("requester")) return "group_requesters";
  if (persona.roles.length) return "group_centre";
  return "group_staff";
}

function renderPersonaOptions() {
  const select = $("persona");
  const groups = new Map();
  for (const persona of state.personas) {
    const key = personaGroup(persona);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(persona);
  }
  const nodes = [];
  for (const key of ["group_requesters", "group_centre", "group_staff"]) {
    if (!groups.has(key)) continue;
    const group = el("optgroup", { attrs: { label: t(key) } });
    for (const persona of groups.get(key)) {
      group.append(el("option", { text: personaLabel(persona), attrs: { value: persona.id, lang: persona.language } }));
    }
    nodes.push(group);
  }
  select.replaceChildren(...nodes);
  if (state.persona) select.value = String(state.persona.id);
}
