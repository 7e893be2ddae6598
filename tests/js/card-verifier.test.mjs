// static/js/lib/card-verifier.js against docs/card-token-vectors.json: every vector the server's
// tests run (tests/services/cards/test_token_vectors.py, tests/services/trust/test_bundle_vectors.py)
// runs here through the browser module, so one specification has two implementations that agree.
// Run: node --test tests/js/
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";

import { webcrypto } from "node:crypto";

// Node 18 (Debian 12's nodejs, what CI installs) has WebCrypto only as node:crypto's webcrypto; a
// browser and Node 20+ have the global the module uses.
globalThis.crypto ??= webcrypto;
const {
  BundleUnusable,
  REGIONS,
  StatusListUnusable,
  TRADES,
  VERDICTS,
  extractToken,
  importJwks,
  expiryDay,
  readBundle,
  readStatusList,
  statusAt,
  verifyScan,
  windowOf,
} = await import("../../static/js/lib/card-verifier.js");

const docs = new URL("../../docs/", import.meta.url);
const V = JSON.parse(readFileSync(new URL("card-token-vectors.json", docs), "utf8"));
const DOCUMENT = readFileSync(new URL("card-token.md", docs), "utf8");
const BASE = V.public_base_url;
const NOW = V.verified_at_unix;
const SUBJECT = `${BASE}/statuslists/1`;
const keys = await importJwks(V.jwks);
const list = await readStatusList(V.status_list.token, keys, { subject: SUBJECT, bits: 2, now: NOW });

// The rows of a generated table of the document, as cells.
function markdownRows(name) {
  const match = DOCUMENT.match(new RegExp(`<!-- begin ${name} table.*?-->\\n([\\s\\S]*?)\\n<!-- end ${name} table -->`));
  assert.ok(match, `no ${name} table in docs/card-token.md`);
  return match[1]
    .split("\n")
    .slice(2)
    .map((line) => line.replace(/^\||\|$/g, "").split("|").map((cell) => cell.trim().replace(/^`|`$/g, "")));
}

describe("the scanned text and the token (sections 3-8)", () => {
  for (const vector of V.vectors) {
    test(`${vector.rule} ${vector.name} -> ${vector.verdict}`, async () => {
      // A vector may bring its own PUBLIC_BASE_URL (rule U8 needs a host with a "k").
      const publicBaseUrl = vector.public_base_url ?? BASE;
      const result = await verifyScan(vector.text, { publicBaseUrl, keys, statusList: list, now: NOW });
      assert.equal(result.verdict, vector.verdict);
      assert.deepEqual(result.offers, []);
    });
  }

  for (const [name, card] of Object.entries(V.cards)) {
    test(`the ${name} card's claims, expiry date and QR text`, async () => {
      assert.deepEqual(extractToken(card.qr_text, BASE), { token: card.token });
      const result = await verifyScan(card.qr_text, { publicBaseUrl: BASE, keys, statusList: list, now: NOW });
      assert.equal(result.verdict, card.verdict);
      const { cn, n, t, r, exp, sl } = card.claims;
      assert.deepEqual(result.claims, {
        number: cn,
        name: n,
        trade: t,
        region: r,
        expiresAt: exp,
        expiryDate: expiryDay(exp),
        statusIndex: sl,
      });
    });
  }

  test("the expiry date is the day in Casablanca (C6)", () => {
    assert.equal(expiryDay(V.cards.valid.claims.exp), "2031-11-22"); // 23:59:59 in Morocco (UTC+0 since 2026)
    // The same day whichever offset Morocco had (0 or +1 hour), whatever the phone's time-zone data.
    const lastSecond = Date.UTC(2031, 10, 22, 23, 59, 59) / 1000;
    assert.equal(expiryDay(lastSecond), "2031-11-22"); // at UTC+0
    assert.equal(expiryDay(lastSecond - 3600), "2031-11-22"); // at UTC+1
    assert.equal(expiryDay(lastSecond + 1), "2031-11-23");
    assert.equal(expiryDay(253402297199), "9999-12-31"); // the largest exp (C5)
  });

  test("a rejected text names its verdict and no token", () => {
    assert.deepEqual(extractToken("https://example.org/v#00", BASE), { verdict: "not_a_card" });
    assert.deepEqual(extractToken(`${BASE}/v#`, BASE), { verdict: "malformed" });
  });

  test("without a usable status list, a card that passes steps 1-6 cannot be confirmed (S5)", async () => {
    const result = await verifyScan(V.cards.revoked.qr_text, { publicBaseUrl: BASE, keys, statusList: null, now: NOW });
    assert.equal(result.verdict, "cannot_confirm");
    assert.equal(result.claims.number, V.cards.revoked.claims.cn);
  });

  test("every verdict is one of VERDICTS", () => {
    const verdicts = new Set(V.vectors.map((vector) => vector.verdict));
    for (const verdict of verdicts) assert.ok(VERDICTS.includes(verdict), verdict);
  });

  test("the trade and region tables are the document's", () => {
    assert.deepEqual(
      Object.entries(TRADES).map(([code, names]) => [code, names.fr, names.ar, names.en]),
      markdownRows("trades").map(([code, , fr, ar, en]) => [code, fr, ar, en]),
    );
    // Sorted: an object lists "10"-"12" (array-index keys) before "01"-"09".
    assert.deepEqual(
      Object.entries(REGIONS)
        .map(([code, names]) => [code, names.fr, names.ar, names.en])
        .sort(([a], [b]) => a.localeCompare(b)),
      markdownRows("regions"),
    );
  });
});

