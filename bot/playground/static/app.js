// Giftwallet playground: a small Telegram-like client for the local Bot API emulator.
// Plain JS, no build step. Chats are re-read from /api/chat on every change the server reports.
"use strict";

const state = {
  opsReplyTo: null,
  users: [],
  userId: null,
  botUsername: "bot",
  opsChatId: null,
  operatorId: null,
  shown: { user: new Map(), ops: new Map() }, // message_id -> signature, per pane
  notes: [], // fault notes: { chatId, after (the last message id then), text }
};

const $ = (id) => document.getElementById(id);

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
  let response;
  try {
    response = await fetch(path, options);
  } catch (failure) {
    throw new Error("the playground server is not answering");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    toast(data.error || `${response.status} ${response.statusText}`);
    throw new Error(data.error || response.statusText);
  }
  return data;
}

// ---------------------------------------------------------------- toasts and alerts

function toast(text) {
  const node = document.createElement("div");
  node.className = "toast";
  node.textContent = text;
  $("toasts").appendChild(node);
  setTimeout(() => node.remove(), 3500);
}

function alertBox(text) {
  $("alert-title").textContent = state.botUsername ? `@${state.botUsername}` : "Bot";
  $("alert-text").textContent = text;
  const dialog = $("alert-dialog");
  if (!dialog.open) dialog.showModal();
}

// ---------------------------------------------------------------- formatted text

const SAFE_LINK = /^(https?:|tg:|mailto:)/i;

function entityElement(entity) {
  const tags = {
    bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", pre: "pre",
    blockquote: "blockquote", expandable_blockquote: "blockquote",
  };
  if (tags[entity.type]) return document.createElement(tags[entity.type]);
  if (entity.type === "spoiler") {
    const span = document.createElement("span");
    span.className = "spoiler";
    span.title = "Spoiler: click to show";
    span.addEventListener("click", () => span.classList.add("shown"));
    return span;
  }
  if (entity.type === "text_link" || entity.type === "url") {
    const link = document.createElement("a");
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.dataset.url = entity.url || "";
    return link;
  }
  if (entity.type === "bot_command") {
    const span = document.createElement("span");
    span.className = "cmd";
    return span;
  }
  return document.createElement("span");
}

// Entities are nested properly (Telegram's HTML parser guarantees it); offsets are UTF-16
// code units, which is what JS string indices are.
function buildFormatted(text, entities, start, end) {
  const fragment = document.createDocumentFragment();
  const inside = entities
    .filter((e) => e.offset >= start && e.offset + e.length <= end)
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
  let position = start;
  let i = 0;
  while (i < inside.length) {
    const entity = inside[i];
    if (entity.offset > position) appendPlain(fragment, text.slice(position, entity.offset));
    const stop = entity.offset + entity.length;
    const children = inside.filter((e) => e !== entity && e.offset >= entity.offset && e.offset + e.length <= stop);
    const element = entityElement(entity);
    element.appendChild(buildFormatted(text, children, entity.offset, stop));
    if (element.tagName === "A") {
      const url = element.dataset.url || element.textContent;
      if (SAFE_LINK.test(url)) element.href = url;
    }
    if (element.classList.contains("cmd")) {
      const command = element.textContent;
      element.addEventListener("click", () => sendText(command));
    }
    fragment.appendChild(element);
    position = Math.max(position, stop);
    i += 1;
    while (i < inside.length && inside[i].offset < position) i += 1;
  }
  if (position < end) appendPlain(fragment, text.slice(position, end));
  return fragment;
}

// Like Telegram clients, make /commands in plain text clickable.
function appendPlain(parent, text) {
  const pattern = /(^|[\s(])(\/[a-z][a-z0-9_]{0,31})(?=$|[\s.,;:!?)])/g;
  let last = 0;
  let match;
  while ((match = pattern.exec(text)) !== null) {
    const at = match.index + match[1].length;
    parent.appendChild(document.createTextNode(text.slice(last, at)));
    const span = document.createElement("span");
    span.className = "cmd";
    span.textContent = match[2];
    const command = match[2];
    span.addEventListener("click", () => sendText(command));
    parent.appendChild(span);
    last = at + match[2].length;
  }
  parent.appendChild(document.createTextNode(text.slice(last)));
}

function formatted(text, entities) {
  return buildFormatted(text || "", entities || [], 0, (text || "").length);
}

// ---------------------------------------------------------------- messages

function timeOf(seconds) {
  const date = new Date(seconds * 1000);
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function money(amount, currency) {
  if (currency === "XTR") return `⭐️ ${amount}`;
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(amount / 100);
  } catch (error) {
    return `${amount} ${currency}`;
  }
}

function signature(record) {
  return JSON.stringify([record.text, record.caption, record.reply_markup, record.edit_count, record.payment]);
}

const PAYMENT_LABELS = {
  pending: "Waiting for the bot to confirm…",
  paid: "Paid ✓",
  declined: "Payment refused",
  expired: "The bot did not confirm within 10 s",
  refunded: "Refunded",
};

function showPayment(node, payment) {
  if (!payment) return;
  const label = PAYMENT_LABELS[payment.status] || payment.status;
  node.textContent = payment.error_message ? `${label}: ${payment.error_message}` : label;
  node.className = `invoice-status ${payment.status === "paid" ? "paid" : payment.status === "pending" ? "muted" : "refused"}`;
}

