// The verifier app (/scan): scan a card with the camera (or a photo, or its typed number), show one
// verdict screen, the partner's offers, and record redemptions, online or not. Verdicts on the phone
// come from static/js/lib/card-verifier.js with the trust bundle this app keeps (trust.js); online,
// the server's verdict (POST /api/v1/verify) also brings the failed conditions and remaining quotas.
import { createQrDetector } from "../lib/qr-decoder.js";
import * as verifier from "../lib/card-verifier.js";
import { Camera } from "./camera.js";
import { NotSignedIn, SYNC_TAG, TO_CORRECT, enqueue, forget, outboxItems, sendNow, shownStatus, syncOutbox } from "./outbox.js";
import { Countries, checkValues, maxLength } from "../lib/offer-fields.js";
import { TRUST, getRecord, putRecord } from "./store.js";
import { Trust, canVerifyOnPhone, payloadOf } from "./trust.js";
import { formatCardNumber } from "../lib/formats.js";
import { Formats } from "../lib/verdict-look.js";
import { VerdictScreen, make, redemptionInputs } from "./verdict-screen.js";

// Online, how long the phone waits for the server before showing its own verdict (the server's, when
// it comes, replaces it: it knows of revocations since the bundle).
const SERVER_HEAD_START_MS = 1500;
const SERVER_TIMEOUT_MS = 8000;
const NUMBER_STATES = { active: "valid", expired: "expired", revoked: "revoked", suspended: "suspended" };

const root = document.getElementById("scan-app");
const config = root.dataset;
const language = document.documentElement.lang;
const formats = new Formats(language);
const placeNames = JSON.parse(config.placeNames || "{}");
const countries = new Countries(JSON.parse(config.countryNames || "{}"));
const uiTexts = document.getElementById("ui-texts").content;
const $ = (selector) => root.querySelector(selector);

const scanner = $("#scanner");
const verdictRoot = $("[data-verdict-screen]");
const scanMessage = $("[data-scan-message]");
const trust = new Trust({ jwksUrl: config.jwksUrl, bundleUrl: config.bundleUrl, publicBaseUrl: config.publicBaseUrl });
let verdictTexts = {};
let who = { signed_in: false, partner: false };
let shown = null; // the result on screen
let view = "scanning";
// Where partner staff say they check cards ("Stand 12, Salon de Fès"): kept on this phone, sent with
// each check to the server (the holder sees it in "Who checked my card"). Redemptions have no place
// of their own in the register, so it goes with verifications only.
let place = "";
const PLACE_KEY = "place";
const MAX_PLACE_LENGTH = 120;

function text(key, values = {}) {
  const node = uiTexts.querySelector(`[data-key="${key}"]`);
  let words = node ? node.textContent.trim() : key;
  for (const [name, value] of Object.entries(values)) words = words.replaceAll(`{${name}}`, String(value));
  return words;
}

/** The text with each {name} replaced by its value isolated in a <bdi> (a Latin name in Arabic text). */
function textWithNames(key, values) {
  return text(key)
    .split(/(\{[a-z_]+\})/)
    .map((part) => {
      const name = part.match(/^\{([a-z_]+)\}$/)?.[1];
      return name && name in values ? make("bdi", {}, String(values[name])) : part;
    });
}

function verdictText(verdict) {
  return verdictTexts[verdict] ?? { title: verdict, message: "" };
}

// Partner staff see the holder's photo beside a valid card checked online (never the public).
const photoUrl = (number) => (who.partner ? config.photoUrl.replace("CARD-NUMBER", encodeURIComponent(number)) : null);
const screen = new VerdictScreen(verdictRoot, {
  text,
  verdictText,
  formats,
  placeNames,
  onRecord: openRedemption,
  photoUrl,
});

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function fetchJson(url, options = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), SERVER_TIMEOUT_MS);
  try {
    const response = await fetch(url, { cache: "no-store", credentials: "same-origin", ...options, signal: controller.signal });
    return { response, body: await response.json().catch(() => null) };
  } finally {
    clearTimeout(timer);
  }
}

// ---- Status line: network, data age, clock, account, pending redemptions -------------------------

