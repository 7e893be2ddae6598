// The card app's service worker, served at /card/sw.js so that its scope is /card/ (a worker controls
// only the paths below its own URL). Rendered by webapp/card/views.py: VERSION is a digest of every
// precached file, so any change to the app installs a new worker with a new cache.

const VERSION = "{{ version }}";
const CACHE_PREFIX = "carte-card-shell-";
const SHELL_CACHE = CACHE_PREFIX + VERSION;
// Fonts beyond the shell's Latin one, kept on first use (same prefix: old versions' are deleted too).
const FONT_CACHE = CACHE_PREFIX + "fonts-" + VERSION;
const PRECACHE = {{ precache | safe }};
const LANGUAGE_FONTS = {{ language_fonts | safe }};
const FONTS_PREFIX = {{ fonts_prefix | safe }};
const APP_PAGE = {{ app_page | safe }};
const OFFLINE_PAGE = {{ offline_page | safe }};
const PRECACHED_PATHS = new Set(PRECACHE);

// Never answered from a cache, not even as an offline fallback: the card's answer (the app keeps
// its own copy in IndexedDB, with the time it was fetched), activation, who is signed in, the worker.
const NEVER_CACHED = [
  /^\/card\/api\//,
  /^\/card\/activate$/,
  /^\/card\/sw\.js$/,
  /^\/api\//,
  /^\/(login|logout|account)$/,
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      // All or nothing: a half-filled cache never serves the app. `reload` skips the HTTP cache.
      await cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "reload", credentials: "same-origin" })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
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
    if (response.ok && url.pathname === APP_PAGE && response.type === "basic") {
      // The app page holds no personal data (the card comes from the API): keep the latest copy.
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
  const cached = await caches.match(url.pathname, { cacheName: SHELL_CACHE });
  return cached ?? fetch(request);
}

async function fontFile(request, url) {
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
  if (request.method !== "GET") return;
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
});