function renderMessage(record, pane, chatId, actingUserId) {
  const wrap = document.createElement("div");
  wrap.className = "msg-wrap" + (record.from_bot ? "" : " me");
  wrap.dataset.messageId = record.message_id;

  if (record.kind === "successful_payment" || record.kind === "refunded_payment") {
    const payment = record.successful_payment || record.refunded_payment;
    const service = document.createElement("div");
    service.className = "service";
    const amount = money(payment.total_amount, payment.currency);
    service.textContent = record.kind === "successful_payment"
      ? `You paid ${amount}` : `${amount} refunded`;
    wrap.className = "msg-wrap service-wrap";
    wrap.style.alignSelf = "center";
    wrap.appendChild(service);
    return wrap;
  }

  if (pane === "ops" && record.from_bot) {
    // Click a bot message in the operators' chat to answer it (a Telegram reply): that is
    // how an operator answers a support ticket.
    wrap.classList.add("replyable");
    if (state.opsReplyTo === record.message_id) wrap.classList.add("reply-target");
    wrap.title = "Click to reply to this message";
    wrap.addEventListener("click", (event) => {
      // A press on one of its buttons (or a link) is that, not a choice of reply target.
      if (event.target.closest("button, a, .keyboard")) return;
      chooseOpsReply(record.message_id);
    });
  }

  if (pane === "ops" && !record.from_bot) {
    const user = state.users.find((u) => u.id === record.sender_id);
    const sender = document.createElement("div");
    sender.className = "sender";
    sender.textContent = user ? user.name : `user ${record.sender_id}`;
    wrap.appendChild(sender);
  }

  const bubble = document.createElement("div");
  bubble.className = "bubble";
  if (record.via_bot) {
    const via = document.createElement("div");
    via.className = "via";
    via.textContent = `via @${record.via_bot}`;
    bubble.appendChild(via);
  }

  if (record.kind === "invoice") {
    bubble.classList.add("invoice");
    const invoice = record.invoice;
    const title = document.createElement("div");
    title.className = "invoice-title";
    title.textContent = invoice.title;
    const description = document.createElement("div");
    description.textContent = invoice.description;
    const amount = document.createElement("div");
    amount.className = "invoice-amount";
    amount.textContent = money(invoice.total_amount, invoice.currency);
    const status = document.createElement("div");
    status.className = "invoice-status muted";
    status.dataset.invoiceStatus = record.message_id;
    showPayment(status, record.payment);
    bubble.append(title, description, amount, status);
    if (record.payment && record.payment.status === "paid" && record.payment.charge_id) {
      const refund = document.createElement("button");
      refund.type = "button";
      refund.className = "chip invoice-refund";
      refund.textContent = "↩ Refund (as Telegram would)";
      refund.title = "Telegram refunds this charge and tells the bot with a refunded_payment message";
      refund.addEventListener("click", async () => {
        refund.disabled = true;
        await api("/api/refund", { user_id: record.payment.user_id, charge_id: record.payment.charge_id });
      });
      bubble.appendChild(refund);
    }
  } else if (record.kind === "document") {
    const doc = record.document;
    const box = document.createElement("div");
    box.className = "document";
    const icon = document.createElement("div");
    icon.className = "icon-doc";
    icon.textContent = "⬇";
    const link = document.createElement("a");
    link.href = `/api/file/${encodeURIComponent(doc.file_id)}`;
    link.download = doc.file_name || "file";
    link.textContent = doc.file_name || "file";
    const size = document.createElement("div");
    size.className = "muted small";
    size.textContent = `${Math.max(1, Math.round((doc.file_size || 0) / 1024))} KB`;
    const info = document.createElement("div");
    info.append(link, size);
    box.append(icon, info);
    bubble.appendChild(box);
    if (record.caption) bubble.appendChild(formatted(record.caption, record.caption_entities));
  } else if (record.kind === "photo") {
    const label = document.createElement("div");
    label.className = "muted";
    label.textContent = "🖼 photo";
    bubble.appendChild(label);
    if (record.caption) bubble.appendChild(formatted(record.caption, record.caption_entities));
  } else {
    bubble.appendChild(formatted(record.text, record.entities));
  }

  const meta = document.createElement("span");
  meta.className = "meta";
  meta.textContent = (record.edit_count ? "edited " : "") + timeOf(record.edit_date || record.date);
  bubble.appendChild(meta);
  wrap.appendChild(bubble);

  const markup = record.reply_markup;
  if (markup && markup.inline_keyboard) {
    wrap.classList.add("with-keyboard");
    wrap.appendChild(renderInlineKeyboard(markup.inline_keyboard, record, chatId, actingUserId));
  }
  return wrap;
}

function renderInlineKeyboard(rows, record, chatId, actingUserId) {
  const keyboard = document.createElement("div");
  keyboard.className = "keyboard";
  for (const row of rows) {
    const line = document.createElement("div");
    line.className = "row";
    for (const button of row) {
      const node = document.createElement("button");
      node.type = "button";
      node.textContent = button.text;
      if (button.url) {
        node.title = button.url;
        node.insertAdjacentHTML("beforeend", '<span class="kind">↗</span>');
        node.addEventListener("click", () => openLink(button.url));
      } else if (button.callback_data !== undefined) {
        node.dataset.callback = button.callback_data;
        node.addEventListener("click", () => press(node, actingUserId, chatId, record.message_id, button.callback_data));
      } else if (button.switch_inline_query !== undefined || button.switch_inline_query_current_chat !== undefined) {
        const query = button.switch_inline_query ?? button.switch_inline_query_current_chat;
        node.insertAdjacentHTML("beforeend", '<span class="kind">@</span>');
        node.addEventListener("click", () => openInline(query));
      } else if (button.copy_text) {
        node.insertAdjacentHTML("beforeend", '<span class="kind">⧉</span>');
        node.addEventListener("click", async () => {
          // As Telegram does: the text to the clipboard, and a word that it is there.
          try {
            await navigator.clipboard.writeText(button.copy_text.text);
          } catch (failure) {
            console.warn(failure);
          }
          toast(`Copied: ${button.copy_text.text}`);
        });
      } else if (button.web_app) {
        node.title = button.web_app.url;
        node.insertAdjacentHTML("beforeend", '<span class="kind">▣</span>');
        node.addEventListener("click", () => openWebApp(actingUserId));
      } else if (button.pay) {
        node.addEventListener("click", () => pay(node, actingUserId, chatId, record.message_id));
      } else {
        node.disabled = true;
        node.title = "Not supported in the playground";
      }
      line.appendChild(node);
    }
    keyboard.appendChild(line);
  }
  return keyboard;
}