describe("the status list (section 7)", () => {
  test("every index reads its documented status: listed, 0 below capacity, 3 past it", () => {
    const { capacity, statuses } = V.status_list;
    assert.equal(list.bytes.length * 4, capacity);
    for (let index = 0; index < capacity + 8; index += 1) {
      const expected = index >= capacity ? 3 : (statuses[String(index)] ?? 0);
      assert.equal(statusAt(list, index), expected, `index ${index}`);
    }
    assert.equal(list.ttl, V.status_list.payload.ttl);
    assert.equal(list.expiresAt, V.status_list.payload.exp);
    assert.equal(list.issuedAt, V.status_list.payload.iat);
  });

  for (const vector of V.status_list_rejected) {
    test(`unusable: ${vector.name} (${vector.reason})`, async () => {
      const now = vector.at ?? NOW;
      await assert.rejects(readStatusList(vector.token, keys, { subject: SUBJECT, bits: 2, now }), (error) => {
        assert.ok(error instanceof StatusListUnusable);
        assert.equal(error.reason, vector.reason);
        return true;
      });
    });
  }
});

describe("status lists with members the document does not name (S9)", () => {
  for (const vector of V.status_list_accepted) {
    test(`usable: ${vector.name}`, async () => {
      const read = await readStatusList(vector.token, keys, { subject: SUBJECT, bits: 2, now: NOW });
      assert.deepEqual(read.bytes, list.bytes);
    });
  }
});

// Rule Q1, computed here without a QR library: the bits of a byte segment (the URL) and a numeric
// segment (the digits) at ECC M, against each version's data capacity (ISO/IEC 18004, table 7).
const DATA_CODEWORDS_M = [
  16, 28, 44, 64, 86, 108, 124, 154, 182, 216, 254, 290, 334, 365, 415, 453, 507, 563, 627, 669, 714, 782, 860, 914,
  1000, 1062, 1128, 1193, 1267, 1373, 1455, 1541, 1631, 1725, 1812, 1914, 1992, 2102, 2216, 2334,
];
function qrVersion(text) {
  const cut = text.indexOf("#") + 1;
  const urlBytes = new TextEncoder().encode(text.slice(0, cut)).length;
  const digits = text.length - cut;
  for (let version = 1; version <= 40; version += 1) {
    const countBits = version < 10 ? [8, 10] : version < 27 ? [16, 12] : [16, 14];
    const bits =
      4 + countBits[0] + 8 * urlBytes + 4 + countBits[1] + 10 * Math.floor(digits / 3) + [0, 4, 7][digits % 3];
    if (bits <= DATA_CODEWORDS_M[version - 1] * 8) return version;
  }
  return null;
}

