// The one implementation of docs/card-token.md in the browser (DESIGN decision 5): the verifier app
// (/scan) and the public verdict page (/v) both compute verdicts with this module, online or not.
// It runs unchanged under `node --test` (Node 20+: WebCrypto and DecompressionStream are global; the
// test gives Node 18 its WebCrypto). A browser needs a secure context for crypto.subtle.
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
//   expiryDay(exp)                -> "YYYY-MM-DD", the day in Africa/Casablanca whose last second `exp` is
//
// Added for the live QR (issue 15, docs/card-token.md section 13):
//   extractToken/verifyScan also take a live code, token.window.signature (five parts, V1-V7);
//   verifyScan's result has `presentation` ("live" | "printed") with the claims, and, for
//   the verdict "replayed", `replay` ("window" | "device_replaced"); claims of a holder-bound token
//   carry `deviceKey` and `deviceIndex`. `now` is the verifier's clock: the server's time online,
//   the bundle-corrected clock offline (a live code's window is read against it).
//   WINDOW_SECONDS, windowOf(seconds)  the 30-second window number of a time
//
// Added while implementing (the contract above is unchanged):
//   TRADES, REGIONS               code -> { fr, ar, en }: the tables of section 5, to show names offline
//   BundleUnusable.detail         the inner list's reason, for "status_list_unusable" and
//                                 "eligibility_list_unusable"; reasons: "malformed", "not_a_bundle",
//                                 "unknown_key", "bad_signature", "expired" (B3), those two (B4)
//   claims                        present for valid, expired, revoked, suspended and cannot_confirm
//   `now` in readBundle           B3: an "expired" bundle is refused; the app then calls verifyScan
//                                 with the keys it trusts (B5) and statusList null -> cannot_confirm

export const VERDICTS = Object.freeze([
  "valid",
  "expired",
  "revoked",
  "suspended",
  "unknown_key",
  "bad_signature",
  "not_a_card",
  "malformed",
  "replayed",
  "cannot_confirm",
]);

export class StatusListUnusable extends Error {
  constructor(reason) {
    super(`status list unusable: ${reason}`);
    this.reason = reason;
  }
}

// `detail`: for "status_list_unusable" and "eligibility_list_unusable", the list's own reason.
export class BundleUnusable extends Error {
  constructor(reason, detail = null) {
    super(`trust bundle unusable: ${reason}${detail ? ` (${detail})` : ""}`);
    this.reason = reason;
    this.detail = detail;
  }
}

// --- Decisions this module takes where the document left a choice (each in docs/card-token.md) ---
// * JSON integers (C8): Node 20 has no reviver `context.source`, so this module never relies on it.
//   Every JSON text is checked by JSON.parse (RFC 8259, so NaN and a BOM are refused), then read
//   again by parseJson below, which gives integer literals as BigInt and every other number as a
//   Number: "an integer" means `typeof value === "bigint"`, exactly Python's `type(value) is int`.
// * JSON nested deeper than MAX_JSON_DEPTH is malformed (H1, J1): Python's parser gives up near 1,000
//   levels, JavaScript's does not, so both stop at one documented depth.
// * Characters are Unicode code points (U1's 4,096, as C3's 40); digits are ASCII 0-9 only (U6, U7).
// * A zlib stream must end with the data (S3): bytes after it make a list unusable, as in Chromium
//   (Node's DecompressionStream ignores them: the Adler-32 at the end is checked here).

