// The Mini App's dashboard: a session from Telegram's initData, then read-only views.
// Text always goes in through textContent: nothing from the server is parsed as HTML.

const tg = window.Telegram ? window.Telegram.WebApp : null;
const state = { session: null, texts: {}, loaded: new Set() };
const $ = (id) => document.getElementById(id);

function say(key) {
  return state.texts[key] || key;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function showNotice(text, retry) {
  const status = $("status");
  status.replaceChildren(document.createTextNode(text));
  if (retry) {
    const button = element("button", "retry", say("webapp-retry"));
    button.addEventListener("click", () => { status.textContent = say("webapp-loading"); start(); });
    status.append(button);
  }
  status.hidden = false;
  $("dashboard").hidden = true;
  $("app").setAttribute("aria-busy", "false");
}

class SessionEnded extends Error {}

// A refusal the server words for the user (a wrong password, a lockout, a spent nonce).
class Refused extends Error {
  constructor(status, body) {
    super(body.message || body.error || String(status));
    this.status = status;
    this.body = body;
  }
}

async function api(path, options = {}) {
  const headers = { "Content-Type": "application/json" };
  if (state.session) headers["X-Session"] = state.session;
  const response = await fetch(`api/${path}`, { ...options, headers, cache: "no-store" });
  if (response.status === 401) throw new SessionEnded();
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    if (response.status < 500 && (body.message || body.error === "too_many")) {
      throw new Refused(response.status, body);
    }
    throw new Error(`${path}: ${response.status}`);
  }
  return response.json();
}

function post(path, body) {
  return api(path, { method: "POST", body: JSON.stringify(body || {}) });
}

function toast(text) {
  const node = $("toast");
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { node.hidden = true; }, 4000);
}

function fail(error) {
  if (error instanceof Refused) {
    toast(error.body.error === "too_many" ? say("webapp-too-many") : error.message);
  } else if (error instanceof SessionEnded) {
    showNotice(state.session ? say("webapp-session-ended") : say("webapp-open-in-telegram"));
  } else {
    console.error(error);
    showNotice(say("webapp-failed"), true);
  }
}

// --- views ------------------------------------------------------------------------------------

function row(list, main, side, sub, sideClass) {
  const item = element("li");
  item.append(element("span", "main", main), element("span", `side ${sideClass || ""}`, side));
  if (sub) item.append(element("span", "sub", sub));
  list.append(item);
}

function emptyRow(list, text) {
  list.append(element("li", "empty", text));
}

function pager(button, more, load) {
  button.hidden = !more;
  button.onclick = more ? load : null;
}

async function loadWallet(page = 0) {
  const wallet = await api(`wallet?page=${page}`);
  $("balance").textContent = wallet.balance.text;
  $("live-certificates").textContent = wallet.live_certificates;
  $("cb-available").textContent = wallet.cashback.available.text;
  $("cb-on-hold").textContent = wallet.cashback.on_hold.text;
  $("cb-pending").textContent = wallet.cashback.pending.text;
  const next = wallet.cashback.next_release;
  $("cb-next").hidden = !next;
  if (next) $("cb-next").textContent = `${say("webapp-next-release")}: ${next.amount.text} · ${next.date}`;
  const list = $("certificates");
  if (page === 0) list.replaceChildren();
  for (const item of wallet.certificates.items) {
    row(list, item.left, "", `${item.source} · ${item.date}`, item.spent ? "spent" : "");
  }
  if (!wallet.certificates.total) emptyRow(list, say("webapp-certificates-empty"));
  pager($("certificates-more"), wallet.certificates.more, () => loadWallet(page + 1).catch(fail));
}

function signed(money) {
  return money.minor > 0 ? `+${money.text}` : money.text.replace(/^-/, "−");
}

async function loadHistory(before) {
  const answer = await api(before ? `history?before=${before}` : "history");
  const list = $("history");
  if (!before) list.replaceChildren();
  for (const item of answer.items) {
    row(list, item.what, signed(item.amount), `${item.date} · ${item.account} · ${item.after.text}`,
      item.amount.minor > 0 ? "plus" : "minus");
  }
  if (!before && !answer.items.length) emptyRow(list, say("webapp-history-empty"));
  pager($("history-more"), answer.older !== null, () => loadHistory(answer.older).catch(fail));
}

async function downloadHistory() {
  const file = await post("history/export");
  const url = new URL(file.url, location.href).href;
  // Telegram downloads the file itself where it can (https only); elsewhere, a plain link.
  if (tg && tg.isVersionAtLeast && tg.isVersionAtLeast("8.0") && url.startsWith("https:")) {
    tg.downloadFile({ url, file_name: file.file_name });
    return;
  }
  const link = element("a");
  link.href = url;
  link.download = file.file_name;
  document.body.append(link);
  link.click();
  link.remove();
}

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