function renderReplyKeyboard(markup) {
  const box = $("user-reply-keyboard");
  box.replaceChildren();
  if (!markup || !markup.keyboard) {
    box.hidden = true;
    return;
  }
  for (const row of markup.keyboard) {
    const line = document.createElement("div");
    line.className = "row";
    for (const button of row) {
      const text = typeof button === "string" ? button : button.text;
      const node = document.createElement("button");
      node.type = "button";
      node.textContent = text;
      node.addEventListener("click", () => sendText(text));
      line.appendChild(node);
    }
    box.appendChild(line);
  }
  box.hidden = false;
}

// Re-render a pane; messages that disappeared fade out first, changed ones flash.
async function loadChat(pane) {
  const chatId = pane === "user" ? state.userId : state.opsChatId;
  if (chatId === null) return;
  const user = currentUser();
  const language = pane === "user" && user ? user.language : "";
  const data = await api(`/api/chat/${chatId}?language=${encodeURIComponent(language || "")}`);
  const container = $(`${pane}-messages`);
  const previous = state.shown[pane];
  const next = new Map(data.messages.map((m) => [m.message_id, signature(m)]));

  const vanished = [...container.querySelectorAll(".msg-wrap")].filter(
    (node) => node.dataset.messageId && !next.has(Number(node.dataset.messageId)),
  );
  if (vanished.length && previous.size) {
    vanished.forEach((node) => node.classList.add("vanishing"));
    await new Promise((resolve) => setTimeout(resolve, 550));
  }

  const atBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 80;
  const acting = pane === "user" ? state.userId : state.operatorId;
  const nodes = data.messages.map((record) => {
    const node = renderMessage(record, pane, chatId, acting);
    const before = previous.get(record.message_id);
    if (before !== undefined && before !== signature(record)) node.classList.add("flash");
    return node;
  });
  container.replaceChildren(...nodes);
  placeNotes(container, chatId);
  state.shown[pane] = next;
  if (pane === "user") {
    renderReplyKeyboard(data.reply_keyboard);
    state.commands = data.commands;
    // A chat never started shows START where the composer is, as Telegram does.
    const fresh = data.messages.length === 0;
    $("start-button").hidden = !fresh;
    $("user-composer").hidden = fresh;
    if (fresh) container.appendChild(emptyChat());
  }
  if (atBottom || !previous.size) container.scrollTop = container.scrollHeight;
}

// ---------------------------------------------------------------- links

// t.me/<this bot>?start=<param>: in Telegram that opens the bot and sends /start <param>.
function startParameter(url) {
  const match = /^https:\/\/t\.me\/([A-Za-z0-9_]+)\?start=([A-Za-z0-9_-]{1,64})$/.exec(url || "");
  return match && match[1].toLowerCase() === state.botUsername.toLowerCase() ? match[2] : null;
}

function openLink(url) {
  const parameter = startParameter(url);
  if (parameter === null) {
    if (SAFE_LINK.test(url)) window.open(url, "_blank", "noopener");
    return;
  }
  // A link is usually sent to somebody else: choose who opens it.
  $("link-text").textContent = url;
  const list = $("link-people");
  list.replaceChildren();
  for (const user of state.users) {
    const node = document.createElement("button");
    node.type = "button";
    node.dataset.userId = user.id;
    node.textContent = `${user.name} (id ${user.id}, ${user.language})`;
    node.addEventListener("click", async () => {
      $("link-dialog").close();
      await selectUser(user.id);
      showTab("chat");
      await sendText(`/start ${parameter}`);
    });
    list.appendChild(node);
  }
  $("link-dialog").showModal();
}

document.addEventListener("click", (event) => {
  const anchor = event.target.closest && event.target.closest(".bubble a[href]");
  if (!anchor || startParameter(anchor.href) === null) return;
  event.preventDefault();
  openLink(anchor.href);
});

// ---------------------------------------------------------------- actions

function currentUser() {
  return state.users.find((u) => u.id === state.userId);
}

function chooseOpsReply(messageId) {
  state.opsReplyTo = state.opsReplyTo === messageId ? null : messageId;
  document.querySelectorAll("#ops-messages .msg-wrap").forEach((node) => {
    node.classList.toggle("reply-target", Number(node.dataset.messageId) === state.opsReplyTo);
  });
  $("ops-input").placeholder = state.opsReplyTo === null
    ? "Reply as the operator" : `Replying to message ${state.opsReplyTo}…`;
  $("ops-input").focus();
}

async function sendText(text, pane = "user") {
  const body = pane === "user"
    ? { user_id: state.userId, text }
    : { user_id: state.operatorId, chat_id: state.opsChatId, text };
  if (pane === "ops" && state.opsReplyTo !== null) {
    body.reply_to_message_id = state.opsReplyTo;
    chooseOpsReply(state.opsReplyTo);  // one reply, then back to plain messages
  }
  await api("/api/send", body);
}