function setStatus(name, content, hidden = false) {
  const line = $(`[data-line="${name}"]`);
  line.replaceChildren(...[content].flat());
  line.hidden = hidden;
}

function bundleIsPastMaxAge() {
  // For the status line only: the verdicts rely on readBundle (card-verifier.js), which checks it too.
  const { iat, max_age: maxAge } = payloadOf(trust.stored?.token ?? "");
  return Number.isInteger(iat) && Number.isInteger(maxAge) && trust.now() >= iat + maxAge;
}

async function renderStatus() {
  const online = navigator.onLine;
  root.classList.toggle("is-offline", !online);
  setStatus("network", text(online ? "online" : "offline"));
  const age = trust.age();
  const freshness = $('[data-line="freshness"]');
  const tooOld = age !== null && bundleIsPastMaxAge();
  freshness.classList.toggle("status-warning", age === null || tooOld);
  // For people and for tests alike: whether the phone holds trust data it may verify with offline.
  root.dataset.trust = age === null ? "none" : tooOld ? "too_old" : "ready";
  setStatus("freshness", age === null ? text("never_updated") : text(tooOld ? "too_old" : "updated", { age: formats.age(age) }));
  const minutes = Math.round(Math.abs(trust.clockOffset) / 60);
  setStatus("clock", text("clock_off", { minutes }), !trust.clockIsOff);
  if (!who.signed_in) {
    setStatus("account", [text("signed_out"), " ", make("a", { href: who.login_url || "/login?next=/scan/" }, text("sign_in"))]);
  } else {
    const key = who.partner ? "signed_in_partner" : "signed_in_other";
    const words = textWithNames(key, { name: who.name ?? "", organisation: who.organisation?.name ?? "" });
    setStatus("account", [...words, " · ", make("a", { href: who.account_url || "/account" }, text("account"))]);
  }
  await renderOutbox();
}

async function renderOutbox() {
  let items = [];
  try {
    items = await outboxItems();
  } catch {
    items = [];
  }
  const pending = items.filter((item) => item.status === "pending").length;
  $("[data-pending-count]").textContent = text("pending", { count: pending });
  $('[data-line="pending"]').hidden = pending === 0;
  $("[data-outbox]").hidden = items.length === 0;
  $('[data-action="sync-now"]').hidden = pending === 0;
  // Those to correct first: they wait for the agent, the others are only a record.
  const listed = [...items.filter((item) => shownStatus(item) === TO_CORRECT), ...items.filter((item) => shownStatus(item) !== TO_CORRECT)];
  if (correction && !listed.some((item) => item.key === correction.key)) correction = null;
  $("[data-outbox-list]").replaceChildren(
    ...listed.slice(0, 15).map((item) => {
      const status = shownStatus(item);
      const answer = item.answer ?? {};
      const detail = status === "refused" || status === TO_CORRECT ? refusalWords(item) : null;
      const remaining = Number.isInteger(answer.remaining) ? text("remaining", { count: answer.remaining }) : null;
      const badgeClass = { accepted: "badge-valid", over_quota: "badge-warn", refused: "badge-bad", [TO_CORRECT]: "badge-warn" }[status] ?? "";
      const correcting = correction?.key === item.key;
      return make(
        "li",
        { className: `outbox-item outbox-${status}`, dataset: { key: item.key, status } },
        make("p", {}, make("strong", {}, make("bdi", {}, item.offerName)), " · ", make("bdi", { dir: "ltr" }, formatCardNumber(item.cardNumber))),
        make("p", { className: "help" }, formats.moment(item.createdAt)),
        make("p", {}, make("span", { className: `badge ${badgeClass}` }, text(`status_${status}`))),
        status === TO_CORRECT ? make("p", { className: "help" }, text("to_correct_help")) : null,
        detail && !correcting ? make("p", { className: "help" }, detail) : null,
        remaining && status !== "refused" ? make("p", { className: "help" }, remaining) : null,
        (answer.failed ?? []).length ? make("ul", {}, answer.failed.map((label) => make("li", {}, label))) : null,
        status === TO_CORRECT && !correcting ? correctButton(item) : null,
        correcting ? correction.form : null,
      );
    }),
  );
}

