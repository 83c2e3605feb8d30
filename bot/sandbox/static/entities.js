// Telegram's (text, entities) → DOM nodes, never HTML; links are checked, bot commands and
// t.me links to this bot act in the sandbox as they do in Telegram.

import { state } from "./state.js";
import { el } from "./dom.js";
import { intents } from "./intents.js";

export function safeUrl(raw) {
  let url = String(raw || "").trim();
  if (!/^[a-z][a-z0-9+.-]*:/i.test(url)) url = `http://${url}`;
  try {
    const parsed = new URL(url);
    if (["http:", "https:", "mailto:", "tel:"].includes(parsed.protocol)) return parsed.href;
  } catch (error) {
    return null;
  }
  return null;
}

export function interceptDeepLink(anchor, url) {
  // t.me/<this bot>?start=<payload> opens the private chat and sends /start <payload>, as Telegram does.
  let parsed;
  try { parsed = new URL(url); } catch (error) { return; }
  const username = state.info && state.info.bot.username;
  if (!username || !["t.me", "telegram.me"].includes(parsed.hostname)) return;
  if (parsed.pathname.replace(/^\//, "").toLowerCase() !== username.toLowerCase()) return;
  anchor.addEventListener("click", async (event) => {
    event.preventDefault();
    const payload = parsed.searchParams.get("start");
    if (state.chatId !== state.persona.id) await intents.openChat(state.persona.id);
    await intents.sendText(payload ? `/start ${payload}` : "/start");
  });
}

function entityElement(entity, text) {
  switch (entity.type) {
    case "bold": return el("b");
    case "italic": return el("i");
    case "underline": return el("u");
    case "strikethrough": return el("s");
    case "spoiler": {
      const node = el("span", { className: "spoiler", attrs: { tabindex: 0, role: "button" } });
      node.addEventListener("click", () => node.classList.add("revealed"));
      return node;
    }
    case "code": return el("code");
    case "pre": return el("pre", { attrs: { "data-language": entity.language || null } });
    case "blockquote": return el("blockquote");
    case "expandable_blockquote": {
      const node = el("blockquote", { className: "expandable" });
      node.addEventListener("click", () => node.classList.toggle("open"));
      return node;
    }
    case "text_link":
    case "url": {
      const url = safeUrl(entity.type === "url" ? text : entity.url);
      if (!url) return el("span", { className: "link-unsafe" });
      const anchor = el("a", { attrs: { href: url, target: "_blank", rel: "noopener noreferrer" } });
      interceptDeepLink(anchor, url);
      return anchor;
    }
    case "email": return el("a", { attrs: { href: `mailto:${text}` } });
    case "phone_number": return el("a", { attrs: { href: `tel:${text.replace(/[^\d+]/g, "")}` } });
    case "bot_command": {
      const anchor = el("a", { className: "command", attrs: { href: "#" } });
      anchor.addEventListener("click", (event) => { event.preventDefault(); intents.sendText(text); });
      return anchor;
    }
    case "mention":
    case "text_mention":
    case "hashtag":
    case "cashtag":
      return el("span", { className: entity.type.replace("_", "-") });
    default:
      return null;
  }
}

// Telegram's entities may overlap without nesting; like the emulator's own HTML renderer,
// close the inner ones at a boundary and reopen those that go on.
export function renderEntities(text, entities) {
  const root = document.createDocumentFragment();
  const spans = [];
  entities.forEach((entity, order) => {
    const start = entity.offset;
    const end = entity.offset + entity.length;
    if (end > start && start >= 0 && start < text.length) spans.push({ start, end: Math.min(end, text.length), order, entity });
  });
  const points = Array.from(new Set([0, text.length, ...spans.flatMap((s) => [s.start, s.end])])).sort((a, b) => a - b);
  const stack = [{ node: root, span: null }];
  let cursor = 0;
  for (const point of points) {
    if (point > cursor) {
      stack[stack.length - 1].node.append(document.createTextNode(text.slice(cursor, point)));
      cursor = point;
    }
    const reopen = [];
    while (stack.slice(1).some((open) => open.span.end <= point)) {
      const open = stack.pop();
      if (open.span.end > point) reopen.push(open.span);
    }
    const starting = spans.filter((s) => s.start === point);
    const opening = [...reopen.reverse(), ...starting].sort((a, b) => b.end - a.end || a.order - b.order);
    for (const span of opening) {
      const node = entityElement(span.entity, text.slice(span.start, span.end)) || el("span");
      stack[stack.length - 1].node.append(node);
      stack.push({ node, span });
    }
  }
  return root;
}