describe("the QR code's size (Q1)", () => {
  for (const entry of V.qr_versions) {
    test(`${entry.name}: version ${entry.version}`, async () => {
      assert.equal(qrVersion(entry.text), entry.version);
      const result = await verifyScan(entry.text, { publicBaseUrl: BASE, keys, statusList: null, now: NOW });
      assert.equal(result.verdict, "cannot_confirm"); // a genuine card's text (its index may be past the list)
      assert.equal([...result.claims.name].length, entry.name_characters);
      assert.equal(new TextEncoder().encode(result.claims.name).length, entry.name_bytes);
    });
  }
});

describe("the trust bundle (section 12)", async () => {
  const B = V.bundle;
  const trusted = await importJwks(B.trusted_jwks);
  const bundle = await readBundle(B.token, trusted, { publicBaseUrl: BASE, now: NOW });

  test("the bundle vector is usable, with its keys, list and offers", () => {
    const { payload } = B;
    assert.equal(bundle.audience, payload.aud);
    assert.deepEqual([bundle.issuedAt, bundle.expiresAt, bundle.maxAge], [payload.iat, payload.exp, payload.max_age]);
    assert.deepEqual([...bundle.keys.keys()], payload.jwks.keys.map((key) => key.kid));
    assert.deepEqual(bundle.jwks, payload.jwks);
    assert.deepEqual(
      bundle.offers.map(({ id, name, benefit, quota, fields, validUntil }) => ({ id, name, benefit, quota, fields, validUntil })),
      payload.offers.map(({ id, name, benefit, quota, fields, valid_until: validUntil }) => ({
        id,
        name,
        benefit,
        quota,
        fields,
        validUntil,
      })),
    );
    assert.equal(bundle.offers[0].eligibility.bits, 1);
    assert.equal(bundle.statusList.bits, 2);
    // What the module returns is plain data an app can store as JSON.
    assert.doesNotThrow(() => JSON.stringify({ ...bundle, keys: null, statusList: null, offers: bundle.offers.map((o) => ({ ...o, eligibility: null })) }));
  });

  for (const scan of B.scans) {
    test(`with the bundle: ${scan.name} -> ${scan.verdict}`, async () => {
      const result = await verifyScan(scan.text, {
        publicBaseUrl: BASE,
        keys: bundle.keys,
        statusList: bundle.statusList,
        offers: bundle.offers,
        now: NOW,
      });
      assert.equal(result.verdict, scan.verdict);
      assert.deepEqual(result.offers, scan.offers);
    });
  }

  for (const scan of B.scans_without_bundle) {
    test(`past the bundle's exp: ${scan.name} -> ${scan.verdict}`, async () => {
      await assert.rejects(readBundle(B.token, trusted, { publicBaseUrl: BASE, now: B.payload.exp }), BundleUnusable);
      const result = await verifyScan(scan.text, { publicBaseUrl: BASE, keys: bundle.keys, statusList: null, now: NOW });
      assert.equal(result.verdict, scan.verdict);
    });
  }

  for (const scan of B.scans_never_usable) {
    test(`after a bundle that was never usable (B9): ${scan.name} -> ${scan.verdict}`, async () => {
      await assert.rejects(readBundle(B.token, trusted, { publicBaseUrl: BASE, now: B.payload.exp }), BundleUnusable);
      const result = await verifyScan(scan.text, { publicBaseUrl: BASE, keys: trusted, statusList: null, now: NOW });
      assert.equal(result.verdict, scan.verdict);
    });
  }

  for (const vector of B.accepted) {
    test(`usable: ${vector.name}`, async () => {
      const read = await readBundle(vector.token, trusted, { publicBaseUrl: BASE, now: NOW });
      assert.deepEqual([...read.keys.keys()], B.payload.jwks.keys.map((key) => key.kid));
      assert.deepEqual(read.offers.map((offer) => offer.id), B.payload.offers.map((offer) => offer.id));
    });
  }

  for (const vector of B.rejected) {
    test(`unusable: ${vector.name} (${vector.reason})`, async () => {
      const now = vector.at ?? NOW;
      await assert.rejects(readBundle(vector.token, trusted, { publicBaseUrl: BASE, now }), (error) => {
        assert.ok(error instanceof BundleUnusable, String(error));
        assert.deepEqual([error.reason, error.detail], [vector.reason, vector.detail]);
        return true;
      });
    });
  }
});

