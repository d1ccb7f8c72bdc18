// Courtyard playground: a Telegram-like group chat over the fake Bot API's world.
// Plain JavaScript, no build step. Everything the bot or a person wrote is put on the page
// as text nodes (never as HTML): formatting comes from the message's entities, which the fake
// parsed from the bot's HTML exactly as Telegram does, so only Telegram's own tags can ever
// show as formatting and anything else is shown as the characters it is.
"use strict";

const S = {
  lang: "en",
  words: {},             // the page's words in the playground's language (from the catalogs)
  bot: null,
  people: [],
  chats: new Map(),      // id -> chat summary
  messages: new Map(),   // chat id -> Map(message id -> message)
  me: null,              // person id
  open: null,            // chat id
  topic: null,           // the open forum topic's id (null: General)
  newTopic: null,        // a topic this person created, opened as soon as the page knows it
  replyTo: null,         // message id
  els: new Map(),        // message id -> element, for the open chat
};

const $ = (id) => document.getElementById(id);

function w(key, params) {
  let text = S.words[key] || key;
  for (const [name, value] of Object.entries(params || {})) {
    text = text.split("{" + name + "}").join(String(value));
  }
  return text;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// ---------------------------------------------------------------- talking to the server

async function act(action, body) {
  const response = await fetch("/api/" + action, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  let answer = {};
  try { answer = await response.json(); } catch (_) { answer = { error: response.statusText }; }
  if (!response.ok) {
    toast(answer.word ? w(answer.word) : answer.error || response.statusText, true);
    throw new Error(answer.error || response.statusText);
  }
  return answer;
}

function connect() {
  const source = new EventSource("/api/events");
  source.onmessage = (event) => handle(JSON.parse(event.data));
  source.onerror = () => { $("offline").hidden = false; };
  source.onopen = () => { $("offline").hidden = true; };
}

function handle(event) {
  switch (event.type) {
    case "state": loadState(event.state); break;
    case "message": putMessage(event.chat, event.message); break;
    case "deleted": dropMessage(event.chat, event.message_id); break;
    case "chat": chatChanged(event.chat); break;
    case "people": S.people = event.people; renderWho(); renderChats(); renderHead(); break;
    case "commands": if (!$("menu").hidden) openMenu(); break;
    case "status": renderStatus(event.status); break;
    case "answer": early(event); break;
  }
}
S.pending = new Set();   // our presses the bot has not answered yet
S.early = new Map();     // answers that came before the page knew the press was its own

function chatChanged(chat) {
  S.chats.set(chat.id, chat);
  renderChats();
  if (chat.id !== S.open) return;
  if (S.newTopic !== null && (chat.topics || []).some((t) => t.id === S.newTopic)) {
    S.topic = S.newTopic;  // the topic this person just created: open it
    S.newTopic = null;
    S.replyTo = null;
    renderOpen();
    return;
  }
  renderTopics();
  renderHead();
}

function early(event) {
  if (S.pending.has(event.query_id)) { answered(event); return; }
  S.early.set(event.query_id, event);  // the press's own reply may still be on its way
  if (S.early.size > 50) S.early.delete(S.early.keys().next().value);
}

function loadState(state) {
  S.lang = state.language;
  S.words = state.words;
  document.documentElement.lang = htmlLang(S.lang);
  for (const node of document.querySelectorAll("[data-l]")) node.textContent = w(node.dataset.l);
  $("text").placeholder = w("write");
  $("offline").textContent = w("offline");
  $("new-name").placeholder = w("name_hint");
  $("topic-name").placeholder = w("topic_name");
  $("attach").title = w("attach");
  S.bot = state.bot;
  S.people = state.people;
  S.chats = new Map(state.chats.map((c) => [c.id, c]));
  S.messages = new Map();
  for (const [chat, list] of Object.entries(state.messages)) {
    S.messages.set(Number(chat), new Map(list.map((m) => [m.message_id, m])));
  }
  const params = new URLSearchParams(location.hash.slice(1));
  if (S.me === null || !S.people.some((p) => p.id === S.me)) {
    const wanted = Number(params.get("as"));
    S.me = S.people.some((p) => p.id === wanted) ? wanted : (S.people[0] || {}).id || null;
  }
  if (S.open === null || !S.chats.has(S.open)) {
    const home = [...S.chats.values()].find((c) => c.home);
    S.open = home ? home.id : S.me;
  }
  renderStatus(state.status);
  renderWho();
  renderChats();
  renderOpen();
}

// ---------------------------------------------------------------- people and chats

function htmlLang(code) {
  const lower = String(code || "en").toLowerCase();
  if (lower === "zh-hant" || lower === "zh_hant" || lower === "zh-tw" || lower === "zh-hk") return "zh-Hant";
  if (lower.startsWith("zh")) return "zh-Hans";
  return lower;
}

function person(id) { return S.people.find((p) => p.id === id); }

function isMember(chat, id) {
  const status = chat.members[String(id)];
  return status === "creator" || status === "administrator" || status === "member";
}

function isAdmin(chat, id) {
  const status = chat.members[String(id)];
  return status === "creator" || status === "administrator";
}

function renderWho() {
  const select = $("who");
  select.replaceChildren();
  for (const p of S.people) {
    const role = p.role ? " · " + p.role : "";
    select.append(el("option", { value: p.id, selected: p.id === S.me }, p.name + role));
  }
}

function visibleChats() {
  const groups = [...S.chats.values()].filter(
    (c) => c.type !== "private" && !c.migrated_to && (isMember(c, S.me) || c.home),
  );
  groups.sort((a, b) => (b.home ? 1 : 0) - (a.home ? 1 : 0));
  const mine = S.chats.get(S.me);
  return mine ? [...groups, mine] : groups;
}

function chatName(chat) {
  return chat.type === "private" ? w("private_with", { bot: S.bot.first_name }) : chat.title;
}

function renderChats() {
  const list = $("chats");
  list.replaceChildren();
  for (const chat of visibleChats()) {
    const count = (S.messages.get(chat.id) || new Map()).size;
    list.append(el("li", {
      class: chat.id === S.open ? "open" : "",
      "data-chat": chat.id,
      "data-testid": chat.type === "private" ? "chat-private" : "chat-group",
      onclick: () => openChat(chat.id),
    }, el("span", {}, chatName(chat)), el("span", { class: "count" }, count)));
  }
}

function openChat(id, topic) {
  S.open = id;
  S.topic = topic === undefined ? null : topic;
  S.replyTo = null;
  renderChats();
  renderOpen();
}

// ---------------------------------------------------------------- forum topics

// The topic a message is in (null: General, or a chat without topics), as Telegram marks it.
function topicOf(message) {
  return message.is_topic_message && message.message_thread_id ? message.message_thread_id : null;
}

function isForum(chat) { return Boolean(chat && chat.type !== "private" && chat.forum); }

function openTopic(chat) {
  if (!isForum(chat) || S.topic === null) return null;
  return (chat.topics || []).find((t) => t.id === S.topic) || null;
}

function shownHere(message) {
  return !isForum(S.chats.get(S.open)) || topicOf(message) === S.topic;
}

function renderTopics() {
  const chat = S.chats.get(S.open);
  const pane = $("topics");
  if (!isForum(chat)) { pane.hidden = true; return; }
  if (S.topic !== null && !(chat.topics || []).some((t) => t.id === S.topic)) S.topic = null;
  pane.hidden = false;
  const list = $("topic-list");
  list.replaceChildren();
  const messages = [...(S.messages.get(chat.id) || new Map()).values()];
  const count = (id) => messages.filter((m) => topicOf(m) === id && service(m) === null).length;
  const item = (id, name, color, closed) => el("li", {
    class: S.topic === id ? "open" : "",
    "data-topic": id === null ? "general" : id,
    "data-testid": "topic",
    onclick: () => { S.topic = id; S.replyTo = null; renderOpen(); },
  }, el("span", { class: "topic-icon", style: null, "data-color": color }, id === null ? "#" : ""),
  el("span", { class: "topic-name" }, name, closed ? " 🔒" : ""),
  el("span", { class: "count" }, count(id)));
  list.append(item(null, w("general"), null, false));
  for (const topic of chat.topics || []) list.append(item(topic.id, topic.name, topic.icon_color, topic.closed));
  for (const icon of list.querySelectorAll(".topic-icon[data-color]")) {
    const color = Number(icon.dataset.color);
    if (color) icon.style.background = "#" + color.toString(16).padStart(6, "0");
  }
  $("new-topic-form").hidden = !isAdmin(chat, S.me);
}

function renderStatus(text) {
  const node = $("status");
  node.textContent = text || "";
  node.hidden = !text;
}

// ---------------------------------------------------------------- the open chat

function renderOpen() {
  renderTopics();
  renderHead();
  const box = $("messages");
  box.replaceChildren();
  S.els = new Map();
  const messages = S.messages.get(S.open) || new Map();
  for (const id of [...messages.keys()].sort((a, b) => a - b)) {
    if (!shownHere(messages.get(id))) continue;
    const node = renderMessage(messages.get(id));
    S.els.set(id, node);
    box.append(node);
  }
  box.scrollTop = box.scrollHeight;
  renderReply();
  $("menu").hidden = true;
}

function renderHead() {
  const chat = S.chats.get(S.open);
  if (!chat) return;
  const topic = openTopic(chat);
  $("chat-title").textContent = isForum(chat)
    ? chatName(chat) + " › " + (topic ? topic.name : w("general")) : chatName(chat);
  const actions = $("chat-actions");
  actions.replaceChildren();
  const banner = $("banner");
  banner.replaceChildren();
  banner.hidden = true;
  let canWrite = true;
  if (chat.type === "private") {
    $("chat-sub").textContent = "@" + S.bot.username + " · " + w("bot");
    const me = person(S.me);
    if (me && !me.started) {
      banner.append(el("span", {}, w("start_hint", { bot: S.bot.first_name })),
        el("button", { type: "button", "data-testid": "start", onclick: () => send("/start") }, w("start")));
      banner.hidden = false;
    }
  } else {
    const count = Object.values(chat.members).filter((s) => s === "creator" || s === "administrator" || s === "member").length;
    $("chat-sub").textContent = w("members", { n: count });
    if (!isMember(chat, S.me)) {
      canWrite = false;
      banner.append(el("span", {}, w("not_member")),
        el("button", { type: "button", "data-testid": "join", onclick: () => act("join", { user: S.me, chat: chat.id }) }, w("join")));
      banner.hidden = false;
    } else if (chat.bot_status !== "member" && chat.bot_status !== "administrator") {
      banner.append(el("span", {}, w("bot_not_in", { bot: S.bot.first_name })),
        el("button", { type: "button", "data-testid": "add-bot", onclick: () => act("add_bot", { user: S.me, chat: chat.id }) },
          w("add_bot", { bot: S.bot.first_name })));
      banner.hidden = false;
    } else if (topic && topic.closed && !isAdmin(chat, S.me)) {
      canWrite = false;
      banner.append(el("span", { "data-testid": "topic-closed" }, w("topic_closed")));
      banner.hidden = false;
    }
    if (isMember(chat, S.me) && isAdmin(chat, S.me) && topic) {
      actions.append(el("button", {
        type: "button", "data-testid": topic.closed ? "reopen-topic" : "close-topic",
        onclick: () => act(topic.closed ? "reopen_topic" : "close_topic", { user: S.me, chat: chat.id, topic: topic.id }),
      }, w(topic.closed ? "reopen_topic" : "close_topic")));
    }
    if (isMember(chat, S.me) && isAdmin(chat, S.me) && (chat.bot_status === "member" || chat.bot_status === "administrator")) {
      const admin = chat.bot_status === "administrator";
      actions.append(el("button", {
        type: "button", "data-testid": admin ? "demote-bot" : "promote-bot",
        onclick: () => act(admin ? "demote_bot" : "promote_bot", { user: S.me, chat: chat.id }),
      }, w(admin ? "unmake_admin" : "make_admin", { bot: S.bot.first_name })));
      actions.append(el("button", { type: "button", "data-testid": "remove-bot", onclick: () => act("remove_bot", { user: S.me, chat: chat.id }) },
        w("remove_bot", { bot: S.bot.first_name })));
    }
    if (isMember(chat, S.me) && chat.members[String(S.me)] !== "creator") {
      actions.append(el("button", { type: "button", "data-testid": "leave", onclick: () => act("leave", { user: S.me, chat: chat.id }) }, w("leave")));
    }
  }
  $("composer").setAttribute("aria-disabled", canWrite ? "false" : "true");
  renderPinned(chat);
}

function renderPinned(chat) {
  const bar = $("pinned");
  const messages = S.messages.get(chat.id) || new Map();
  const id = [...chat.pinned].reverse().find((m) => messages.has(m));
  if (id === undefined) { bar.hidden = true; return; }
  const message = messages.get(id);
  $("pinned-text").textContent = firstLine(message);
  bar.hidden = false;
  bar.onclick = () => flash(id);
}

function firstLine(message) {
  const text = message.text || message.caption || (message.document && message.document.file_name) || "";
  return text.split("\n")[0].slice(0, 120);
}

function flash(id) {
  let node = S.els.get(id);
  const message = (S.messages.get(S.open) || new Map()).get(id);
  if (!node && message && isForum(S.chats.get(S.open)) && topicOf(message) !== S.topic) {
    S.topic = topicOf(message);  // the message is in another topic: open it there
    renderOpen();
    node = S.els.get(id);
  }
  if (!node) return;
  node.scrollIntoView({ block: "center" });
  node.classList.add("flash");
  setTimeout(() => node.classList.remove("flash"), 1200);
}

function putMessage(chatId, message) {
  if (!S.messages.has(chatId)) S.messages.set(chatId, new Map());
  const known = S.messages.get(chatId);
  const isNew = !known.has(message.message_id);
  known.set(message.message_id, message);
  if (isNew) renderChats();
  if (chatId !== S.open) return;
  if (isNew && isForum(S.chats.get(chatId))) renderTopics();
  if (!shownHere(message)) return;
  const box = $("messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const node = renderMessage(message);
  const old = S.els.get(message.message_id);
  if (old) {
    old.replaceWith(node);
  } else {
    const later = [...S.els.keys()].filter((id) => id > message.message_id).sort((a, b) => a - b)[0];
    if (later !== undefined) S.els.get(later).before(node); else box.append(node);
  }
  S.els.set(message.message_id, node);
  if (isNew && atBottom) box.scrollTop = box.scrollHeight;
  renderPinned(S.chats.get(chatId));
}

function dropMessage(chatId, id) {
  const known = S.messages.get(chatId);
  if (known) known.delete(id);
  if (chatId !== S.open) { renderChats(); return; }
  const node = S.els.get(id);
  if (node) node.remove();
  S.els.delete(id);
  renderChats();
  renderPinned(S.chats.get(chatId));
}

function nameOf(user) {
  if (!user) return "";
  return user.last_name ? user.first_name + " " + user.last_name : user.first_name;
}

function service(message) {
  const who = nameOf(message.from);
  if (message.new_chat_members) {
    const names = message.new_chat_members.map(nameOf).join(", ");
    return names === who ? w("joined", { who }) : w("added", { who, whom: names });
  }
  if (message.left_chat_member) return w("left", { who: nameOf(message.left_chat_member) });
  if (message.new_chat_title) return w("title", { who, title: message.new_chat_title });
  if (message.pinned_message) return w("pinned_service", { who });
  if (message.migrate_to_chat_id || message.migrate_from_chat_id) return w("migrated");
  if (message.forum_topic_created) return w("topic_created", { who, topic: message.forum_topic_created.name });
  if (message.forum_topic_closed) return w("topic_closed_service", { who });
  if (message.forum_topic_reopened) return w("topic_reopened_service", { who });
  return null;
}

function renderMessage(message) {
  const text = service(message);
  if (text !== null) {
    return el("div", { class: "service", "data-id": message.message_id, "data-testid": "service" }, text);
  }
  const fromBot = message.from && message.from.id === S.bot.id;
  const mine = message.from && message.from.id === S.me;
  const chat = S.chats.get(S.open);
  const bubble = el("div", { class: "bubble" });
  if (chat && chat.type !== "private" && !mine) {
    bubble.append(el("div", { class: "sender" + (fromBot ? " bot" : "") }, nameOf(message.from)));
  }
  const quoted = message.reply_to_message;
  if (quoted && !quoted.forum_topic_created) {  // Telegram marks a topic's messages as replies to its start
    bubble.append(el("div", { class: "quote", onclick: () => flash(quoted.message_id) },
      el("b", {}, nameOf(quoted.from)), " ", firstLine(quoted)));
  }
  if (message.photo_url) {
    bubble.append(el("img", { class: "photo", src: message.photo_url, alt: message.caption || "", "data-testid": "photo" }));
  }
  if (message.document) {
    const doc = message.document;
    bubble.append(el("a", {
      class: "doc", href: doc.url, download: doc.file_name || "file", "data-testid": "document",
      title: w("download"),
    }, el("span", { class: "icon" }, "📄"),
    el("span", {}, el("div", { class: "name" }, doc.file_name || "file"),
      el("div", { class: "size" }, size(doc.file_size || 0)))));
  }
  const body = message.text !== undefined ? message.text : message.caption;
  const entities = message.text !== undefined ? message.entities : message.caption_entities;
  if (body) bubble.append(el("div", { class: "text", "data-testid": "text" }, ...formatted(body, entities || [])));
  const keyboard = (message.reply_markup || {}).inline_keyboard;
  if (keyboard && keyboard.length) bubble.append(renderKeyboard(message, keyboard));
  const locale = { "zh-Hans": "zh-Hans", "zh-Hant": "zh-Hant-TW", ru: "ru", en: "en-GB" }[htmlLang(S.lang)] || undefined;
  const time = new Date(message.date * 1000).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
  const meta = el("div", { class: "meta" },
    el("button", { type: "button", "data-testid": "reply", onclick: () => { S.replyTo = message.message_id; renderReply(); $("text").focus(); } }, w("reply")),
    message.edit_date ? w("edited") + " " : "", time);
  bubble.append(meta);
  return el("div", {
    class: "msg" + (mine ? " mine" : "") + (fromBot ? " from-bot" : ""),
    "data-id": message.message_id,
    "data-testid": fromBot ? "bot-message" : "message",
  }, bubble);
}

function size(bytes) {
  if (bytes < 1024) return bytes + " B";
  if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
  return (bytes / 1024 / 1024).toFixed(1) + " MB";
}

function renderKeyboard(message, rows) {
  const box = el("div", { class: "keyboard" });
  for (const row of rows) {
    const line = el("div", { class: "row" });
    for (const button of row) {
      const payload = button.url ? deepLink(button.url) : null;
      if (payload !== null) {
        line.append(el("button", {
          type: "button", "data-testid": "link-button", "data-url": button.url, title: w("open_in_private"),
          onclick: () => startWith(payload),
        }, button.text, " ↗"));
      } else if (button.url && /^https?:\/\//i.test(button.url)) {
        line.append(el("a", { href: button.url, target: "_blank", rel: "noopener noreferrer" }, button.text));
      } else if (button.callback_data !== undefined) {
        line.append(el("button", {
          type: "button", "data-data": button.callback_data, "data-testid": "button",
          onclick: () => press(message, button.callback_data),
        }, button.text));
      } else {
        line.append(el("button", { type: "button", disabled: true }, button.text));
      }
    }
    box.append(line);
  }
  return box;
}

// Telegram's entity types, each as the element it shows as; anything else is plain text.
function wrap(entity, children) {
  switch (entity.type) {
    case "bold": return el("b", {}, ...children);
    case "italic": return el("i", {}, ...children);
    case "underline": return el("u", {}, ...children);
    case "strikethrough": return el("s", {}, ...children);
    case "spoiler": {
      const node = el("span", { class: "spoiler" }, ...children);
      node.addEventListener("click", () => node.classList.add("shown"));
      return node;
    }
    case "code": return el("code", {}, ...children);
    case "pre": return el("pre", {}, el("code", {}, ...children));
    case "blockquote":
    case "expandable_blockquote": return el("blockquote", {}, ...children);
    case "text_link": return link(entity.url, children);
    case "url": return link(children.map((c) => c.textContent).join(""), children);
    case "mention":
    case "text_mention": return el("span", { class: "mention" }, ...children);
    case "hashtag":
    case "cashtag": return el("span", { class: "hashtag" }, ...children);
    case "bot_command": {
      const command = children.map((c) => c.textContent).join("");
      return el("span", { class: "command", role: "button", onclick: () => send(command) }, ...children);
    }
    default: return el("span", {}, ...children);
  }
}

// A link to this bot with ?start= (a deep link) opens the person's private chat with the bot and
// sends /start <payload> there, as Telegram does; null for any other link.
function deepLink(url) {
  if (!S.bot || !S.bot.username) return null;
  let parsed;
  try { parsed = new URL(/^[a-z][a-z0-9+.-]*:/i.test(url) ? url : "https://" + url); } catch (_) { return null; }
  const host = parsed.hostname.toLowerCase();
  let name = "";
  if (parsed.protocol === "tg:" && host === "resolve") name = parsed.searchParams.get("domain") || "";
  else if ((parsed.protocol === "https:" || parsed.protocol === "http:") && ["t.me", "telegram.me", "www.t.me"].includes(host)) {
    name = parsed.pathname.replace(/^\/+|\/+$/g, "");
  } else return null;
  if (name.toLowerCase() !== S.bot.username.toLowerCase()) return null;
  const start = parsed.searchParams.get("start");
  return start === null ? "" : start;
}

async function startWith(payload) {
  const me = S.me;
  openChat(me);
  await sendTo(me, null, payload ? "/start " + payload : "/start");
}

function link(url, children) {
  const payload = deepLink(String(url || ""));
  if (payload !== null) {
    return el("a", { href: "#", class: "deep-link", "data-testid": "deep-link", onclick: (event) => { event.preventDefault(); startWith(payload); } }, ...children);
  }
  let href = String(url || "");
  if (!/^[a-z][a-z0-9+.-]*:/i.test(href)) href = "http://" + href;
  if (!/^(https?|tg|mailto):/i.test(href)) return el("span", {}, ...children);
  return el("a", { href, target: "_blank", rel: "noopener noreferrer" }, ...children);
}

// Entities nest (the fake produces them from nested HTML tags); offsets are UTF-16 units,
// as JavaScript strings count.
function formatted(text, entities) {
  const sorted = [...entities].sort((a, b) => a.offset - b.offset || b.length - a.length);
  return build(text, 0, text.length, sorted);
}

function build(text, start, end, entities) {
  const out = [];
  let pos = start;
  let i = 0;
  while (i < entities.length) {
    const e = entities[i];
    const from = Math.max(e.offset, pos);
    const to = Math.min(e.offset + e.length, end);
    i += 1;
    if (to <= from) continue;
    if (from > pos) out.push(document.createTextNode(text.slice(pos, from)));
    const inner = [];
    while (i < entities.length && entities[i].offset < to) { inner.push(entities[i]); i += 1; }
    out.push(wrap(e, build(text, from, to, inner)));
    pos = to;
  }
  if (pos < end) out.push(...commands(text.slice(pos, end)));
  return out;
}

// As Telegram's apps do, a /command in plain text can be tapped to send it.
function commands(text) {
  const out = [];
  const pattern = /(^|[\s(])(\/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{5,32})?)(?=$|[\s.,;:!?)])/g;
  let pos = 0;
  for (const found of text.matchAll(pattern)) {
    const start = found.index + found[1].length;
    if (start > pos) out.push(document.createTextNode(text.slice(pos, start)));
    out.push(wrap({ type: "bot_command" }, [document.createTextNode(found[2])]));
    pos = start + found[2].length;
  }
  if (pos < text.length) out.push(document.createTextNode(text.slice(pos)));
  return out;
}

// ---------------------------------------------------------------- doing things

async function send(text) {
  const reply = S.replyTo;
  await sendTo(S.open, isForum(S.chats.get(S.open)) ? S.topic : null, text, reply);
  S.replyTo = null;
  renderReply();
}

async function sendTo(chat, topic, text, reply) {
  const body = { user: S.me, chat, text };
  if (reply !== null && reply !== undefined) body.reply_to = reply;
  if (topic !== null && topic !== undefined) body.topic = topic;
  await act("send", body);
}

async function press(message, data) {
  const answer = await act("press", { user: S.me, chat: S.open, message_id: message.message_id, data });
  const known = S.early.get(answer.query_id);
  if (known) { S.early.delete(answer.query_id); answered(known); } else S.pending.add(answer.query_id);
}

function answered(event) {
  S.pending.delete(event.query_id);
  if (!event.text) return;
  if (event.show_alert) {
    $("alert-text").textContent = event.text;
    $("alert").hidden = false;
    $("alert-ok").focus();
  } else {
    toast(event.text, false);
  }
}

function toast(text, error) {
  const node = el("div", { class: "toast" + (error ? " error" : ""), "data-testid": error ? "error" : "toast" }, text);
  $("toasts").append(node);
  setTimeout(() => node.remove(), error ? 6000 : 3500);
}

function renderReply() {
  const bar = $("reply-bar");
  const message = S.replyTo !== null && (S.messages.get(S.open) || new Map()).get(S.replyTo);
  if (!message) { bar.hidden = true; S.replyTo = null; return; }
  $("reply-text").textContent = nameOf(message.from) + ": " + firstLine(message);
  bar.hidden = false;
}

async function openMenu() {
  const menu = $("menu");
  const answer = await (await fetch(`/api/menu?chat=${S.open}&user=${S.me}`)).json();
  menu.replaceChildren();
  const commands = answer.commands || [];
  if (!commands.length) menu.append(el("div", { class: "empty" }, w("no_commands")));
  for (const c of commands) {
    menu.append(el("div", {
      class: "cmd", "data-testid": "command", "data-command": c.command,
      onclick: () => { menu.hidden = true; send("/" + c.command); },
    }, el("b", {}, "/" + c.command), el("span", {}, c.description)));
  }
  menu.hidden = false;
}

function readFile(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

function setup() {
  $("who").addEventListener("change", (event) => {
    S.me = Number(event.target.value);
    history.replaceState(null, "", "#as=" + S.me);
    const chat = S.chats.get(S.open);
    if (!chat || (chat.type === "private" && chat.id !== S.me)) S.open = S.me;
    S.replyTo = null;
    renderChats();
    renderOpen();
  });
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("text").value.trim();
    if (!text) return;
    send(text).then(() => { $("text").value = ""; $("text").style.height = ""; }, () => {});
  });
  $("text").addEventListener("input", () => {
    const box = $("text");
    box.style.height = "auto";
    box.style.height = Math.min(box.scrollHeight + 2, 150) + "px";
  });
  $("text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("menu-button").addEventListener("click", () => {
    if ($("menu").hidden) openMenu(); else $("menu").hidden = true;
  });
  $("reply-cancel").addEventListener("click", () => { S.replyTo = null; renderReply(); });
  $("alert-ok").addEventListener("click", () => { $("alert").hidden = true; });
  $("file").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (!file) return;
    const content = await readFile(file);
    const caption = $("text").value.trim();
    const topic = isForum(S.chats.get(S.open)) ? S.topic : null;
    // pictures go as photos (as Telegram's apps send them), anything else as a file
    const as_photo = /^image\/(jpeg|png|gif|webp)$/.test(file.type);
    await act("document", {
      user: S.me, chat: S.open, topic, filename: file.name, content, caption, as_photo,
      reply_to: S.replyTo,
    });
    $("text").value = "";
    S.replyTo = null;
    renderReply();
  });
  $("new-topic-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = await act("create_topic", { user: S.me, chat: S.open, name: $("topic-name").value });
    $("topic-name").value = "";
    S.newTopic = answer.topic;
    chatChanged(S.chats.get(S.open));  // the topic may be known already
  });
  $("new-person-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const home = [...S.chats.values()].find((c) => c.home);
    const answer = await act("person", {
      name: $("new-name").value, language: $("new-lang").value, chat: home ? home.id : "",
    });
    $("new-name").value = "";
    $("new-person").open = false;
    S.me = answer.user;
    history.replaceState(null, "", "#as=" + S.me);
    if (home) { S.open = home.id; S.topic = null; }
    renderWho();
    renderChats();
    renderOpen();
  });
  connect();
}

document.addEventListener("DOMContentLoaded", setup);
