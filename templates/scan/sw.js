// The verifier app's service worker, served at /scan/sw.js so that its scope is /scan/ (a worker
// controls only the paths below its own URL) and registered as a module worker (it shares the
// redemption outbox with the page). Rendered by webapp/scan/views.py: VERSION is a digest of every
// precached file, so any change to the app installs a new worker with a new cache.
import { SYNC_TAG, syncOutbox } from "{{ url_for('static', filename='js/scan/outbox.js') }}";

const REDEMPTIONS_URL = "{{ url_for('api.record_redemption_view') }}";

// Never answered from a cache, not even as an offline fallback: a cached verdict, bundle, status or
// eligibility list would keep a revoked card "valid" (DESIGN decision 5); who is signed in must be
// current. These requests go to the network untouched (the worker does not call respondWith).
const NEVER_CACHED = [
  /^\/api\//, // verdicts, the trust bundle, eligibility, redemptions
  /^\/\.well-known\//, // the JWKS (the app keeps its own copy in IndexedDB, checked by signature)
  /^\/statuslists\//,
  /^\/offers\//, // eligibility lists
  /^\/v$/, // the public verdict page
  /^\/scan\/whoami$/,
  /^\/scan\/sw\.js$/,
  /^\/(login|logout|account)$/,
];

{% set cache_prefix = "carte-scan-shell-" %}
{% include "_pwa/sw_shell.js" %}

async function tellPages(message) {
  const pages = await self.clients.matchAll({ type: "window" });
  for (const page of pages) page.postMessage(message);
}

// Background Sync (Chromium): redemptions queued offline are sent when the network returns, even
// if the app was closed. A rejection makes the browser try again later.
self.addEventListener("sync", (event) => {
  if (event.tag !== SYNC_TAG) return;
  event.waitUntil(
    syncOutbox(REDEMPTIONS_URL).finally(() => tellPages({ type: "outbox-changed" })),
  );
});