const MAX_TEXT_LENGTH = 4096;
const WHITESPACE = " \t\r\n";
const VERIFY_PATH = "/v";
const JWS_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
// A live code (section 13): the token, the window number and the phone's signature.
const LIVE_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[0-9]+\.[A-Za-z0-9_-]*$/;
const WINDOW = /^(?:0|[1-9][0-9]*)$/;
const DEVICE_KEY = /^[A-Za-z0-9_-]{87}$/;
export const WINDOW_SECONDS = 30;
const WINDOW_TOLERANCE = 1n;
const DIGITS = /^(?:[0-9][0-9])+$/;
const URI_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const DIGIT_OFFSET = 45; // "-": the lowest character of base64url and "."
const MAX_PAIR = 77; // "z"
const SIGNATURE_LENGTH = 86; // 64 bytes, R || S
const MAX_EXPIRY = 253402297199n; // 9999-12-31T23:59:59 in Morocco (UTC+1): C5
const MAX_JSON_DEPTH = 32;
const HEADER_MEMBERS = ["alg", "kid"];
const SIGNED_HEADER_MEMBERS = ["alg", "kid", "typ"]; // status lists and bundles (S9, B7)
const QUOTA_PERIODS = new Set(["day", "month", "year"]);
const CLAIM_NAMES = ["cn", "n", "t", "r", "exp", "sl"];
const HOLDER_CLAIM_NAMES = [...CLAIM_NAMES, "cnf", "ds"];
const CARD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CARD_NUMBER = /^[0-9A-HJKMNP-TV-Z]{10}$/;
const STATUS_LIST_TYPE = "statuslist+jwt";
const BUNDLE_TYPE = "bundle+jwt";
const ES256 = { name: "ECDSA", hash: "SHA-256" };
const P256 = { name: "ECDSA", namedCurve: "P-256" };
const VALID = 0;
const REVOKED = 1;
const SUSPENDED = 2;
const UNASSIGNED = 3;

// The trade and region tables of section 5 (tests/js/card-verifier.test.mjs checks them against the
// document, whose tables tests/services/cards/test_token_vectors.py checks against the register's).
export const TRADES = Object.freeze({
  ZEL: { fr: "Zellige", ar: "الزليج", en: "Zellige tilework" },
  TAP: { fr: "Tapis", ar: "الزرابي", en: "Carpets" },
  POT: { fr: "Poterie et céramique", ar: "الفخار والخزف", en: "Pottery and ceramics" },
  MARO: { fr: "Maroquinerie", ar: "الجلد المصنع", en: "Leather goods" },
  TAN: { fr: "Tannerie", ar: "الدباغة", en: "Tanning" },
  DIN: { fr: "Dinanderie", ar: "النحاس", en: "Brass and copper work" },
  BROD: { fr: "Broderie", ar: "الطرز", en: "Embroidery" },
  BIJ: { fr: "Bijouterie", ar: "الحلي", en: "Jewellery" },
  BOIS: { fr: "Ébénisterie de cèdre", ar: "النجارة الخشبية (الأرز)", en: "Cedar woodwork" },
  THUY: { fr: "Marqueterie de thuya", ar: "خشب العرعار", en: "Thuya marquetry" },
  FER: { fr: "Ferronnerie d'art", ar: "الحدادة الفنية", en: "Wrought ironwork" },
  PLAT: { fr: "Plâtre sculpté", ar: "الجبس المنقوش", en: "Carved plaster" },
  TISS: { fr: "Tissage", ar: "النسيج", en: "Weaving" },
  VANN: { fr: "Vannerie", ar: "صناعة السلال", en: "Basketry" },
  BAB: { fr: "Babouches", ar: "البلغة", en: "Babouche slippers" },
  COUT: { fr: "Couture traditionnelle", ar: "الخياطة التقليدية", en: "Traditional tailoring" },
  ARG: { fr: "Huile d'argan artisanale", ar: "زيت الأركان", en: "Artisanal argan oil" },
  COIF: { fr: "Coiffure", ar: "الحلاقة", en: "Hairdressing" },
  MEC: { fr: "Mécanique", ar: "الميكانيك", en: "Mechanics" },
  PLOM: { fr: "Plomberie", ar: "الترصيص", en: "Plumbing" },
});
export const REGIONS = Object.freeze({
  "01": { fr: "Tanger-Tétouan-Al Hoceïma", ar: "طنجة تطوان الحسيمة", en: "Tangier-Tetouan-Al Hoceima" },
  "02": { fr: "L'Oriental", ar: "الشرق", en: "Oriental" },
  "03": { fr: "Fès-Meknès", ar: "فاس مكناس", en: "Fez-Meknes" },
  "04": { fr: "Rabat-Salé-Kénitra", ar: "الرباط سلا القنيطرة", en: "Rabat-Sale-Kenitra" },
  "05": { fr: "Béni Mellal-Khénifra", ar: "بني ملال خنيفرة", en: "Beni Mellal-Khenifra" },
  "06": { fr: "Casablanca-Settat", ar: "الدار البيضاء سطات", en: "Casablanca-Settat" },
  "07": { fr: "Marrakech-Safi", ar: "مراكش آسفي", en: "Marrakesh-Safi" },
  "08": { fr: "Drâa-Tafilalet", ar: "درعة تافيلالت", en: "Draa-Tafilalet" },
  "09": { fr: "Souss-Massa", ar: "سوس ماسة", en: "Souss-Massa" },
  "10": { fr: "Guelmim-Oued Noun", ar: "كلميم واد نون", en: "Guelmim-Oued Noun" },
  "11": { fr: "Laâyoune-Sakia El Hamra", ar: "العيون الساقية الحمراء", en: "Laayoune-Sakia El Hamra" },
  "12": { fr: "Dakhla-Oued Ed-Dahab", ar: "الداخلة وادي الذهب", en: "Dakhla-Oued Ed-Dahab" },
});