// ---- A queued redemption to correct ----------------------------------------------------------------
// Sent later by background sync, a value the server refused as mistyped (400/422) recorded nothing:
// the entry says "to correct" and reopens the form, in the entry, with the values and each reason on
// its field. Sending the corrected values queues them as a new redemption (a new key: the first one's
// answer is the refusal) with the first one's card, time and offline flag, then forgets the first.
let correction = null; // { key, form, inputs } of the entry being corrected

// A number as the agent typed it (2,5 in French), without grouping: the phone's check reads it back.
const typedNumbers = new Intl.NumberFormat(formats.locale, { maximumFractionDigits: 6, useGrouping: false });

/** A sent value back in its box as the agent would type it: a number in their locale, a country's name. */
function typedValue(spec, value) {
  const numeric = spec.type === "number" || spec.type === "integer";
  if (numeric && value !== "" && Number.isFinite(Number(value))) return typedNumbers.format(Number(value));
  if (spec.type === "country") return countries.names[value] ?? String(value);
  return String(value);
}

function correctButton(item) {
  const button = make("button", { type: "button", className: "button-secondary", dataset: { action: "correct" } }, text("correct"));
  button.addEventListener("click", () => openCorrection(item));
  return button;
}

async function openCorrection(item) {
  const specs = item.fieldSpecs?.length ? item.fieldSpecs : ((await offerFields(item.body.offer)) ?? []);
  const inputs = redemptionInputs(specs, language, { describe: describeProblem, countries, hint: fieldHint, idPrefix: `correct-${item.key}` });
  for (const input of inputs) {
    const value = item.body.fields?.[input.name];
    if (value !== undefined && value !== null) input.input.value = typedValue(input.spec, value);
  }
  const error = make("p", { className: "errors", role: "alert", hidden: true });
  const cancel = make("button", { type: "button", className: "button-secondary" }, text("cancel"));
  cancel.addEventListener("click", () => closeCorrection());
  const form = make(
    "form",
    { className: "redemption-form form correction-form", novalidate: true },
    inputs.map((input) => input.element),
    error,
    make("div", { className: "actions" }, make("button", { type: "submit" }, text("send_again")), cancel),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    sendCorrection(item, inputs, error);
  });
  correction = { key: item.key, form, inputs };
  showProblems(inputs, item.answer?.fields ?? {}, error);
  await renderOutbox();
  (form.querySelector("[aria-invalid]") ?? inputs[0]?.input)?.focus();
}

async function closeCorrection() {
  correction = null;
  await renderOutbox();
}

/** Each problem on its field ({ name: { key, values } } or { name: "words" }); true when any was shown. */
function showProblems(inputs, problems, error) {
  let shownAny = false;
  for (const input of inputs) {
    const problem = problems[input.name];
    input.show(problem ? (typeof problem === "string" ? { key: null, words: problem } : problem) : null);
    shownAny ||= Boolean(problem);
  }
  error.textContent = shownAny ? text("fields_to_fix") : "";
  error.hidden = !shownAny;
  return shownAny;
}

async function sendCorrection(item, inputs, error) {
  const typed = Object.fromEntries(inputs.map((input) => [input.name, input.input.value]));
  const { values: fields, problems } = checkValues(
    inputs.map((input) => input.spec),
    typed,
    countries,
  );
  if (showProblems(inputs, problems, error)) return;
  const submit = correction?.form.querySelector('button[type="submit"]');
  if (submit) submit.disabled = true;
  try {
    const corrected = await enqueue({
      card: item.body.card,
      offerId: item.body.offer,
      offerName: item.offerName,
      cardNumber: item.cardNumber,
      fields,
      fieldLabels: Object.fromEntries(inputs.map((input) => [input.name, fieldLabel(input.spec)])),
      fieldSpecs: inputs.map((input) => input.spec),
      language,
      offline: item.body.offline,
      madeAt: Date.parse(item.body.made_at) / 1000,
    });
    let settled = null;
    if (navigator.onLine) {
      try {
        settled = await sendNow(config.redemptionsUrl, corrected);
      } catch {
        settled = null; // no answer: the corrected copy stays queued
      }
    }
    if (settled?.inputRefused) {
      // Still mistyped: the corrected copy is forgotten (sendNow), the entry and its form stay.
      const answer = settled.answer ?? {};
      if (!showProblems(inputs, answer.fields ?? {}, error)) {
        error.textContent = answer.message || answer.reason || text("network_error");
        error.hidden = false;
      }
      return;
    }
    await forget(item.key);
    correction = null;
    if (!settled) await askForBackgroundSync();
    await renderStatus();
  } finally {
    if (submit) submit.disabled = false;
  }
}

