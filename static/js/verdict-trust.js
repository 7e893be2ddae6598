// The verdict page's trust material kept on the phone (IndexedDB "carte-verdict-page"): the JWKS and
// the signed trust bundle as last fetched online, the server's clock offset then, and when. Offline,
// the page verifies a card with them (static/js/lib/card-verifier.js checks the bundle's signature and
// its age, so a copy past its maximum age never makes a card "valid"). Never a verdict: verdicts are
// computed each time from the token and this material.
import { database } from "./lib/idb.js";

const STORE = "trust";
const RECORD = "material";
const db = database("carte-verdict-page", 1, (opened) => {
  if (!opened.objectStoreNames.contains(STORE)) opened.createObjectStore(STORE);
});

/** Keep what was just fetched online: { jwks, bundle (the token's text), offsetMs, receivedAt (ms) }. */
export function rememberTrust(material) {
  return db.run(STORE, "readwrite", (store) => store.put(material, RECORD));
}

/** The material last kept, or null (none yet, or no IndexedDB: a private window). */
export async function recalledTrust() {
  try {
    return (await db.run(STORE, "readonly", (store) => store.get(RECORD))) ?? null;
  } catch {
    return null;
  }
}