const TRADE_CODES = new Set(Object.keys(TRADES));
const REGION_CODES = new Set(Object.keys(REGIONS));

// A scanned text that is not a card token, or a token that fails a rule: `verdict` names which.
class Rejected extends Error {
  constructor(verdict) {
    super(verdict);
    this.verdict = verdict;
  }
}

const own = (object, name) => (Object.hasOwn(object, name) ? object[name] : undefined);
const isObject = (value) => typeof value === "object" && value !== null && !Array.isArray(value);
const isInteger = (value) => typeof value === "bigint"; // a JSON integer literal (C8), see parseJson
const hasExactly = (object, names) =>
  Object.keys(object).length === names.length && names.every((name) => Object.hasOwn(object, name));

// --- Section 3: the scanned text (U1-U7) ---

function trimmed(text) {
  let start = 0;
  let end = text.length;
  while (start < end && WHITESPACE.includes(text[start])) start += 1;
  while (end > start && WHITESPACE.includes(text[end - 1])) end -= 1;
  return text.slice(start, end);
}

// U8: ASCII case folding only. toLowerCase() would also turn the Kelvin sign (U+212A) into "k", and
// toUpperCase() "ı" into "I" and "ſ" into "S": none of them is our host.
const asciiLower = (text) => text.replace(/[A-Z]/g, (letter) => String.fromCharCode(letter.charCodeAt(0) + 32));

function longerThan(text, limit) {
  if (text.length <= limit) return false; // UTF-16 units >= code points
  let count = 0;
  for (const _ of text) if (++count > limit) return true;
  return false;
}

function digitsToToken(digits) {
  let token = "";
  for (let i = 0; i < digits.length; i += 2) {
    const value = Number(digits.slice(i, i + 2));
    if (value > MAX_PAIR) throw new Rejected("malformed"); // U7: no base64url character
    token += String.fromCharCode(value + DIGIT_OFFSET);
  }
  return token;
}

// U3, U7: our page's fragment is digits (the printed form) or a plain token (a shared link).
function fragmentToken(fragment) {
  const token = DIGITS.test(fragment) ? digitsToToken(fragment) : fragment;
  if (!JWS_SHAPE.test(token) && !LIVE_SHAPE.test(token)) throw new Rejected("malformed");
  return token;
}

function tokenOf(scanned, publicBaseUrl) {
  const text = trimmed(String(scanned)); // U1
  if (!text) throw new Rejected("malformed");
  if (longerThan(text, MAX_TEXT_LENGTH)) throw new Rejected("not_a_card");
  const origin = publicBaseUrl;
  if (asciiLower(text.slice(0, origin.length)) === asciiLower(origin)) {
    const rest = text.slice(origin.length);
    if (rest === VERIFY_PATH || rest.startsWith(`${VERIFY_PATH}#`)) {
      return fragmentToken(rest.slice(VERIFY_PATH.length + 1)); // U2, U3
    }
    if (!rest || "/?#".includes(rest[0])) throw new Rejected("not_a_card"); // U4
  }
  if (URI_SCHEME.test(text)) throw new Rejected("not_a_card"); // U5
  if (DIGITS.test(text)) return fragmentToken(text); // U6, U7
  if (JWS_SHAPE.test(text) || LIVE_SHAPE.test(text)) return text;
  if (text.startsWith("eyJ")) throw new Rejected("malformed"); // a damaged token
  throw new Rejected("not_a_card");
}