// ---- Trust and identity ----------------------------------------------------------------------------

async function refreshOnline() {
  if (!navigator.onLine) return;
  try {
    const { response, body } = await fetchJson(config.whoamiUrl);
    if (response.ok && body) {
      who = body;
      await putRecord(TRUST, who, "whoami");
      renderPlace();
    }
  } catch {
    // offline after all: keep the last known identity
  }
  try {
    await trust.refresh({ audience: who.partner ? `partner:${who.organisation?.name}` : "public" });
  } catch {
    // the server did not answer: the phone keeps its data and says how old it is
  }
  await syncQuietly();
  await renderStatus();
}

async function syncQuietly() {
  if (!navigator.onLine || !who.partner) return;
  try {
    await syncOutbox(config.redemptionsUrl);
  } catch (error) {
    if (!(error instanceof NotSignedIn)) await askForBackgroundSync();
  }
}

async function askForBackgroundSync() {
  try {
    const registration = await navigator.serviceWorker?.getRegistration(config.scope);
    if (registration?.sync) await registration.sync.register(SYNC_TAG);
  } catch {
    // no Background Sync: the `online` event and the next app start send the queue
  }
}

// ---- Verdicts --------------------------------------------------------------------------------------

function bundleOffer(offers, id) {
  return offers.find((offer) => offer.id === id) ?? null;
}

function cardFromClaims(claims) {
  if (!claims) return null;
  return {
    number: claims.number,
    name: claims.name,
    trade: claims.trade,
    region: claims.region,
    expiryDate: claims.expiryDate,
  };
}

async function verifyOnPhone(scanned) {
  if (!canVerifyOnPhone()) return null;
  const material = await trust.material();
  const now = trust.now();
  const outcome = await verifier.verifyScan(scanned, {
    publicBaseUrl: config.publicBaseUrl,
    keys: material.keys,
    statusList: material.statusList,
    offers: material.offers,
    now,
  });
  const standings = new Map((outcome.offers ?? []).map((offer) => [offer.id, offer.eligible]));
  return {
    verdict: outcome.verdict,
    card: cardFromClaims(outcome.claims),
    presentation: outcome.presentation,
    source: "phone",
    checkedAt: now,
    dataAge: trust.age(),
    scanned,
    offers: who.partner
      ? material.offers.map((offer) => ({
          id: offer.id,
          name: offer.name?.[language] ?? offer.name?.fr,
          benefit: offer.benefit?.[language] ?? offer.benefit?.fr,
          eligible: standings.get(offer.id) === true,
          failed: [],
          remaining: null,
          fields: offer.fields ?? [],
          recordable: true,
        }))
      : [],
  };
}

async function offerFields(id) {
  const material = await trust.material().catch(() => ({ offers: [] }));
  const offer = bundleOffer(material.offers ?? [], id) ?? bundleOffer(trust.offerLayouts(), id);
  return offer?.fields ?? null;
}

async function serverOffers(offers) {
  return Promise.all(
    (offers ?? []).map(async (offer) => {
      const fields = await offerFields(offer.id);
      return { ...offer, fields: fields ?? [], recordable: who.partner };
    }),
  );
}

/** A card as the API shows it (its `Card` schema): a verified token's, or a number's holder. */
function cardFromServer(card) {
  if (!card) return null;
  return {
    number: card.number,
    name: card.name,
    trade: card.trade,
    region: card.region,
    tradeName: card.trade_name,
    regionName: card.region_name,
    expiryDate: card.expires,
    nameAr: card.name_ar,
    statusSince: card.status_since,
  };
}

