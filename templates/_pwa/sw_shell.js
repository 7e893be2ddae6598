{#- The part of the service worker both installable apps share (the card app, templates/card/sw.js;
    the verifier, templates/scan/sw.js): the shell's cache by version, network-first pages with the
    app page's copy offline, cache-first shell files and fonts. The including template sets
    `cache_prefix` and defines NEVER_CACHED (the paths it never answers from a cache). -#}
const VERSION = "{{ version }}";
const CACHE_PREFIX = "{{ cache_prefix }}";
const SHELL_CACHE = CACHE_PREFIX + VERSION;
// Fonts beyond the shell's Latin one, kept on first use (same prefix: old versions' are deleted too).
const FONT_CACHE = CACHE_PREFIX + "fonts-" + VERSION;
const PRECACHE = {{ precache | safe }};
const LANGUAGE_FONTS = {{ language_fonts | safe }};
const FONTS_PREFIX = {{ fonts_prefix | safe }};
const APP_PAGE = {{ app_page | safe }};
const OFFLINE_PAGE = {{ offline_page | safe }};
const PRECACHED_PATHS = new Set(PRECACHE);

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
    if (response.ok && url.pathname === APP_PAGE && response.type === "basic") {
      // The app page holds no personal data (who is signed in, the card: from their own APIs): keep
      // the latest copy, in the language last chosen, for offline use.
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
  if (request.method !== "GET") return; // POSTs are never cached
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