describe("the live code (section 13)", () => {
  const L = V.live;
  const byName = new Map(V.vectors.map((vector) => [vector.name, vector]));

  for (const [name, expected] of Object.entries(L.details)) {
    test(`${name}: presentation ${expected.presentation}, replay ${expected.replay}`, async () => {
      const vector = byName.get(name);
      const result = await verifyScan(vector.text, { publicBaseUrl: BASE, keys, statusList: list, now: NOW });
      assert.equal(result.verdict, vector.verdict);
      assert.equal(result.presentation, expected.presentation ?? undefined);
      assert.equal(result.replay, expected.replay);
    });
  }

  test("the live code is the holder-bound token and the window of verified_at, its QR text our URL", async () => {
    assert.equal(windowOf(NOW), L.window);
    assert.equal(L.live_code.split(".").slice(0, 4).join("."), `${L.holder_bound.token}.${L.window}`);
    const result = await verifyScan(L.qr_text, { publicBaseUrl: BASE, keys, statusList: list, now: NOW });
    assert.equal(result.verdict, "valid");
    assert.equal(result.claims.deviceKey, L.phones.phone.device_key);
    assert.equal(result.claims.deviceIndex, L.holder_bound.claims.ds);
  });

  test("the window is read against the clock it is given (the bundle-corrected clock offline)", async () => {
    const at = async (now) => (await verifyScan(L.live_code, { publicBaseUrl: BASE, keys, statusList: list, now })).verdict;
    assert.equal(await at(NOW + 59), "valid"); // still within one window
    assert.equal(await at(NOW + 60), "replayed"); // two windows later
    assert.equal(await at(NOW - 30), "valid"); // verified_at starts its window: 30 s earlier is the previous one
    assert.equal(await at(NOW - 31), "replayed");
  });

  test("a binding's index reads revoked in the status list once replaced", () => {
    for (const binding of L.bindings) assert.equal(statusAt(list, binding.status_index), binding.current ? 0 : 1);
  });

  test("a live code made here with WebCrypto, as the card app makes it, verifies", async () => {
    const phone = await crypto.subtle.importKey("jwk", { ...L.phones.phone.private_jwk, ext: true }, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
    const signed = `${L.holder_bound.token}.${windowOf(NOW)}`;
    const signature = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, phone, new TextEncoder().encode(signed)));
    const b64 = Buffer.from(signature).toString("base64url");
    const result = await verifyScan(`${signed}.${b64}`, { publicBaseUrl: BASE, keys, statusList: list, now: NOW });
    assert.deepEqual([result.verdict, result.presentation], ["valid", "live"]);
  });
});

describe("keys (section 6)", () => {
  const good = V.jwks.keys[0];
  const refused = [
    {},
    { kty: "RSA", kid: "r", n: "AQAB", e: "AQAB" },
    { kty: "EC", crv: "P-384", kid: "p", x: "A".repeat(64), y: "A".repeat(64) },
    { kty: "EC", crv: "P-256", kid: 7, x: "A".repeat(43), y: "A".repeat(43) },
    { kty: "EC", crv: "P-256", kid: "short", x: "AAAA", y: "AAAA" },
    { kty: "EC", crv: "P-256", kid: "off the curve", x: "A".repeat(43), y: "A".repeat(43) },
  ];
  for (const jwk of refused) {
    test(`left out: ${JSON.stringify(jwk).slice(0, 60)}`, async () => {
      assert.deepEqual([...(await importJwks({ keys: [jwk, good] })).keys()], [good.kid]);
    });
  }

  test("a key with alg and use members imports (WebCrypto would refuse some of them as given)", async () => {
    assert.deepEqual([...(await importJwks({ keys: [{ ...good, key_ops: ["sign"] }] })).keys()], [good.kid]);
  });

  test("a JWKS that is not one gives no keys", async () => {
    for (const jwks of [null, {}, { keys: "x" }, []]) assert.equal((await importJwks(jwks)).size, 0);
  });
});
