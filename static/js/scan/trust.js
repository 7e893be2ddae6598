// What the phone trusts, kept in IndexedDB: the JWKS (fetched at first use from
// /.well-known/jwks.json), the signed trust bundle (GET /api/v1/bundle, refreshed with its ETag),
// when it was fetched and the server's clock at that moment. Verdicts are computed from these by
// static/js/lib/card-verifier.js (readBundle, verifyScan); this module never judges a card.
import * as verifier from "../lib/card-verifier.js";
import { TRUST, getRecord, putRecord } from "./store.js";

export const CLOCK_TOLERANCE_SECONDS = 5 * 60;
const JWKS_RECORD = "jwks";
const BUNDLE_RECORD = "bundle";
const FETCH_TIMEOUT_MS = 10_000;

// The verifier module is written in parallel with this app: until it exports its functions, the app
// verifies online only (the server's verdict) and says it cannot confirm offline.
export const canVerifyOnPhone = () =>
  ["readBundle", "verifyScan", "importJwks"].every((name) => typeof verifier[name] === "function");

export function phoneSeconds() {
  return Math.floor(Date.now() / 1000);
}

export function payloadOf(token) {
  // Only to decide whether to refetch (never to trust anything): the signature is checked by readBundle.
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0))));
  } catch {
    return {};
  }
}

async function timedFetch(url, options = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), FETCH_TIMEOUT_MS);
  try {
    return await fetch(url, { ...options, signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
}

export class Trust {
  constructor({ jwksUrl, bundleUrl, publicBaseUrl }) {
    this.jwksUrl = jwksUrl;
    this.bundleUrl = bundleUrl;
    this.publicBaseUrl = publicBaseUrl;
    this.jwks = null; // { keys: [...] }: the latest of /.well-known/jwks.json and the bundle's own JWKS
    this.stored = null; // { token, etag, fetchedAt, clockOffset, audience }
  }

  async load() {
    this.jwks = (await getRecord(TRUST, JWKS_RECORD))?.jwks ?? null;
    this.stored = (await getRecord(TRUST, BUNDLE_RECORD)) ?? null;
  }

  /** Seconds to add to the phone's clock to get the server's (measured when the bundle was fetched). */
  get clockOffset() {
    return this.stored?.clockOffset ?? 0;
  }

  get clockIsOff() {
    return Math.abs(this.clockOffset) > CLOCK_TOLERANCE_SECONDS;
  }

  /** Now, in seconds, on the server's clock as far as the phone knows (a wrong phone clock corrected). */
  now() {
    return phoneSeconds() + this.clockOffset;
  }

  /** Seconds since the server last confirmed the data (a fetch or a 304), or null if never. */
  age() {
    return this.stored ? Math.max(0, this.now() - this.stored.fetchedAt) : null;
  }

  async fetchJwks() {
    const response = await timedFetch(this.jwksUrl, { cache: "no-store", credentials: "omit" });
    if (!response.ok) throw new Error(`jwks: HTTP ${response.status}`);
    await this.rememberKeys(await response.json());
  }

  async rememberKeys(jwks) {
    // The latest word replaces the old one (a retired key is withdrawn from both the JWKS and the
    // bundles, and must stop verifying here too).
    if (JSON.stringify(jwks) === JSON.stringify(this.jwks)) return;
    this.jwks = { keys: [...(jwks.keys ?? [])] };
    await putRecord(TRUST, { jwks: this.jwks, savedAt: phoneSeconds() }, JWKS_RECORD);
  }

  /** Online: the JWKS at first use, then the bundle (ETag). Returns true when the server answered. */
  async refresh({ audience }) {
    if (!this.jwks) await this.fetchJwks();
    // A bundle for another audience (signed in or out since) is fetched afresh, not revalidated.
    const sameAudience = this.stored && this.stored.audience === audience;
    let response = await this.fetchBundle(sameAudience ? this.stored.etag : null);
    if (response.status === 304 && this.signedLongAgo()) {
      // A 304 confirms the content, but the token we hold keeps its old signing time and expiry:
      // past half its maximum age, take a freshly signed one so it does not expire while offline.
      response = await this.fetchBundle(null);
    }
    const phoneAtAnswer = phoneSeconds();
    const serverDate = Date.parse(response.headers.get("Date") ?? "");
    const clockOffset = Number.isNaN(serverDate) ? this.clockOffset : Math.round(serverDate / 1000) - phoneAtAnswer;
    const fetchedAt = phoneAtAnswer + clockOffset;
    if (response.status === 304) {
      this.stored = { ...this.stored, fetchedAt, clockOffset };
    } else if (response.ok) {
      const token = (await response.text()).trim();
      this.stored = { token, etag: response.headers.get("ETag"), fetchedAt, clockOffset, audience };
    } else {
      throw new Error(`bundle: HTTP ${response.status}`);
    }
    await putRecord(TRUST, this.stored, BUNDLE_RECORD);
    // A bundle signed by a key published after our first JWKS fetch (a rotation): fetch the JWKS again
    // (over HTTPS, from our server) and the bundle is read with it; a key nobody publishes stays unknown.
    if (canVerifyOnPhone() && (await this.material()).problem === "unknown_key") await this.fetchJwks();
    return true;
  }

  fetchBundle(etag) {
    const headers = etag ? { "If-None-Match": etag } : {};
    // The session cookie goes along: partner staff get their organisation's bundle (their offers).
    return timedFetch(this.bundleUrl, { headers, cache: "no-store", credentials: "same-origin" });
  }

  /**
   * The offers' redemption fields as the stored bundle lists them, read WITHOUT checking its signature:
   * only to lay out the redemption form when the phone cannot read the bundle itself (the server checks
   * every field it receives). Never used for a verdict or an eligibility.
   */
  offerLayouts() {
    const offers = payloadOf(this.stored?.token ?? "").offers;
    return Array.isArray(offers) ? offers : [];
  }

  signedLongAgo() {
    const { iat, max_age: maxAge } = payloadOf(this.stored?.token ?? "");
    return !Number.isInteger(iat) || !Number.isInteger(maxAge) || this.now() - iat > maxAge / 2;
  }

  /**
   * What verifyScan needs, from what the phone holds: { keys, statusList, offers, bundle, problem }.
   * A bundle past its maximum age (or otherwise unusable) leaves statusList null: a genuine card then
   * gets "cannot_confirm", never "valid" (docs/card-token.md rule S5).
   */
  async material() {
    if (!canVerifyOnPhone()) return { keys: null, statusList: null, offers: [], bundle: null, problem: "no_verifier" };
    const trustedKeys = await verifier.importJwks(this.jwks ?? { keys: [] });
    if (!this.stored?.token) return { keys: trustedKeys, statusList: null, offers: [], bundle: null, problem: "no_bundle" };
    try {
      const bundle = await verifier.readBundle(this.stored.token, trustedKeys, {
        publicBaseUrl: this.publicBaseUrl,
        now: this.now(),
      });
      if (this.now() >= bundle.issuedAt + bundle.maxAge) throw new verifier.BundleUnusable("expired");
      // Keys the signed bundle publishes (a rotation) are trusted from now on.
      if (bundle.jwks) await this.rememberKeys(bundle.jwks);
      return { keys: bundle.keys, statusList: bundle.statusList, offers: bundle.offers ?? [], bundle, problem: null };
    } catch (error) {
      if (!(error instanceof verifier.BundleUnusable)) throw error;
      return { keys: trustedKeys, statusList: null, offers: [], bundle: null, problem: error.reason };
    }
  }
}
