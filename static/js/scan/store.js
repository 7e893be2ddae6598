// A tiny promise wrapper over IndexedDB, for the verifier app and its service worker (no library).
// Two object stores: "trust" (the trust bundle, the JWKS, who was signed in: one record per key) and
// "outbox" (redemptions recorded on this phone, each under its idempotency key).

const DB_NAME = "carte-scan";
const DB_VERSION = 1;
export const TRUST = "trust";
export const OUTBOX = "outbox";

let opened = null;

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export function openDatabase() {
  if (!opened) {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains(TRUST)) db.createObjectStore(TRUST);
      if (!db.objectStoreNames.contains(OUTBOX)) db.createObjectStore(OUTBOX, { keyPath: "key" });
    };
    opened = promised(request).catch((error) => {
      opened = null; // a later call may succeed (e.g. storage was briefly unavailable)
      throw error;
    });
  }
  return opened;
}

async function run(storeName, mode, operation) {
  const db = await openDatabase();
  const transaction = db.transaction(storeName, mode);
  // Listen before the request runs: a write resolves only once it is committed (a redemption must
  // never be lost by a tab closed right after "saved").
  const committed = new Promise((resolve, reject) => {
    transaction.oncomplete = resolve;
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
  const result = await promised(operation(transaction.objectStore(storeName)));
  await committed;
  return result;
}

export const getRecord = (storeName, key) => run(storeName, "readonly", (store) => store.get(key));
export const allRecords = (storeName) => run(storeName, "readonly", (store) => store.getAll());
// `key` only for stores without a keyPath (TRUST).
export const putRecord = (storeName, value, key) =>
  run(storeName, "readwrite", (store) => (key === undefined ? store.put(value) : store.put(value, key)));
export const deleteRecord = (storeName, key) => run(storeName, "readwrite", (store) => store.delete(key));
