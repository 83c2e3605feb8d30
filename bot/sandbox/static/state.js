// What the page knows: the personas, the open chat, every chat's messages and the page's own
// bookkeeping (unread counts, pending button presses, reply mode). One object, shared by every module.

export const state = {
  lang: "zh",
  info: null,
  personas: [],
  rooms: [], // the site's rooms, each with its door display's address
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
  menuTicket: 0, // bumped whenever the command menu closes, so a list loading late is dropped
  chatsTimer: null, // a burst of group changes reloads the chats once
};