export function extractToken(text, publicBaseUrl) {
  try {
    return { token: tokenOf(text, publicBaseUrl) };
  } catch (error) {
    if (error instanceof Rejected) return { verdict: error.verdict };
    throw error;
  }
}

// --- Section 4: base64url, UTF-8 and JSON exactly as the rules say ---

const BASE64URL = new Map([..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"].map((c, i) => [c, i]));

// base64url without padding; like Python's decoder, a length of 4k+1 fails and the unused low
// bits of the last character are ignored.
function base64urlBytes(text) {
  if (text.length % 4 === 1) throw new SyntaxError("base64url length");
  const bytes = new Uint8Array(Math.floor((text.length * 3) / 4));
  let buffer = 0;
  let bits = 0;
  let at = 0;
  for (const char of text) {
    const value = BASE64URL.get(char);
    if (value === undefined) throw new SyntaxError("not base64url");
    buffer = ((buffer << 6) | value) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[at++] = (buffer >> bits) & 0xff;
    }
  }
  return bytes;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }); // a BOM stays, and JSON.parse refuses it

// One JSON token at a time; the text was accepted by JSON.parse first, so no error handling here.
const JSON_TOKEN = /[ \t\n\r]*(?:("[^"\\]*(?:\\.[^"\\]*)*")|(-?[0-9]+)(?![.eE0-9])|(-?[0-9][0-9.eE+-]*)|(true|false|null)|([{}[\]:,]))/y;

// RFC 8259 JSON, integer literals as BigInt (C8) and other numbers as Number; the last of duplicate
// member names counts (as JSON.parse and Python do); deeper than MAX_JSON_DEPTH is refused.
function parseJson(text) {
  JSON.parse(text);
  let at = 0;
  const next = () => {
    JSON_TOKEN.lastIndex = at;
    const match = JSON_TOKEN.exec(text);
    at = JSON_TOKEN.lastIndex;
    return match;
  };
  const value = (token, depth) => {
    const [, string, integer, number, literal, punctuation] = token;
    if (string !== undefined) return JSON.parse(string);
    if (integer !== undefined) return BigInt(integer);
    if (number !== undefined) return Number(number);
    if (literal !== undefined) return JSON.parse(literal);
    if (depth >= MAX_JSON_DEPTH) throw new SyntaxError("JSON nested too deep");
    if (punctuation === "[") {
      const list = [];
      for (let item = next(); item[5] !== "]"; item = next()) {
        if (item[5] === ",") item = next();
        list.push(value(item, depth + 1));
      }
      return list;
    }
    const object = {};
    for (let name = next(); name[5] !== "}"; name = next()) {
      if (name[5] === ",") name = next();
      next(); // ":"
      // defineProperty, not assignment: a member named "__proto__" is data, as in JSON.parse.
      Object.defineProperty(object, JSON.parse(name[1]), {
        value: value(next(), depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return object;
  };
  return value(next(), 0);
}

const NOT_JSON = Symbol("not JSON"); // JSON's own null is a value (a payload `null` is not a card: C1)

// base64url of UTF-8 of JSON (H1, J1), or NOT_JSON when any of the three fails.
function jsonPart(segment) {
  try {
    return parseJson(utf8.decode(base64urlBytes(segment)));
  } catch {
    return NOT_JSON;
  }
}

// BigInt integers back to Numbers, for what the module returns (the apps store it as JSON).
function plain(value) {
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return value.map(plain);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, plain(item)]));
  return value;
}

// --- Section 6: keys ---

function isCoordinate(value) {
  try {
    return typeof value === "string" && value.length > 0 && base64urlBytes(value).length === 32;
  } catch {
    return false;
  }
}

export async function importJwks(jwks) {
  const keys = new Map();
  const list = isObject(jwks) && Array.isArray(own(jwks, "keys")) ? jwks.keys : [];
  for (const jwk of list) {
    if (!isObject(jwk) || jwk.kty !== "EC" || jwk.crv !== "P-256") continue; // ES256 keys only
    const { kid, x, y } = jwk;
    if (typeof kid !== "string" || ![x, y].every(isCoordinate)) continue; // RFC 7518 6.2.1.2: 32 bytes
    try {
      // Only the members that make the key: "alg", "use" or "key_ops" must not make an import fail.
      const key = await crypto.subtle.importKey("jwk", { kty: "EC", crv: "P-256", x, y, ext: true }, P256, false, [
        "verify",
      ]);
      keys.set(kid, key);
    } catch {
      // A point that is not on the curve verifies nothing: the key is left out.
    }
  }
  return keys;
}

async function signatureVerifies(key, signingInput, encodedSignature) {
  let signature;
  try {
    signature = base64urlBytes(encodedSignature);
  } catch {
    return false;
  }
  return crypto.subtle.verify(ES256, key, signature, new TextEncoder().encode(signingInput));
}

// --- Sections 4 and 5: the token (H1-H4, J1-J3) and its claims (C1-C8) ---

function checkCharacter(payload) {
  let total = 0;
  for (let position = 0; position < payload.length; position += 1) {
    const value = CARD_ALPHABET.indexOf(payload[payload.length - 1 - position]);
    const product = (position % 2 === 0 ? 2 : 1) * value;
    total += Math.floor(product / 32) + (product % 32);
  }
  return CARD_ALPHABET[(32 - (total % 32)) % 32];
}

function claimsOf(payload) {
  if (!isObject(payload) || !(hasExactly(payload, CLAIM_NAMES) || hasExactly(payload, HOLDER_CLAIM_NAMES))) {
    throw new Rejected("not_a_card"); // C1, C9
  }
  const { cn, n, t, r, exp, sl } = payload;
  const valid =
    typeof cn === "string" &&
    CARD_NUMBER.test(cn) &&
    checkCharacter(cn.slice(0, 9)) === cn[9] && // C2
    typeof n === "string" &&
    [...n].length >= 1 &&
    [...n].length <= 40 && // C3: code points
    typeof t === "string" &&
    TRADE_CODES.has(t) &&
    typeof r === "string" &&
    REGION_CODES.has(r) && // C4
    isInteger(exp) &&
    exp >= 0n &&
    exp <= MAX_EXPIRY && // C5, C8
    isInteger(sl) &&
    sl >= 0n; // C7, C8
  if (!valid) throw new Rejected("not_a_card");
  const expiresAt = Number(exp);
  // An index past 2^53 is past the end of any list: its Number is too, so L2 holds.
  const claims = { number: cn, name: n, trade: t, region: r, expiresAt, expiryDate: expiryDay(expiresAt), statusIndex: Number(sl) };
  if (Object.hasOwn(payload, "cnf")) {
    const { cnf, ds } = payload;
    const shaped = isObject(cnf) && hasExactly(cnf, ["k"]) && typeof cnf.k === "string" && DEVICE_KEY.test(cnf.k);
    if (!shaped || !isInteger(ds) || ds < 0n) throw new Rejected("not_a_card"); // C9, C10
    claims.deviceKey = cnf.k;
    claims.deviceIndex = Number(ds);
  }
  return claims;
}

// A device key (C9): 87 base64url characters of the uncompressed P-256 point 0x04||X||Y; null when
// it is not one (WebCrypto refuses a point off the curve).
async function devicePublicKey(deviceKey) {
  let raw;
  try {
    raw = base64urlBytes(deviceKey);
  } catch {
    return null;
  }
  if (raw.length !== 65 || raw[0] !== 0x04) return null;
  try {
    return await crypto.subtle.importKey("raw", raw, P256, false, ["verify"]);
  } catch {
    return null;
  }
}

// Steps 2-6 of section 8, in that order.
async function readCard(token, keys) {
  const parts = token.split(".");
  if (parts.length !== 3) throw new Rejected("malformed");
  const [encodedHeader, encodedPayload, encodedSignature] = parts;
  const header = jsonPart(encodedHeader);
  if (!isObject(header)) throw new Rejected("malformed"); // H1
  if (own(header, "alg") !== "ES256") throw new Rejected("bad_signature"); // H2: never trust the header's alg
  if (!hasExactly(header, HEADER_MEMBERS) || typeof header.kid !== "string") throw new Rejected("not_a_card"); // H3
  const key = keys.get(header.kid);
  if (!key) throw new Rejected("unknown_key"); // H4: never try the other keys
  const payload = jsonPart(encodedPayload);
  if (payload === NOT_JSON) throw new Rejected("malformed"); // J1
  if (encodedSignature.length !== SIGNATURE_LENGTH) throw new Rejected("malformed"); // J2
  if (!(await signatureVerifies(key, `${encodedHeader}.${encodedPayload}`, encodedSignature))) {
    throw new Rejected("bad_signature"); // J3
  }
  const claims = claimsOf(payload);
  if (claims.deviceKey !== undefined) {
    const deviceKey = await devicePublicKey(claims.deviceKey);
    if (!deviceKey) throw new Rejected("not_a_card"); // C9: no P-256 point
    Object.defineProperty(claims, "devicePublicKey", { value: deviceKey, enumerable: false });
  }
  return claims;
}

export function windowOf(seconds) {
  return Math.floor(seconds / WINDOW_SECONDS);
}

// A plain token (3 parts) or a live code (5 parts): the card's claims and, for a live code whose
// phone signature verifies, its window (V1-V4 of section 13).
async function readScanned(text, keys) {
  const parts = text.split(".");
  if (parts.length === 3) return { claims: await readCard(text, keys), window: null };
  if (parts.length !== 5) throw new Rejected("malformed"); // V1
  const token = parts.slice(0, 3).join(".");
  const [window, signature] = parts.slice(3);
  const claims = await readCard(token, keys);
  if (claims.deviceKey === undefined) throw new Rejected("malformed"); // V2: a live code's token is holder-bound
  if (!WINDOW.test(window) || signature.length !== SIGNATURE_LENGTH) throw new Rejected("malformed"); // V3
  if (!(await signatureVerifies(claims.devicePublicKey, `${token}.${window}`, signature))) {
    throw new Rejected("bad_signature"); // V4
  }
  return { claims, window: BigInt(window) };
}

// --- Section 7: status lists (S1-S4, L1-L4), also offers' eligibility lists (1 bit) ---

function adler32(bytes) {
  let a = 1;
  let b = 0;
  for (let i = 0; i < bytes.length; i += 5552) {
    for (const byte of bytes.subarray(i, i + 5552)) {
      a += byte;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

// zlib (DEFLATE, ZLIB format). The stream must end with the data (S3): Chromium refuses bytes after
// it, Node ignores them, so the Adler-32 the stream ends with is checked against the output here.
async function inflate(compressed) {
  const stream = new Blob([compressed]).stream().pipeThrough(new DecompressionStream("deflate"));
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  const end = compressed.length;
  const trailer = end >= 4 ? new DataView(compressed.buffer, compressed.byteOffset + end - 4, 4).getUint32(0) : -1;
  if (trailer !== adler32(bytes)) throw new SyntaxError("bytes after the zlib stream");
  return bytes;
}

// A signed JWT of our own kind: shape, typ and alg, kid, signature (S1 and B1 alike). `refusal` is
// the error class, `kind` the reason for a wrong typ or alg.
async function signedPayload(token, keys, type, refusal, kind) {
  const parts = typeof token === "string" && JWS_SHAPE.test(token) ? token.split(".") : null;
  const header = parts ? jsonPart(parts[0]) : null;
  if (!isObject(header) || (Object.hasOwn(header, "kid") && typeof header.kid !== "string")) {
    throw new refusal("malformed");
  }
  // S9, B7: exactly alg, kid and typ (crit, b64, jku, x5u... could change how the token is read).
  if (own(header, "typ") !== type || own(header, "alg") !== "ES256" || !hasExactly(header, SIGNED_HEADER_MEMBERS)) {
    throw new refusal(kind);
  }
  const key = keys.get(own(header, "kid"));
  if (!key) throw new refusal("unknown_key");
  if (!(await signatureVerifies(key, `${parts[0]}.${parts[1]}`, parts[2]))) throw new refusal("bad_signature");
  const payload = jsonPart(parts[1]);
  if (!isObject(payload)) throw new refusal("malformed");
  return payload;
}

export async function readStatusList(token, keys, { subject, bits, now }) {
  const payload = await signedPayload(token, keys, STATUS_LIST_TYPE, StatusListUnusable, "not_a_status_list"); // S1
  const { iat, exp, ttl } = payload;
  const body = own(payload, "status_list");
  if (own(payload, "sub") !== subject || !isObject(body) || typeof own(body, "lst") !== "string") {
    throw new StatusListUnusable("not_a_status_list"); // S2
  }
  if (![iat, exp, ttl].every(isInteger)) throw new StatusListUnusable("malformed");
  if (!isInteger(own(body, "bits")) || body.bits !== BigInt(bits)) throw new StatusListUnusable("unsupported_bits"); // S3
  if (BigInt(Math.floor(now)) >= exp) throw new StatusListUnusable("expired"); // S4
  let bytes;
  try {
    bytes = await inflate(base64urlBytes(body.lst));
  } catch {
    throw new StatusListUnusable("malformed"); // S3
  }
  return { bits, bytes, issuedAt: Number(iat), expiresAt: Number(exp), ttl: Number(ttl) };
}

export function statusAt(list, index) {
  const perByte = 8 / list.bits;
  if (index >= list.bytes.length * perByte) return list.bits === 2 ? UNASSIGNED : 0; // L2
  const bit = (index % perByte) * list.bits;
  return (list.bytes[Math.floor(index / perByte)] >> bit) & ((1 << list.bits) - 1);
}

// --- Section 12: the trust bundle (B1-B5) ---

// B6: a real calendar day written YYYY-MM-DD, year 0001 or later (2027-02-30 and 0000-01-01 are not).
function isDay(value) {
  if (typeof value !== "string" || !/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(value)) return false;
  const [year, month, day] = value.split("-").map(Number);
  const date = new Date(Date.UTC(2000, month - 1, day));
  date.setUTCFullYear(year); // Date.UTC reads years 0-99 as 1900-1999
  return year >= 1 && date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

// B6: the members the app reads, each of its type; other members are ignored (B7).
function offerOf(entry) {
  const texts = (value) =>
    isObject(value) && ["fr", "ar", "en"].every((language) => typeof own(value, language) === "string");
  const quota = own(entry, "quota");
  const validUntil = own(entry, "valid_until");
  const fields = own(entry, "fields");
  const valid =
    isObject(entry) &&
    isInteger(own(entry, "id")) &&
    entry.id >= 0n &&
    texts(own(entry, "name")) &&
    texts(own(entry, "benefit")) &&
    (validUntil === null || isDay(validUntil)) &&
    (quota === null ||
      (isObject(quota) &&
        isInteger(own(quota, "count")) &&
        quota.count >= 1n &&
        QUOTA_PERIODS.has(own(quota, "period")))) &&
    Array.isArray(fields) &&
    fields.every(isObject) &&
    typeof own(entry, "eligibility") === "string";
  if (!valid) throw new BundleUnusable("malformed");
  return entry;
}

export async function readBundle(token, trustedKeys, { publicBaseUrl, now }) {
  const payload = await signedPayload(token, trustedKeys, BUNDLE_TYPE, BundleUnusable, "not_a_bundle"); // B1
  const { iat, exp, max_age: maxAge, aud, jwks, offers } = payload;
  if (own(payload, "iss") !== publicBaseUrl) throw new BundleUnusable("not_a_bundle"); // B2
  const shaped =
    typeof aud === "string" &&
    [iat, exp, maxAge].every(isInteger) &&
    maxAge >= 0n &&
    exp === iat + maxAge &&
    isObject(jwks) &&
    Array.isArray(own(jwks, "keys")) &&
    typeof own(payload, "status_list") === "string" &&
    Array.isArray(offers);
  if (!shaped) throw new BundleUnusable("malformed");
  const entries = offers.map(offerOf);
  if (new Set(entries.map((entry) => entry.id)).size !== entries.length) throw new BundleUnusable("malformed"); // B6: each id once
  if (BigInt(Math.floor(now)) >= exp) throw new BundleUnusable("expired"); // B3
  const keys = await importJwks(jwks); // B4: the lists inside are read with the bundle's own keys
  const list = async (listToken, subject, bits, reason) => {
    try {
      return await readStatusList(listToken, keys, { subject, bits, now });
    } catch (error) {
      if (!(error instanceof StatusListUnusable)) throw error;
      throw new BundleUnusable(reason, error.reason);
    }
  };
  const statusList = await list(payload.status_list, `${publicBaseUrl}/statuslists/1`, 2, "status_list_unusable");
  const read = [];
  for (const entry of entries) {
    const subject = `${publicBaseUrl}/offers/${entry.id}/eligibility`;
    read.push({
      id: Number(entry.id),
      name: entry.name,
      benefit: entry.benefit,
      quota: plain(entry.quota),
      fields: plain(entry.fields),
      validUntil: entry.valid_until,
      eligibility: await list(entry.eligibility, subject, 1, "eligibility_list_unusable"),
    });
  }
  return {
    audience: aud,
    issuedAt: Number(iat),
    expiresAt: Number(exp),
    maxAge: Number(maxAge),
    keys, // B5: after a usable bundle, the app trusts these keys (and no others)
    jwks: plain(jwks),
    statusList,
    offers: read,
  };
}

// --- Section 8: the verdict ---

export async function verifyScan(text, { publicBaseUrl, keys, statusList, offers = [], now }) {
  const notEligible = () => offers.map((offer) => ({ id: offer.id, eligible: false }));
  let scanned;
  try {
    scanned = await readScanned(tokenOf(text, publicBaseUrl), keys); // steps 1-6, V1-V4
  } catch (error) {
    if (error instanceof Rejected) return { verdict: error.verdict, offers: notEligible() };
    throw error;
  }
  const { claims, window } = scanned;
  const presentation = window === null ? "printed" : "live";
  if (!statusList) return { verdict: "cannot_confirm", claims, presentation, offers: notEligible() }; // S5, B3
  const status = statusAt(statusList, claims.statusIndex); // step 7, L1-L4
  if (status === UNASSIGNED) return { verdict: "not_a_card", offers: notEligible() };
  let verdict = "valid";
  if (status === REVOKED) verdict = "revoked";
  else if (status === SUSPENDED) verdict = "suspended";
  else if (Math.floor(now) >= claims.expiresAt) verdict = "expired"; // step 8, C6
  if (verdict === "valid" && claims.deviceKey !== undefined) {
    // V5-V7, after the card's own verdicts: a copy of a revoked card's screen is revoked.
    const distance = window === null ? null : window - BigInt(windowOf(Math.floor(now)));
    if (distance === null || distance > WINDOW_TOLERANCE || distance < -WINDOW_TOLERANCE) {
      return { verdict: "replayed", replay: "window", offers: notEligible() }; // V5, V6
    }
    const deviceStatus = statusAt(statusList, claims.deviceIndex);
    if (deviceStatus === REVOKED) {
      return { verdict: "replayed", replay: "device_replaced", offers: notEligible() }; // V7
    }
    if (deviceStatus !== VALID) return { verdict: "not_a_card", offers: notEligible() }; // V7, as L2/L3
  }
  const eligible = (offer) => verdict === "valid" && statusAt(offer.eligibility, claims.statusIndex) === 1; // B5
  return { verdict, claims, presentation, offers: offers.map((offer) => ({ id: offer.id, eligible: eligible(offer) })) };
}

// `exp` is the last second of a day in Morocco (23:59:59), whose offset from UTC is 0 or +1 hour: that
// second falls on the same calendar day in UTC. Reading the day there needs no time-zone data, so a
// phone whose data predates Morocco's changes (UTC+0 since September 2026) still shows the right day,
// the day the server (its pinned tzdata) signed. C6 in docs/card-token.md.
export function expiryDay(exp) {
  const day = new Date(exp * 1000);
  const year = String(day.getUTCFullYear()).padStart(4, "0");
  const month = String(day.getUTCMonth() + 1).padStart(2, "0");
  return `${year}-${month}-${String(day.getUTCDate()).padStart(2, "0")}`;
}
