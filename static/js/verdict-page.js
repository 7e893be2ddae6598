// The public verdict page: the printed QR code opens /v#<token as digits>. The token stays in the
// fragment, so it never reaches a server log. The verdict is computed here by the one browser
// implementation of docs/card-token.md (lib/card-verifier.js) from the public trust bundle; for a
// card that passes steps 1-6 the page then asks the verify API, whose answer (the register, now)
// is authoritative and replaces the page's own (docs/card-token.md section 12).
import { REGIONS, TRADES, importJwks, readBundle, verifyScan } from "./lib/card-verifier.js";
import { formatCardNumber } from "./lib/formats.js";
import { Formats, VERDICT_ICONS, dateLine, presentationKey } from "./lib/verdict-look.js";
import { recalledTrust, rememberTrust } from "./verdict-trust.js";

const section = document.getElementById("verdict");
const details = document.getElementById("card-details");
const presentationLine = document.getElementById("presentation");
const photo = details.querySelector("[data-holder-photo]");
const checkedAt = document.getElementById("checked-at");
const offlineNote = document.getElementById("offline-note");
// Titles and messages of every verdict, in the page's language (rendered from webapp/verdicts.py).
const texts = document.getElementById("verdict-texts").content;
const dateLabels = document.getElementById("date-labels").content;
const language = document.documentElement.lang;
const formats = new Formats(language);
const publicBaseUrl = section.dataset.publicBaseUrl;
// Verdicts of steps 1-6 need only the signed token and the keys: the server would say the same.
const FROM_THE_TOKEN_ALONE = new Set(["malformed", "not_a_card", "unknown_key", "bad_signature"]);
const SHOWS_THE_CARD = new Set(["valid", "expired", "revoked", "suspended"]);
let latestCheck = 0;
let trust = null;

function textOf(verdict) {
  const node = texts.querySelector(`[data-verdict="${verdict}"]`);
  return node ? { title: node.dataset.title, message: node.textContent.trim() } : { title: verdict, message: "" };
}

function show(verdict, reason) {
  section.className = `verdict verdict-${verdict}`;
  section.dataset.verdict = verdict;
  section.querySelector("[data-verdict-icon]").setAttribute("href", `#${VERDICT_ICONS[verdict] ?? "icon-refresh"}`);
  const text = textOf(verdict);
  section.querySelector("[data-verdict-title]").textContent = text.title;
  section.querySelector("[data-verdict-reason]").textContent = reason ?? text.message;
}

// "Shown live from the holder's phone" (a live code) or "Printed card"; nothing before a token verified.
function showPresentation(presentation) {
  const key = presentationKey(presentation);
  presentationLine.textContent = key ? textOf(key).message : "";
  presentationLine.hidden = !key;
}

function fill(container, values) {
  for (const field of container.querySelectorAll("[data-field]")) {
    field.textContent = values[field.dataset.field] ?? "";
    field.hidden = !field.textContent;
  }
  container.hidden = false;
}

// card: { name, nameAr?, number, tradeName, regionName, expiryDate, statusSince? }. A revoked or
// suspended card shows the day of that change (online) instead of a "valid until" date.
function showCard(verdict, card) {
  const line = dateLine(verdict, card);
  fill(details, {
    name: card.name,
    name_ar: card.nameAr,
    number: card.number ? formatCardNumber(card.number) : "",
    trade: card.tradeName,
    region: card.regionName,
    date: line.date ? formats.date(line.date) : "",
  });
  details.querySelector("[data-date-label]").textContent =
    dateLabels.querySelector(`[data-key="${line.label}"]`)?.textContent ?? "";
}

// Partner staff signed in see the register's photo of a valid card's holder (never the public:
// the page has no photo URL for them, and the server refuses them).
function showPhoto(verdict, number) {
  photo.hidden = true;
  photo.removeAttribute("src");
  const url = section.dataset.photoUrl;
  if (!url || verdict !== "valid" || !number) return;
  photo.onload = () => {
    photo.hidden = false;
  };
  photo.onerror = () => {
    photo.hidden = true;
  };
  photo.src = url.replace("CARD-NUMBER", encodeURIComponent(number));
}

function showCheckTime(isoTime) {
  const time = checkedAt.querySelector("time");
  time.dateTime = isoTime;
  fill(checkedAt, { checked_at: formats.moment(Date.parse(isoTime) / 1000) });
}

// The language links are "?lang=xx": carry the card's fragment along, or switching language
// would drop the card being checked.
function keepFragmentInLanguageLinks() {
  for (const link of document.querySelectorAll(".languages a")) link.hash = window.location.hash;
}

// The public bundle, verified against the JWKS fetched from our origin (rule B1, first use), once
// per page. The clock is the server's (the Date of the bundle's response), so a wrong phone clock does
// not turn a valid card expired. Both are kept on the phone (verdict-trust.js): offline, the page
// verifies with the copy, its signature and age checked again; a copy past its maximum age still
// tells a genuine card from a fake but never says "valid" (statusList null: "cannot confirm", rule
// S5). Null when nothing is usable: no WebCrypto (an http:// origin other than localhost), no
// DecompressionStream (an old browser), nothing kept and no network.
async function fetchTrust() {
  try {
    const request = { cache: "no-store", credentials: "omit" };
    const [jwksResponse, bundleResponse] = await Promise.all([
      fetch(section.dataset.jwksUrl, request),
      fetch(section.dataset.bundleUrl, request),
    ]);
    if (!jwksResponse.ok || !bundleResponse.ok) return null;
    const serverDate = Date.parse(bundleResponse.headers.get("Date") ?? "");
    return {
      jwks: await jwksResponse.json(),
      bundle: (await bundleResponse.text()).trim(),
      offsetMs: Number.isNaN(serverDate) ? 0 : serverDate - Date.now(),
      receivedAt: Number.isNaN(serverDate) ? Date.now() : serverDate,
    };
  } catch {
    return null; // offline, or the server did not answer
  }
}