async function press(node, userId, chatId, messageId, data) {
  node.classList.add("pending");
  try {
    await api("/api/press", { user_id: userId, chat_id: chatId, message_id: messageId, data });
  } finally {
    setTimeout(() => node.classList.remove("pending"), 400);
  }
}

async function pay(node, userId, chatId, messageId) {
  node.disabled = true;
  const status = document.querySelector(`[data-invoice-status="${messageId}"]`);
  if (status) status.textContent = "Paying…";
  try {
    const outcome = await api("/api/pay", { user_id: userId, chat_id: chatId, message_id: messageId });
    const current = document.querySelector(`[data-invoice-status="${messageId}"]`);
    if (current) showPayment(current, { status: outcome.status, error_message: outcome.error_message });
    if (!outcome.ok) alertBox(`${PAYMENT_LABELS[outcome.status] || outcome.status}: ${outcome.error_message || "no reason given"}`);
  } finally {
    node.disabled = false;
  }
}

async function openInline(query) {
  $("inline-query").value = query || "";
  $("inline-results").replaceChildren();
  const dialog = $("inline-dialog");
  if (!dialog.open) dialog.showModal();
  await runInline();
}

async function runInline() {
  const data = await api("/api/inline", { user_id: state.userId, query: $("inline-query").value });
  const list = $("inline-results");
  list.replaceChildren();
  if (!data.results.length) {
    list.textContent = "No results";
    return;
  }
  for (const result of data.results) {
    const node = document.createElement("button");
    node.type = "button";
    const title = document.createElement("div");
    title.textContent = result.title || result.id;
    const description = document.createElement("div");
    description.className = "desc";
    description.textContent = result.description || "";
    node.append(title, description);
    node.addEventListener("click", async () => {
      await api("/api/inline/send", {
        user_id: state.userId, chat_id: state.userId, query_id: data.query_id, result_id: result.id,
      });
      $("inline-dialog").close();
    });
    list.appendChild(node);
  }
}

function showCommands() {
  const popup = $("commands-popup");
  if (!popup.hidden) {
    popup.hidden = true;
    return;
  }
  popup.replaceChildren();
  for (const command of state.commands || []) {
    const node = document.createElement("button");
    node.type = "button";
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = `/${command.command}`;
    const description = document.createElement("span");
    description.className = "muted";
    description.textContent = command.description;
    node.append(name, description);
    node.addEventListener("click", () => {
      popup.hidden = true;
      sendText(`/${command.command}`);
    });
    popup.appendChild(node);
  }
  if (!popup.children.length) popup.textContent = "The bot has set no commands yet.";
  popup.hidden = false;
}

// ---------------------------------------------------------------- people, faults, inspector

function renderUsers() {
  const list = $("users");
  list.replaceChildren();
  for (const user of state.users) {
    const item = document.createElement("li");
    item.dataset.userId = user.id;
    if (user.id === state.userId) item.classList.add("active");
    const avatar = document.createElement("div");
    avatar.className = "avatar";
    avatar.textContent = user.name.slice(0, 1).toUpperCase();
    const info = document.createElement("div");
    const name = document.createElement("div");
    name.textContent = user.name;
    const details = document.createElement("div");
    details.className = "muted small";
    details.textContent = `id ${user.id} · ${user.language}`;
    info.append(name, details);
    item.append(avatar, info);
    if (user.operator) item.insertAdjacentHTML("beforeend", '<span class="badge">operator</span>');
    if (user.blocked) item.insertAdjacentHTML("beforeend", '<span class="badge red">blocked</span>');
    item.addEventListener("click", async () => {
      await selectUser(user.id);
      if (document.body.dataset.tab === "people") showTab("chat");  // a phone: on to the chat
    });
    list.appendChild(item);
  }
}

async function selectUser(userId) {
  if (userId !== state.userId) {
    // Nothing of the last person's chat stays on screen while this one loads.
    $("user-messages").replaceChildren();
    $("start-button").hidden = true;
    $("user-composer").hidden = true;
  }
  state.userId = userId;
  state.shown.user = new Map();
  const user = currentUser();
  $("user-title").textContent = `Giftwallet — as ${user.name}`;
  $("user-subtitle").textContent = `bot · you are ${user.name} (id ${user.id}, ${user.language})`;
  $("fault-block").checked = Boolean(user.blocked);
  $("fault-block-label").textContent = `${user.name} blocked the bot (403)`;
  renderUsers();
  await loadChat("user");
}

async function loadState() {
  const data = await api("/api/state");
  state.users = data.users;
  state.botUsername = data.bot.username;
  state.opsChatId = data.operators_chat.id;
  const operator = data.users.find((u) => u.operator);
  state.operatorId = operator ? operator.id : null;
  $("ops-title").textContent = data.operators_chat.title;
  $("ops-subtitle").textContent = `group ${data.operators_chat.id}` + (operator ? ` · you write as ${operator.name}` : "");
  document.querySelectorAll(".bot-username").forEach((node) => { node.textContent = data.bot.username; });
  showTime(data.now);
  showDelivery(data.delivery);
  showMenuButton(data.menu_button);
  if (state.userId === null && data.users.length) state.userId = data.users[0].id;
  renderUsers();
  showHint();
}

