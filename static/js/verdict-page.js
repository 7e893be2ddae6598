// The public verdict page: the printed QR code opens /v#<token as digits>. The token stays in the
// fragment, so it never reaches a server log. The verdict is computed here by the one browser
// implementation of docs/card-token.md (lib/card-verifier.js) from the public trust bundle; for a
// card that passes steps 1-6 the page then asks the verify API, whose answer (the register, now)
// is authoritative and replaces the page's own (docs/card-token.md section 12).
import { REGIONS, TRADES, importJwks, readBundle, verifyScan } from "./lib/card-verifier.js";
import { formatCardNumber } from "./lib/formats.js";
import { Formats, VERDICT_ICONS, dateLine, presentationKey } from "./lib/verdict-look.js";

const section = document.getElementById("verdict");
const details = document.getElementById("card-details");
const presentationLine = document.getElementById("presentation");
const photo = details.querySelector("[data-holder-photo]");
const checkedAt = document.getElementById("checked-at");
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
// per page. Null when it cannot be had: no WebCrypto (an http:// origin other than localhost), no
// DecompressionStream (an old browser), no network, or a bundle that is not usable: the page then
// relies on the server alone. The clock is the server's (the Date of the bundle's response), so a
// wrong phone clock does not turn a valid card expired.
function loadTrust() {
  trust ??= (async () => {
    if (!globalThis.crypto?.subtle || typeof DecompressionStream !== "function") return null;
    try {
      const request = { cache: "no-store", credentials: "omit" };
      const [jwksResponse, bundleResponse] = await Promise.all([
        fetch(section.dataset.jwksUrl, request),
        fetch(section.dataset.bundleUrl, request),
      ]);
      if (!jwksResponse.ok || !bundleResponse.ok) return null;
      const serverDate = Date.parse(bundleResponse.headers.get("Date") ?? "");
      const offset = Number.isNaN(serverDate) ? 0 : serverDate - Date.now();
      const now = () => Math.floor((Date.now() + offset) / 1000);
      const trusted = await importJwks(await jwksResponse.json());
      const bundle = await readBundle(await bundleResponse.text(), trusted, { publicBaseUrl, now: now() });
      return { bundle, now };
    } catch {
      return null; // BundleUnusable, a network error: the verify API decides
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
  const { bundle, now } = loaded;
  const checkedAtSeconds = now();
  const result = await verifyScan(asScanned(fragment), {
    publicBaseUrl,
    keys: bundle.keys,
    statusList: bundle.statusList,
    now: checkedAtSeconds,
  });
  return { ...result, checkedAt: new Date(checkedAtSeconds * 1000).toISOString().replace(/\.\d+Z$/, "Z") };
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

async function askServer(fragment) {
  try {
    const response = await fetch(section.dataset.verifyUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept-Language": language },
      body: JSON.stringify({ qr: asScanned(fragment) }),
      cache: "no-store",
      credentials: "omit",
    });
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
    if (!local) show("network_error"); // else the bundle's verdict stands, offline
    return;
  }
  // Online, the server is authoritative: the register now, not the bundle's list.
  details.hidden = true;
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

window.addEventListener("hashchange", check);
check();