async function loadChart() {
  const answer = await api("chart");
  const box = $("chart");
  box.replaceChildren();
  const points = answer.points;
  if (!points.length) {
    box.append(element("p", "hint", say("webapp-chart-empty")));
    return;
  }
  // A step line: the balance holds its value until the next change, then to now.
  const times = points.map((p) => Date.parse(p.at));
  // From the first change (a day before it when there is one), so the first step shows, to
  // a little past the last one (or now), so the balance it left shows as a level.
  const last = times[times.length - 1];
  const start = times.length > 1 ? times[0] : last - 86400000;
  const end = Math.max(Date.now(), last + Math.max((last - start) * 0.15, 3600000));
  const top = Math.max(...points.map((p) => p.minor), 1);
  const width = 600, height = 180, left = 0, bottom = 20;
  const x = (t) => left + ((t - start) / Math.max(end - start, 1)) * (width - left);
  const y = (v) => (height - bottom) - (v / top) * (height - bottom - 12);
  let path = `M ${x(start).toFixed(1)} ${y(0).toFixed(1)} H ${x(times[0]).toFixed(1)}`;
  points.forEach((p, i) => {
    path += ` V ${y(p.minor).toFixed(1)}`;
    const next = i + 1 < points.length ? times[i + 1] : end;
    path += ` H ${x(next).toFixed(1)}`;
  });
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img" });
  chart.append(svg("title", {}));
  chart.firstChild.textContent = `${say("webapp-chart")}: ${answer.balance.text}`;
  chart.append(svg("line", { class: "grid", x1: 0, x2: width, y1: y(0), y2: y(0) }));
  chart.append(svg("line", { class: "grid", x1: 0, x2: width, y1: y(top), y2: y(top) }));
  chart.append(svg("path", { class: "area", d: `${path} V ${y(0).toFixed(1)} Z` }));
  chart.append(svg("path", { class: "line", d: path }));
  box.append(chart);
  const scale = element("div", "hint");
  scale.textContent = `${new Date(start).toLocaleDateString(document.documentElement.lang)} — ${answer.balance.text}`;
  box.append(scale);
}

async function loadAccruals(page = 0) {
  const [answer, wallet] = await Promise.all([api(`cashback?page=${page}`), page ? null : api("wallet")]);
  if (wallet) $("cb-available-2").textContent = wallet.cashback.available.text;
  const list = $("accruals");
  if (page === 0) list.replaceChildren();
  for (const item of answer.items) {
    row(list, item.source, item.amount.text, `${item.date} · ${item.state}`,
      item.status === "voided" ? "spent" : "");
  }
  if (!answer.total) emptyRow(list, say("webapp-cashback-empty"));
  pager($("accruals-more"), answer.more, () => loadAccruals(page + 1).catch(fail));
}

async function loadOrders(page = 0) {
  const answer = await api(`orders?page=${page}`);
  const list = $("orders");
  if (page === 0) list.replaceChildren();
  for (const item of answer.items) {
    row(list, `#${item.id} ${item.title}`, item.amount.text, `${item.date} · ${item.state}`);
    if (item.status === "awaiting_payment") {
      const pay = element("button", "pay", say("webapp-pay"));
      pay.dataset.order = item.id;
      pay.addEventListener("click", () => startPayment(item.id).catch(fail));
      list.lastChild.append(pay);
    }
  }
  if (!answer.total) emptyRow(list, say("webapp-orders-empty"));
  pager($("orders-more"), answer.more, () => loadOrders(page + 1).catch(fail));
}

// --- spending, confirmed here: the payment password, or the device's biometrics ---------------

const biometrics = tg && tg.BiometricManager ? tg.BiometricManager : null;
// Telegram's own buttons under the app (Bot API 6.1): the confirmation is pressed where a
// person's thumb already is, and the back button cancels it. The sheet keeps its own buttons
// for a client without them.
const bottomBar = tg && tg.isVersionAtLeast && tg.isVersionAtLeast("6.1");
const mainButton = bottomBar && tg.MainButton ? tg.MainButton : null;
const backButton = bottomBar && tg.BackButton ? tg.BackButton : null;

function showConfirmButtons(step) {
  $("confirm-submit").hidden = Boolean(mainButton);
  if (mainButton) {
    const amount = step.amount ? ` · ${step.amount.text}` : "";
    mainButton.setParams({ text: `${say("webapp-confirm")}${amount}`, is_visible: true, is_active: true });
  }
  if (backButton) backButton.show();
}

