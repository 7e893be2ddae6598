// The card app's service worker, served at /card/sw.js so that its scope is /card/ (a worker controls
// only the paths below its own URL). Rendered by webapp/card/views.py: VERSION is a digest of every
// precached file, so any change to the app installs a new worker with a new cache.

// Never answered from a cache, not even as an offline fallback: the card's answer (the app keeps
// its own copy in IndexedDB, with the time it was fetched), activation, who is signed in, the worker.
const NEVER_CACHED = [
  /^\/card\/api\//,
  /^\/card\/activate$/,
  /^\/card\/sw\.js$/,
  /^\/api\//,
  /^\/(login|logout|account)$/,
];

{% set cache_prefix = "carte-card-shell-" %}
{% include "_pwa/sw_shell.js" %}
