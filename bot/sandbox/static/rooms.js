// The rooms of the site, each with a link that opens its door display in a new tab: the screen
// a tablet at the room's door shows (the bot's own page, read by the sandbox's clock), in the
// page's language.

import { state } from "./state.js";
import { $, el } from "./dom.js";
import { t } from "./i18n.js";

export function renderRooms() {
  const lang = state.lang === "en" ? "en" : "zh";
  const items = state.rooms.map((room) => {
    const link = el("a", {
      className: "room-link",
      text: room.name[lang] || room.name.zh,
      attrs: {
        href: `${room.display}&lang=${lang}`,
        target: "_blank",
        rel: "noopener noreferrer",
        title: t("door_display_hint"),
        "data-room": room.id,
      },
    });
    return el("li", { className: "room-item" }, link, el("small", { text: `🚪 ${t("door_display")}` }));
  });
  $("room-list").replaceChildren(...items);
  $("rooms").hidden = items.length === 0;
}
