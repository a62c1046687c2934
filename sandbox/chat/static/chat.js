// The sandbox chat page: a person talks to the bot through the sandbox's JSON API.
"use strict";

const $ = (id) => document.getElementById(id);
const query = new URLSearchParams(window.location.search);
const page = { personId: null, version: 0, answerId: null, shownCount: 0 };
const LINK_KINDS = new Set(["url", "login_url", "web_app"]);

async function api(method, path, body) {
  const options = { method, headers: { Accept: "application/json" } };
  if (body instanceof FormData) {
    options.body = body;
  } else if (method !== "GET") {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body || {});
  }
  const answer = await fetch(`/sandbox/api/${path}`, options);
  const data = await answer.json();
  if (!data.ok) throw new Error(data.description || "the sandbox refused");
  return data.result;
}

function botParam(prefix) {
  const bot = query.get("bot");
  return bot ? `${prefix}bot=${encodeURIComponent(bot)}` : "";
}

function act(action, body) {
  const payload = body || {};
  if (query.get("bot")) payload.bot = query.get("bot");
  return api("POST", `people/${page.personId}/${action}`, payload).catch(showError);
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 2500);
}

function showError(error) {
  toast(`⚠ ${error.message}`);
}

// --- people ---------------------------------------------------------------------------------

// The bot's name (getMe's first name) before any chat is loaded, not a placeholder.
async function loadBot() {
  const bots = await api("GET", "bots");
  const wanted = query.get("bot");
  const bot = bots.find((b) => !wanted || b.username === wanted || String(b.id) === wanted);
  if (!bot || page.chat) return;
  $("bot-name").textContent = bot.name;
  $("bot-avatar").textContent = (bot.name || "B").slice(0, 1);
}

async function loadPeople() {
  // Agents answer from the Support desk page; the chat page is for the people they help.
  const people = (await api("GET", "people")).filter((p) => !p.agent);
  const select = $("person");
  select.replaceChildren(...people.map((p) => {
    const label = p.username ? `${p.name} (@${p.username})` : p.name;
    const option = el("option", null, label);
    option.value = String(p.id);
    return option;
  }));
  const wanted = query.get("person") || localStorage.getItem("sandbox.person");
  const known = people.find((p) => String(p.id) === wanted) || people[people.length - 1];
  if (!known) {
    $("person-dialog").showModal();
    return;
  }
  choosePerson(known.id);
}

function choosePerson(id) {
  page.personId = id;
  page.version = 0;
  page.shownCount = 0;
  $("person").value = String(id);
  localStorage.setItem("sandbox.person", String(id));
  refresh();
}

async function createPerson(form) {
  const data = Object.fromEntries(new FormData(form).entries());
  const person = await api("POST", "people", data);
  await loadPeople();
  choosePerson(person.id);
}

// --- rendering ------------------------------------------------------------------------------

function mediaNode(m) {
  if (m.kind === "photo") {
    const img = el("img");
    img.src = m.file_url;
    img.alt = "photo";
    return img;
  }
  if (m.kind === "document") {
    const link = el("a", null, `📄 ${m.file_name}`);
    link.href = m.file_url;
    link.download = m.file_name;
    return link;
  }
  if (m.kind === "sticker") return el("div", "sticker", m.sticker.emoji);
  if (m.kind === "contact") {
    const c = m.contact;
    return el("div", "contact", `📱 ${c.first_name} ${c.last_name || ""} ${c.phone_number}`);
  }
  const files = { voice: "🎤 voice message", audio: "🎵 audio", video: "🎬 video", video_note: "⭕ round video", animation: "🎞 GIF" };
  if (files[m.kind]) {
    const link = el("a", null, files[m.kind]);
    link.href = m.file_url;
    link.target = "_blank";
    return link;
  }
  if (m.kind === "venue") return el("div", "venue", `📍 ${m.venue.title}, ${m.venue.address}`);
  if (m.kind === "location") return el("div", "location", `📍 ${m.location.latitude}, ${m.location.longitude}`);
  if (m.kind === "dice") return el("div", "sticker", `${m.dice.emoji} ${m.dice.value}`);
  if (m.kind === "poll") {
    const box = el("div", "poll", `📊 ${m.poll.question}${m.poll.is_closed ? " (closed)" : ""}`);
    for (const option of m.poll.options) box.append(el("div", "option", `○ ${option.text}`));
    return box;
  }
  return null;
}

function keyboardNode(m) {
  const box = el("div", "inline-keyboard");
  for (const row of m.buttons) {
    const line = el("div", "line");
    for (const button of row) {
      const node = el("button", null, button.text);
      node.type = "button";
      if (LINK_KINDS.has(button.kind)) node.append(el("span", "kind", button.kind === "web_app" ? "⧉" : "↗"));
      node.addEventListener("click", () => press(button, m.message_id));
      line.append(node);
    }
    box.append(line);
  }
  return box;
}