function showDelivery(delivery) {
  const select = $("delivery-mode");
  for (const option of select.options) {
    const several = Number(option.value) > 1;
    option.disabled = several && !delivery.shared;
    option.title = option.disabled
      ? "Several replicas share PostgreSQL and Redis: start the playground with --database-url and --redis-url"
      : "";
  }
  if (![...select.options].some((o) => Number(o.value) === delivery.replicas)) {
    select.add(new Option(delivery.label, String(delivery.replicas)));
  }
  select.value = String(delivery.replicas);
  const status = $("delivery-status");
  if (!delivery.replicas) {
    status.textContent = "Now: polling. The bot asks the emulator for updates (getUpdates).";
    return;
  }
  const lines = delivery.per_replica.map((r) =>
    `replica ${r.number} (port ${r.port}): ${r.delivered} delivered` + (r.refused ? `, ${r.refused} refused` : ""));
  status.textContent = `Now: ${delivery.label}. The emulator posts each update to the next replica, as a load balancer would; ` +
    lines.join("; ") + ".";
}

async function refreshDelivery() {
  const data = await api("/api/state");
  showDelivery(data.delivery);
}

function showTime(iso) {
  const date = new Date(iso);
  $("now").textContent = date.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

async function loadInspector() {
  const data = await api("/api/inspector");
  const box = $("inspector");
  box.replaceChildren();
  const table = document.createElement("table");
  table.innerHTML = "<thead><tr><th>User</th><th>Balance</th><th>Certs</th><th>Cashback</th><th>Pending</th></tr></thead>";
  const body = document.createElement("tbody");
  for (const user of data.users) {
    const row = document.createElement("tr");
    for (const [value, numeric] of [
      [`${user.name}${user.reachable ? "" : " (unreachable)"}`, false],
      [user.balance, true], [String(user.certificates), true],
      [user.cashback_available, true], [user.cashback_pending, true],
    ]) {
      const cell = document.createElement("td");
      cell.textContent = value;
      if (numeric) cell.className = "num";
      row.appendChild(cell);
    }
    body.appendChild(row);
  }
  if (!data.users.length) body.innerHTML = '<tr><td colspan="5" class="muted">Nobody has written to the bot yet</td></tr>';
  table.appendChild(body);
  box.appendChild(table);

  const giftsHeading = document.createElement("h4");
  giftsHeading.textContent = "Gift codes";
  box.appendChild(giftsHeading);
  const name = (id) => {
    const user = state.users.find((u) => u.id === id);
    return user ? user.name : `user ${id}`;
  };
  if (!data.gifts.length) {
    const empty = document.createElement("div");
    empty.className = "muted small";
    empty.textContent = "No gift codes yet.";
    box.appendChild(empty);
  }
  for (const gift of data.gifts) {
    const line = document.createElement("div");
    line.className = "small gift-line";
    const code = document.createElement("span");
    code.className = "gift-code";
    code.textContent = gift.code;
    const who = gift.claimer_id ? ` → ${name(gift.claimer_id)}` : "";
    line.append(`${gift.amount} from ${name(gift.giver_id)} · ${gift.status}${who} · `, code);
    box.appendChild(line);
  }

  const section = (title, items, empty, line) => {
    const head = document.createElement("h4");
    head.textContent = title;
    box.appendChild(head);
    if (!items.length) {
      const none = document.createElement("div");
      none.className = "muted small";
      none.textContent = empty;
      box.appendChild(none);
    }
    for (const item of items) {
      const row = document.createElement("div");
      row.className = "small";
      row.textContent = line(item);
      box.appendChild(row);
    }
  };
  const day = (iso) => new Date(iso).toLocaleDateString([], { dateStyle: "medium" });
  const when = { pending: "", on_hold: "until ", available: "since ", voided: "" };
  section("Cashback accruals", data.accruals, "No cashback yet.", (a) =>
    `${name(a.user_id)} · ${a.source} · ${a.amount} · ${a.status.replace("_", " ")}` +
    (a.status === "voided" ? ` (${a.reason})` : a.status === "pending" ? "" : ` ${when[a.status]}${day(a.date)}`));
  section("Withdrawals", data.withdrawals, "No withdrawal requests.", (w) =>
    `#${w.id} ${name(w.user_id)} · ${w.amount} → •••• ${w.card} · ${w.status}${w.reason ? ` (${w.reason})` : ""}`);
  section("Notices outbox, newest first", data.outbox, "No notices yet.", (n) =>
    `#${n.id} → ${n.chat_id < 0 ? "operators" : name(n.chat_id)} · ${n.template} · ${n.state}` +
    (n.attempts > 1 ? ` · ${n.attempts} attempts` : ""));

  const heading = document.createElement("h4");
  heading.textContent = "Ledger, newest first";
  box.appendChild(heading);
  const health = document.createElement("div");
  health.className = data.problems.length ? "bad" : "ok";
  health.textContent = data.problems.length ? data.problems.join("; ") : "✓ every entry balances, no account negative";
  box.appendChild(health);
  if (!data.journal.length) {
    const empty = document.createElement("div");
    empty.className = "muted small";
    empty.textContent = "No entries yet.";
    box.appendChild(empty);
  }
  for (const entry of data.journal) {
    const block = document.createElement("div");
    block.className = "small";
    block.style.margin = "6px 0";
    const head = document.createElement("div");
    head.innerHTML = `<b></b> <span class="journal-key"></span>`;
    head.querySelector("b").textContent = `#${entry.id} ${entry.kind}`;
    head.querySelector(".journal-key").textContent = entry.key;
    block.appendChild(head);
    for (const leg of entry.legs) {
      const line = document.createElement("div");
      line.textContent = `${leg.user_id === null ? "system" : "user " + leg.user_id} · ${leg.account}: ${leg.amount}`;
      block.appendChild(line);
    }
    box.appendChild(block);
  }
}

let inspectorTimer = null;
function refreshInspectorSoon() {
  clearTimeout(inspectorTimer);
  inspectorTimer = setTimeout(() => {
    loadInspector().catch(() => {});
    refreshDelivery().catch(() => {});
  }, 300);
}

// ---------------------------------------------------------------- live updates

const pending = { user: false, ops: false };
function reloadSoon(pane) {
  if (pending[pane]) return;
  pending[pane] = true;
  setTimeout(() => {
    pending[pane] = false;
    loadChat(pane).catch(() => {});
  }, 60);
}

async function resync() {
  // After the server was away, nothing the page shows can be trusted: read it all again.
  state.shown = { user: new Map(), ops: new Map() };
  await loadState();
  if (state.userId !== null && !currentUser()) state.userId = state.users.length ? state.users[0].id : null;
  if (state.userId !== null) await selectUser(state.userId);
  await loadChat("ops");
  await loadInspector();
}

function connect() {
  const source = new EventSource("/api/events");
  let wasOffline = false;
  source.onopen = () => {
    $("live").className = "live on";
    $("offline").hidden = true;
    if (wasOffline) resync().catch(() => {});
    wasOffline = false;
  };
  source.onerror = () => {
    $("live").className = "live off";
    $("offline").hidden = false;
    wasOffline = true;
  };
  source.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.chat_id === state.userId) reloadSoon("user");
    if (event.chat_id === state.opsChatId) reloadSoon("ops");
    // The answer can arrive before the page hears back from its own press, so match by chat.
    const visible = event.chat_id === state.userId || event.chat_id === state.opsChatId;
    if (event.type === "callback_answer" && event.text && visible) {
      if (event.show_alert) alertBox(event.text); else toast(event.text);
    }
    if (event.type === "fault") showFault(event);
    if (event.type === "reset") {
      state.notes = [];
      resync()
        .then(() => toast("A fresh start: the bot runs on an empty database."))
        .catch((error) => toast(`Could not reload: ${error.message}`));
    }
    if (["message_new", "message_edited", "payment"].includes(event.type)) refreshInspectorSoon();
  };
}