async function verifyOnServer(scanned) {
  try {
    const { response, body } = await fetchJson(config.verifyUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept-Language": language },
      body: JSON.stringify(place ? { qr: scanned, place } : { qr: scanned }),
    });
    if (!body?.verdict || response.status >= 500 || response.status === 429) return null;
    return {
      verdict: body.verdict,
      reason: body.reason,
      card: cardFromServer(body.card),
      presentation: body.presentation,
      source: "server",
      checkedAt: Date.parse(body.checked_at) / 1000 || trust.now(),
      scanned,
      offers: await serverOffers(body.offers),
    };
  } catch {
    return null;
  }
}

function cannotConfirm(scanned) {
  return { verdict: "cannot_confirm", card: null, source: "phone", checkedAt: trust.now(), dataAge: trust.age(), scanned, offers: [] };
}

function vibrate(verdict) {
  // A short buzz: one for valid, three for anything else (the words still say which).
  navigator.vibrate?.(verdict === "valid" ? 120 : [90, 70, 90, 70, 90]);
}

function showResult(result) {
  shown = result;
  view = "verdict";
  scanner.hidden = true;
  screen.show(result);
  // The verdict is on screen (bench/scan.py reads this mark).
  performance.mark("scan:verdict", { detail: { verdict: result.verdict, source: result.source } });
  vibrate(result.verdict);
  renderStatus(); // the data's age as of this verdict
}

async function check(scanned) {
  camera.pause();
  const onPhone = verifyOnPhone(scanned).catch(() => null);
  if (!navigator.onLine) {
    showResult((await onPhone) ?? cannotConfirm(scanned));
    return;
  }
  const onServer = verifyOnServer(scanned);
  const first = await Promise.race([onServer, delay(SERVER_HEAD_START_MS).then(() => "late")]);
  if (first && first !== "late") {
    showResult(first);
    return;
  }
  const local = await onPhone;
  if (local) {
    showResult(local);
    const server = await onServer;
    // The server knows of changes since the bundle: its verdict replaces the phone's (same card still on screen).
    if (server && shown === local && view === "verdict") showResult(server);
    return;
  }
  showResult((await onServer) ?? cannotConfirm(scanned));
}

async function checkNumber(typed) {
  const help = $("[data-number-help]");
  const number = typed.replace(/[\s-]/g, "").toUpperCase();
  help.textContent = "";
  if (!/^[0-9A-Z]{10}$/.test(number)) {
    help.textContent = text("number_bad");
    return;
  }
  // A number needs the register (the phone holds none): offline, say so, and that no redemption can
  // come of it (nothing on the phone ties a typed number to a person; the card's QR code does).
  if (!navigator.onLine) {
    help.textContent = `${text("number_needs_network")} ${text("number_offline_no_redemption")}`;
    return;
  }
  // Signed out, the public check by number answers (a page of the site, validity and name only);
  // partner staff get their offers with it from the eligibility API, below.
  if (!who.partner) {
    window.location.assign(`${config.checkUrl}?card=${encodeURIComponent(number)}`);
    return;
  }
  camera.pause();
  try {
    const where = place ? `&place=${encodeURIComponent(place)}` : "";
    const url = `${config.eligibilityUrl}?card=${encodeURIComponent(number)}${where}`;
    const { response, body } = await fetchJson(url, { headers: { "Accept-Language": language } });
    if (response.status === 400) {
      help.textContent = body?.message || text("number_bad");
      camera.resume();
      return;
    }
    if (!response.ok || !body?.card) throw new Error(`HTTP ${response.status}`);
    // The register's holder (name in both scripts; the photo is asked for by the verdict screen):
    // without it nobody could compare, so no redemption is offered at all.
    const holder = cardFromServer(body.holder);
    const offers = (await serverOffers(body.offers)).map((offer) => ({ ...offer, recordable: offer.recordable && Boolean(holder) }));
    showResult({
      verdict: NUMBER_STATES[body.card.state] ?? "not_a_card",
      card: body.card.state === "unknown" ? null : (holder ?? { number: body.card.number }),
      source: "number",
      checkedAt: Date.parse(body.checked_at) / 1000 || trust.now(),
      scanned: body.card.number,
      offers,
      identityConfirmed: false,
    });
  } catch {
    help.textContent = text("network_error");
    camera.resume();
  }
}

