// The card app: shows the artisan's card and its live QR from what the phone keeps (IndexedDB), at
// once and without network, then refreshes it from /card/api/card when online.
import { drawQr, currentWindow, liveCode, liveQr, msToNextWindow } from "./live-qr.js";
import { DateFormats, formatCardNumber } from "../lib/formats.js";
import { canHoldCard, forgetEverything, getItems, removeItem, setItem } from "./store.js";

const root = document.getElementById("card-app");
const config = root.dataset;
const uiTexts = document.getElementById("ui-texts").content;
const language = document.documentElement.lang;
// Dates as every screen writes them (static/js/lib/formats.js, webapp/clock.py): Morocco's month names.
const dates = new DateFormats(language);
const dateFormat = new Intl.DateTimeFormat(dates.locale, { dateStyle: "long" });
const dateTimeFormat = { format: (when) => dates.moment(when) };

const state = { card: null, device: null, pending: null, timer: null, wakeLock: null, lastCode: null };

function text(key, values = {}) {
  const template = uiTexts.querySelector(`[data-key="${key}"]`)?.textContent ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => values[name] ?? "");
}

function show(screen) {
  for (const section of root.querySelectorAll("[data-screen]")) section.hidden = section.dataset.screen !== screen;
}

function line(name, message) {
  const element = root.querySelector(`[data-line="${name}"]`);
  element.textContent = message ?? "";
  element.hidden = !message;
}

function formatDay(iso) {
  return dates.day(iso);
}

// --- the card face -------------------------------------------------------------------------------

function renderCard(answer) {
  const face = answer.card;
  const article = root.querySelector(".card-face");
  article.dataset.state = face.state;
  for (const element of article.querySelectorAll("[data-field]")) {
    const name = element.dataset.field;
    if (name === "photo") {
      element.hidden = !face.photo;
      if (face.photo) element.src = face.photo;
    } else if (name === "expires_on") {
      element.textContent = formatDay(face.expires_on);
    } else if (name === "number") {
      element.textContent = formatCardNumber(face.number);
    } else if (name === "advice") {
      element.textContent = face.advice ?? "";
      element.hidden = !face.advice;
    } else {
      element.textContent = face[name] ?? "";
    }
  }
  // No token: a card a verifier would refuse today (suspended, expired, revoked): no QR to show.
  const hasQr = Boolean(answer.token);
  root.querySelector("[data-live-qr]").hidden = !hasQr;
  root.querySelector(".button-wide[data-action=fullscreen]").hidden = !hasQr;
  show("card");
}

// --- the live QR -----------------------------------------------------------------------------------

async function drawLiveQr() {
  const stored = state.card;
  if (!stored?.answer?.token || !state.device) return;
  const window = currentWindow(stored.offsetMs);
  try {
    const code = await liveCode(stored.answer.token, window, state.device.privateKey);
    const qr = liveQr(stored.answer.qr_prefix, code);
    for (const canvas of root.querySelectorAll("[data-qr], [data-qr-full]")) drawQr(canvas, qr);
    state.lastCode = code;
    // The first QR on screen since the page started (bench/card_app.py reads it).
    if (!performance.getEntriesByName("card-qr-drawn").length) performance.mark("card-qr-drawn");
    root.dataset.window = String(window);
    root.dataset.qrVersion = String((qr.size - 17) / 4);
    line("problem", null);
  } catch (error) {
    console.error("live QR", error);
    line("problem", text("qr_failed"));
  }
}

function scheduleQr() {
  clearTimeout(state.timer);
  const tick = async () => {
    await drawLiveQr();
    // Redraw as the next window starts (plus a little, so the new window is surely current).
    state.timer = setTimeout(tick, msToNextWindow(state.card?.offsetMs ?? 0) + 50);
  };
  tick();
}

// --- what the phone holds, and the server's answer ------------------------------------------------

async function adoptAnswer(answer, offsetMs) {
  // The answer names the key of the card's current binding: it must be this phone's (or the key the
  // activation page just made), else the card lives on another phone now.
  const boundKey = answer.device?.key;
  if (boundKey && state.pending?.raw === boundKey) {
    await setItem("device", state.pending);
    await removeItem("pending");
    state.device = state.pending;
    state.pending = null;
  }
  if (!boundKey || state.device?.raw !== boundKey) {
    await forgetCard(boundKey ? "other-phone" : "none");
    return;
  }
  state.card = { answer, fetchedAt: new Date().toISOString(), offsetMs };
  await setItem("card", state.card);
  renderCard(answer);
  scheduleQr();
}

async function forgetCard(screen) {
  clearTimeout(state.timer);
  await removeItem("card"); // this phone's QR would be refused: do not show it
  state.card = null;
  line("network", null);
  show(screen);
}

// Signed out: a re-activation on another phone changes the password, which ends this phone's
// session. Whether this phone's key is still the card's is asked without a session.
async function boundElsewhere() {
  try {
    const url = `${config.bindingUrl}?key=${encodeURIComponent(state.device.raw)}`;
    const answer = await (await fetch(url, { headers: { Accept: "application/json" } })).json();
    if (answer.current !== false) return false;
  } catch {
    return false;
  }
  await forgetCard("other-phone");
  return true;
}

