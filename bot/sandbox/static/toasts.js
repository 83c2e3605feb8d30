// Toasts (short notices in the corner) and the alert dialog of a callback answer with show_alert.

import { $, el } from "./dom.js";

export function toast(text, kind = "info") {
  const node = el("div", { className: `toast ${kind}`, text, attrs: { role: "status" } });
  $("toasts").append(node);
  while ($("toasts").children.length > 3) $("toasts").firstElementChild.remove();
  setTimeout(() => node.classList.add("leaving"), 4200);
  setTimeout(() => node.remove(), 4600);
}

export function showAlert(text) {
  $("alert-text").textContent = text;
  const dialog = $("alert-dialog");
  if (typeof dialog.showModal === "function") dialog.showModal();
  else toast(text);
}
