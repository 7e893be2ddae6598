// The verifier app's service worker, served at /scan/sw.js so that its scope is /scan/ (a worker
// controls only the paths below its own URL) and registered as a module worker (it shares the
// redemption outbox with the page). Rendered by webapp/scan/views.py: VERSION is a digest of every
// precached file, so any change to the app installs a new worker with a new cache.
import { SYNC_TAG, syncOutbox } from "{{ url_for('static', filename='js/scan/outbox.js') }}";

const VERSION = "{{ version }}";
const CACHE_PREFIX = "carte-scan-shell-";
const SHELL_CACHE = CACHE_PREFIX + VERSION;
// Fonts beyond the shell's Latin one, kept on first use (same prefix: old versions' are deleted too).
const FONT_CACHE = CACHE_PREFIX + "fonts-" + VERSION;
const PRECACHE = {{ precache | safe }};
const LANGUAGE_FONTS = {{ language_fonts | safe }};
const FONTS_PREFIX = {{ fonts_prefix | safe }};
const APP_PAGE = {{ app_page | safe }};
const OFFLINE_PAGE = {{ offline_page | safe }};
const REDEMPTIONS_URL = "{{ url_for('api.record_redemption_view') }}";
const PRECACHED_PATHS = new Set(PRECACHE);

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

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      // All or nothing (addAll rejects if one file fails, and the install fails with it, so a
      // half-filled cache never serves the app). `reload` skips the HTTP cache: the bytes are this
      // version's, not an older copy the browser kept.
      await cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "reload", credentials: "same-origin" })));
      // A new version takes over at once: people keep an installed app open for days, and the
      // shell's files are all from one version's cache anyway.
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      // Old versions' caches are deleted (each version precaches its whole shell).
      const names = await caches.keys();
      const current = new Set([SHELL_CACHE, FONT_CACHE]);
      await Promise.all(
        names.filter((name) => name.startsWith(CACHE_PREFIX) && !current.has(name)).map((name) => caches.delete(name)),
      );
      // Control the page that registered us at once, so it works offline from its first visit.
      await self.clients.claim();
    })(),
  );
});

async function navigation(request, url) {
  // Network first: online, people get the current page (and language); offline, the copy.
  try {
    const response = await fetch(request);
    if (response.ok && url.pathname === APP_PAGE) {
      // The app page holds no personal data (who is signed in comes from /scan/whoami): keep the
      // latest copy, in the language last chosen, for offline use.
      const cache = await caches.open(SHELL_CACHE);
      await cache.put(APP_PAGE, response.clone());
    }
    return response;
  } catch {
    const cache = await caches.open(SHELL_CACHE);
    const copy = url.pathname === APP_PAGE ? await cache.match(APP_PAGE, { ignoreVary: true }) : null;
    return copy ?? (await cache.match(OFFLINE_PAGE, { ignoreVary: true })) ?? Response.error();
  }
}

async function shellFile(request, url) {
  // The shell's files are this version's: from the cache, else (a cache evicted by the browser) the network.
  const cached = await caches.match(url.pathname, { cacheName: SHELL_CACHE });
  return cached ?? fetch(request);
}

async function fontFile(request, url) {
  // Cache first: a font file's bytes never change within a version (the worker's version covers them).
  const cached = await caches.match(url.pathname, { cacheName: FONT_CACHE });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) {
    const cache = await caches.open(FONT_CACHE);
    await cache.put(url.pathname, response.clone());
  }
  return response;
}

// The page says its language once it runs: keep that language's fonts for offline use.
self.addEventListener("message", (event) => {
  if (event.data?.type !== "keep-fonts") return;
  const fonts = LANGUAGE_FONTS[event.data.language] ?? [];
  event.waitUntil(
    (async () => {
      const cache = await caches.open(FONT_CACHE);
      for (const font of fonts) {
        if (!(await cache.match(font))) await cache.add(new Request(font, { credentials: "same-origin" })).catch(() => {});
      }
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return; // POSTs (verify, redemptions) are never cached
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (NEVER_CACHED.some((pattern) => pattern.test(url.pathname))) return;
  if (request.mode === "navigate") {
    event.respondWith(navigation(request, url));
  } else if (PRECACHED_PATHS.has(url.pathname) && !url.search) {
    event.respondWith(shellFile(request, url));
  } else if (url.pathname.startsWith(FONTS_PREFIX) && url.pathname.endsWith(".woff2") && !url.search) {
    event.respondWith(fontFile(request, url));
  }
  // Anything else: the network, uncached.
});

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