// ---- Redemptions -----------------------------------------------------------------------------------

let redemptionFor = null;
let redemptionInputsShown = [];
// Numbers as the reader writes them (the locales the dates use: Latin digits in Arabic, as in Morocco).
const numbers = new Intl.NumberFormat(formats.locale, { maximumFractionDigits: 6 });

/** A field problem's words ({ key, values } from static/js/lib/offer-fields.js), numbers as the reader writes them. */
function describeProblem({ key, values = {}, words }) {
  if (words) return words; // the server's own words, already in the reader's language
  const shown = Object.fromEntries(Object.entries(values).map(([name, value]) => [name, typeof value === "number" ? numbers.format(value) : value]));
  return text(key, shown);
}

/** What a field says below it before anything is typed: its limit, or its range. */
function fieldHint(spec) {
  const limit = maxLength(spec);
  if (limit) return text("field_limit", { count: numbers.format(limit) });
  const bounded = (value) => value !== null && value !== undefined;
  if ((spec.type === "number" || spec.type === "integer") && bounded(spec.min) && bounded(spec.max)) {
    return text("field_range", { min: numbers.format(spec.min), max: numbers.format(spec.max) });
  }
  return "";
}

function fieldLabel(spec) {
  const label = spec.label;
  return typeof label === "string" ? label : (label?.[language] ?? label?.fr ?? spec.name);
}

async function openRedemption(offer) {
  const form = $("[data-redemption-form]");
  redemptionFor = offer;
  // The fields come from the bundle, which may have arrived after the verdict was shown.
  const fields = offer.fields?.length ? offer.fields : ((await offerFields(offer.id)) ?? []);
  redemptionInputsShown = redemptionInputs(fields, language, { describe: describeProblem, countries, hint: fieldHint });
  $("[data-redemption-title]").textContent = text("record_title", { offer: offer.name });
  $("[data-redemption-fields]").replaceChildren(...redemptionInputsShown.map((input) => input.element));
  formError("");
  $("[data-redemption-result]").hidden = true;
  form.hidden = false;
  (redemptionInputsShown[0]?.input ?? form.querySelector("button")).focus();
}

function formError(words) {
  const line = $("[data-redemption-error]");
  line.textContent = words;
  line.hidden = !words;
}

/**
 * Problems on their fields ({ name: { key, values } } from the phone's check, or { name: "words" }
 * from the server's bad_fields); the form stays open with what was typed. True when any was shown.
 */
function showFieldProblems(problems) {
  let first = null;
  for (const input of redemptionInputsShown) {
    const problem = problems[input.name];
    input.show(problem ? (typeof problem === "string" ? { key: null, words: problem } : problem) : null);
    if (problem && !first) first = input.input;
  }
  if (first) {
    formError(text("fields_to_fix"));
    first.focus();
  }
  return first !== null;
}

function describeAnswer(item) {
  if (item.status === "pending") return text("queued");
  const answer = item.answer ?? {};
  const parts = [text(`status_${item.status}`)];
  if (item.status === "refused" || item.status === TO_CORRECT) parts.push(refusalWords(item));
  if (item.status === "accepted" || item.status === "over_quota") {
    if (Number.isInteger(answer.remaining)) parts.push(text("remaining", { count: answer.remaining }));
  }
  return parts.filter(Boolean).join(" — ");
}

/** Why a redemption was refused, each field by its label (never its key). */
function refusalWords(item) {
  const answer = item.answer ?? {};
  const fields = Object.entries(answer.fields ?? {});
  if (fields.length) {
    return fields.map(([name, words]) => `${item.fieldLabels?.[name] ?? name}: ${words}`).join(" · ");
  }
  return answer.message || answer.reason || answer.error || "";
}