function showFault(event) {
  // A fault switch fired: say so where it happened. The note stays in that chat, after the
  // message that was last when it fired, however often the chat is drawn again.
  const text = `⚡ Fault fired: ${event.method} answered ${event.error_code}` +
    (event.error_code === 429 ? " (Too Many Requests); the bot should wait and retry" : "");
  $("fault-status").textContent = text;
  const pane = event.chat_id === state.opsChatId ? "ops" : event.chat_id === state.userId ? "user" : null;
  if (!pane) {
    toast(text);
    return;
  }
  const container = $(`${pane}-messages`);
  const shown = [...container.querySelectorAll(".msg-wrap[data-message-id]")];
  const after = shown.length ? Number(shown[shown.length - 1].dataset.messageId) : 0;
  state.notes.push({ chatId: event.chat_id, after, text });
  placeNotes(container, event.chat_id);
}

function placeNotes(container, chatId) {
  container.querySelectorAll(".fault-note").forEach((node) => node.remove());
  for (const note of state.notes.filter((n) => n.chatId === chatId)) {
    const wrap = document.createElement("div");
    wrap.className = "msg-wrap service-wrap fault-note";
    wrap.style.alignSelf = "center";
    const service = document.createElement("div");
    service.className = "service fault";
    service.textContent = note.text;
    wrap.appendChild(service);
    const later = [...container.querySelectorAll(".msg-wrap[data-message-id]")].find(
      (node) => Number(node.dataset.messageId) > note.after,
    );
    container.insertBefore(wrap, later || null);
  }
}

// ---------------------------------------------------------------- the Mini App and its bridge

// Telegram's theme parameters as its clients pass them (light, and the dark one of Telegram Web).
const THEMES = {
  light: {
    bg_color: "#ffffff", text_color: "#000000", hint_color: "#707579", link_color: "#3390ec",
    button_color: "#3390ec", button_text_color: "#ffffff", secondary_bg_color: "#f1f3f6",
    header_bg_color: "#ffffff", accent_text_color: "#3390ec", section_bg_color: "#ffffff",
    subtitle_text_color: "#707579", destructive_text_color: "#e53935",
  },
  dark: {
    bg_color: "#212121", text_color: "#ffffff", hint_color: "#aaaaaa", link_color: "#8774e1",
    button_color: "#8774e1", button_text_color: "#ffffff", secondary_bg_color: "#181818",
    header_bg_color: "#212121", accent_text_color: "#a695e7", section_bg_color: "#212121",
    subtitle_text_color: "#aaaaaa", destructive_text_color: "#ff595a",
  },
};

function showMenuButton(button) {
  const node = $("menu-app-button");
  const isApp = button && button.type === "web_app";
  node.hidden = !isApp;
  if (isApp) {
    node.textContent = button.text;
    node.title = `Menu button: ${button.web_app.url}`;
  }
}

function forge(initData) {
  // What a tampering client would send: the user id changed after Telegram signed it.
  const pairs = new URLSearchParams(initData);
  const user = JSON.parse(pairs.get("user"));
  user.id += 1;
  pairs.set("user", JSON.stringify(user));
  return pairs.toString();
}

async function openWebApp(userId) {
  const user = state.users.find((u) => u.id === (userId || state.userId));
  if (!user) return;
  const answer = await api(`/api/webapp/${user.id}`);
  const initData = $("webapp-forge").checked ? forge(answer.init_data) : answer.init_data;
  const theme = THEMES[$("webapp-theme").value];
  const hash = new URLSearchParams({
    tgWebAppData: initData,
    tgWebAppVersion: "8.0",
    tgWebAppPlatform: "web",
    tgWebAppThemeParams: JSON.stringify(theme),
  });
  state.webAppUserId = user.id;
  $("bio-prompt").hidden = true;
  $("webapp-main").hidden = true;
  $("webapp-back").hidden = true;
  $("webapp-who").textContent = `· Mini App, as ${user.name}`;
  $("webapp-events").textContent = "";
  // A new query each time: a changed hash alone would not reload the frame.
  $("webapp-frame").src = `${answer.url}?opened=${Date.now()}#${hash}`;
  $("webapp-pane").hidden = false;
}

