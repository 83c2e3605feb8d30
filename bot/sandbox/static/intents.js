// What a rendered element asks for when clicked: open a chat, send a text. The chat list, the
// message text and the reply keyboard are drawn below the modules that do these (chats.js,
// composer.js), which in turn redraw them; app.js binds the two at start, so no module imports
// another in a cycle.

export const intents = {
  /** Open a chat of the persona in use. */
  openChat: async (chatId) => {
    throw new Error(`openChat(${chatId}) before app.js bound it`);
  },
  /** Send a text into the open chat as the persona in use; true once the emulator took it. */
  sendText: async (text) => {
    throw new Error(`sendText(${JSON.stringify(text)}) before app.js bound it`);
  },
};