function hideConfirmButtons() {
  if (mainButton) {
    mainButton.hideProgress();
    mainButton.hide();
  }
  if (backButton) backButton.hide();
}

function confirmBusy(busy) {
  // A locked or lapsed operation stays unconfirmable: only Cancel is left.
  const off = busy || Boolean(state.confirm && state.confirm.closed);
  $("confirm-submit").disabled = off;
  if (!mainButton) return;
  if (busy) mainButton.showProgress(false);
  else mainButton.hideProgress();
  if (off) mainButton.disable();
  else mainButton.enable();
}

function initBiometrics() {
  if (!biometrics) return;
  try {
    biometrics.init(() => {});
  } catch (error) {
    console.error(error);
  }
}

function biometricDevice() {
  return biometrics && biometrics.isInited && biometrics.isBiometricAvailable ? biometrics.deviceId : "";
}

function confirmError(text) {
  $("confirm-error").textContent = text;
  $("confirm-error").hidden = !text;
}

async function startPayment(orderId) {
  await startConfirm(`orders/${orderId}/pay`, {});
}

// Every spend starts the same way: the server makes the pending operation and a nonce.
async function startConfirm(path, body) {
  const device = biometricDevice();
  const step = await post(path, device ? { ...body, device_id: device } : body);
  state.confirm = step;
  $("confirm-title").textContent = step.title;
  $("confirm-amount").textContent = step.amount ? step.amount.text : "";
  $("confirm-password").value = "";
  $("confirm-enroll").checked = false;
  $("confirm-enroll-row").hidden = !device || step.device_enrolled;
  $("confirm-biometric").hidden = !(device && step.device_enrolled && biometrics.isBiometricTokenSaved);
  confirmError("");
  $("confirm").hidden = false;
  showConfirmButtons(step);
  $("confirm-password").focus();
}

function closeConfirm() {
  $("confirm").hidden = true;
  $("confirm-password").value = "";
  state.confirm = null;
  hideConfirmButtons();
}

async function freshNonce() {
  // Every try spends its nonce: the next one asks for another.
  const again = await post(`operations/${state.confirm.operation}/nonce`);
  state.confirm.nonce = again.nonce;
}

async function confirmed(answer) {
  closeConfirm();
  toast(answer.message);
  if (answer.gift) showGift(answer.gift);
  await Promise.all([loadWallet(), loadOrders(), loadAccruals()]);
}

function showGift(gift) {
  $("gift-ready").hidden = false;
  $("gift-ready-text").textContent = `${gift.code} · ${say("webapp-gift-until")} ${gift.expires}`;
  $("gift-link").textContent = gift.link;
  $("gift-amount").value = "";
  $("gift-note").value = "";
  state.gift = gift;
}

async function shareGift() {
  // The gift card itself, into a chat the giver picks (Bot API 8.0's prepared messages);
  // an older client shares the link instead.
  const gift = state.gift;
  if (!gift) return;
  if (tg && tg.isVersionAtLeast && tg.isVersionAtLeast("8.0")) {
    const prepared = await post(`gifts/${gift.code}/share`);
    tg.shareMessage(prepared.prepared_id, (sent) => { if (sent) toast(say("webapp-shared")); });
    return;
  }
  const url = `https://t.me/share/url?url=${encodeURIComponent(gift.link)}`;
  if (tg && tg.openTelegramLink) tg.openTelegramLink(url);
  else window.open(url, "_blank", "noopener");
}

async function copyGift() {
  if (!state.gift) return;
  try {
    await navigator.clipboard.writeText(state.gift.link);
  } catch (error) {
    console.error(error);
  }
  toast(state.gift.link);
}

async function loadCards() {
  const answer = await api("cards");
  const select = $("cb-card");
  select.replaceChildren(...answer.items.map((card) => new Option(card.label, String(card.id))));
  $("cb-no-cards").hidden = answer.items.length > 0;
  $("cb-withdraw").disabled = !answer.items.length;
  select.parentElement.hidden = !answer.items.length;
}

async function refusedHere(error) {
  if (!(error instanceof Refused)) throw error;
  const text = error.body.error === "too_many" ? say("webapp-too-many") : error.message;
  confirmError(text);
  if (error.status === 423 || error.body.error === "error-operation-gone") {
    if (state.confirm) state.confirm.closed = true;
    confirmBusy(false);
    return;
  }
  await freshNonce();
}