async function submitRedemption(event) {
  event.preventDefault();
  const offer = redemptionFor;
  if (!offer || !shown) return;
  // Checked on the phone first, by the offer's own rules: a typing mistake is said on its field and
  // nothing is sent or queued (a queued redemption is sent later, when nobody can correct it).
  const typed = Object.fromEntries(redemptionInputsShown.map((input) => [input.name, input.input.value]));
  const { values: fields, problems } = checkValues(
    redemptionInputsShown.map((input) => input.spec),
    typed,
    countries,
  );
  if (showFieldProblems(problems)) return;
  formError("");
  const submit = $('[data-redemption-form] button[type="submit"]');
  submit.disabled = true; // one tap, one redemption
  try {
    await recordRedemption(offer, fields);
  } finally {
    submit.disabled = false;
  }
}

async function recordRedemption(offer, fields) {
  const online = navigator.onLine;
  // Saved first: whatever happens next (no network, a closed app), the redemption is on the phone.
  const item = await enqueue({
    card: shown.scanned ?? shown.card?.number,
    offerId: offer.id,
    offerName: offer.name,
    cardNumber: shown.card?.number ?? "",
    fields,
    fieldLabels: Object.fromEntries(redemptionInputsShown.map((input) => [input.name, fieldLabel(input.spec)])),
    fieldSpecs: redemptionInputsShown.map((input) => input.spec),
    language,
    offline: !online,
    madeAt: trust.now(),
  });
  let settled = null;
  if (online) {
    try {
      settled = await sendNow(config.redemptionsUrl, item);
    } catch {
      settled = null; // no answer: it stays queued, the same key is sent again later
    }
  }
  if (settled?.inputRefused) {
    // A typing mistake the server found (400/422): not a refusal to keep. The outbox has forgotten
    // it; the form stays open with the values, the reason on its field.
    const answer = settled.answer ?? {};
    if (!showFieldProblems(answer.fields ?? {})) formError(answer.message || answer.reason || text("network_error"));
    await renderOutbox();
    return;
  }
  if (!settled) await askForBackgroundSync();
  $("[data-redemption-form]").hidden = true;
  const result = $("[data-redemption-result]");
  result.textContent = describeAnswer(settled ?? item);
  result.dataset.status = (settled ?? item).status;
  result.hidden = false;
  await renderOutbox();
}

// ---- Camera and scanning ---------------------------------------------------------------------------

function say(key, { problem = false } = {}) {
  scanMessage.textContent = text(key);
  scanMessage.classList.toggle("scan-problem", problem);
}

// The camera's own messages (starting, aim, no code, no camera) never replace a photo's answer that
// is on screen: the person who chose a photo reads about the photo until they scan again.
let photoAnswerShown = false;

function sayForCamera(key, options) {
  if (!photoAnswerShown) say(key, options);
}

const detector = createQrDetector();
const camera = new Camera($("[data-video]"), detector, {
  onCode: (scanned) => check(scanned),
  onNoCode: () => sayForCamera("no_code_read", { problem: true }),
  onProblem: (key) => {
    sayForCamera(key, { problem: true });
    $('[data-action="start-camera"]').hidden = key === "insecure" || key === "no_camera";
    root.classList.add("camera-off");
  },
  onCapabilities: ({ torch, zoom }) => {
    root.classList.remove("camera-off");
    $('[data-action="start-camera"]').hidden = true;
    sayForCamera("aim");
    $('[data-action="torch"]').hidden = !torch;
    const zoomLabel = $("[data-zoom]");
    zoomLabel.hidden = !zoom;
    if (zoom) Object.assign($("[data-zoom-input]"), { min: zoom.min, max: zoom.max, step: zoom.step, value: zoom.value });
  },
});

async function startScanning() {
  view = "scanning";
  verdictRoot.hidden = true;
  scanner.hidden = false;
  sayForCamera("starting");
  if (await camera.start()) {
    sayForCamera("aim");
    camera.resume();
  }
}

async function readPhoto(file) {
  if (!file) return;
  photoAnswerShown = true;
  say("reading_photo");
  try {
    const codes = await (await detector).detect(file);
    const found = codes.find((code) => code.rawValue)?.rawValue;
    if (found) {
      await check(found);
      return;
    }
  } catch {
    // an image the decoder cannot open: same answer as a photo without a code
  }
  say("photo_unread", { problem: true });
}

