// Huiwu sandbox: a small Telegram-like chat client for the project's Bot API emulator.
// Plain JS, no build step. Message text is rendered from (text, entities) with DOM nodes only:
// nothing a message contains is ever parsed as HTML.
"use strict";

(() => {
  // ---- the page's own text -----------------------------------------------------------------------
  const I18N = {
    en: {
      title: "Huiwu sandbox",
      you_are: "You are:",
      sandbox_time: "Sandbox time",
      next_task: "⏭ Next task",
      next_task_hint: "Move the time to the next planned task timer, then run the bot's timers at once",
      plus_15: "+15 min",
      plus_hour: "+1 h",
      tomorrow_17: "Tomorrow 17:00",
      reset: "⟲ Reset",
      reset_hint: "Start over with an empty database",
      reset_confirm: "Start over? Every booking, task and message is deleted.",
      reset_done: "Started over with an empty database.",
      chats: "Chats",
      start: "START",
      menu: "Menu",
      attach: "Send a photo or a file",
      write: "Write a message…",
      send: "Send",
      bot_subtitle: "bot",
      members: "{n} members",
      typing: "typing…",
      uploading: "sending a file…",
      edited: "edited",
      not_sent: "Not sent — the emulator says: {error}",
      no_commands: "The bot has set no commands here.",
      nothing_planned: "No task timer is ahead of the sandbox's time.",
      moved: "Time moved to {time}",
      next_at: "next task timer: {time}",
      no_next: "no task timer ahead",
      connection_lost: "Connection lost — reconnecting…",
      connected: "live",
      today: "Today",
      yesterday: "Yesterday",
      empty_chat: "No messages here yet.",
      error: "Error: {error}",
      button_unsupported: "This kind of button does nothing in the sandbox.",
      hint: "Write to the bot in your private chat; team tasks arrive in the team groups. Switch persona to act as someone else.",
      group_requesters: "Requesters",
      group_centre: "Service centre",
      group_staff: "Staff teams",
      role_requester: "requester",
      role_dispatcher: "dispatcher",
      role_approver: "approver",
      role_supervisor: "supervisor",
      role_manager: "manager",
      role_admin: "admin",
      leader: "leader",
      sep: ", ",
      timers: "{claimed} task timer(s) fired",
      reply: "Reply",
      reply_to: "Reply to {name}",
      reply_cancel: "Cancel the reply",
    },
    zh: {
      title: "会务沙盒",
      you_are: "你是：",
      sandbox_time: "沙盒时间",
      next_task: "⏭ 下一个任务",
      next_task_hint: "把时间拨到下一个计划任务的时刻，并立即运行机器人的定时任务",
      plus_15: "+15 分钟",
      plus_hour: "+1 小时",
      tomorrow_17: "明天 17:00",
      reset: "⟲ 重置",
      reset_hint: "清空数据库，从头开始",
      reset_confirm: "确定重置吗？所有预订、任务和消息都会被删除。",
      reset_done: "已重置：数据库已清空。",
      chats: "聊天",
      start: "开始",
      menu: "菜单",
      attach: "发送图片或文件",
      write: "输入消息…",
      send: "发送",
      bot_subtitle: "机器人",
      members: "{n} 位成员",
      typing: "正在输入…",
      uploading: "正在发送文件…",
      edited: "已编辑",
      not_sent: "未发送——模拟器返回：{error}",
      no_commands: "机器人在这里没有设置命令。",
      nothing_planned: "沙盒时间之后没有计划中的任务。",
      moved: "时间已拨到 {time}",
      next_at: "下一个任务时刻：{time}",
      no_next: "之后没有计划中的任务",
      connection_lost: "连接中断，正在重连…",
      connected: "实时",
      today: "今天",
      yesterday: "昨天",
      empty_chat: "这里还没有消息。",
      error: "出错：{error}",
      button_unsupported: "沙盒中这种按钮没有作用。",
      hint: "在私聊中与机器人对话；班组任务推送到班组群。切换身份即可扮演其他人。",
      group_requesters: "申请人",
      group_centre: "服务中心",
      group_staff: "班组",
      role_requester: "申请人",
      role_dispatcher: "调度员",
      role_approver: "审批人",
      role_supervisor: "主管",
      role_manager: "经理",
      role_admin: "管理员",
      leader: "组长",
      sep: "，",
      timers: "触发了 {claimed} 个任务定时",
      reply: "回复",
      reply_to: "回复 {name}",
      reply_cancel: "取消回复",
    },
  };

  const $ = (id) => document.getElementById(id);
  const state = {
    lang: "zh",
    info: null,
    personas: [],
    persona: null,
    chats: [], // the persona's chats
    chatId: null,
    messages: new Map(), // chatId -> Map(messageId -> message)
    unread: new Map(), // chatId -> count
    lastChat: new Map(), // personaId -> chatId
    skew: 0, // sandbox clock minus this browser's clock, in ms
    zone: "Asia/Shanghai",
    nextTask: null,
    commands: new Map(), // `${persona}:${chat}` -> commands
    pending: new Map(), // callback query id -> button element
    typingTimer: null,
    connected: false,
    everConnected: false,
    oneTimeHidden: new Set(), // `${chat}:${message}` one-time reply keyboards already used
    replyTo: new Map(), // `${persona}:${chat}` -> the message the composer replies to
    forceOffered: new Set(), // `${persona}:${chat}:${message}` ForceReply messages already acted on
  };

  function t(key, values) {
    const table = I18N[state.lang] || I18N.en;
    let text = table[key] ?? I18N.en[key] ?? key;
    for (const [name, value] of Object.entries(values || {})) text = text.replaceAll(`{${name}}`, String(value));
    return text;
  }

  function el(tag, options = {}, ...children) {
    const node = document.createElement(tag);
    if (options.className) node.className = options.className;
    if (options.text !== undefined) node.textContent = options.text;
    for (const [name, value] of Object.entries(options.attrs || {})) {
      if (value !== undefined && value !== null && value !== false) node.setAttribute(name, String(value));
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  // ---- the API ------------------------------------------------------------------------------------
  async function api(path, options = {}) {
    const init = { method: options.method || "GET", headers: {} };
    if (options.body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    try {
      const response = await fetch(path, init);
      const data = await response.json().catch(() => ({}));
      if (!response.ok) return { ok: false, code: data.code, error: data.error || response.statusText, status: response.status };
      return { ok: true, ...data };
    } catch (error) {
      return { ok: false, code: "network", error: String(error.message || error) };
    }
  }

  // ---- time ---------------------------------------------------------------------------------------
  function zoned(ms) {
    const parts = {};
    const format = new Intl.DateTimeFormat("en-US", {
      timeZone: state.zone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    });
    for (const part of format.formatToParts(new Date(ms))) parts[part.type] = part.value;
    return parts;
  }
  const dayKey = (ms) => { const p = zoned(ms); return `${p.year}-${p.month}-${p.day}`; };
  const hhmm = (ms) => { const p = zoned(ms); return `${p.hour}:${p.minute}`; };
  function weekday(ms) {
    return new Intl.DateTimeFormat(state.lang === "en" ? "en-GB" : "zh-CN", { timeZone: state.zone, weekday: "short" })
      .format(new Date(ms));
  }
  function stamp(ms) {
    const p = zoned(ms);
    return `${p.year}-${p.month}-${p.day} ${weekday(ms)} ${p.hour}:${p.minute}`;
  }
  function dayLabel(ms) {
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

  function applyClock(clock) {
    if (!clock) return;
    state.skew = clock.now_ms - Date.now();
    state.zone = clock.zone || state.zone;
    $("clock-zone").textContent = `(${state.zone})`;
    if ("next_task_at" in clock) state.nextTask = clock.next_task_at ? Date.parse(clock.next_task_at) : null;
    renderClock();
  }
  function renderClock() {
    const now = sandboxNow();
    const display = $("clock-display");
    display.textContent = stamp(now);
    display.dateTime = new Date(now).toISOString();
    $("clock-display").dataset.local = (() => { const p = zoned(now); return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`; })();
    $("next-task").textContent = state.nextTask ? t("next_at", { time: stamp(state.nextTask) }) : t("no_next");
  }
  async function refreshClock() {
    const clock = await api("/api/clock");
    if (clock.ok) applyClock(clock);
  }

  async function moveClock(body, button) {
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

  // ---- page text ----------------------------------------------------------------------------------
  function applyLanguage() {
    document.documentElement.lang = state.lang === "en" ? "en" : "zh-CN";
    document.title = t("title");
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    for (const node of document.querySelectorAll("[data-i18n-title]")) node.title = t(node.dataset.i18nTitle);
    for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
    $("clock-15").textContent = t("plus_15");
    $("persona-hint").textContent = t("hint");
    if (state.info) $("site-name").textContent = state.info.site.name[state.lang] || state.info.site.name.zh;
    renderPersonaOptions();
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

  // ---- personas and chats -------------------------------------------------------------------------
  async function choosePersona(id, chatId) {
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

  async function loadChats() {
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

  function chatName(chat) {
    if (!chat) return "";
    if (chat.type === "private") return (state.info && state.info.bot.first_name) || "Bot";
    return chat.title || String(chat.id);
  }
  function avatar(name, id) {
    const colours = ["#e17076", "#7bc862", "#65aadd", "#a695e7", "#ee7aae", "#6ec9cb", "#faa774"];
    const node = el("div", { className: "avatar", text: Array.from(name || "?")[0], attrs: { "aria-hidden": "true" } });
    node.style.background = colours[Math.abs(Number(id)) % colours.length];
    return node;
  }
  function preview(message) {
    if (!message) return "";
    if (message.photo) return `🖼 ${message.caption || ""}`;
    if (message.document) return `📄 ${message.document.file_name || ""}`;
    return (message.text || message.caption || "").replace(/\s+/g, " ");
  }
  function lastMessage(chatId) {
    const map = state.messages.get(chatId);
    if (!map || !map.size) return null;
    let last = null;
    for (const message of map.values()) if (!last || message.message_id > last.message_id) last = message;
    return last;
  }

  function renderChatList() {
    const items = state.chats.map((chat) => {
      const last = lastMessage(chat.id);
      const unread = state.unread.get(chat.id) || 0;
      const item = el(
        "li",
        { className: `chat-item${chat.id === state.chatId ? " active" : ""}`, attrs: { "data-chat-id": chat.id, tabindex: 0, role: "button" } },
        avatar(chatName(chat), chat.id),
        el(
          "div",
          { className: "chat-item-body" },
          el("div", { className: "chat-item-top" },
            el("b", { className: "chat-item-title", text: chatName(chat) }),
            el("small", { className: "chat-item-time", text: last ? hhmm(last.sandbox_date * 1000) : "" })),
          el("div", { className: "chat-item-bottom" },
            el("span", { className: "chat-item-preview", text: preview(last) }),
            unread ? el("span", { className: "badge", text: String(unread) }) : null),
        ),
      );
      item.addEventListener("click", () => openChat(chat.id));
      item.addEventListener("keydown", (event) => { if (event.key === "Enter") openChat(chat.id); });
      return item;
    });
    $("chat-list").replaceChildren(...items);
  }

  async function openChat(chatId) {
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

  function currentChat() {
    return state.chats.find((c) => c.id === state.chatId) || null;
  }

  function renderHeader() {
    const chat = currentChat();
    $("chat-avatar").replaceWith(Object.assign(avatar(chatName(chat), chat ? chat.id : 0), { id: "chat-avatar" }));
    $("chat-title").textContent = chatName(chat);
    const subtitle = !chat ? "" : chat.type === "private" ? `@${state.info.bot.username} · ${t("bot_subtitle")}` : t("members", { n: chat.member_count });
    $("chat-subtitle").textContent = subtitle;
    $("chat-subtitle").dataset.base = subtitle;
  }

  // ---- messages -----------------------------------------------------------------------------------
  function sortedMessages(chatId) {
    return Array.from((state.messages.get(chatId) || new Map()).values())
      .filter((m) => !m.deleted)
      .sort((a, b) => a.message_id - b.message_id);
  }

  function renderMessages() {
    const box = $("messages");
    const messages = sortedMessages(state.chatId);
    const nodes = [];
    let day = null;
    for (const message of messages) {
      const key = dayKey(message.sandbox_date * 1000);
      if (key !== day) {
        nodes.push(el("div", { className: "day-separator", text: dayLabel(message.sandbox_date * 1000) }));
        day = key;
      }
      nodes.push(renderMessage(message));
    }
    if (!messages.length) nodes.push(el("p", { className: "empty", text: t("empty_chat") }));
    box.replaceChildren(...nodes);
    box.scrollTop = box.scrollHeight;
    renderBottom();
  }

  function isMine(message) {
    return message.sender === "user" && message.from && message.from.id === state.persona.id;
  }

  function renderMessage(message) {
    const chat = currentChat();
    const mine = isMine(message);
    const kind = message.sender === "bot" ? "from-bot" : mine ? "from-me" : "from-other";
    const bubble = el("div", { className: "bubble" });
    if (chat && chat.type !== "private" && !mine) {
      const from = message.from || {};
      const name = [from.first_name, from.last_name].filter(Boolean).join(" ");
      const sender = el("div", { className: "sender", text: name });
      sender.style.color = ["#c03d33", "#4fad2d", "#d09306", "#168acd", "#8544d6", "#cd4073", "#2996ad"][Math.abs(from.id || 0) % 7];
      bubble.append(sender);
    }
    if (message.reply_to_message_id) {
      const target = (state.messages.get(message.chat_id) || new Map()).get(message.reply_to_message_id);
      if (target) bubble.append(el("div", { className: "reply-quote", text: preview(target).slice(0, 120) }));
    }
    if (message.photo && message.photo.length) {
      const largest = message.photo[message.photo.length - 1];
      const link = el("a", { attrs: { href: fileUrl(largest.file_id), target: "_blank", rel: "noopener" } });
      const image = el("img", { className: "photo", attrs: { src: fileUrl(largest.file_id), alt: "photo", loading: "lazy" } });
      if (largest.width && largest.height) {
        image.width = Math.min(largest.width, 360);
        image.height = Math.round((image.width * largest.height) / largest.width);
      }
      link.append(image);
      bubble.append(link);
    }
    if (message.document) {
      const doc = message.document;
      const name = doc.file_name || "file";
      bubble.append(
        el("a", { className: "document", attrs: { href: fileUrl(doc.file_id, name, true), download: name } },
          el("span", { className: "document-icon", text: "📄", attrs: { "aria-hidden": "true" } }),
          el("span", { className: "document-body" },
            el("b", { text: name }),
            el("small", { text: humanSize(doc.file_size || 0) }))),
      );
    }
    const body = message.text ?? message.caption;
    const entities = message.text != null ? message.entities : message.caption_entities;
    if (body) {
      const text = el("div", { className: "text" });
      text.append(renderEntities(body, entities || []));
      bubble.append(text);
    }
    const meta = el("span", { className: "meta" });
    if (message.edit_count) meta.append(el("span", { className: "edited", text: t("edited") }), " ");
    meta.append(hhmm(message.sandbox_date * 1000));
    bubble.append(meta);

    const node = el("div", {
      className: `message ${kind}`,
      attrs: { "data-message-id": message.message_id, "data-chat-id": message.chat_id, "data-sender": message.sender },
    }, bubble);
    const keyboard = message.reply_markup && message.reply_markup.inline_keyboard;
    if (keyboard && keyboard.length) node.append(renderInlineKeyboard(message, keyboard));
    node.append(replyAction(message));
    return node;
  }

  function humanSize(bytes) {
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  }
  function fileUrl(fileId, name, download) {
    const query = new URLSearchParams();
    if (name) query.set("name", name);
    if (download) query.set("download", "1");
    const suffix = query.toString();
    return `/api/files/${encodeURIComponent(fileId)}${suffix ? `?${suffix}` : ""}`;
  }

  function renderInlineKeyboard(message, rows) {
    const keyboard = el("div", { className: "inline-keyboard" });
    for (const row of rows) {
      const line = el("div", { className: "kb-row" });
      for (const button of row) {
        let node;
        const url = button.url ? safeUrl(button.url) : null;
        if (url) {
          node = el("a", { className: "inline-button url", text: button.text, attrs: { href: url, target: "_blank", rel: "noopener noreferrer" } });
          node.append(el("span", { className: "corner", text: "↗", attrs: { "aria-hidden": "true" } }));
          interceptDeepLink(node, url);
        } else {
          node = el("button", { className: "inline-button", text: button.text, attrs: { type: "button" } });
          if (button.callback_data !== undefined) {
            node.addEventListener("click", () => press(message, button, node));
          } else {
            node.classList.add("unsupported");
            node.title = t("button_unsupported");
            node.addEventListener("click", () => toast(t("button_unsupported"), "warn"));
          }
        }
        line.append(node);
      }
      keyboard.append(line);
    }
    return keyboard;
  }

  async function press(message, button, node) {
    node.classList.add("pending");
    const result = await api(`/api/chats/${message.chat_id}/press`, {
      method: "POST",
      body: { user_id: state.persona.id, message_id: message.message_id, data: button.callback_data },
    });
    if (!result.ok) {
      node.classList.remove("pending");
      toast(t("error", { error: result.error }), "warn");
      return;
    }
    state.pending.set(result.id, node);
    setTimeout(() => { node.classList.remove("pending"); state.pending.delete(result.id); }, 10000);
  }

  // ---- entities → DOM (never HTML) ------------------------------------------------------------------
  function safeUrl(raw) {
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

  function interceptDeepLink(anchor, url) {
    // t.me/<this bot>?start=<payload> opens the private chat and sends /start <payload>, as Telegram does.
    let parsed;
    try { parsed = new URL(url); } catch (error) { return; }
    const username = state.info && state.info.bot.username;
    if (!username || !["t.me", "telegram.me"].includes(parsed.hostname)) return;
    if (parsed.pathname.replace(/^\//, "").toLowerCase() !== username.toLowerCase()) return;
    anchor.addEventListener("click", async (event) => {
      event.preventDefault();
      const payload = parsed.searchParams.get("start");
      if (state.chatId !== state.persona.id) await openChat(state.persona.id);
      await sendText(payload ? `/start ${payload}` : "/start");
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
        anchor.addEventListener("click", (event) => { event.preventDefault(); sendText(text); });
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
  function renderEntities(text, entities) {
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

  // ---- below the messages: start button, reply keyboard, composer -------------------------------------
  function renderBottom() {
    const chat = currentChat();
    const messages = sortedMessages(state.chatId);
    const showStart = chat && chat.type === "private" && messages.length === 0;
    $("start-panel").hidden = !showStart;
    $("composer").hidden = showStart;
    renderReplyKeyboard(messages);
    if (state.persona) offerForcedReply(messages);
    renderReplyBar(showStart);
  }

  // ---- reply mode: a ForceReply puts the composer in it; any message can be replied to ----------------
  const replyKey = () => `${state.persona.id}:${state.chatId}`;

  function forReplyFromMe(message) {
    // ForceReply's `selective`: only the people @mentioned in the text and the author of the
    // message the bot replied to; otherwise everyone in the chat.
    const markup = message.reply_markup || {};
    if (!markup.selective || message.chat_id > 0) return true;
    const me = state.persona;
    const body = message.text ?? message.caption ?? "";
    for (const entity of (message.text != null ? message.entities : message.caption_entities) || []) {
      if (entity.type === "text_mention" && entity.user && entity.user.id === me.id) return true;
      if (entity.type === "mention" && me.username
        && body.slice(entity.offset + 1, entity.offset + entity.length).toLowerCase() === me.username.toLowerCase()) return true;
    }
    const replied = message.reply_to_message_id && (state.messages.get(message.chat_id) || new Map()).get(message.reply_to_message_id);
    return Boolean(replied && replied.from && replied.from.id === me.id);
  }

  function offerForcedReply(messages) {
    // As Telegram's apps do: the newest ForceReply meant for this persona, not answered yet,
    // opens reply mode once; cancelling it or sending anything closes it.
    for (let i = messages.length - 1; i >= 0; i -= 1) {
      const message = messages[i];
      if (isMine(message)) return; // answered (or not) already
      const markup = message.reply_markup;
      if (message.sender !== "bot" || !markup || markup.inline_keyboard) continue;
      if (markup.force_reply && !forReplyFromMe(message)) continue;
      if (!markup.force_reply) return; // a newer reply keyboard replaces it
      const offered = `${replyKey()}:${message.message_id}`;
      if (state.forceOffered.has(offered)) return;
      state.forceOffered.add(offered);
      state.replyTo.set(replyKey(), message.message_id);
      return;
    }
  }

  function replyTarget() {
    if (!state.persona || state.chatId === null) return null;
    const id = state.replyTo.get(replyKey());
    const target = id && (state.messages.get(state.chatId) || new Map()).get(id);
    if (id && (!target || target.deleted)) state.replyTo.delete(replyKey());
    return target && !target.deleted ? target : null;
  }

  function senderName(message) {
    if (message.sender === "bot") return (state.info && state.info.bot.first_name) || "Bot";
    const from = message.from || {};
    return [from.first_name, from.last_name].filter(Boolean).join(" ");
  }

  function renderReplyBar(hidden = false) {
    const target = hidden ? null : replyTarget();
    $("reply-bar").hidden = !target;
    $("reply-bar").dataset.messageId = target ? String(target.message_id) : "";
    $("reply-bar-title").textContent = target ? t("reply_to", { name: senderName(target) }) : "";
    $("reply-bar-text").textContent = target ? preview(target).slice(0, 160) : "";
  }

  function replyTo(message) {
    state.replyTo.set(replyKey(), message.message_id);
    renderReplyBar();
    $("composer-input").focus();
  }

  function cancelReply() {
    state.replyTo.delete(replyKey());
    renderReplyBar();
  }

  function replyAction(message) {
    const button = el("button", {
      className: "reply-action",
      text: "↩",
      attrs: { type: "button", title: t("reply"), "aria-label": t("reply"), "data-action": "reply" },
    });
    button.addEventListener("click", () => replyTo(message));
    return button;
  }

  function renderReplyKeyboard(messages) {
    const box = $("reply-keyboard");
    let markup = null;
    let source = null;
    $("composer-input").placeholder = t("write");
    let sentSince = false; // a ForceReply is over once this persona has sent a message after it
    for (let i = messages.length - 1; i >= 0; i -= 1) {
      const message = messages[i];
      const candidate = message.reply_markup;
      if (isMine(message)) sentSince = true;
      if (message.sender !== "bot" || !candidate || candidate.inline_keyboard) continue;
      if (candidate.force_reply && (sentSince || !forReplyFromMe(message))) continue;
      if (candidate.keyboard || candidate.remove_keyboard) { markup = candidate; source = message; }
      if (candidate.keyboard || candidate.remove_keyboard || candidate.force_reply) {
        $("composer-input").placeholder = candidate.input_field_placeholder || t("write");
        break;
      }
    }
    if (!markup || !markup.keyboard || state.oneTimeHidden.has(`${state.chatId}:${source.message_id}`)) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    const rows = markup.keyboard.map((row) => {
      const line = el("div", { className: "kb-row" });
      for (const button of row) {
        const node = el("button", { className: "reply-button", text: button.text, attrs: { type: "button" } });
        node.addEventListener("click", async () => {
          if (markup.one_time_keyboard) state.oneTimeHidden.add(`${state.chatId}:${source.message_id}`);
          await sendText(button.text);
        });
        line.append(node);
      }
      return line;
    });
    box.replaceChildren(...rows);
    box.hidden = false;
  }

  function showSendError(message) {
    const box = $("send-error");
    box.textContent = t("not_sent", { error: message });
    box.hidden = false;
  }
  function hideSendError() {
    $("send-error").hidden = true;
    $("send-error").textContent = "";
  }

  function replyFields() {
    const target = replyTarget();
    return target ? { reply_to_message_id: target.message_id } : {};
  }

  function replySent(key) {
    state.replyTo.delete(key);
    renderReplyBar();
  }

  async function sendText(text, options = {}) {
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

  async function sendFile(file) {
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

  // ---- command menu -------------------------------------------------------------------------------
  async function commandsHere() {
    const key = `${state.persona.id}:${state.chatId}`;
    if (!state.commands.has(key)) {
      const result = await api(`/api/chats/${state.chatId}/commands?user_id=${state.persona.id}`);
      if (!result.ok) return [];
      state.commands.set(key, result.commands);
    }
    return state.commands.get(key);
  }

  async function openMenu(filter = "") {
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
  function closeMenu() {
    state.menuTicket = (state.menuTicket || 0) + 1;
    $("command-menu").hidden = true;
    $("menu-button").setAttribute("aria-expanded", "false");
  }

  // ---- live updates -------------------------------------------------------------------------------
  function isNearBottom() {
    const box = $("messages");
    return box.scrollHeight - box.scrollTop - box.clientHeight < 120;
  }

  function upsertMessage(message, options = {}) {
    const chatId = message.chat_id;
    if (!state.chats.some((c) => c.id === chatId)) return;
    if (!state.messages.has(chatId)) state.messages.set(chatId, new Map());
    const map = state.messages.get(chatId);
    const known = map.get(message.message_id);
    if (known && known.seq > message.seq) return; // an older copy arriving late
    map.set(message.message_id, message);
    if (chatId !== state.chatId) {
      if (!known && !message.deleted && !isMine(message)) state.unread.set(chatId, (state.unread.get(chatId) || 0) + 1);
      renderChatList();
      return;
    }
    const box = $("messages");
    const existing = box.querySelector(`.message[data-message-id="${message.message_id}"]`);
    const stick = options.scroll || isNearBottom();
    if (message.deleted) {
      renderMessages();
    } else if (existing) {
      existing.replaceWith(renderMessage(message));
      renderBottom();
    } else {
      const later = Array.from(box.querySelectorAll(".message")).find((node) => Number(node.dataset.messageId) > message.message_id);
      if (later || !box.querySelector(".message")) {
        renderMessages();
      } else {
        const previous = sortedMessages(chatId).filter((m) => m.message_id < message.message_id).pop();
        if (!previous || dayKey(previous.sandbox_date * 1000) !== dayKey(message.sandbox_date * 1000)) {
          box.append(el("div", { className: "day-separator", text: dayLabel(message.sandbox_date * 1000) }));
        }
        box.append(renderMessage(message));
        renderBottom();
      }
    }
    if (stick) box.scrollTop = box.scrollHeight;
    renderChatList();
  }

  function setSubtitle(text) {
    const node = $("chat-subtitle");
    node.textContent = text || node.dataset.base || "";
    node.classList.toggle("typing", Boolean(text));
  }

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

  function connect() {
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

  // ---- toasts and alerts ----------------------------------------------------------------------------
  function toast(text, kind = "info") {
    const node = el("div", { className: `toast ${kind}`, text, attrs: { role: "status" } });
    $("toasts").append(node);
    while ($("toasts").children.length > 3) $("toasts").firstElementChild.remove();
    setTimeout(() => node.classList.add("leaving"), 4200);
    setTimeout(() => node.remove(), 4600);
  }
  function showAlert(text) {
    $("alert-text").textContent = text;
    const dialog = $("alert-dialog");
    if (typeof dialog.showModal === "function") dialog.showModal();
    else toast(text);
  }

  // ---- wiring -------------------------------------------------------------------------------------
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
    const [info, personas] = await Promise.all([api("/api/info"), api("/api/personas")]);
    if (!info.ok || !personas.ok) {
      toast(t("error", { error: info.error || personas.error }), "warn");
      return;
    }
    state.info = info;
    state.personas = personas.personas;
    applyClock(info.clock);
    refreshClock();
    connect();
    const params = new URLSearchParams(window.location.search);
    const wanted = params.get("as") || localStorage.getItem("huiwu-sandbox-persona");
    await choosePersona(wanted, params.get("chat"));
    document.body.dataset.ready = "true";
  }

  boot();
})();
