// A tiny promise wrapper over IndexedDB (no library), shared by the card app (static/js/card/store.js)
// and the verifier app (static/js/scan/store.js), pages and service workers alike: each app names its
// own database, version and object stores.

/** The result of an IndexedDB request, as a promise. */
export function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/**
 * One database, opened once on first use: `upgrade(db)` creates its object stores. Returns
 * { open, run, close }: `run(storeName, mode, operation)` runs `operation(objectStore)` (which
 * returns a request) in its own transaction and resolves with the request's result.
 */
export function database(name, version, upgrade) {
  let opened = null;

  function open() {
    if (!opened) {
      const request = indexedDB.open(name, version);
      request.onupgradeneeded = () => upgrade(request.result);
      opened = promised(request).catch((error) => {
        opened = null; // a later call may succeed (e.g. storage was briefly unavailable)
        throw error;
      });
    }
    return opened;
  }

  async function run(storeName, mode, operation) {
    const db = await open();
    const transaction = db.transaction(storeName, mode);
    // Listen before the request runs: a write resolves only once it is committed (a redemption or a
    // device key must never be lost by a tab closed right after "saved").
    const committed = new Promise((resolve, reject) => {
      transaction.oncomplete = resolve;
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
    const result = await promised(operation(transaction.objectStore(storeName)));
    await committed;
    return result;
  }

  /** Close the connection (before deleting the database); the next use opens it again. */
  async function close() {
    const was = opened;
    opened = null;
    if (was) (await was).close();
  }

  return { open, run, close };
}
