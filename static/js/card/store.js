// What the card app keeps on the phone, in IndexedDB (no library): one object store "state" with
//   "card"    the last answer of /card/api/card, with when it was fetched and the clock offset measured;
//   "device"  the phone's key pair bound to the card ({privateKey, publicKey: CryptoKeys, raw: the
//             public key as base64url, createdAt}); the private key is non-extractable: the browser
//             keeps it and signs with it, and no script can read it out;
//   "pending" a key pair made by the activation page, not yet known bound (it becomes "device" once
//             the card's answer names it).
// CryptoKey objects are structured-cloneable, so IndexedDB stores them as they are. The IndexedDB
// plumbing is static/js/lib/idb.js, shared with the verifier app.

import { database, promised } from "../lib/idb.js";

const DB_NAME = "carte-card";
const STATE = "state";

const db = database(DB_NAME, 1, (opened) => {
  if (!opened.objectStoreNames.contains(STATE)) opened.createObjectStore(STATE);
});

export const openDatabase = db.open;
export const getItem = (key) => db.run(STATE, "readonly", (store) => store.get(key));
export const setItem = (key, value) => db.run(STATE, "readwrite", (store) => store.put(value, key));
export const removeItem = (key) => db.run(STATE, "readwrite", (store) => store.delete(key));

/** Everything at once (the app's first paint reads the card and the key in one transaction). */
export async function getItems(keys) {
  const store = (await db.open()).transaction(STATE, "readonly").objectStore(STATE);
  return Object.fromEntries(await Promise.all(keys.map(async (key) => [key, await promised(store.get(key))])));
}

/** Whether this browser can hold a card: WebCrypto (a secure context) and IndexedDB. */
export function canHoldCard() {
  return Boolean(globalThis.isSecureContext && globalThis.crypto?.subtle && globalThis.indexedDB);
}

export function base64url(bytes) {
  let binary = "";
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** A new device key pair: ECDSA P-256, the private key non-extractable; the public key as the
 *  server takes it (base64url of the 65-byte uncompressed point, 87 characters). */
export async function newDeviceKey() {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
  const raw = base64url(await crypto.subtle.exportKey("raw", pair.publicKey));
  return { privateKey: pair.privateKey, publicKey: pair.publicKey, raw, createdAt: new Date().toISOString() };
}

/** Forget the card: the database goes (key, card, token), then the app's caches. */
export async function forgetEverything() {
  await db.close();
  await new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(DB_NAME);
    request.onsuccess = resolve;
    request.onerror = () => reject(request.error);
    request.onblocked = resolve; // another tab holds it open: it is deleted when that tab closes
  });
  const names = await caches.keys();
  await Promise.all(names.filter((name) => name.startsWith("carte-card-")).map((name) => caches.delete(name)));
}
