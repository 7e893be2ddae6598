// The public verdict page's service worker (/v, opened by a phone's camera from a printed QR code),
// served at /verdict-sw.js and registered with the scope /v. Rendered by webapp/public/views.py:
// VERSION is a digest of the page's files, so any change installs a new worker with a new cache.
//
// What it keeps: the page's shell (the HTML of /v as an anonymous visitor sees it, in the language
// the page last used, and its static files), so a page visited once opens offline. What it never
// keeps: a verdict. The HTML of /v holds none (the token stays in the URL fragment, the verdict is
// computed by the page's script), the verify API is a POST, and the trust material (the JWKS and
// the signed bundle) is kept by the page itself in IndexedDB, where the script checks its signature
// and its age before using it, as the verifier app does. Every other request goes to the network.
const VERSION = "{{ version }}";
const CACHE_PREFIX = "carte-verdict-page-";
const CACHE = CACHE_PREFIX + VERSION;
const PAGE = {{ page | safe }};
const PRECACHE = {{ precache | safe }};
const LANGUAGE_FONTS = {{ language_fonts | safe }};
const LANGUAGES = {{ languages | safe }};
const KEPT = new Set(PRECACHE);
for (const fonts of Object.values(LANGUAGE_FONTS)) for (const font of fonts) KEPT.add(font);

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // All or nothing, this version's bytes (`reload` skips the HTTP cache).
      await cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "reload", credentials: "same-origin" })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(names.filter((name) => name.startsWith(CACHE_PREFIX) && name !== CACHE).map((name) => caches.delete(name)));
      await self.clients.claim();
    })(),
  );
});

// The page, as anyone signed out sees it (no cookie: no navigation of a signed-in person, no photo
// link), in the page's language. Kept only if it is the page itself, answered by our server.
async function keepPage(language) {
  if (!LANGUAGES.includes(language)) return;
  const cache = await caches.open(CACHE);
  const response = await fetch(`${PAGE}?lang=${language}`, { credentials: "omit", cache: "no-store" });
  if (response.ok && response.type === "basic" && (response.headers.get("Content-Type") ?? "").startsWith("text/html")) {
    await cache.put(PAGE, response.clone());
  }
  for (const font of LANGUAGE_FONTS[language] ?? []) {
    if (!(await cache.match(font))) await cache.add(new Request(font, { credentials: "same-origin" })).catch(() => {});
  }
}

self.addEventListener("message", (event) => {
  if (event.data?.type !== "keep-page") return;
  event.waitUntil(keepPage(event.data.language).catch(() => {}));
});

async function page(request) {
  // Network first: online, the current page (and the person's own header); offline, the kept copy.
  try {
    return await fetch(request);
  } catch {
    const copy = await caches.match(PAGE, { cacheName: CACHE, ignoreSearch: true, ignoreVary: true });
    return copy ?? Response.error();
  }
}

async function shellFile(request, url) {
  const cached = await caches.match(url.pathname, { cacheName: CACHE });
  return cached ?? fetch(request);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return; // the verify API (a POST) and any form: never cached
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    if (url.pathname === PAGE) event.respondWith(page(request));
    return; // another page in the scope's prefix (/verdict-texts.json...): the network
  }
  if (KEPT.has(url.pathname) && !url.search) event.respondWith(shellFile(request, url));
  // Anything else (the JWKS, the bundle, photos): the network, uncached.
});
