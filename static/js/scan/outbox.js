// Redemptions recorded on this phone (docs/offers.md "Redemptions"). Each is written to IndexedDB
// first, under an idempotency key made on the phone, then sent: at once when online, else when the
// network returns (Background Sync where the browser has it, else the `online` event and app start).
// The server stores a key's first answer and replays it, so sending twice records once: the page and
// the service worker may both try, a lost answer may be retried.
// Used by the app page and by its service worker (a module worker imports this file).
import { OUTBOX, allRecords, getRecord, putRecord, deleteRecord } from "./store.js";

export const SYNC_TAG = "carte-scan-outbox";
const LOCK = "carte-scan-outbox";
const KEEP_DONE = 30; // answered redemptions kept on the phone for the list, newest first

// A queued redemption the server refused as mistyped: listed with its values until corrected.
export const TO_CORRECT = "to_correct";

export class NotSignedIn extends Error {}

/**
 * Save a redemption before anything is sent: { key, body, offerName, cardNumber, fieldLabels,
 * fieldSpecs, language, createdAt, status }. The fields' labels name a refused field in the list
 * (never its key); their specs rebuild the form when a queued redemption must be corrected.
 */
export async function enqueue({ card, offerId, offerName, cardNumber, fields, fieldLabels = {}, fieldSpecs = [], language, offline, madeAt }) {
  const item = {
    key: crypto.randomUUID(),
    body: { card, offer: offerId, fields, offline, made_at: new Date(madeAt * 1000).toISOString() },
    offerName,
    cardNumber,
    fieldLabels,
    fieldSpecs,
    language,
    createdAt: madeAt,
    status: "pending",
  };
  await putRecord(OUTBOX, item);
  return item;
}

export async function outboxItems() {
  const items = await allRecords(OUTBOX);
  return items.sort((a, b) => b.createdAt - a.createdAt);
}

export async function pendingCount() {
  return (await allRecords(OUTBOX)).filter((item) => item.status === "pending").length;
}

function withLock(work) {
  // One sender at a time across the page and the worker (Web Locks where available; the idempotency
  // key makes a double send harmless anyway).
  const locks = globalThis.navigator?.locks;
  return locks ? locks.request(LOCK, work) : work();
}

/** What the server's answer means for a queued redemption, or null to keep it queued and stop. */
async function settle(item, response) {
  let answer = {};
  try {
    answer = await response.json();
  } catch {
    answer = {};
  }
  if (response.status === 201 || response.status === 200) {
    return { ...item, status: answer.over_quota ? "over_quota" : "accepted", answer, answeredAt: Date.now() };
  }
  if (response.status === 401 || response.status === 403) throw new NotSignedIn();
  if (response.status === 429 || response.status >= 500) return null; // try again later, same key
  // 400 and 422 refuse what was typed (a field, a date), not the card or the offer: nothing was
  // recorded. Sent at once, the agent corrects it in the form still open (sendNow); queued, it is
  // listed "to correct" with its values, never as a refusal (the agent corrects and sends it again).
  if (response.status === 400 || response.status === 422) {
    return { ...item, status: TO_CORRECT, answer, answeredAt: Date.now(), inputRefused: true };
  }
  return { ...item, status: "refused", answer, answeredAt: Date.now() };
}

/** The status a queued redemption is listed with (one refused as mistyped before "to correct" existed is one to correct). */
export function shownStatus(item) {
  return item.inputRefused ? TO_CORRECT : item.status;
}

/** Forget one redemption of the phone (one to correct, once its corrected copy is queued). */
export function forget(key) {
  return withLock(() => deleteRecord(OUTBOX, key));
}

async function sendOne(url, item) {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "Idempotency-Key": item.key,
      // The reasons in the language the agent reads (the server's own choice otherwise).
      ...(item.language ? { "Accept-Language": item.language } : {}),
    },
    body: JSON.stringify(item.body),
    credentials: "same-origin",
    cache: "no-store",
  });
  return settle(item, response);
}

/**
 * Send every pending redemption, oldest first. Throws on a network failure (Background Sync then
 * retries later) and NotSignedIn when the session has ended. Returns the items answered now.
 */
export function syncOutbox(url) {
  return withLock(async () => {
    const pending = (await allRecords(OUTBOX))
      .filter((item) => item.status === "pending")
      .sort((a, b) => a.createdAt - b.createdAt);
    const answered = [];
    for (const queued of pending) {
      const current = await getRecord(OUTBOX, queued.key);
      if (!current || current.status !== "pending") continue; // answered meanwhile by another sender
      const settled = await sendOne(url, current);
      if (settled === null) break;
      await putRecord(OUTBOX, settled);
      answered.push(settled);
    }
    await forgetOldAnswers();
    return answered;
  });
}

/**
 * Send one redemption now (online at once); null when it stays queued. A typing mistake the server
 * refused (`inputRefused`) is forgotten by the phone: it was never a redemption, the form corrects it.
 */
export function sendNow(url, item) {
  return withLock(async () => {
    const settled = await sendOne(url, item);
    if (settled?.inputRefused) await deleteRecord(OUTBOX, item.key);
    else if (settled) await putRecord(OUTBOX, settled);
    return settled;
  });
}

async function forgetOldAnswers() {
  // One to correct is kept until the agent corrects it: it was never recorded anywhere else.
  const done = (await outboxItems()).filter((item) => item.status !== "pending" && shownStatus(item) !== TO_CORRECT);
  for (const item of done.slice(KEEP_DONE)) await deleteRecord(OUTBOX, item.key);
}