function loadTrust() {
  trust ??= (async () => {
    if (!globalThis.crypto?.subtle || typeof DecompressionStream !== "function") return null;
    const fetched = await fetchTrust();
    const material = fetched ?? (await recalledTrust());
    if (!material) return null;
    const now = () => Math.floor((Date.now() + material.offsetMs) / 1000);
    let trusted;
    try {
      trusted = await importJwks(material.jwks);
      const bundle = await readBundle(material.bundle, trusted, { publicBaseUrl, now: now() });
      if (fetched) rememberTrust(fetched).catch(() => {}); // a private window keeps nothing: fine
      return { keys: bundle.keys, statusList: bundle.statusList, now, kept: fetched ? null : material };
    } catch {
      // A bundle that is not usable (BundleUnusable): online, the verify API decides; offline, the
      // kept keys still check the signature, with no status ("cannot confirm", never "valid").
      if (fetched || !trusted) return null;
      return { keys: trusted, statusList: null, now, kept: material };
    }
  })();
  return trust;
}

// The text the camera read, rebuilt on our own address: the host the page was opened on and its
// query (?lang=) do not matter, and the fragment is judged as part of our URL, so a code cut short
// is "incomplete" (rule U7), not "not a card" as bare odd digits would be (rule U6).
function asScanned(fragment) {
  return `${publicBaseUrl}/v#${fragment}`;
}

async function localVerdict(fragment) {
  const loaded = await loadTrust();
  if (!loaded) return null;
  const { keys, statusList, now, kept } = loaded;
  const checkedAtSeconds = now();
  const result = await verifyScan(asScanned(fragment), { publicBaseUrl, keys, statusList, now: checkedAtSeconds });
  const checkedAt = new Date(checkedAtSeconds * 1000).toISOString().replace(/\.\d+Z$/, "Z");
  return { ...result, checkedAt, keptSince: kept ? kept.receivedAt : null };
}

function showLocal(result) {
  show(result.verdict);
  showPresentation(result.presentation);
  if (result.claims && SHOWS_THE_CARD.has(result.verdict)) {
    const { name, number, trade, region, expiryDate } = result.claims;
    showCard(result.verdict, {
      name,
      number,
      tradeName: TRADES[trade]?.[language] ?? trade,
      regionName: REGIONS[region]?.[language] ?? region,
      expiryDate,
    });
  }
  showCheckTime(result.checkedAt);
}

// Offline: the verdict came from the data kept on this phone; say so, and from when.
function showKept(receivedAtMs) {
  offlineNote.hidden = receivedAtMs === null;
  if (receivedAtMs === null) return;
  const time = offlineNote.querySelector("time");
  time.dateTime = new Date(receivedAtMs).toISOString();
  time.textContent = formats.moment(Math.floor(receivedAtMs / 1000));
}

// The server's answer; null when it could not be read; { offline: true } when the request never
// left the phone (no network).
async function askServer(fragment) {
  let response;
  try {
    response = await fetch(section.dataset.verifyUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept-Language": language },
      body: JSON.stringify({ qr: asScanned(fragment) }),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    return { offline: true };
  }
  try {
    return await response.json();
  } catch {
    return null;
  }
}

async function check() {
  const thisCheck = ++latestCheck;
  // Never leave a previous card's details (or its holder's photo) beside a new verdict.
  details.hidden = true;
  checkedAt.hidden = true;
  showKept(null);
  showPresentation(null);
  showPhoto(null, null);
  keepFragmentInLanguageLinks();
  // Digits, or a shared plain token.
  const fragment = window.location.hash.slice(1);
  if (!fragment) {
    show("malformed");
    return;
  }
  show("pending", "");
  const local = await localVerdict(fragment);
  if (thisCheck !== latestCheck) return; // a newer fragment is being checked: drop this answer
  if (local) {
    showLocal(local);
    if (FROM_THE_TOKEN_ALONE.has(local.verdict)) return;
  }
  const answer = await askServer(fragment);
  if (thisCheck !== latestCheck) return;
  if (!answer || !answer.verdict) {
    // The bundle's verdict stands, offline (said with the data's time); with none, say why.
    if (local) showKept(local.keptSince);
    else show(answer?.offline ? "offline" : "network_error");
    return;
  }
  // Online, the server is authoritative: the register now, not the bundle's list.
  details.hidden = true;
  showKept(null);
  show(answer.verdict, answer.reason);
  showPresentation(answer.presentation);
  if (answer.card) {
    const card = answer.card;
    showCard(answer.verdict, {
      name: card.name,
      nameAr: card.name_ar,
      number: card.number,
      tradeName: card.trade_name,
      regionName: card.region_name,
      expiryDate: card.expires,
      statusSince: card.status_since,
    });
    showPhoto(answer.verdict, card.number);
  }
  if (answer.checked_at) showCheckTime(answer.checked_at);
}

// A page visited once opens offline: its service worker keeps the page's shell (never a verdict,
// see templates/public/verdict_sw.js), here as an anonymous visitor sees it, in this language.
async function keepForOffline() {
  const workerUrl = section.dataset.workerUrl;
  if (!workerUrl || !("serviceWorker" in navigator) || !navigator.onLine) return;
  try {
    await navigator.serviceWorker.register(workerUrl, { scope: section.dataset.workerScope });
    const registration = await navigator.serviceWorker.ready;
    registration.active?.postMessage({ type: "keep-page", language });
  } catch {
    // No service worker here (a private window, an http:// origin): the page works online as before.
  }
}

window.addEventListener("hashchange", check);
check();
keepForOffline();