function bubbleNode(m) {
  if (m.kind === "forum_topic_created") {
    return el("div", "bubble service", `Topic “${m.forum_topic_created.name}” created`);
  }
  const bubble = el("div", "bubble");
  if (m.deleted) {
    bubble.classList.add("deleted");
    bubble.textContent = "🗑 message deleted";
    bubble.title = m.text || "";
    return bubble;
  }
  if (m.forwarded_from) bubble.append(el("div", "forwarded", `Forwarded from ${m.forwarded_from}`));
  if (m.reply_to) bubble.append(el("div", "reply-quote", m.reply_to.quote || m.reply_to.text || "…"));
  const media = mediaNode(m);
  if (media) bubble.append(media);
  if (m.text) {
    const text = el("div", "text");
    text.innerHTML = m.html; // the server builds it from entities with a tag whitelist
    bubble.append(text);
  }
  const time = new Date(m.date).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const meta = el("div", "meta", `${m.edited ? "edited " : ""}${time}`);
  if (m.outgoing && !m.forwarded_from && EDITABLE_KINDS.has(m.kind)) {
    meta.prepend(actionButton("✎", "Edit", () => editOwn(m)));
  }
  // What a Telegram user can do to any message: reply, forward it, send any callback data.
  meta.prepend(
    actionButton("↩", "Reply", () => replyTo(m)),
    actionButton("↪", "Forward to the bot", () => act("forward", { message_id: m.message_id })),
    actionButton("⌁", "Send callback data (a forged button press)", () => forgePress(m)),
  );
  bubble.append(meta);
  return bubble;
}

const EDITABLE_KINDS = new Set(["text", "photo", "document", "voice", "audio", "video", "animation"]);

function actionButton(symbol, title, onClick) {
  const button = el("button", "edit-own", symbol);
  button.type = "button";
  button.title = title;
  button.setAttribute("aria-label", title);
  button.addEventListener("click", onClick);
  return button;
}

function messageNode(m) {
  const row = el("div", `row${m.outgoing ? " out" : ""}`);
  row.dataset.messageId = String(m.message_id);
  row.append(bubbleNode(m));
  if (!m.deleted && m.buttons.length) row.append(keyboardNode(m));
  return row;
}

function renderReplyKeyboard(keyboard) {
  const box = $("reply-keyboard");
  box.hidden = !keyboard;
  $("text").placeholder = (keyboard && keyboard.placeholder) || "Message";
  if (!keyboard) return box.replaceChildren();
  box.replaceChildren(...keyboard.rows.map((row) => {
    const line = el("div", "line");
    for (const button of row) {
      const icon = button.kind === "request_contact" ? "📱 " : "";
      const node = el("button", null, icon + button.text);
      node.type = "button";
      node.addEventListener("click", () => press(button, null));
      line.append(node);
    }
    return line;
  }));
}

function renderCommands(commands, filter) {
  const box = $("commands");
  const shown = commands.filter((c) => `/${c.command}`.startsWith(filter));
  box.hidden = !shown.length;
  box.replaceChildren(...shown.map((c) => {
    const node = el("button");
    node.type = "button";
    node.append(el("b", null, `/${c.command}`), el("span", null, c.description));
    node.addEventListener("click", () => { box.hidden = true; send(`/${c.command}`); });
    return node;
  }));
}

function showAnswer(answer, quietly) {
  if (!answer || answer.query_id === page.answerId) return;
  page.answerId = answer.query_id;
  if (quietly) return; // an answer from before the page opened is not news
  if (answer.url) window.open(answer.url, "_blank", "noopener");
  if (!answer.text) return;
  if (answer.show_alert) window.alert(answer.text);
  else toast(answer.text);
}

