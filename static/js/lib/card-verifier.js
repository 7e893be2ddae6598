// The one implementation of docs/card-token.md in the browser (DESIGN decision 5): the verifier app
// (/scan) and the public verdict page (/v) both compute verdicts with this module, online or not.
// It runs unchanged under `node --test` (Node 20+: WebCrypto and DecompressionStream are global).
//
// CONTRACT (issue 8). This file fixes the exported names, arguments and results; the functions are
// implemented rule by rule from docs/card-token.md (sections 3-8, 12). Times are whole seconds
// since 1970 UTC (`now` is passed in, so an app can correct a wrong phone clock).
//
//   VERDICTS                      the verdicts of section 1, plus "cannot_confirm" (see verifyScan)
//   extractToken(text, publicBaseUrl)
//       -> { token } | { verdict: "malformed" | "not_a_card" }            rules U1-U7
//   importJwks(jwks)              -> Map<kid, CryptoKey>                 ES256 public keys only
//   readStatusList(token, keys, { subject, bits, now })
//       -> { bits, bytes: Uint8Array, issuedAt, expiresAt, ttl }         rules S1-S4
//       throws StatusListUnusable (with .reason: "malformed" | "not_a_status_list" | "unknown_key" |
//       "bad_signature" | "unsupported_bits" | "expired")
//   statusAt(list, index)         -> the value at index; past the end: 3 for a 2-bit list, 0 for 1 bit
//   readBundle(token, trustedKeys, { publicBaseUrl, now })
//       -> { audience, issuedAt, expiresAt, maxAge, keys: Map, jwks, statusList, offers: [
//              { id, name: {fr, ar, en}, benefit: {fr, ar, en}, quota: {count, period} | null,
//                fields: [...], validUntil: "YYYY-MM-DD" | null, eligibility: <list> } ] }
//       throws BundleUnusable (.reason); a bundle whose kid is not in trustedKeys is refused
//   verifyScan(text, { publicBaseUrl, keys, statusList, offers = [], now })
//       -> { verdict, claims?: { number, name, trade, region, expiresAt, expiryDate, statusIndex },
//            offers: [{ id, eligible }] }
//       steps 1-8 of section 8. `statusList` null (none usable, or the bundle is past its maximum
//       age): a card that passes steps 1-6 gets "cannot_confirm", never "valid" (rule S5).
//       `expiryDate` is the date of `exp` in Africa/Casablanca ("YYYY-MM-DD"). Offers are eligible
//       only for a valid card whose bit is 1 in the offer's list.
//   moroccoDate(seconds)          -> "YYYY-MM-DD", the calendar day in Africa/Casablanca

export const VERDICTS = Object.freeze([
  "valid",
  "expired",
  "revoked",
  "suspended",
  "unknown_key",
  "bad_signature",
  "not_a_card",
  "malformed",
  "cannot_confirm",
]);

export class StatusListUnusable extends Error {
  constructor(reason) {
    super(`status list unusable: ${reason}`);
    this.reason = reason;
  }
}

export class BundleUnusable extends Error {
  constructor(reason) {
    super(`trust bundle unusable: ${reason}`);
    this.reason = reason;
  }
}