async function confirmWithPassword(event) {
  event.preventDefault();
  const step = state.confirm;
  const password = $("confirm-password").value;
  if (!step || !password) return;
  const device = biometricDevice();
  const enroll = device && $("confirm-enroll").checked ? device : undefined;
  confirmBusy(true);
  try {
    const answer = await post("confirm", { nonce: step.nonce, password, enroll_device: enroll });
    $("confirm-password").value = "";
    if (enroll && answer.biometric_token) keepToken(answer.biometric_token, true);
    await confirmed(answer);
  } catch (error) {
    $("confirm-password").value = "";
    await refusedHere(error).catch(fail);
  } finally {
    if (state.confirm) confirmBusy(false);
  }
}

function keepToken(token, askFirst) {
  // The token lives behind the device's biometrics; the server keeps only its hash.
  const update = () => biometrics.updateBiometricToken(token);
  if (askFirst && !biometrics.isAccessGranted) {
    biometrics.requestAccess({ reason: say("webapp-biometric-reason") }, (granted) => { if (granted) update(); });
  } else {
    update();
  }
}

function confirmWithBiometrics() {
  const step = state.confirm;
  if (!step) return;
  biometrics.authenticate({ reason: say("webapp-biometric-reason") }, async (ok, token) => {
    if (!ok || !token) {
      confirmError(say("webapp-biometric-denied"));
      return;
    }
    try {
      const answer = await post("confirm", {
        nonce: step.nonce, device_id: biometricDevice(), biometric_token: token,
      });
      keepToken(answer.biometric_token, false);
      await confirmed(answer);
    } catch (error) {
      await refusedHere(error).catch(fail);
    }
  });
}

const TABS = {
  overview: () => loadWallet(),
  history: () => Promise.all([loadChart(), loadHistory()]),
  cashback: () => Promise.all([loadAccruals(), loadCards()]),
  orders: () => loadOrders(),
};

function openTab(name) {
  for (const button of document.querySelectorAll("[data-tab]")) {
    button.setAttribute("aria-selected", String(button.dataset.tab === name));
  }
  for (const pane of document.querySelectorAll(".pane")) pane.hidden = pane.id !== `pane-${name}`;
  // Overview is loaded with the session; the others on first open, and again on each open.
  if (name !== "overview" || state.loaded.has(name)) TABS[name]().catch(fail);
  state.loaded.add(name);
}

// --- start --------------------------------------------------------------------------------------

async function loadTexts() {
  // The page's words are public: before a session, in the client's language.
  const user = tg && tg.initDataUnsafe ? tg.initDataUnsafe.user : null;
  const locale = (user && user.language_code) || navigator.language || "";
  const words = await api(`texts?locale=${encodeURIComponent(locale)}`);
  state.texts = words.texts;
  document.documentElement.lang = words.locale;
}

async function start() {
  const initData = tg ? tg.initData : "";
  try {
    await loadTexts();
  } catch (error) {
    console.error(error);
  }
  if (!initData) {
    showNotice(say("webapp-open-in-telegram"));
    return;
  }
  try {
    const opened = await api("session", { method: "POST", body: JSON.stringify({ init_data: initData }) });
    state.session = opened.session;
    state.texts = opened.texts;
    document.documentElement.lang = opened.locale;
    document.title = say("webapp-title");
    for (const node of document.querySelectorAll("[data-text]")) node.textContent = say(node.dataset.text);
    await loadWallet();
    $("status").hidden = true;
    $("dashboard").hidden = false;
    $("app").setAttribute("aria-busy", "false");
    state.loaded.add("overview");
  } catch (error) {
    state.session = null;
    fail(error);
  }
}

for (const button of document.querySelectorAll("[data-tab]")) {
  button.addEventListener("click", () => openTab(button.dataset.tab));
}
$("confirm-form").addEventListener("submit", (event) => { confirmWithPassword(event).catch(fail); });
$("gift-form").addEventListener("submit", (event) => {
  event.preventDefault();
  $("gift-ready").hidden = true;
  startConfirm("gifts", { amount: $("gift-amount").value, note: $("gift-note").value }).catch(fail);
});
$("gift-share").addEventListener("click", () => { shareGift().catch(fail); });
$("history-csv").addEventListener("click", () => { downloadHistory().catch(fail); });
$("gift-copy").addEventListener("click", () => { copyGift().catch(fail); });
$("cb-move").addEventListener("click", () => { startConfirm("cashback/move", {}).catch(fail); });
$("cb-withdraw").addEventListener("click", () => {
  startConfirm("cashback/withdraw", { card_id: Number($("cb-card").value) }).catch(fail);
});
$("confirm-cancel").addEventListener("click", closeConfirm);
if (mainButton) mainButton.onClick(() => { if (state.confirm) $("confirm-form").requestSubmit(); });
if (backButton) backButton.onClick(closeConfirm);
$("confirm-biometric").addEventListener("click", confirmWithBiometrics);
if (tg) {
  tg.ready();
  tg.expand();
  initBiometrics();
}
start();