/** A place as the server accepts it: no control characters, spaces made one, at most 120 characters. */
function cleanPlace(raw) {
  return String(raw ?? "")
    .replace(/[\u0000-\u001f\u007f]/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, MAX_PLACE_LENGTH);
}

function renderPlace() {
  // The setting is for partner staff: a public check records no place.
  $("[data-place-setting]").hidden = !who.partner;
  $("[data-place-input]").value = place;
  // The place isolated in a <bdi>: a Latin place in Arabic text keeps its own direction.
  $("[data-place-current]").replaceChildren(...(place ? textWithNames("place_current", { place }) : [text("place_none")]));
}

async function savePlace(raw) {
  place = cleanPlace(raw);
  await putRecord(TRUST, place, PLACE_KEY).catch(() => {});
  renderPlace();
  $("[data-place-saved]").textContent = text("place_saved");
}

function bindEvents() {
  const scanAgain = () => {
    photoAnswerShown = false;
    startScanning();
  };
  $('[data-action="scan-again"]').addEventListener("click", scanAgain);
  $('[data-action="start-camera"]').addEventListener("click", scanAgain);
  $('[data-action="cancel-redemption"]').addEventListener("click", () => {
    $("[data-redemption-form]").hidden = true;
  });
  $('[data-action="sync-now"]').addEventListener("click", async () => {
    await syncQuietly();
    await renderStatus();
  });
  $("[data-redemption-form]").addEventListener("submit", submitRedemption);
  $("[data-place-form]").addEventListener("submit", (event) => {
    event.preventDefault();
    savePlace(event.target.elements.place.value);
  });
  const torch = $('[data-action="torch"]');
  torch.addEventListener("click", async () => {
    const on = torch.getAttribute("aria-pressed") !== "true";
    try {
      await camera.setTorch(on);
      torch.setAttribute("aria-pressed", String(on));
    } catch {
      torch.hidden = true;
    }
  });
  $("[data-zoom-input]").addEventListener("input", (event) => camera.setZoom(Number(event.target.value)).catch(() => {}));
  $("[data-photo-input]").addEventListener("change", (event) => {
    readPhoto(event.target.files?.[0]);
    event.target.value = ""; // the same photo may be chosen again
  });
  $("[data-number-form]").addEventListener("submit", (event) => {
    event.preventDefault();
    checkNumber(event.target.elements.card.value);
  });
  document.addEventListener("visibilitychange", () => {
    // Hidden: the camera is released (its light goes off, other apps may use it). Shown: it comes
    // back by itself on the scanning screen; on a verdict screen, when the reader taps "scan".
    if (document.visibilityState === "hidden") {
      camera.stop();
      say("paused");
    } else if (view === "scanning") {
      startScanning();
    }
  });
  window.addEventListener("online", () => refreshOnline());
  window.addEventListener("offline", () => renderStatus());
  navigator.serviceWorker?.addEventListener("message", (event) => {
    if (event.data?.type === "outbox-changed") renderOutbox();
  });
  setInterval(renderStatus, 60_000);
}

async function loadVerdictTexts() {
  try {
    const { body } = await fetchJson(config.textsUrl, { cache: "default", credentials: "omit" });
    verdictTexts = body?.[language] ?? body?.fr ?? {};
  } catch {
    verdictTexts = {};
  }
}

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  try {
    // A module worker: it imports the outbox to send queued redemptions (Background Sync).
    await navigator.serviceWorker.register(config.workerUrl, { scope: config.scope, type: "module" });
    // The worker keeps this language's fonts for offline use (the shell holds the Latin one only).
    const ready = await navigator.serviceWorker.ready;
    ready.active?.postMessage({ type: "keep-fonts", language });
  } catch {
    // No module workers (older Firefox): the app still works online, without an offline copy.
  }
}

async function main() {
  bindEvents();
  registerWorker();
  await Promise.all([loadVerdictTexts(), trust.load().catch(() => {})]);
  who = (await getRecord(TRUST, "whoami").catch(() => null)) ?? who;
  place = cleanPlace(await getRecord(TRUST, PLACE_KEY).catch(() => ""));
  renderPlace();
  await renderStatus();
  startScanning();
  await refreshOnline();
}

main();
