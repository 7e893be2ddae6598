// The verifier app's IndexedDB, for its page and its service worker (static/js/lib/idb.js does the work).
// Two object stores: "trust" (the trust bundle, the JWKS, who was signed in, the place where partner
// staff check: one record per key) and "outbox" (redemptions recorded on this phone, each under its
// idempotency key).
import { database } from "../lib/idb.js";

export const TRUST = "trust";
export const OUTBOX = "outbox";

const db = database("carte-scan", 1, (opened) => {
  if (!opened.objectStoreNames.contains(TRUST)) opened.createObjectStore(TRUST);
  if (!opened.objectStoreNames.contains(OUTBOX)) opened.createObjectStore(OUTBOX, { keyPath: "key" });
});

export const openDatabase = db.open;
export const getRecord = (storeName, key) => db.run(storeName, "readonly", (store) => store.get(key));
export const allRecords = (storeName) => db.run(storeName, "readonly", (store) => store.getAll());
// `key` only for stores without a keyPath (TRUST).
export const putRecord = (storeName, value, key) =>
  db.run(storeName, "readwrite", (store) => (key === undefined ? store.put(value) : store.put(value, key)));
export const deleteRecord = (storeName, key) => db.run(storeName, "readwrite", (store) => store.delete(key));