function render(chat) {
  page.chat = chat;
  $("bot-name").textContent = chat.bot.name;
  $("bot-avatar").textContent = (chat.bot.name || "B").slice(0, 1);
  const status = $("bot-status");
  status.textContent = chat.action ? `${chat.action.replace(/_/g, " ")}…` : "bot";
  status.classList.toggle("busy", Boolean(chat.action));
  const list = $("messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  const firstLook = page.shownCount === 0;
  list.replaceChildren(...chat.messages.map(messageNode));
  if (atBottom || chat.messages.length !== page.shownCount) list.scrollTop = list.scrollHeight;
  page.shownCount = chat.messages.length;
  $("start-panel").hidden = chat.messages.length > 0;
  renderReplyKeyboard(chat.reply_keyboard);
  const menu = chat.menu_button || {};
  $("menu").textContent = menu.type === "web_app" ? "⧉" : "☰";
  $("menu").title = menu.type === "web_app" ? menu.text : "Commands";
  showAnswer(chat.callback_answer, firstLook);
}

async function refresh() {
  if (page.personId === null) return;
  const personId = page.personId;
  try {
    const chat = await api("GET", `people/${personId}/chat${botParam("?")}`);
    // The person may have been switched while this was on its way: their chat is not shown.
    if (personId !== page.personId) return;
    page.version = chat.version;
    render(chat);
  } catch (error) {
    showError(error);
  }
}

// New events arrive by long polling, so the bot's answers show up at once.
async function listen() {
  for (;;) {
    try {
      const event = await api("GET", `events?since=${page.version}&timeout=25`);
      if (event.version !== page.version) await refresh();
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

// --- actions --------------------------------------------------------------------------------

async function send(text) {
  if (!text.trim()) return;
  const replying = page.replyTo;
  replyTo(null);
  await act("messages", replying ? { text, reply_to_message_id: replying.message_id } : { text });
}

function replyTo(m) {
  page.replyTo = m;
  $("replying").hidden = !m;
  $("replying-text").textContent = m ? m.text || m.kind : "";
  if (m) $("text").focus();
}

async function forgePress(m) {
  const data = window.prompt("Callback data to send on this message", "");
  if (data) await act("callback", { message_id: m.message_id, data });
}

async function press(button, messageId) {
  // Open the tab inside the click, or the browser blocks it as a pop-up.
  const tab = LINK_KINDS.has(button.kind) ? window.open("about:blank", "_blank") : null;
  const result = await act("press", { text: button.text, message_id: messageId });
  if (tab && result && result.url) {
    tab.opener = null;
    tab.location.href = result.url;
  } else if (tab) {
    tab.close();
  }
}

async function editOwn(m) {
  const text = window.prompt("Edit message", m.text || "");
  if (text !== null && text.trim() && text !== m.text) await act("edit", { message_id: m.message_id, text });
}

function pickDocument() {
  const input = el("input");
  input.type = "file";
  input.addEventListener("change", async () => {
    if (!input.files.length) return;
    const form = new FormData();
    form.append("file", input.files[0]);
    await api("POST", `people/${page.personId}/document${botParam("?")}`, form).catch(showError);
  });
  input.click();
}

const ATTACH = {
  sticker: () => act("sticker", { emoji: "🐱" }),
  photo: () => act("photo", {}),
  document: pickDocument,
  contact: () => act("contact", {}),
  "other-contact": () => {
    const phone = window.prompt("Phone number", "+447911123456");
    if (phone) act("contact", { phone_number: phone, first_name: window.prompt("Name", "Friend") || "Friend" });
  },
  forward: () => {
    const text = window.prompt("Text of the forwarded message", "");
    if (!text) return;
    const from = window.prompt("Forwarded from (a name; start with # for a channel)", "Someone") || "Someone";
    if (from.startsWith("#")) act("forward", { text, from_chat_title: from.slice(1) || "Channel" });
    else act("forward", { text, from_name: from });
  },
  voice: () => act("media", { kind: "voice" }),
  video: () => act("media", { kind: "video" }),
  location: () => act("location", {}),
  poll: () => act("poll", {}),
  dice: () => act("dice", { emoji: "🎲" }),
};

function wire() {
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("text").value;
    $("text").value = "";
    $("commands").hidden = true;
    send(text);
  });
  $("text").addEventListener("input", () => {
    const value = $("text").value;
    if (value.startsWith("/") && !value.includes(" ")) renderCommands(page.chat?.commands || [], value);
    else $("commands").hidden = true;
  });
  $("menu").addEventListener("click", () => {
    const menu = page.chat?.menu_button || {};
    if (menu.type === "web_app") press({ text: menu.text, kind: "web_app" }, null);
    else if ($("commands").hidden) renderCommands(page.chat?.commands || [], "/");
    else $("commands").hidden = true;
  });
  $("replying-cancel").addEventListener("click", () => replyTo(null));
  $("attach").addEventListener("click", () => { $("attach-sheet").hidden = !$("attach-sheet").hidden; });
  $("attach-sheet").addEventListener("click", (event) => {
    const choice = event.target.closest("[data-attach]");
    if (!choice) return;
    $("attach-sheet").hidden = true;
    ATTACH[choice.dataset.attach]();
  });
  $("start").addEventListener("click", () => act("start", { payload: query.get("start") || undefined }));
  $("person").addEventListener("change", () => choosePerson(Number($("person").value)));
  $("new-person").addEventListener("click", () => $("person-dialog").showModal());
  $("person-dialog").addEventListener("close", () => {
    if ($("person-dialog").returnValue === "create") createPerson($("person-form")).catch(showError);
  });
  $("messages").addEventListener("click", (event) => {
    const spoiler = event.target.closest("tg-spoiler");
    if (spoiler) spoiler.classList.toggle("shown");
  });
}

wire();
loadBot().catch(showError);
loadPeople().catch(showError).then(listen);