function closeWebApp() {
  $("webapp-pane").hidden = true;
  $("webapp-frame").src = "about:blank";
}

function postToWebApp(eventType, eventData) {
  const frame = $("webapp-frame");
  if (frame.contentWindow) {
    frame.contentWindow.postMessage(JSON.stringify({ eventType, eventData }), location.origin);
  }
}

function noteWebAppEvent(eventType) {
  const line = $("webapp-events");
  const seen = line.textContent ? line.textContent.split(" · ") : [];
  seen.push(eventType.replace(/^web_app_/, ""));
  line.textContent = seen.slice(-6).join(" · ");
}

// The client's side of Telegram's bridge: what a web client answers a Mini App in a frame.
// Biometrics as a phone's client gives them: per person, access once granted and the token
// the app saved (the real one keeps it in the device's secure storage).
const biometricDevices = new Map();

function biometricState() {
  const key = state.webAppUserId;
  if (!biometricDevices.has(key)) biometricDevices.set(key, { requested: false, granted: false, token: "" });
  return biometricDevices.get(key);
}

function biometricInfo() {
  const device = biometricState();
  return {
    available: true, type: "face", access_requested: device.requested, access_granted: device.granted,
    token_saved: Boolean(device.token), device_id: `playground-phone-${state.webAppUserId}`,
  };
}

function askBiometrics(text, reason) {
  // The system's prompt: the person approves (a face or a finger recognised) or denies.
  $("bio-text").textContent = text;
  $("bio-reason").textContent = reason || "";
  $("bio-prompt").hidden = false;
  return new Promise((resolve) => {
    const answer = (approved) => {
      $("bio-prompt").hidden = true;
      $("bio-approve").onclick = null;
      $("bio-deny").onclick = null;
      resolve(approved);
    };
    $("bio-approve").onclick = () => answer(true);
    $("bio-deny").onclick = () => answer(false);
  });
}

async function onBiometricEvent(eventType, data) {
  const device = biometricState();
  if (eventType === "web_app_biometry_get_info") {
    postToWebApp("biometry_info_received", biometricInfo());
  } else if (eventType === "web_app_biometry_request_access") {
    device.requested = true;
    device.granted = await askBiometrics("Allow Giftwallet to use Face ID?", data && data.reason);
    postToWebApp("biometry_info_received", biometricInfo());
  } else if (eventType === "web_app_biometry_request_auth") {
    const approved = device.granted && device.token
      && await askBiometrics("Face ID", data && data.reason);
    postToWebApp("biometry_auth_requested", approved
      ? { status: "authorized", token: device.token }
      : { status: "failed" });
  } else if (eventType === "web_app_biometry_update_token") {
    device.token = (data && data.token) || "";
    postToWebApp("biometry_token_updated", { status: device.token ? "updated" : "removed" });
  }
}

function setupMainButton(params) {
  // Drawn by the client under the app, in the colours and words the app chose.
  const button = $("webapp-main");
  button.hidden = !(params && params.is_visible);
  if (button.hidden) return;
  button.textContent = params.text || "Continue";
  button.style.background = params.color || "";
  button.style.color = params.text_color || "";
  button.disabled = params.is_active === false || Boolean(params.is_progress_visible);
  button.classList.toggle("busy", Boolean(params.is_progress_visible));
}

async function sharePrepared(preparedId) {
  // Telegram would let the person pick a chat; here the card is shown and counts as sent.
  try {
    const prepared = await api(`/api/prepared/${encodeURIComponent(preparedId || "")}`);
    toast(`Shared into a chat: ${prepared.title}`);
    postToWebApp("prepared_message_sent", {});
  } catch (failure) {
    postToWebApp("prepared_message_failed", { error: "MESSAGE_EXPIRED" });
  }
}

function onWebAppMessage(event) {
  if (event.source !== $("webapp-frame").contentWindow || event.origin !== location.origin) return;
  let message;
  try {
    message = JSON.parse(event.data);
  } catch (failure) {
    return;
  }
  if (!message || typeof message.eventType !== "string") return;
  noteWebAppEvent(message.eventType);
  if (message.eventType.startsWith("web_app_biometry_")) {
    onBiometricEvent(message.eventType, message.eventData);
  } else if (message.eventType === "web_app_request_theme") {
    postToWebApp("theme_changed", { theme_params: THEMES[$("webapp-theme").value] });
  } else if (message.eventType === "web_app_send_prepared_message") {
    sharePrepared(message.eventData && message.eventData.id);
  } else if (message.eventType === "web_app_setup_main_button") {
    setupMainButton(message.eventData);
  } else if (message.eventType === "web_app_setup_back_button") {
    $("webapp-back").hidden = !(message.eventData && message.eventData.is_visible);
  } else if (message.eventType === "web_app_close") {
    closeWebApp();
  }
}

// ---------------------------------------------------------------- first screen, tabs, fresh start

function emptyChat() {
  // What Telegram shows in a bot's chat before START: what the bot can do.
  const card = document.createElement("div");
  card.className = "empty-chat";
  const title = document.createElement("b");
  title.textContent = "What can this bot do?";
  const text = document.createElement("div");
  text.textContent = "Gift certificates that add up to one balance, a shop paid from it, " +
    "cashback twice, a payment password and saved cards. Press START below.";
  card.append(title, text);
  return card;
}