async function refresh() {
  const sent = Date.now();
  let response;
  try {
    response = await fetch(config.apiUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  } catch {
    line("network", text(state.card ? "offline" : "network_error"));
    if (!state.card) show("none");
    return;
  }
  if (response.status === 401 || response.status === 403 || response.redirected) {
    if (state.device && (await boundElsewhere())) return;
    line("network", state.card ? text("signed_out") : null);
    if (!state.card) show("none");
    return;
  }
  if (!response.ok) {
    // 404: an artisan account without a card; anything else: the server could not answer now.
    line("network", response.status === 404 ? null : text("network_error"));
    if (!state.card) show("none");
    return;
  }
  const answer = await response.json();
  const received = Date.now();
  // The server's clock at the middle of the round trip, against the phone's.
  const offsetMs = Math.round(answer.server_time * 1000 - (sent + received) / 2);
  await adoptAnswer(answer, offsetMs);
  line("network", state.card ? text("online") : null);
}

// --- full screen QR ------------------------------------------------------------------------------

const overlay = root.querySelector("[data-fullscreen]");

async function keepAwake() {
  if (!("wakeLock" in navigator)) {
    overlay.querySelector("[data-wake-hint]").hidden = false; // iOS home-screen apps, older browsers
    return;
  }
  try {
    state.wakeLock = await navigator.wakeLock.request("screen");
  } catch {
    overlay.querySelector("[data-wake-hint]").hidden = false;
  }
}

async function openFullscreen() {
  overlay.hidden = false;
  document.body.classList.add("qr-full-open");
  await drawLiveQr();
  try {
    await overlay.requestFullscreen?.({ navigationUI: "hide" });
  } catch {
    // not allowed here (iOS Safari): the overlay covers the page anyway
  }
  await keepAwake();
}

async function closeFullscreen() {
  overlay.hidden = true;
  document.body.classList.remove("qr-full-open");
  if (document.fullscreenElement) await document.exitFullscreen().catch(() => {});
  await state.wakeLock?.release().catch(() => {});
  state.wakeLock = null;
}

document.addEventListener("visibilitychange", () => {
  // A wake lock ends when the page is hidden: take it again on return, and redraw (time has passed).
  if (document.visibilityState !== "visible") return;
  if (!overlay.hidden) keepAwake();
  if (state.card) scheduleQr();
});

// --- about this phone ----------------------------------------------------------------------------

async function thumbprint(raw) {
  const bytes = Uint8Array.from(atob(raw.replaceAll("-", "+").replaceAll("_", "/")), (c) => c.charCodeAt(0));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest.slice(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
}

function tokenExpiry(token) {
  try {
    const payload = JSON.parse(atob(token.split(".")[1].replaceAll("-", "+").replaceAll("_", "/")));
    return new Date(payload.exp * 1000);
  } catch {
    return null;
  }
}

async function showAbout() {
  const list = root.querySelector("[data-about-list]");
  list.replaceChildren();
  const add = (term, value) => {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = value;
    list.append(dt, dd);
  };
  const answer = state.card?.answer;
  if (answer) {
    add(text("about_card"), `${formatCardNumber(answer.card.number)} — ${answer.card.name_latin}`);
    add(text("about_saved"), dateTimeFormat.format(new Date(state.card.fetchedAt)));
    add(text("about_photo"), text(answer.card.photo ? "yes" : "no"));
    const expiry = answer.token ? tokenExpiry(answer.token) : null;
    if (expiry) add(text("about_token"), text("about_token_value", { date: dateFormat.format(expiry) }));
    add(
      text("about_clock"),
      text("about_clock_value", {
        seconds: (Math.round(state.card.offsetMs / 100) / 10 || 0).toFixed(1), // never "-0.0"
        date: dateTimeFormat.format(new Date(state.card.fetchedAt)),
      }),
    );
  }
  if (state.device) {
    add(
      text("about_key"),
      text("about_key_value", {
        date: dateTimeFormat.format(new Date(state.device.createdAt)),
        thumbprint: await thumbprint(state.device.raw),
      }),
    );
  }
  show("about");
}

async function removeCard() {
  if (!window.confirm(text("confirm_remove"))) return;
  clearTimeout(state.timer);
  await forgetEverything();
  const registration = await navigator.serviceWorker?.getRegistration(config.scope);
  await registration?.unregister();
  state.card = state.device = state.pending = null;
  line("network", text("removed"));
  show("none");
}

// --- start ---------------------------------------------------------------------------------------

root.addEventListener("click", (event) => {
  const action = event.target.closest("[data-action]")?.dataset.action;
  if (!action) return;
  event.preventDefault();
  if (action === "fullscreen") openFullscreen();
  else if (action === "close-fullscreen") closeFullscreen();
  else if (action === "about") showAbout();
  else if (action === "back") (state.card ? show("card") : show("none"));
  else if (action === "remove") removeCard();
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && !overlay.hidden) closeFullscreen();
});
document.addEventListener("fullscreenchange", () => {
  if (!document.fullscreenElement && !overlay.hidden) closeFullscreen();
});

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  try {
    await navigator.serviceWorker.register(config.workerUrl, { scope: config.scope });
    const ready = await navigator.serviceWorker.ready;
    ready.active?.postMessage({ type: "keep-fonts", language });
  } catch (error) {
    console.warn("service worker", error);
  }
}

async function start() {
  if (!canHoldCard()) {
    show("unsupported");
    return;
  }
  const stored = await getItems(["card", "device", "pending"]);
  Object.assign(state, { card: stored.card ?? null, device: stored.device ?? null, pending: stored.pending ?? null });
  if (state.card && state.device) {
    // Offline first: what the phone holds, at once; the network may only improve on it.
    renderCard(state.card.answer);
    scheduleQr();
    line("network", text("offline"));
  }
  registerWorker();
  if (navigator.onLine === false) {
    if (!state.card) show("none");
    return;
  }
  await refresh();
}

start();