function showHint() {
  // Who is who, in one line: the shoppers with their languages, and the operator.
  const shoppers = state.users.filter((u) => !u.operator).slice(0, 3)
    .map((u) => `${u.name} (${u.language === "ru" ? "Russian" : "English"})`);
  const operator = state.users.find((u) => u.operator);
  const where = window.matchMedia("(max-width: 720px)").matches ? "the Operators tab" : "the right-hand chat";
  $("hint").textContent = `${shoppers.join(", ")}: shoppers.` +
    (operator ? ` ${operator.name}: the operator, who writes in ${where}.` : "") +
    " Pick a person, press START, and try the wallet; ⟲ Fresh start erases it all.";
}

function showTab(name) {
  document.body.dataset.tab = name;
  document.querySelectorAll("#tabs button").forEach((button) => {
    button.classList.toggle("active", button.dataset.tab === name);
  });
  if (name === "chat" || name === "ops") {
    const container = $(name === "chat" ? "user-messages" : "ops-messages");
    container.scrollTop = container.scrollHeight;
  }
}

async function freshStart() {
  const dialog = $("reset-dialog");
  dialog.returnValue = "";
  dialog.showModal();
  await new Promise((resolve) => dialog.addEventListener("close", resolve, { once: true }));
  if (dialog.returnValue !== "erase") return;
  $("fresh-start").disabled = true;
  try {
    await api("/api/reset", { confirm: true });  // every open page hears "reset" and reloads
  } finally {
    $("fresh-start").disabled = false;
  }
}

// ---------------------------------------------------------------- wiring

function wire() {
  $("user-composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("user-input");
    const text = input.value;
    if (!text.trim()) return;
    const error = $("user-send-error");
    input.value = "";  // at once, so the next message can be typed while this one goes out
    try {
      await sendText(text);
      error.hidden = true;
    } catch (failure) {
      // Not sent: the text comes back to the composer to try again (unless more was typed).
      if (!input.value) input.value = text;
      error.textContent = `Not sent: ${failure.message || "the server did not answer"}. Press Enter to try again.`;
      error.hidden = false;
    }
  });
  $("ops-composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("ops-input");
    const text = input.value;
    if (!text.trim() || state.operatorId === null) return;
    input.value = "";
    await sendText(text, "ops");
  });
  $("menu-app-button").addEventListener("click", () => openWebApp());
  $("webapp-close").addEventListener("click", closeWebApp);
  $("webapp-main").addEventListener("click", () => postToWebApp("main_button_pressed", {}));
  $("webapp-back").addEventListener("click", () => postToWebApp("back_button_pressed", {}));
  $("webapp-theme").addEventListener("change", () => {
    postToWebApp("theme_changed", { theme_params: THEMES[$("webapp-theme").value] });
  });
  window.addEventListener("message", onWebAppMessage);
  $("commands-button").addEventListener("click", (event) => {
    event.stopPropagation();
    showCommands();
  });
  document.addEventListener("click", (event) => {
    if (!$("commands-popup").contains(event.target)) $("commands-popup").hidden = true;
  });
  $("inline-button").addEventListener("click", () => openInline(""));
  $("inline-query").addEventListener("input", () => {
    clearTimeout(state.inlineTimer);
    state.inlineTimer = setTimeout(runInline, 250);
  });
  $("add-user").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const created = await api("/api/users", { name: form.name.value, language: form.language.value });
    form.reset();
    await loadState();
    await selectUser(created.id);
  });
  $("fault-flood").addEventListener("click", async () => {
    const result = await api("/api/faults", { kind: "flood" });
    $("fault-status").textContent = `Armed: ${result.armed}.`;
  });
  $("fault-dup").addEventListener("click", async () => {
    const result = await api("/api/faults", { kind: "duplicate_payment" });
    $("fault-status").textContent = `Armed: ${result.armed}.`;
  });
  $("fault-block").addEventListener("change", async (event) => {
    await api("/api/faults", { kind: "block", user_id: state.userId, blocked: event.target.checked });
    await loadState();
    $("fault-status").textContent = event.target.checked
      ? `${currentUser().name} has blocked the bot: sends to them answer 403.`
      : `${currentUser().name} has unblocked the bot.`;
  });
  document.querySelectorAll("[data-step]").forEach((button) => {
    button.addEventListener("click", async () => {
      const result = await api("/api/time", { step: button.dataset.step });
      showTime(result.now);
      toast(`Time moved on; ${result.jobs_run} scheduled job(s) ran.`);
      refreshInspectorSoon();
    });
  });
  $("delivery").addEventListener("submit", async (event) => {
    event.preventDefault();
    const replicas = Number($("delivery-mode").value);
    $("delivery-status").textContent = "Restarting the bot…";
    try {
      const delivery = await api("/api/delivery", { replicas });
      showDelivery(delivery);
      toast(`The bot runs on ${delivery.label} now; chats and balances stay.`);
    } catch (error) {
      await refreshDelivery();
    }
  });
  $("start-button").addEventListener("click", () => sendText("/start"));
  $("fresh-start").addEventListener("click", () => freshStart().catch(() => {}));
  document.querySelectorAll("#tabs button").forEach((button) => {
    button.addEventListener("click", () => showTab(button.dataset.tab));
  });
  $("inspector-refresh").addEventListener("click", (event) => {
    event.preventDefault();
    loadInspector();
  });
}

async function main() {
  wire();
  showTab("chat");
  await loadState();
  connect();
  if (state.userId !== null) await selectUser(state.userId);
  await loadChat("ops");
  await loadInspector();
  document.body.dataset.ready = "true";
}

main().catch((error) => toast(`Could not start: ${error.message}`));
